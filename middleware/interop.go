package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/nodekit/nodekit/internal/panics"
)

// Mount returns a layer that serves the request with h and does not call
// next: any http.Handler (an http.ServeMux, a file server) as the innermost
// layer. The error of a HandlerFunc that h serves becomes the layer's error,
// so routes answer errors through the App like any layer. Mount panics if h
// is nil.
func Mount(h http.Handler) Middleware[*Context] {
	if h == nil {
		panic("middleware: Mount: nil handler")
	}
	return func(c *Context, _ Next) error {
		c.mounts++
		saved := c.routeErr
		c.routeErr = nil
		defer func() { c.mounts-- }()
		h.ServeHTTP(c.Writer, c.Request)
		err := c.routeErr
		c.routeErr = saved
		return err
	}
}

// A HandlerFunc is a route handler of an App: an http.Handler, like
// http.HandlerFunc, that runs on the request's *Context and returns an
// error. Registered on an http.ServeMux that a Mount layer serves, it runs
// with the App's Context — the values earlier layers set, c.Request as the
// mux passes it (with its PathValue) — and its error goes back up the stack
// as the Mount layer's error, as Koa's router middleware does. Anywhere else
// it serves the request as an App of one layer would.
type HandlerFunc func(c *Context) error

// ServeHTTP runs f on the Context of the App serving w, or on a Context of
// its own.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c := contextOf(w); c != nil && c.mounts > 0 {
		saved := c.Request
		c.Request = r
		defer func() { c.Request = saved }()
		if err := f(c); c.routeErr == nil {
			c.routeErr = err
		}
		return
	}
	c := &Context{} // on its own: one allocation per request
	c.reset(w, r)
	if respond(slog.Default(), c, f(c)) {
		panic(http.ErrAbortHandler)
	}
}

// Wrap returns a layer made of a net/http middleware, the
// func(http.Handler) http.Handler of chi, alice and gorilla: std is called
// once, here, with a handler that runs the layers after this one; the writer
// and request std passes to that handler become c.Writer and c.Request for
// them. If std does not call the handler, the layers after this one do not
// run.
//
// An error from the layers after this one is answered inside std, through
// the writer std gave, so that std sees an ordinary response: a buffering
// middleware (http.TimeoutHandler) sends it rather than an empty 200, a
// compressing one compresses it. The error response keeps the headers std
// set before calling its handler (Content-Encoding, say) and drops those the
// layers set. The Wrap layer then returns the error, marked as answered, so
// that layers above it still see it (errors.Is and errors.As find it) while
// the App only logs it. An error after the layers had written to std's
// writer is returned as it is, and the App aborts the response.
//
// If std runs the handler on another goroutine and returns before it ends
// (http.TimeoutHandler does, on timeout), the layer waits for the handler to
// end before returning, since the layers it runs share this Context, and
// touches no writer meanwhile; the response ends then, and is std's: an
// error of the layers comes back marked as answered whatever they wrote.
// http.TimeoutHandler
// cancels the request's context at the timeout, so layers that heed
// c.Request.Context() end at once; prefer a context deadline to
// http.TimeoutHandler in an App. A panic in the layers that std swallows
// (http.TimeoutHandler does, after the timeout) comes back as the layer's
// error, a *PanicError. If std calls the handler after returning, it runs
// nothing.
//
// Each call costs a few allocations: the layer finds its Context through a
// value in the request's context. Wrap panics if std is nil or returns nil.
func Wrap(std func(http.Handler) http.Handler) Middleware[*Context] {
	if std == nil {
		panic("middleware: Wrap: nil middleware")
	}
	h := std(http.HandlerFunc(serveBridged))
	if h == nil {
		panic("middleware: Wrap: the middleware returned a nil handler")
	}
	return func(c *Context, next Next) error {
		w, r := c.Writer, c.Request
		b := &bridge{c: c, next: next, done: make(chan struct{}), before: w.Header().Clone()}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bridgeKey{}, b)))
		detached := false // std returned while its handler ran: std answered
		switch {
		case b.state.CompareAndSwap(bridgeIdle, bridgeClosed):
			return nil // std did not call the handler
		case b.state.Load() == bridgeRunning:
			<-b.done
			detached = true
		}
		c.Writer, c.Request = w, r
		if b.panic != nil {
			if e, ok := b.panic.Value.(error); ok && errors.Is(e, http.ErrAbortHandler) {
				panic(b.panic.Value)
			}
			return &answeredError{b.panic} // std swallowed it, having answered
		}
		if !b.normal {
			return &answeredError{errGoexit}
		}
		if detached && b.err != nil && !isAnswered(b.err) {
			return &answeredError{b.err} // what the layers wrote was std's to send or drop
		}
		return b.err
	}
}

var errGoexit = errors.New("middleware: the layers behind a Wrap layer called runtime.Goexit")

// A bridge carries one call of a Wrap layer to the handler std wraps.
type bridge struct {
	c      *Context
	next   Next
	before http.Header // the headers when the Wrap layer started
	state  atomic.Int32
	done   chan struct{} // closed when the handler ends
	// Set before done is closed:
	err    error
	normal bool        // the layers returned (no panic, no Goexit)
	panic  *PanicError // the layers panicked
}

// Bridge states.
const (
	bridgeIdle     int32 = iota
	bridgeRunning        // the handler is running the layers after the Wrap layer
	bridgeFinished       // it has returned
	bridgeClosed         // the Wrap layer returned before the handler started
)

type bridgeKey struct{}

// serveBridged is the handler std wraps: it runs the rest of the stack and
// answers its error through std's writer.
func serveBridged(w http.ResponseWriter, r *http.Request) {
	b, _ := r.Context().Value(bridgeKey{}).(*bridge)
	if b == nil {
		panic("middleware: a handler wrapped by Wrap was called outside its layer")
	}
	if !b.state.CompareAndSwap(bridgeIdle, bridgeRunning) {
		return // called twice, or after the layer returned: run nothing
	}
	defer func() {
		if !b.normal {
			if v := recover(); v != nil {
				b.panic = panics.New(v)
				defer b.finish()
				panic(v) // for std to re-raise, as it would without Wrap
			}
		}
		b.finish()
	}()
	keep := addedHeaders(b.before, w.Header())
	rec := &recorder{w: w, c: b.c}
	b.c.Writer, b.c.Request = rec, r
	err := b.next.Call()
	if err != nil && !rec.committed() {
		writeError(rec, err, statusOf(err), keep)
		err = &answeredError{err}
	}
	b.err, b.normal = err, true
}

func (b *bridge) finish() {
	b.state.Store(bridgeFinished)
	close(b.done)
}

// addedHeaders returns the headers of now that differ from before: those
// std set before calling its handler.
func addedHeaders(before, now http.Header) http.Header {
	var added http.Header
	for k, v := range now {
		if !slices.Equal(before[k], v) {
			if added == nil {
				added = http.Header{}
			}
			added[k] = slices.Clone(v)
		}
	}
	return added
}
