package stream

import (
	"context"
	"math"
	"sync/atomic"

	"github.com/nodekit/nodekit/internal/panics"
)

// An Option configures a concurrent operator (MapConcurrent,
// FilterConcurrent, ForEachConcurrent): Unordered or HighWaterMark. The
// zero Option is not one of them, and panics where it is passed.
type Option struct {
	kind optionKind
	k    int
}

type optionKind uint8

const (
	optUnordered optionKind = iota + 1
	optHighWaterMark
)

// Unordered makes a concurrent operator hand out each result as soon as it
// is ready, instead of in the order of the source: a slow element no longer
// holds back the ones after it. An error then ends the stream when it
// happens: the results finished before it are handed out first, and the
// elements still running are cancelled and dropped.
func Unordered() Option { return Option{kind: optUnordered} }

// HighWaterMark sets how many finished results a concurrent operator keeps
// for a consumer that is busy, on top of the n elements running: k, like
// the highWaterMark option of Node's readable.map. The default is n-1, as
// in Node, so at most 2n-1 elements are taken from the source and not yet
// handed to the consumer. Memory: the operator's channels and ring have
// n+k slots, made when a range starts. HighWaterMark panics if k < 0, and
// the operator panics if n+k is above 2³¹-1.
//
// Speed: each element costs a few channel hand-offs and goroutine wake-ups
// (a few hundred ns on a small machine), so for a fn of a few µs or less
// the default window keeps the workers waiting on one another. A larger k
// lets them run ahead (with a 1 µs fn on 2 cores, k = 256 halved the time
// per element); batching the elements (Batch, then one call per slice)
// spreads the hand-off over a whole batch.
func HighWaterMark(k int) Option {
	if k < 0 {
		panic("stream: negative HighWaterMark")
	}
	return Option{kind: optHighWaterMark, k: k}
}

// config is the outcome of a concurrent operator's options.
type config struct {
	unordered bool
	window    int // elements taken from the source and not yet handed out
}

// configure validates opts at the call and returns the configuration for n
// workers.
func configure(n int, opts []Option) config {
	if n > math.MaxInt32 {
		panic("stream: concurrency too large")
	}
	c := config{window: 2*n - 1}
	for _, o := range opts {
		switch o.kind {
		case optUnordered:
			c.unordered = true
		case optHighWaterMark:
			if o.k > math.MaxInt32-n {
				panic("stream: HighWaterMark too large")
			}
			c.window = n + o.k
		default:
			panic("stream: zero Option")
		}
	}
	return c
}

// MapConcurrent returns a Stream of fn applied to each value of s, with fn
// running on n goroutines at once: Node's readable.map(fn, {concurrency:
// n}). The results come in the order of s, unless Unordered is given; at
// most n+k elements are taken from s and not yet handed to the consumer,
// where k is the HighWaterMark (n-1 by default): a slow consumer holds the
// source back.
//
// Each call of fn gets a context derived from ctx, cancelled when the
// stream ends for any reason. The stream ends at the first error, at its
// place: in order, the error of the earliest element that failed (the
// results before it are handed out first, and once it has failed no
// element after it is started); unordered, the first error to happen. s's own error comes
// after the results of every element taken before it. A panic in fn ends
// the stream with a *PanicError carrying the value and stack, a
// runtime.Goexit with ErrGoexit; the worker is replaced. A panic that comes
// after the stream has ended (the consumer broke out, or an earlier error
// ended it) is re-raised by the range statement once every goroutine has
// exited. When ctx ends, the stream ends with ctx.Err() (an ended ctx is
// seen before any result).
//
// Ranging the stream starts n workers and one goroutine that ranges s (s's
// sequential stages run on it, and their panics become the stream's error
// as fn's do). When the stream ends, or the consumer breaks out of its
// loop, the derived context is cancelled and every one of these goroutines
// has exited before the range statement ends. Stopping waits for the
// running calls of fn to return (they should watch their context) and for s
// to hand over its next element or end: give a source that may wait a long
// time (FromChan, a Pipe's Stream) a context that ends too.
//
// The cost per element is three channel transfers and no allocation.
// MapConcurrent panics if ctx, s or fn is nil, n < 1, or an Option is zero.
func MapConcurrent[T, U any](ctx context.Context, s Stream[T], n int, fn func(context.Context, T) (U, error), opts ...Option) Stream[U] {
	mustContext(ctx)
	mustStream(s)
	mustPositive(n, "concurrency")
	mustFunc(fn == nil)
	cfg := configure(n, opts)
	return func(yield func(U, error) bool) {
		run(ctx, s, n, cfg, fn, yield)
	}
}

// A kept value is a FilterConcurrent element with its verdict.
type kept[T any] struct {
	v    T
	keep bool
}

// FilterConcurrent returns a Stream of the values of s for which keep
// reports true, with keep running on n goroutines at once: Node's
// readable.filter(fn, {concurrency: n}). Order, buffering, errors, panics,
// the context and stopping are as for MapConcurrent.
func FilterConcurrent[T any](ctx context.Context, s Stream[T], n int, keep func(context.Context, T) (bool, error), opts ...Option) Stream[T] {
	mustContext(ctx)
	mustStream(s)
	mustPositive(n, "concurrency")
	mustFunc(keep == nil)
	cfg := configure(n, opts)
	fn := func(ctx context.Context, v T) (kept[T], error) {
		k, err := keep(ctx, v)
		return kept[T]{v, k}, err
	}
	return func(yield func(T, error) bool) {
		run(ctx, s, n, cfg, fn, func(k kept[T], err error) bool {
			if err != nil {
				var zero T
				return yield(zero, err)
			}
			return !k.keep || yield(k.v, nil)
		})
	}
}

// ForEachConcurrent calls fn on each value of s, on n goroutines at once,
// and returns when every call has returned: Node's readable.forEach(fn,
// {concurrency: n}). It returns the first error, as MapConcurrent's stream
// ends with it (in order by default: the error of the earliest element
// that failed, as ForEach would; with Unordered, the first to happen, which
// cancels the others at once, as errgroup does), or nil. Panics, the
// context and stopping are as for MapConcurrent (a panic after the first
// error is re-raised by ForEachConcurrent once every call has returned). By default the calls
// follow the order of s within a window of 2n-1 elements: a slow element
// holds back the start of those more than 2n-1 after it; Unordered removes
// that.
func ForEachConcurrent[T any](ctx context.Context, s Stream[T], n int, fn func(context.Context, T) error, opts ...Option) error {
	mustContext(ctx)
	mustStream(s)
	mustPositive(n, "concurrency")
	mustFunc(fn == nil)
	cfg := configure(n, opts)
	var first error
	run(ctx, s, n, cfg, func(ctx context.Context, v T) (struct{}, error) {
		return struct{}{}, fn(ctx, v)
	}, func(_ struct{}, err error) bool {
		first = err
		return err == nil
	})
	return first
}

// A job is an element on its way to a worker, with its place in the source.
type job[T any] struct {
	seq int
	v   T
}

// A result is a worker's outcome for the element at seq.
type result[U any] struct {
	seq     int
	v       U
	err     error
	skipped bool // fn was not called: an element failed, and this one comes after it
	ok      bool // in the ring: holds a result
}

// An engine runs one range of a concurrent operator.
//
// A reader goroutine ranges the source and sends its elements, numbered, to
// in; n workers call fn and send the results to out as they finish; the
// consumer (the goroutine ranging the stream) puts them back in order in a
// ring (unless unordered) and hands them out. At most window elements are
// between the reader and the consumer: the reader takes a token (a send on
// tokens, of capacity window) before it asks the source for an element, and
// the consumer gives it back (a receive) when it hands the element's result
// out. So the ring needs window slots, and no send to in or out ever blocks
// (both have capacity window).
//
// To stop, the consumer cancels ctx, gives back the tokens of the results
// it holds and of every result still to come from out, until out is
// closed: the reader sees ctx ended after its next token (or the source's
// next element) and closes in, the workers hand back what is left without
// calling fn, and the last one closes out.
type engine[T, U any] struct {
	ctx    context.Context // derived from the operator's; cancelled on stop
	fn     func(context.Context, T) (U, error)
	in     chan job[T]
	out    chan result[U]
	tokens chan struct{}
	active atomic.Int64 // workers running; the last one closes out
	failed atomic.Int64 // the lowest seq whose fn failed, or math.MaxInt64
	order  bool         // hand results out in source order
	srcErr error        // the source's error: written by the reader before in is closed
	srcOut bool         // srcErr was handed to the consumer (consumer only)
	ring   []result[U]  // ordered: results that came early (consumer only)
	held   int          // results in the ring (consumer only)
}

// run ranges the operator for yield: it starts the reader and the workers,
// hands out the results, and stops them all before it returns.
func run[T, U any](ctx context.Context, s Stream[T], n int, cfg config, fn func(context.Context, T) (U, error), yield func(U, error) bool) {
	if err := ctx.Err(); err != nil {
		fail(yield, err)
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	e := &engine[T, U]{
		ctx:    wctx,
		fn:     fn,
		in:     make(chan job[T], cfg.window),
		out:    make(chan result[U], cfg.window),
		tokens: make(chan struct{}, cfg.window),
		order:  !cfg.unordered,
	}
	e.failed.Store(math.MaxInt64)
	e.active.Store(int64(n))
	go e.read(s)
	for range n {
		go e.work()
	}
	normal := false // the consumer did not panic or call runtime.Goexit
	defer func() {
		if late := e.stop(cancel); late != nil && normal {
			panic(late)
		}
	}()
	if e.order {
		e.ordered(ctx, cfg.window, yield)
	} else {
		e.unordered(ctx, yield)
	}
	normal = true
}

// read ranges s and sends its elements to the workers, each after taking a
// token, until s ends or the stream stops; then it closes in.
func (e *engine[T, U]) read(s Stream[T]) {
	normal := false
	defer func() {
		if !normal {
			if v := recover(); v != nil {
				e.srcErr = panics.New(v)
			} else {
				e.srcErr = ErrGoexit
			}
		}
		close(e.in)
	}()
	// When the workers' context ends (the stream stops, or ctx ended), the
	// reader stops and says why: a source cut short is not a source that
	// ended.
	e.tokens <- struct{}{} // the first element's token
	if e.srcErr = e.ctx.Err(); e.srcErr == nil {
		seq := 0
		for v, err := range s {
			if err != nil {
				e.srcErr = err
				break
			}
			if e.srcErr = e.ctx.Err(); e.srcErr != nil {
				break
			}
			e.in <- job[T]{seq, v}
			seq++
			e.tokens <- struct{}{} // the next element's token
			if e.srcErr = e.ctx.Err(); e.srcErr != nil {
				break
			}
			// After a failure no element is handed out past it: stop
			// here, or the tokens of skipped results would let the
			// source run ahead of the consumer. Checked after the
			// token, which a skipped result may have given back.
			if e.failed.Load() != math.MaxInt64 {
				break
			}
		}
	}
	normal = true
}

// work calls fn for the elements sent to in until it is closed; the last
// worker to leave closes out.
func (e *engine[T, U]) work() {
	defer func() {
		if e.active.Add(-1) == 0 {
			close(e.out)
		}
	}()
	for j := range e.in {
		e.out <- e.call(j)
	}
}

// call returns the result of fn for j, or a skipped result when the stream
// is ending before j. A panic in fn is its result, as a *PanicError; a
// runtime.Goexit ends this worker, which hands over an ErrGoexit result and
// a worker in its place.
func (e *engine[T, U]) call(j job[T]) (r result[U]) {
	r.seq = j.seq
	if err := e.ctx.Err(); err != nil { // the stream is stopping, or ctx ended
		r.err = err
		return r
	}
	if e.skip(j.seq) {
		r.skipped = true
		return r
	}
	normal := false
	defer func() {
		if normal {
			return
		}
		var zero U
		r.v = zero
		if v := recover(); v != nil {
			r.err = panics.New(v)
			e.fail(r.seq)
			return
		}
		r.err = ErrGoexit
		e.fail(r.seq)
		e.active.Add(1)
		e.out <- r
		go e.work()
	}()
	r.v, r.err = e.fn(e.ctx, j.v)
	normal = true
	if r.err != nil {
		e.fail(r.seq)
	}
	return r
}

// fail records that the element at seq failed.
func (e *engine[T, U]) fail(seq int) {
	for f := e.failed.Load(); int64(seq) < f && !e.failed.CompareAndSwap(f, int64(seq)); f = e.failed.Load() {
	}
}

// skip reports whether the element at seq will not be handed out because
// of a failure: in order, one after the failed element; unordered, any
// once an element failed.
func (e *engine[T, U]) skip(seq int) bool {
	f := e.failed.Load()
	if e.order {
		return int64(seq) > f
	}
	return f != math.MaxInt64
}

// receive returns the next result from out, ok false when out is closed, or
// ctx's error when ctx ends first.
func (e *engine[T, U]) receive(ctx context.Context) (r result[U], ok bool, err error) {
	select {
	case r, ok = <-e.out:
		return r, ok, nil
	default:
	}
	select {
	case r, ok = <-e.out:
		return r, ok, nil
	case <-ctx.Done():
		return r, false, ctx.Err()
	}
}

// ordered hands the results out in source order.
func (e *engine[T, U]) ordered(ctx context.Context, window int, yield func(U, error) bool) {
	size := 1
	for size < window {
		size *= 2
	}
	e.ring = make([]result[U], size)
	ring, mask := e.ring, size-1
	var zero U
	for next := 0; ; next++ {
		if err := ctx.Err(); err != nil {
			yield(zero, err)
			return
		}
		var r result[U]
		if slot := &ring[next&mask]; slot.ok {
			r = *slot
			*slot = result[U]{}
			e.held--
		} else {
			for {
				got, ok, err := e.receive(ctx)
				if err != nil {
					yield(zero, err)
					return
				}
				if !ok { // every element taken from the source is handed out
					if e.srcErr != nil {
						e.srcOut = true
						yield(zero, e.srcErr)
					}
					return
				}
				if got.seq == next {
					r = got
					break
				}
				got.ok = true
				ring[got.seq&mask] = got
				e.held++
			}
		}
		<-e.tokens
		if r.err != nil {
			yield(zero, r.err)
			return
		}
		if !yield(r.v, nil) {
			return
		}
	}
}

// unordered hands the results out as they come.
func (e *engine[T, U]) unordered(ctx context.Context, yield func(U, error) bool) {
	var zero U
	for {
		if err := ctx.Err(); err != nil {
			yield(zero, err)
			return
		}
		r, ok, err := e.receive(ctx)
		if err != nil {
			yield(zero, err)
			return
		}
		if !ok {
			if e.srcErr != nil {
				e.srcOut = true
				yield(zero, e.srcErr)
			}
			return
		}
		<-e.tokens
		if r.skipped {
			continue
		}
		if r.err != nil {
			yield(zero, r.err)
			return
		}
		if !yield(r.v, nil) {
			return
		}
	}
}

// stop cancels the workers' context and waits for the reader and every
// worker to exit, giving back the tokens of the results not handed out. It
// returns the first panic that was not handed out as the stream's error (a
// call of fn, or the source, that panicked after the stream ended), for
// run to re-raise: a panic is never swallowed.
func (e *engine[T, U]) stop(cancel context.CancelFunc) (late *PanicError) {
	cancel()
	see := func(err error) {
		if pe, ok := err.(*PanicError); ok && late == nil {
			late = pe
		}
	}
	for i := range e.ring {
		if e.ring[i].ok {
			see(e.ring[i].err)
			e.ring[i] = result[U]{}
		}
	}
	for ; e.held > 0; e.held-- {
		<-e.tokens
	}
	for r := range e.out {
		see(r.err)
		<-e.tokens
	}
	if !e.srcOut {
		see(e.srcErr)
	}
	return late
}
