package middleware

import (
	"strconv"
	"time"
)

// ResponseTime returns a layer that sets the X-Response-Time header, the
// classic of Koa's README: the time from this layer's start to the moment
// the response is committed, in milliseconds ("1.234ms"). The header is set
// by an OnCommit hook, since in Go the layers' writes go out before they
// return; error responses get it too. Put it first (or right after
// AccessLog) to time the whole request. It costs one small allocation per
// request, the hook.
func ResponseTime() Middleware[*Context] {
	return func(c *Context, next Next) error {
		start := time.Now()
		c.OnCommit(func(c *Context) {
			ms := float64(time.Since(start)) / float64(time.Millisecond)
			c.rec.Header().Set("X-Response-Time", strconv.FormatFloat(ms, 'f', 3, 64)+"ms")
		})
		return next.Call()
	}
}
