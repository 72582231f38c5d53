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
	r  runner
	id uint64 // generation<<posBits | index of the layer it runs
}

// A runner is what a Next calls: a composed middleware's call state, or a
// function given to NextFunc.
type runner interface{ next(id uint64) error }

// Call runs the rest of the stack and returns its error. Calling it a second
// time returns ErrNextCalledMultipleTimes and runs nothing; calling it after
// its layer has returned returns ErrNextAfterReturn and runs nothing.
func (n Next) Call() error {
	if n.r == nil {
		return nil
	}
	return n.r.next(n.id)
}

// NextFunc returns a Next that calls f, to give a composed middleware a
// continuation of your own (koa-compose's second argument). Nil f gives the
// zero Next. Such a Next has no guard: it calls f each time it is called.
func NextFunc(f func() error) Next {
	if f == nil {
		return Next{}
	}
	return Next{r: funcRunner(f)}
}

type funcRunner func() error

func (f funcRunner) next(uint64) error { return f() }
func (f funcRunner) unwound(uint64)    {}

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
	return s.call
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
	// maxGen is the last generation a run serves: generations never wrap, so
	// a run that reaches it is dropped rather than pooled.
	maxGen = 1<<(64-posBits) - 1
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

// A run is the state of one call of a composed middleware at a time. The
// Next given to layer k-1 is (gen, k), and runs layer k (or, for k ==
// len(layers), the outer next). It is valid while gen is the run's
// generation, layer k-1 is the innermost layer running (depth == k) and no
// Next (k) has been called yet (entered == k). Both counters are packed in
// pos as entered<<posBits | depth.
type run[C any] struct {
	// gen is the generation of the call being served. It is bumped when a
	// call ends, so every Next of that call is stale from then on. It is the
	// only field a stale Next reads, and it reads it atomically, so that a
	// goroutine left behind by a finished call does not race with later ones.
	gen    atomic.Uint64
	pos    uint32
	self   runner // r itself, converted once
	layers []Middleware[C]
	c      C
	outer  Next
}

func (s *stack[C]) newRun() *run[C] {
	r := &run[C]{layers: s.layers}
	r.self = r
	return r
}

// call runs one call of the composed middleware with a pooled run. A run
// that a panic or runtime.Goexit went through is dropped, not pooled.
func (s *stack[C]) call(c C, next Next) error {
	r := s.pool.Get().(*run[C])
	err := r.do(c, next)
	if r.gen.Load() < maxGen {
		s.pool.Put(r)
	}
	return err
}

// do runs the layers with c and outer, then ends the call's generation, also
// when a layer panics or calls runtime.Goexit.
func (r *run[C]) do(c C, outer Next) error {
	r.c, r.outer = c, outer
	defer r.end()
	return r.next(r.gen.Load() << posBits)
}

// end retires every Next of the call and drops its references.
func (r *run[C]) end() {
	r.gen.Add(1)
	var zero C
	r.c, r.outer, r.pos = zero, Next{}, 0
}

// next is Next.Call for the Next identified by id.
func (r *run[C]) next(id uint64) error {
	k := uint32(id & posMask)
	if r.gen.Load() != id>>posBits || r.pos != k<<posBits|k {
		return r.misuse(id)
	}
	r.pos = (k+1)<<posBits | (k + 1)
	var err error
	if int(k) < len(r.layers) {
		err = r.layers[k](r.c, Next{r.self, id + 1})
	} else {
		err = r.outer.Call()
	}
	r.pos = r.pos&^posMask | k // layer k has returned; k-1 is innermost again
	return err
}

// misuse tells why the Next identified by id may not run.
func (r *run[C]) misuse(id uint64) error {
	if r.gen.Load() != id>>posBits {
		return ErrNextAfterReturn // the call it belongs to is over
	}
	k := id & posMask
	entered, depth := uint64(r.pos>>posBits), uint64(r.pos&posMask)
	if entered > k && depth >= k {
		return ErrNextCalledMultipleTimes // its layer is still running
	}
	return ErrNextAfterReturn
}
