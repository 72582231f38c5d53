package middleware

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Next runs the rest of the stack: the layers after the one it was given to,
// then the composed middleware's own next. It returns their error. Koa's
// `await next()`.
type Next func() error

// A Middleware is one layer of the onion: it does its work before calling
// next, which runs everything downstream, and its work after next returns,
// with downstream's error in hand. Koa's `async (ctx, next) => {…}`.
type Middleware[C any] func(c C, next Next) error

// Compose returns the middleware that runs mw in onion order, Koa's compose:
// mw[0] runs first and calls its next to run mw[1], and so on; the last
// layer's next calls the composed middleware's own next (nil means none), so
// compositions nest. The composed middleware returns mw[0]'s error.
//
// A layer that does not call next short-circuits the layers after it. Calling
// next a second time returns ErrNextCalledMultipleTimes and runs nothing;
// calling it after the layer has returned returns ErrNextAfterReturn and runs
// nothing. Panics are not recovered (see Recover).
//
// A Next is meant for the layer it was given to: call it on the layer's
// goroutine, or on another one that the layer waits for before it returns.
//
// The composed middleware is safe for concurrent use. It keeps the state of a
// call in a sync.Pool, so a call allocates nothing — except when a layer
// returns without calling its next: that Next is then retired for good (two
// small allocations make its replacement) so that a copy kept past the return
// can never run a later call's downstream. The last layer's Next is retired
// only when it could reach code: when the composed middleware was given a
// non-nil next.
//
// Compose panics if any layer is nil: that is a programmer error, like Koa's
// TypeError.
func Compose[C any](mw ...Middleware[C]) Middleware[C] {
	s := newStack(mw)
	if len(s.layers) == 0 {
		return func(_ C, next Next) error {
			if next == nil {
				return nil
			}
			return next()
		}
	}
	return s.call
}

// A stack is a composed list of layers and the pool of its call states.
type stack[C any] struct {
	layers []Middleware[C]
	pool   sync.Pool // *run[C]
}

func newStack[C any](mw []Middleware[C]) *stack[C] {
	s := &stack[C]{layers: make([]Middleware[C], len(mw))}
	for i, m := range mw {
		if m == nil {
			panic(fmt.Sprintf("middleware: Compose: layer %d of %d is nil", i, len(mw)))
		}
		s.layers[i] = m
	}
	s.pool.New = func() any { return s.newRun() }
	return s
}

// A run is the state of one call of a composed middleware.
type run[C any] struct {
	layers []Middleware[C]
	c      C
	next   Next // the composed middleware's own next
	// steps[0] is the entry: its Next runs layer 0. steps[k+1] belongs to
	// layer k: its Next, given to that layer, runs layer k+1 (or, after the
	// last layer, the composed middleware's next).
	steps []*step
	// lastExposed: the last layer returned without calling its Next in a
	// call whose own next was nil, where that Next could do nothing; it must
	// be retired before a call with a non-nil next.
	lastExposed bool
}

// A step is the state of one layer in a run, and what its Next is bound to.
// A retired step belongs to a Next that may have leaked: it answers
// ErrNextAfterReturn for ever, and the run has a new step for the layer.
type step struct {
	state   uint8
	retired uint32 // atomic: 1 once retired; read with the atomic.LoadUint32 intrinsic
	next    Next
}

// Step states in a run.
const (
	idle     uint8 = iota // not entered in this run
	running               // entered; next not called
	called                // next called
	returned              // the layer has returned
)

func (s *stack[C]) newRun() *run[C] {
	r := &run[C]{layers: s.layers, steps: make([]*step, len(s.layers)+1)}
	for k := range r.steps {
		r.bind(k)
	}
	return r
}

// bind gives step k a fresh step value and Next. The Next runs layer k in
// its own closure, so that a layer costs one call frame besides its own.
func (r *run[C]) bind(k int) {
	st := &step{}
	st.next = func() error {
		if atomic.LoadUint32(&st.retired) != 0 {
			return ErrNextAfterReturn
		}
		switch st.state {
		case running:
		case called:
			return ErrNextCalledMultipleTimes
		default:
			return ErrNextAfterReturn
		}
		st.state = called
		if k == len(r.layers) {
			if r.next == nil {
				return nil
			}
			return r.next()
		}
		nx := r.steps[k+1]
		nx.state = running
		err := r.layers[k](r.c, nx.next)
		if nx.state == running {
			r.shortCircuited(k + 1)
		} else {
			nx.state = returned
		}
		return err
	}
	r.steps[k] = st
}

// retire ends the Next of step k for good.
func (r *run[C]) retire(k int) {
	atomic.StoreUint32(&r.steps[k].retired, 1)
	r.bind(k)
}

// shortCircuited handles the layer of step k returning without calling its
// Next, which it may have kept: the Next is retired, unless it is the last
// layer's and can reach no code.
func (r *run[C]) shortCircuited(k int) {
	if k < len(r.layers) || r.next != nil {
		r.retire(k) // the fresh step is idle
		return
	}
	r.lastExposed = true
	r.steps[k].state = returned
}

// call runs one call of the composed middleware with a pooled run. If a
// layer panics, the run is dropped rather than pooled: its Nexts can only
// reach it.
func (s *stack[C]) call(c C, next Next) error {
	r := s.pool.Get().(*run[C])
	err := r.do(c, next)
	s.pool.Put(r)
	return err
}

// do runs the layers with c and next, and then readies r for the next call.
func (r *run[C]) do(c C, next Next) error {
	if next != nil && r.lastExposed {
		r.retire(len(r.layers))
		r.lastExposed = false
	}
	r.c, r.next = c, next
	entry := r.steps[0]
	entry.state = running
	err := entry.next()
	var zero C
	r.c, r.next = zero, nil
	for k, st := range r.steps {
		if k > 0 && (st.state == running || st.state == called) {
			// Unwound by a panic that an outer layer recovered: the layer
			// never returned normally, so its Next may be anywhere.
			r.retire(k)
			continue
		}
		st.state = idle
	}
	return err
}
