package middleware

import (
	"strconv"
	"time"
)

// ResponseTime returns a layer that sets the X-Response-Time header, the
// classic of Koa's README: the time from the request's arrival at the App
// to the moment its response is committed, in milliseconds ("1.234ms"). The
// header is set by an OnCommit hook, since in Go the layers' writes go out
// before they return.
func ResponseTime() Middleware[*Context] {
	return func(c *Context, next Next) error {
		c.OnCommit(setResponseTime)
		return next()
	}
}

func setResponseTime(c *Context) {
	ms := float64(time.Since(c.start)) / float64(time.Millisecond)
	c.rw.Header().Set("X-Response-Time", strconv.FormatFloat(ms, 'f', 3, 64)+"ms")
}
