package middleware

import (
	"context"
	"net/http"
	"time"
)

// A Context is what the layers of an HTTP stack share about one request:
// Koa's ctx. Handler makes one per request and reuses it afterwards, so
// neither it nor anything taken from it may be kept after the request ends.
type Context struct {
	// W is where layers write the response. It starts as Response(), which
	// records the status and size; a layer may set it to a wrapper (to
	// compress, say) for the layers after it, and should set it back.
	W http.ResponseWriter
	// R is the request. A layer may replace it for the layers after it, with
	// R.WithContext for example.
	R *http.Request

	rtStart time.Time      // set by ResponseTime
	run     *run[*Context] // the App's call state, pooled with the Context
	rw      ResponseWriter
	hooks   []func(*Context)
	values  []value
}

type value struct{ key, val any }

// Response returns the status-recording writer at the bottom of W.
func (c *Context) Response() *ResponseWriter { return &c.rw }

// Status returns the status sent, or 0 while the response is not committed.
func (c *Context) Status() int { return c.rw.status }

// Size returns the number of body bytes written so far.
func (c *Context) Size() int64 { return c.rw.size }

// Committed reports whether the status and headers have been sent (or the
// connection hijacked).
func (c *Context) Committed() bool { return c.rw.Committed() }

// Context returns the request's context.
func (c *Context) Context() context.Context { return c.R.Context() }

// FinalStatus returns the status the client gets if the stack returns err
// from here: the one sent if the response is committed, else what Handler
// answers err with (StatusOf). A logging layer uses it so that it reports the
// status of an error it sees before the Handler turns it into a response.
func (c *Context) FinalStatus(err error) int {
	if c.rw.Committed() {
		return c.rw.status
	}
	return StatusOf(err)
}

// OnCommit registers fn to run just before the status line and headers are
// sent, when a header can still be set: the hooks run in reverse order of
// registration, like deferred calls. Handler commits every response, so the
// hooks run once per request, also when nothing was written.
func (c *Context) OnCommit(fn func(*Context)) { c.hooks = append(c.hooks, fn) }

func (c *Context) runHooks() {
	for len(c.hooks) > 0 {
		fn := c.hooks[len(c.hooks)-1]
		c.hooks = c.hooks[:len(c.hooks)-1]
		fn(c)
	}
}

// A Key names one per-request value of type T in a Context, as Koa's
// ctx.state holds values for later layers. Values live in the Context, which
// is reused, so setting one does not allocate as context.WithValue does (a
// value that is not a pointer may still be boxed). Keys are compared by
// identity: make each once, with NewKey, in a package variable.
type Key[T any] struct{ name string }

// NewKey returns a new key; name is for debugging only.
func NewKey[T any](name string) *Key[T] { return &Key[T]{name: name} }

// String returns the key's name.
func (k *Key[T]) String() string { return k.name }

// Set stores v under k in c, replacing any earlier value.
func (k *Key[T]) Set(c *Context, v T) {
	for i := range c.values {
		if c.values[i].key == any(k) {
			c.values[i].val = v
			return
		}
	}
	c.values = append(c.values, value{k, v})
}

// Get returns the value stored under k in c, and whether there is one.
func (k *Key[T]) Get(c *Context) (T, bool) {
	for i := range c.values {
		if c.values[i].key == any(k) {
			v, _ := c.values[i].val.(T) // a nil interface value stays the zero T
			return v, true
		}
	}
	var zero T
	return zero, false
}

// reset prepares c for a request.
func (c *Context) reset(w http.ResponseWriter, r *http.Request) {
	c.rw = ResponseWriter{w: w, c: c}
	c.W, c.R = &c.rw, r
}

// clear drops the request's references, keeping the slices' capacity.
func (c *Context) clear() {
	clear(c.values)
	clear(c.hooks)
	c.values, c.hooks = c.values[:0], c.hooks[:0]
	c.rw = ResponseWriter{}
	c.W, c.R = nil, nil
}
