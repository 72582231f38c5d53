package middleware

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// A Next runs the rest of the stack when called: the layers after the one it
// was given to, then the composed middleware's own next. It is Koa's
// `await next()`, spelled next.Call().
//
// A Next is a small value, valid for one call of the composed middleware: it
// carries the generation of that call, so a copy kept past the return of its
// layer runs nothing, whatever it did before, even while the pooled state it
// points to serves a later call. The zero Next runs nothing and returns nil.
type Next struct {
	// step runs the Next: the step function of a composed middleware's call
	// state, or callFunc for NextFunc. It takes the whole Next so that one
	// call site serves both, which keeps Call small enough to inline. step
	// and f are a pointer and an interface rather than funcs so that a Next
	// stays comparable with ==.
	step *func(Next) error
	id   uint64 // for a composed middleware: the Next's generation and layer (see run)
	f    any    // for NextFunc: the func() error to call
}

// Call runs the rest of the stack and returns its error. Calling it a second
// time returns ErrNextCalledMultipleTimes and runs nothing; calling it after
// its layer has returned returns ErrNextAfterReturn and runs nothing.
func (n Next) Call() error {
	if n.step == nil {
		return nil
	}
	return (*n.step)(n)
}

// NextFunc returns a Next that calls f, to give a composed middleware a
// continuation of your own (koa-compose's second argument). Nil f gives the
// zero Next. Such a Next has no guard: it calls f each time it is called.
func NextFunc(f func() error) Next {
	if f == nil {
		return Next{}
	}
	return Next{step: &callFunc, f: f}
}

// callFunc is the step of a Next made by NextFunc.
var callFunc = func(n Next) error { return n.f.(func() error)() }

// A Middleware is one layer of the onion: it does its work before calling
// next, which runs everything downstream, and its work after next returns,
// with downstream's error in hand. Koa's `async (ctx, next) => {…}`.
type Middleware[C any] func(c C, next Next) error

// Compose returns the middleware that runs mw in onion order, Koa's compose:
// mw[0] runs first and calls its next to run mw[1], and so on; the last
// layer's next calls the composed middleware's own next (the zero Next means
// none), so compositions nest. The composed middleware returns mw[0]'s error.
//
// A layer that does not call next short-circuits the layers after it. Calling
// next a second time returns ErrNextCalledMultipleTimes and runs nothing;
// calling it after the layer has returned — from a goroutine the layer left
// behind, or a copy kept for a later call — returns ErrNextAfterReturn and
// runs nothing. Panics are not recovered (see Recover).
//
// A Next is meant for the layer it was given to: call it on the layer's
// goroutine, or on another one that the layer waits for before it returns.
// Once the composed middleware has returned, a Next from that call may be
// called from any goroutine and reliably returns ErrNextAfterReturn; while
// the call is still running, a Next called from a goroutine its layer did
// not wait for is a data race on the call's state, as it is on the value the
// layers share.
//
// A layer that recovers a panic from its next by itself, rather than
// through Recover, should return soon after: until it does, the Nexts of the
// layers the panic unwound are not yet stale.
//
// The composed middleware is safe for concurrent use. It keeps the state of a
// call in a sync.Pool and a call allocates nothing; the state is reused
// safely because each call has its own generation, which every Next carries.
//
// Compose panics if any layer is nil, or if there are more than 65,000
// layers: that is a programmer error, like Koa's TypeError.
func Compose[C any](mw ...Middleware[C]) Middleware[C] {
	s := newStack(mw)
	if len(s.layers) == 0 {
		return func(_ C, next Next) error { return next.Call() }
	}
	// One call, with a pooled run. A run that a panic or runtime.Goexit went
	// through never reaches Put: it is dropped, as is one whose generations
	// are used up. (Written out here: the method value of a method of s would
	// add a call, to a wrapper, to every call.)
	return func(c C, next Next) error {
		r := s.pool.Get().(*run[C])
		err := r.do(c, next)
		if r.gen.Load() < maxGen {
			s.pool.Put(r)
		}
		return err
	}
}

// A stack is a composed list of layers and the pool of its call states.
type stack[C any] struct {
	layers []Middleware[C]
	pool   sync.Pool // *run[C]
}

const (
	posBits   = 16
	posMask   = 1<<posBits - 1
	maxLayers = 65000
	// genShift is where a Next's id (and a run's at) keeps the generation:
	// above the layer index and the called bit.
	genShift = posBits + 1
	// maxGen is the last generation a run serves: generations never wrap, so
	// a run that reaches it is dropped rather than pooled.
	maxGen = 1<<(64-genShift) - 1
)

func newStack[C any](mw []Middleware[C]) *stack[C] {
	if len(mw) > maxLayers {
		panic(fmt.Sprintf("middleware: Compose: %d layers, more than %d", len(mw), maxLayers))
	}
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

// A run is the state of one call of a composed middleware at a time.
//
// The Next given to layer k-1 runs layer k (or, for k == len(layers), the
// outer next); its id is gen<<genShift | k<<1, gen being the generation of
// its call. It may run while gen is the run's generation, layer k-1 is the
// innermost layer running and the Next has not been called yet: then, and
// only then, at == id. In general at is the id of the innermost running
// layer's Next, with bit 0 set once that Next has been called. So the guard
// is two comparisons with words the run keeps at hand, and a step writes at
// once before its layer runs and once after.
type run[C any] struct {
	// gen is the generation of the call being served. It is bumped when a
	// call ends, so every Next of that call is stale from then on. It is the
	// only field a stale Next reads, and it reads it atomically, so that a
	// goroutine left behind by a finished call does not race with later ones.
	gen   atomic.Uint64
	at    uint64
	step  func(Next) error // the step of the call's Nexts; a closure over the run
	c     C
	outer Next
}

// newRun returns a run of s. Its step is a closure, made once per run, rather
// than a method: a method of a generic type called through a func value or an
// interface goes through a wrapper that passes the type's dictionary, one
// more call per layer. newRun itself is not inlined: the copy of a closure
// made when its enclosing function is inlined is compiled without inlining
// the calls in it (golang/go#81380), here the atomic load, Next.Call and
// misuse, which would cost the step calls at every layer.
//
//go:noinline
func (s *stack[C]) newRun() *run[C] {
	r := &run[C]{}
	layers := s.layers
	r.step = func(n Next) error {
		id := n.id
		if r.gen.Load() != id>>genShift || r.at != id {
			return r.misuse(id)
		}
		r.at = id + 2 // layer k runs; its Next, k+1, not called yet
		var err error
		if k := id >> 1 & posMask; k < uint64(len(layers)) {
			err = layers[k](r.c, Next{step: &r.step, id: id + 2})
		} else {
			err = r.outer.Call()
		}
		r.at = id | 1 // layer k has returned: k-1 is innermost again, its Next called
		return err
	}
	return r
}

// do runs the layers with c and outer, then ends the call's generation, also
// when a layer panics or calls runtime.Goexit.
func (r *run[C]) do(c C, outer Next) error {
	id := r.gen.Load() << genShift // layer 0's Next, not called yet
	r.c, r.outer, r.at = c, outer, id
	defer r.end()
	return r.step(Next{id: id})
}

// end retires every Next of the call and drops its references.
func (r *run[C]) end() {
	r.gen.Add(1)
	var zero C
	r.c, r.outer = zero, Next{}
}

// misuse tells why the Next identified by id may not run.
func (r *run[C]) misuse(id uint64) error {
	if r.gen.Load() != id>>genShift {
		return ErrNextAfterReturn // the call it belongs to is over
	}
	if id>>1&posMask <= r.at>>1&posMask {
		return ErrNextCalledMultipleTimes // its layer is still running
	}
	return ErrNextAfterReturn
}
