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
// returns without calling its next: that Next is then retired for good (one
// small allocation) so that a copy kept past the return can never run a later
// call's downstream.
//
// Compose panics if any layer is nil: that is a programmer error, like Koa's
// TypeError.
func Compose[C any](mw ...Middleware[C]) Middleware[C] {
	layers := make([]Middleware[C], len(mw))
	for i, m := range mw {
		if m == nil {
			panic(fmt.Sprintf("middleware: Compose: layer %d of %d is nil", i, len(mw)))
		}
		layers[i] = m
	}
	if len(layers) == 0 {
		return func(_ C, next Next) error {
			if next == nil {
				return nil
			}
			return next()
		}
	}
	s := &stack[C]{layers: layers}
	s.pool.New = func() any { return s.newRun() }
	return s.call
}

// A stack is a composed list of layers and the pool of its call states.
type stack[C any] struct {
	layers []Middleware[C]
	pool   sync.Pool // *run[C]
}

// A run is the state of one call of a composed middleware.
type run[C any] struct {
	layers []Middleware[C]
	c      C
	next   Next // the composed middleware's own next
	steps  []step[C]
}

// A step is the state of one layer in a run.
type step[C any] struct {
	state uint8
	cell  *cell[C] // what the layer's Next is bound to
	next  Next     // cell.call
}

// Layer states in a run.
const (
	idle     uint8 = iota // not entered (yet) in this run
	running               // entered; next not called
	called                // next called
	returned              // the layer has returned
)

// A cell binds a Next to a layer of a run state. A retired cell belongs to a
// Next that may have leaked; it answers ErrNextAfterReturn for ever.
type cell[C any] struct {
	r       *run[C]
	i       int
	retired atomic.Bool
}

// call is layer i's next: it runs layer i+1, once.
func (c *cell[C]) call() error {
	if c.retired.Load() {
		return ErrNextAfterReturn
	}
	r := c.r
	st := &r.steps[c.i]
	switch st.state {
	case running:
		st.state = called
		return r.enter(c.i + 1)
	case called:
		return ErrNextCalledMultipleTimes
	default:
		return ErrNextAfterReturn
	}
}

func (s *stack[C]) newRun() *run[C] {
	r := &run[C]{layers: s.layers, steps: make([]step[C], len(s.layers))}
	for i := range r.steps {
		r.bind(i)
	}
	return r
}

// bind gives layer i a fresh Next.
func (r *run[C]) bind(i int) {
	c := &cell[C]{r: r, i: i}
	r.steps[i].cell, r.steps[i].next = c, c.call
}

// call runs one call of the composed middleware. If a layer panics, the run
// state is dropped rather than pooled: its Nexts can only reach it.
func (s *stack[C]) call(c C, next Next) error {
	r := s.pool.Get().(*run[C])
	r.c, r.next = c, next
	err := r.enter(0)
	var zero C
	r.c, r.next = zero, nil
	for i := range r.steps {
		st := &r.steps[i]
		if st.state == running || st.state == called {
			// Unwound by a panic that an outer layer recovered: the layer
			// never returned normally, so its Next may be anywhere.
			st.cell.retired.Store(true)
			r.bind(i)
		}
		st.state = idle
	}
	s.pool.Put(r)
	return err
}

// enter runs layer i (or, past the last layer, the composed middleware's next).
func (r *run[C]) enter(i int) error {
	if i == len(r.steps) {
		if r.next == nil {
			return nil
		}
		return r.next()
	}
	st := &r.steps[i]
	st.state = running
	err := r.layers[i](r.c, st.next)
	if st.state == running { // returned without calling next: it may have kept it
		st.cell.retired.Store(true)
		r.bind(i)
	}
	st.state = returned
	return err
}
