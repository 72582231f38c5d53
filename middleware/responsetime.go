package middleware

import (
	"strconv"
	"time"
)

// ResponseTime returns a layer that sets the X-Response-Time header, the
// classic of Koa's README: the time from this layer's start to the moment
// the response is committed, in milliseconds ("1.234ms"). The header is set
// by an OnCommit hook, since in Go the layers' writes go out before they
// return. Put it first (or right after Logger) to time the whole request.
func ResponseTime() Middleware[*Context] {
	return func(c *Context, next Next) error {
		c.rtStart = time.Now()
		c.OnCommit(setResponseTime)
		return next()
	}
}

func setResponseTime(c *Context) {
	ms := float64(time.Since(c.rtStart)) / float64(time.Millisecond)
	c.rw.Header().Set("X-Response-Time", strconv.FormatFloat(ms, 'f', 3, 64)+"ms")
}
