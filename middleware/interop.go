package middleware

import (
	"context"
	"net/http"
	"sync/atomic"
)

// Mount returns a layer that serves the request with h and does not call
// next: any http.Handler (a mux, a file server) as the innermost layer.
func Mount(h http.Handler) Middleware[*Context] {
	return func(c *Context, _ Next) error {
		h.ServeHTTP(c.W, c.R)
		return nil
	}
}

// Wrap returns a layer made of a net/http middleware, the
// func(http.Handler) http.Handler of chi, alice and gorilla: std is called
// once, here, with a handler that runs the layers after this one; the writer
// and request std passes to that handler become c.W and c.R for them. If std
// does not call the handler, the layers after this one do not run. The error
// of the layers after it is the layer's error.
//
// If std runs the handler on another goroutine and returns before it ends
// (http.TimeoutHandler does, on timeout), the layer flushes what std wrote,
// so the client sees it at once, and then waits for the handler to end
// before returning, since the layers it runs share this Context; the
// response ends then. (Prefer a context deadline to http.TimeoutHandler in
// an App.) If std calls the handler after returning, it runs nothing.
//
// Each call costs a few allocations: the layer finds its Context through a
// value in the request's context.
func Wrap(std func(http.Handler) http.Handler) Middleware[*Context] {
	h := std(http.HandlerFunc(serveBridged))
	return func(c *Context, next Next) error {
		b := &bridge{c: c, next: next, done: make(chan struct{})}
		w, r := c.W, c.R
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bridgeKey{}, b)))
		switch {
		case b.state.CompareAndSwap(bridgeIdle, bridgeClosed):
			return nil // std did not call the handler
		case b.state.Load() == bridgeRunning:
			_ = http.NewResponseController(w).Flush()
			<-b.done
		}
		c.W, c.R = w, r
		return b.err
	}
}

// A bridge carries one call of a Wrap layer to the handler std wraps.
type bridge struct {
	c     *Context
	next  Next
	state atomic.Int32
	done  chan struct{} // closed when the handler ends
	err   error         // the downstream error, set before done is closed
}

// Bridge states.
const (
	bridgeIdle     int32 = iota
	bridgeRunning        // the handler is running the layers after the Wrap layer
	bridgeFinished       // it has returned
	bridgeClosed         // the Wrap layer returned before the handler started
)

type bridgeKey struct{}

// serveBridged is the handler std wraps: it runs the rest of the stack.
func serveBridged(w http.ResponseWriter, r *http.Request) {
	b, _ := r.Context().Value(bridgeKey{}).(*bridge)
	if b == nil {
		panic("middleware: a handler wrapped by Wrap was called outside its layer")
	}
	if !b.state.CompareAndSwap(bridgeIdle, bridgeRunning) {
		return // called twice, or after the layer returned: run nothing
	}
	defer func() {
		b.state.Store(bridgeFinished)
		close(b.done)
	}()
	b.c.W, b.c.R = w, r
	b.err = b.next()
}
