package middleware

import (
	"net/http"
)

// A Context is what the layers of an App share about one request: Koa's ctx.
// The App takes one from a pool for each request and puts it back when the
// request ends, as gin and echo do, so neither it nor anything taken from it
// may be kept after the request ends (a Next kept from it is harmless: it
// returns ErrNextAfterReturn).
type Context struct {
	// Writer is where layers write the response. It starts as a writer that
	// records the status and size (see Status) and runs the OnCommit hooks,
	// and that http.NewResponseController sees through (Flush, deadlines,
	// Hijack). A layer may set it to a wrapper (to compress, say) for the
	// layers after it, and should set it back.
	Writer http.ResponseWriter
	// Request is the request. A layer may replace it for the layers after
	// it, with Request.WithContext for example.
	Request *http.Request

	rec    recorder       // the bottom of Writer
	run    *run[*Context] // the App's call state, pooled with the Context
	hooks  []func(*Context)
	values []value
	// A Mount layer is running (mounts > 0): a HandlerFunc it serves hands
	// its error back in routeErr rather than answering it.
	mounts   int
	routeErr error
}

type value struct{ key, val any }

// Status returns the status sent, or 0 while the response is not committed.
func (c *Context) Status() int { return c.rec.status }

// Size returns the number of body bytes written so far.
func (c *Context) Size() int64 { return c.rec.size }

// Committed reports whether the status and headers have been sent (or the
// connection hijacked).
func (c *Context) Committed() bool { return c.rec.committed() }

// FinalStatus returns the status the client gets if the stack returns err
// from here: the one sent if the response is committed, else what the App
// answers err with (200 for nil, the code of an *HTTPError or of any error
// with a StatusCode() int method, else 500). A logging layer uses it so that
// it reports the status of an error it sees before the App turns it into a
// response.
func (c *Context) FinalStatus(err error) int {
	if c.rec.committed() {
		return c.rec.status
	}
	return statusOf(err)
}

// OnCommit registers fn to run just before the status line and headers are
// sent, when a header can still be set: the hooks run in reverse order of
// registration, like deferred calls. The App commits every response, error
// responses included, so the hooks run once per request, also when nothing
// was written. OnCommit panics if fn is nil.
func (c *Context) OnCommit(fn func(*Context)) {
	if fn == nil {
		panic("middleware: OnCommit: nil function")
	}
	c.hooks = append(c.hooks, fn)
}

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
	c.rec = recorder{w: w, c: c}
	c.Writer, c.Request = &c.rec, r
}

// keepCap is the largest capacity of a Context's slices that survives a
// request: one request that sets thousands of values must not make every
// pooled Context hold that much for good.
const keepCap = 64

// clear drops the request's references, keeping the slices' capacity up to
// keepCap.
func (c *Context) clear() {
	clear(c.values)
	clear(c.hooks)
	c.values, c.hooks = c.values[:0], c.hooks[:0]
	if cap(c.values) > keepCap {
		c.values = nil
	}
	if cap(c.hooks) > keepCap {
		c.hooks = nil
	}
	c.rec = recorder{}
	c.Writer, c.Request = nil, nil
	c.mounts, c.routeErr = 0, nil
}
