package benchmarks

// Side-by-side benchmarks of github.com/nodekit/nodekit/stream against plain
// iter.Seq chaining, hand-written channel pipelines, sourcegraph/conc's
// stream and samber/ro, on the 3-stage workload: a source of the
// ints 0..N-1, map x*3, keep the even ones, map x+1, a sink that sums. Names
// end in /lib=NAME, nodekit first, as in events_test.go:
//
//	go test -run '^$' -bench 'Stream' -count 6 | tee stream.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /lib stream.txt

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/stream"
	"github.com/samber/ro"
	concstream "github.com/sourcegraph/conc/stream"
)

const (
	// streamItems is the number of source items one operation of the
	// trivial workloads pushes through; streamSlowItems that of the workload
	// whose concurrent stage spins about 1 µs per item.
	streamItems     = 100_000
	streamSlowItems = 10_000
	// streamBatchSize is the batch size of BenchmarkStreamBatch.
	streamBatchSize = 64
	// streamChainBuffer is the buffer of every channel of the hand-written
	// sequential channel pipeline: the fastest of 16, 64, 128, 256 and 1024
	// measured here (146, 122, 120 to 126, 120 and 107 to 114 ns/item).
	streamChainBuffer = 1024
	// streamSpinRounds is the length of the dependent multiply-add chain
	// the slow concurrent stage computes before x*3: about 1 µs of CPU on
	// the project's machine (985 ns a call; two goroutines calling it at
	// once finished one call per 494 ns, so the two cores are real).
	streamSpinRounds = 1050
)

// --- The workload ----------------------------------------------------------

// The three stages, shared by every setup that takes functions.
func streamTriple(x int) int { return x * 3 }
func streamEven(x int) bool  { return x%2 == 0 }
func streamInc(x int) int    { return x + 1 }

// A streamSink is the end of every pipeline: it sums the values, counts
// them, and counts the values smaller than the one before (inversions), so
// that the tests can see an ordered setup keep order; in the benchmarks it
// costs every setup the same compare and three adds per item.
type streamSink struct {
	sum, n, inversions, last int
}

func (s *streamSink) add(v int) {
	if v < s.last {
		s.inversions++
	}
	s.last = v
	s.sum += v
	s.n++
}

// streamWant is what a sink holds after the workload has run over the
// source 0..items-1 in order: one value 3x+1 per even x.
func streamWant(items int) streamSink {
	var s streamSink
	for x := 0; x < items; x += 2 {
		s.add(3*x + 1)
	}
	return s
}

// streamCount is the source of every setup that takes an iter.Seq: the ints
// 0..items-1.
func streamCount(items int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range items {
			if !yield(i) {
				return
			}
		}
	}
}

// seqBatch is a batching stage written by hand over an iter.Seq: the
// values of s in new slices of n, the last one shorter, as nodekit's Batch
// cuts a Stream.
func seqBatch[T any](s iter.Seq[T], n int) iter.Seq[[]T] {
	return func(yield func([]T) bool) {
		var b []T
		for v := range s {
			if b == nil {
				b = make([]T, 0, n)
			}
			if b = append(b, v); len(b) == n {
				if !yield(b) {
					return
				}
				b = nil
			}
		}
		if len(b) > 0 {
			yield(b)
		}
	}
}

// streamSpinOut keeps the slow stage's spin observable; it is written only
// if the chain ends at 0, which it practically never does.
var streamSpinOut atomic.Uint64

// streamSpin burns about 1 µs of CPU: streamSpinRounds dependent
// multiply-adds seeded with x.
func streamSpin(x int) {
	h := uint64(x) | 1
	for i := range streamSpinRounds {
		h = h*6364136223846793005 + uint64(i)
	}
	if h == 0 {
		streamSpinOut.Add(1)
	}
}

// The concurrent stage's functions: x*3 (trivial), the same after about
// 1 µs of CPU (slow), and x*3 over a batch, in place.
func streamTripleCtx(_ context.Context, x int) (int, error) { return x * 3, nil }

func streamSlowTripleCtx(_ context.Context, x int) (int, error) {
	streamSpin(x)
	return x * 3, nil
}

func streamTripleBatch(_ context.Context, b []int) ([]int, error) {
	for i := range b {
		b[i] *= 3
	}
	return b, nil
}

// --- Sequential chain: source → map → filter → map → sum ----------------------

// A streamChainLib runs the whole chain over the source 0..items-1.
type streamChainLib struct {
	name string
	run  func(items int) (streamSink, error)
}

// streamChainLibs, nodekit first: the base of benchstat's comparison.
var streamChainLibs = []streamChainLib{
	{name: "nodekit", run: streamChainNodekit},
	{name: "iter", run: streamChainIter},
	{name: "channel", run: streamChainChannel},
	{name: "ro", run: streamChainRo},
}

// streamChainNodekit is the chain in nodekit's spelling: FromSeq over the
// shared source, Map, Filter, Map, and ForEach as the sink.
func streamChainNodekit(items int) (streamSink, error) {
	var s streamSink
	st := stream.FromSeq(streamCount(items))
	st = stream.Map(st, func(x int) (int, error) { return streamTriple(x), nil })
	st = stream.Filter(st, streamEven)
	st = stream.Map(st, func(x int) (int, error) { return streamInc(x), nil })
	err := stream.ForEach(st, func(v int) error { s.add(v); return nil })
	return s, err
}

// seqMap and seqFilter are iter.Seq stages written by hand: the floor.
func seqMap[T, U any](s iter.Seq[T], f func(T) U) iter.Seq[U] {
	return func(yield func(U) bool) {
		for v := range s {
			if !yield(f(v)) {
				return
			}
		}
	}
}

func seqFilter[T any](s iter.Seq[T], keep func(T) bool) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range s {
			if keep(v) && !yield(v) {
				return
			}
		}
	}
}

func streamChainIter(items int) (streamSink, error) {
	var s streamSink
	for v := range seqMap(seqFilter(seqMap(streamCount(items), streamTriple), streamEven), streamInc) {
		s.add(v)
	}
	return s, nil
}

// chanMap and chanFilter are stages of the hand-written channel pipeline: a
// goroutine each, reading in to its end and closing out. The pipeline reads
// every item (there is no early stop here, which would need a done channel
// and a select per send and only make it slower).
func chanMap[T, U any](in <-chan T, f func(T) U) <-chan U {
	out := make(chan U, streamChainBuffer)
	go func() {
		defer close(out)
		for v := range in {
			out <- f(v)
		}
	}()
	return out
}

func chanFilter[T any](in <-chan T, keep func(T) bool) <-chan T {
	out := make(chan T, streamChainBuffer)
	go func() {
		defer close(out)
		for v := range in {
			if keep(v) {
				out <- v
			}
		}
	}()
	return out
}

func streamChainChannel(items int) (streamSink, error) {
	src := make(chan int, streamChainBuffer)
	go func() {
		defer close(src)
		for i := range items {
			src <- i
		}
	}()
	var s streamSink
	for v := range chanMap(chanFilter(chanMap(src, streamTriple), streamEven), streamInc) {
		s.add(v)
	}
	return s, nil
}

// streamChainRo is samber/ro's own idiom: Range piped through Map, Filter
// and Map, subscribed with an observer that sums (int64 is int here).
func streamChainRo(items int) (streamSink, error) {
	obs := ro.Pipe3(
		ro.Range(0, int64(items)),
		ro.Map(func(x int64) int64 { return x * 3 }),
		ro.Filter(func(x int64) bool { return x%2 == 0 }),
		ro.Map(func(x int64) int64 { return x + 1 }),
	)
	var s streamSink
	var err error
	completed := false
	obs.Subscribe(ro.NewObserver(
		func(v int64) { s.add(int(v)) },
		func(e error) { err = e },
		func() { completed = true },
	)).Wait()
	if err == nil && !completed {
		err = errors.New("ro: the subscription ended without completing")
	}
	return s, err
}

// BenchmarkStreamChain runs the 3-stage chain, sequentially, over
// streamItems ints per operation.
func BenchmarkStreamChain(b *testing.B) {
	for _, lib := range streamChainLibs {
		b.Run("lib="+lib.name, func(b *testing.B) {
			benchStream(b, streamItems, func() (streamSink, error) { return lib.run(streamItems) })
		})
	}
}

// --- Concurrent: source → concurrent map → filter → map → sum ---------------

// A streamConcLib runs the workload with its first stage, fn, on n
// goroutines, over the source 0..items-1.
type streamConcLib struct {
	name string
	// ordered: the sink sees the items in source order.
	ordered bool
	// errs: an error from fn ends the run and is returned.
	errs bool
	// serial: calls fn on the calling goroutine only, n is ignored.
	serial bool
	run    func(ctx context.Context, items, n int, fn func(context.Context, int) (int, error)) (streamSink, error)
}

// streamConcLibs, nodekit first: the base of benchstat's comparison.
var streamConcLibs = []streamConcLib{
	{name: "nodekit", ordered: true, errs: true, run: streamConcNodekit},
	{name: "nodekit-unordered", errs: true, run: streamConcNodekitUnordered},
	{name: "channel", ordered: true, errs: true, run: streamConcChannel},
	{name: "channel-unordered", errs: true, run: streamConcChannelUnordered},
	{name: "channel-inline", ordered: true, errs: true, run: streamConcChannelInline},
	{name: "conc", ordered: true, run: streamConcConc},
	{name: "sequential", ordered: true, errs: true, serial: true, run: streamConcSequential},
}

// streamWindow is the number of items the hand-written concurrent
// pipelines let be between their source and their sink, for n workers:
// nodekit's default, n running and a HighWaterMark of n-1 (Node's).
func streamWindow(n int) int { return 2*n - 1 }

// streamRest is the rest of the workload after the concurrent stage, as
// one sink function: keep the even ones, add 1, sum.
func streamRest(s *streamSink) func(int) error {
	return func(v int) error {
		if streamEven(v) {
			s.add(streamInc(v))
		}
		return nil
	}
}

// streamConcNodekit is the concurrent workload in nodekit's spelling:
// MapConcurrent over FromSeq of the shared source, then Filter, Map and
// ForEach, with the default HighWaterMark.
func streamConcNodekit(ctx context.Context, items, n int, fn func(context.Context, int) (int, error)) (streamSink, error) {
	return streamConcNodekitWith(ctx, items, n, fn)
}

func streamConcNodekitWith(ctx context.Context, items, n int, fn func(context.Context, int) (int, error), opts ...stream.Option) (streamSink, error) {
	var s streamSink
	st := stream.MapConcurrent(ctx, stream.FromSeq(streamCount(items)), n, fn, opts...)
	st = stream.Filter(st, streamEven)
	st = stream.Map(st, func(x int) (int, error) { return streamInc(x), nil })
	err := stream.ForEach(st, func(v int) error { s.add(v); return nil })
	return s, err
}

func streamConcNodekitUnordered(ctx context.Context, items, n int, fn func(context.Context, int) (int, error)) (streamSink, error) {
	return streamConcNodekitWith(ctx, items, n, fn, stream.Unordered())
}

func streamConcChannel(ctx context.Context, items, n int, fn func(context.Context, int) (int, error)) (streamSink, error) {
	var s streamSink
	err := chanOrdered(ctx, streamCount(items), n, streamWindow(n), fn, streamRest(&s))
	return s, err
}

func streamConcChannelInline(ctx context.Context, items, n int, fn func(context.Context, int) (int, error)) (streamSink, error) {
	var s streamSink
	err := chanOrderedInline(ctx, streamCount(items), n, streamWindow(n), fn, streamRest(&s))
	return s, err
}

func streamConcChannelUnordered(ctx context.Context, items, n int, fn func(context.Context, int) (int, error)) (streamSink, error) {
	var s streamSink
	err := chanUnordered(ctx, streamCount(items), n, streamWindow(n), fn, streamRest(&s))
	return s, err
}

// streamConcConc is conc's stream.Stream: the caller submits a task per
// item, which returns a callback; the callbacks run in submission order on
// one goroutine of conc's. conc has no context and no errors: the first
// error is kept and returned, and every item still runs.
func streamConcConc(ctx context.Context, items, n int, fn func(context.Context, int) (int, error)) (streamSink, error) {
	var s streamSink
	var first error
	rest := streamRest(&s)
	cs := concstream.New().WithMaxGoroutines(n)
	for i := range items {
		cs.Go(func() concstream.Callback {
			v, err := fn(ctx, i)
			return func() {
				if err != nil {
					if first == nil {
						first = err
					}
					return
				}
				rest(v)
			}
		})
	}
	cs.Wait()
	return s, first
}

// streamConcSequential is the reference: fn called in a plain loop on the
// calling goroutine, n ignored (the same setup appears in every n row). It
// shows whether running fn on several goroutines pays at all.
func streamConcSequential(ctx context.Context, items, _ int, fn func(context.Context, int) (int, error)) (streamSink, error) {
	var s streamSink
	rest := streamRest(&s)
	for i := range items {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		v, err := fn(ctx, i)
		if err != nil {
			return s, err
		}
		rest(v)
	}
	return s, nil
}

// streamConcFns are the concurrent stage's functions and the source length
// each is measured with.
var streamConcFns = []struct {
	name  string
	items int
	fn    func(context.Context, int) (int, error)
}{
	{"fn=trivial", streamItems, streamTripleCtx},
	{"fn=1us", streamSlowItems, streamSlowTripleCtx},
}

// streamWorkers are the concurrencies measured: libuv's pool size and
// GOMAXPROCS.
func streamWorkers() []struct {
	name string
	n    int
} {
	return []struct {
		name string
		n    int
	}{{"n=4", 4}, {"n=gomaxprocs", runtime.GOMAXPROCS(0)}}
}

// BenchmarkStreamMapConcurrent runs the workload with the first map on n
// goroutines: x*3, and x*3 after about 1 µs of CPU.
func BenchmarkStreamMapConcurrent(b *testing.B) {
	ctx := context.Background()
	for _, f := range streamConcFns {
		b.Run(f.name, func(b *testing.B) {
			for _, w := range streamWorkers() {
				b.Run(w.name, func(b *testing.B) {
					for _, lib := range streamConcLibs {
						b.Run("lib="+lib.name, func(b *testing.B) {
							benchStream(b, f.items, func() (streamSink, error) { return lib.run(ctx, f.items, w.n, f.fn) })
						})
					}
				})
			}
		})
	}
}

// --- Batched: source → batches of 64 → concurrent map of each batch → sum ---

// A streamBatchLib runs the workload with the source cut into batches of
// streamBatchSize and fn mapping each batch on n goroutines, in order; the
// sink filters, adds 1 and sums each batch's items.
type streamBatchLib struct {
	name string
	run  func(ctx context.Context, items, n int, fn func(context.Context, []int) ([]int, error)) (streamSink, error)
}

// streamBatchLibs, nodekit first: the base of benchstat's comparison.
var streamBatchLibs = []streamBatchLib{
	{name: "nodekit", run: streamBatchNodekit},
	{name: "channel", run: streamBatchChannel},
	{name: "sequential", run: streamBatchSequential},
}

// streamRestBatch is streamRest over a batch.
func streamRestBatch(s *streamSink) func([]int) error {
	return func(b []int) error {
		for _, v := range b {
			if streamEven(v) {
				s.add(streamInc(v))
			}
		}
		return nil
	}
}

// streamBatchNodekit: MapConcurrent over Batch(FromSeq(source), 64), with
// ForEach as the sink.
func streamBatchNodekit(ctx context.Context, items, n int, fn func(context.Context, []int) ([]int, error)) (streamSink, error) {
	var s streamSink
	st := stream.MapConcurrent(ctx, stream.Batch(stream.FromSeq(streamCount(items)), streamBatchSize), n, fn)
	err := stream.ForEach(st, streamRestBatch(&s))
	return s, err
}

func streamBatchChannel(ctx context.Context, items, n int, fn func(context.Context, []int) ([]int, error)) (streamSink, error) {
	var s streamSink
	err := chanOrdered(ctx, seqBatch(streamCount(items), streamBatchSize), n, streamWindow(n), fn, streamRestBatch(&s))
	return s, err
}

// streamBatchSequential is the reference: the same batches, fn called on
// each in a plain loop on the calling goroutine, n ignored.
func streamBatchSequential(ctx context.Context, items, _ int, fn func(context.Context, []int) ([]int, error)) (streamSink, error) {
	var s streamSink
	rest := streamRestBatch(&s)
	for b := range seqBatch(streamCount(items), streamBatchSize) {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		b, err := fn(ctx, b)
		if err != nil {
			return s, err
		}
		rest(b)
	}
	return s, nil
}

// BenchmarkStreamBatch runs the batched workload over streamItems ints per
// operation.
func BenchmarkStreamBatch(b *testing.B) {
	ctx := context.Background()
	for _, w := range streamWorkers() {
		b.Run(w.name, func(b *testing.B) {
			for _, lib := range streamBatchLibs {
				b.Run("lib="+lib.name, func(b *testing.B) {
					benchStream(b, streamItems, func() (streamSink, error) { return lib.run(ctx, streamItems, w.n, streamTripleBatch) })
				})
			}
		})
	}
}

// benchStream measures run, one whole workload of items source items per
// operation, checks every result against streamWant, and reports per source
// item: ns/item (wall clock), allocs/item and B/item (runtime.ReadMemStats
// around the whole loop: Mallocs and TotalAlloc, as -benchmem counts them).
func benchStream(b *testing.B, items int, run func() (streamSink, error)) {
	want := streamWant(items)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ops := 0
	for b.Loop() {
		got, err := run()
		if err != nil {
			b.Fatal(err)
		}
		if got.sum != want.sum || got.n != want.n {
			b.Fatalf("sink: sum %d of %d items, want %d of %d", got.sum, got.n, want.sum, want.n)
		}
		ops++
	}
	runtime.ReadMemStats(&after)
	total := float64(ops) * float64(items)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/item")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/total, "B/item")
}

// --- The hand-written concurrent pipelines ---------------------------------

// A chanJob is an item on its way to a worker, with its place in the
// source.
type chanJob[T any] struct {
	seq int
	v   T
}

// A chanResult is a worker's result for the item at seq.
type chanResult[U any] struct {
	seq int
	v   U
	err error
	ok  bool // in the ring: holds a result
}

// chanWorkers starts n workers that call fn for each job of in and send the
// result to out; the last one to finish closes out. Once ctx has ended they
// send ctx.Err() instead of calling fn.
func chanWorkers[T, U any](ctx context.Context, n int, fn func(context.Context, T) (U, error), in <-chan chanJob[T], out chan<- chanResult[U]) {
	var active atomic.Int64
	active.Store(int64(n))
	for range n {
		go func() {
			defer func() {
				if active.Add(-1) == 0 {
					close(out)
				}
			}()
			for j := range in {
				r := chanResult[U]{seq: j.seq}
				if r.err = ctx.Err(); r.err == nil {
					r.v, r.err = fn(ctx, j.v)
				}
				out <- r
			}
		}()
	}
}

// chanFeeder starts the feeder goroutine of chanOrdered and chanUnordered:
// it ranges src and sends each item, numbered, to in, after taking a token
// (a send on tokens); it stops at the end of src, or at the first item
// after ctx ended, and closes in. *fedAll, read once out is closed, says
// whether src ended.
func chanFeeder[T any](ctx context.Context, src iter.Seq[T], in chan<- chanJob[T], tokens chan<- struct{}, fedAll *bool) {
	go func() {
		defer close(in)
		seq := 0
		for v := range src {
			tokens <- struct{}{}
			if ctx.Err() != nil {
				return
			}
			in <- chanJob[T]{seq, v}
			seq++
		}
		*fedAll = true
	}()
}

// chanOrdered is the hand-written ordered pipeline, the anchor of the
// issue's "within 1.5×" target, written to do the job of an ordered
// concurrent map with the same guarantees: it calls fn on n worker
// goroutines for the items of src and hands the results to sink in source
// order, on the calling goroutine, while a feeder goroutine runs src (so a
// source that waits never holds back results already made); the first
// error (from fn or sink) or the end of ctx stops it, and it returns only
// once every goroutine it started has exited.
//
// The feeder sends the items, numbered, to the workers (channel in), which
// send their results back out of order (channel out); the caller puts them
// in order in a ring and hands them to sink. At most window items are
// between the feeder and the sink: the feeder takes a token (a send on a
// channel of capacity window) before each item and the caller gives it
// back (a receive) when the item leaves it. So the ring needs window slots,
// and no send to in or out ever blocks, as both have capacity window: a
// worker never waits for the caller, and there is no select anywhere. Per
// item: three channel transfers (token, in, out) and two ctx.Err loads
// (atomic).
//
// To stop, the caller cancels the derived context and drains out, giving
// back every token it holds or receives; the feeder sees the context ended
// after its next token and closes in; the workers send what they still
// hold without calling fn, and the last one closes out.
func chanOrdered[T, U any](ctx context.Context, src iter.Seq[T], n, window int, fn func(context.Context, T) (U, error), sink func(U) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tokens := make(chan struct{}, window)
	in := make(chan chanJob[T], window)
	out := make(chan chanResult[U], window)
	fedAll := false
	chanFeeder(ctx, src, in, tokens, &fedAll)
	chanWorkers(ctx, n, fn, in, out)

	size := 1 // the ring: a power of two of at least window slots
	for size < window {
		size *= 2
	}
	ring := make([]chanResult[U], size)
	mask := size - 1
	next, held := 0, 0 // next: seq of the next item for sink; held: results in the ring
	var err error
	for r := range out {
		if err != nil { // draining
			<-tokens
			continue
		}
		switch {
		case r.err != nil:
			err = r.err
			<-tokens
		case r.seq != next:
			r.ok = true
			ring[r.seq&mask] = r
			held++
			continue
		default:
			for {
				<-tokens
				if err = sink(r.v); err != nil {
					break
				}
				next++
				slot := &ring[next&mask]
				if !slot.ok {
					break
				}
				r = *slot
				*slot = chanResult[U]{}
				held--
			}
		}
		if err != nil {
			cancel()
			for ; held > 0; held-- {
				<-tokens
			}
		}
	}
	if err == nil && !fedAll {
		err = ctx.Err() // ctx ended before the source did
	}
	return err
}

// chanUnordered is the hand-written unordered pipeline: chanOrdered without
// the ring; each result goes to sink as it arrives, and gives its token
// back.
func chanUnordered[T, U any](ctx context.Context, src iter.Seq[T], n, window int, fn func(context.Context, T) (U, error), sink func(U) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tokens := make(chan struct{}, window)
	in := make(chan chanJob[T], window)
	out := make(chan chanResult[U], window)
	fedAll := false
	chanFeeder(ctx, src, in, tokens, &fedAll)
	chanWorkers(ctx, n, fn, in, out)

	var err error
	for r := range out {
		<-tokens
		if err != nil { // draining
			continue
		}
		if err = r.err; err == nil {
			err = sink(r.v)
		}
		if err != nil {
			cancel()
		}
	}
	if err == nil && !fedAll {
		err = ctx.Err()
	}
	return err
}

// chanOrderedInline is chanOrdered without the feeder goroutine and the
// tokens: the calling goroutine ranges src itself, sends each item to in,
// and when window items are out, receives results (and hands those in
// order to sink) before it sends the next one. Per item: two channel
// transfers (in, out), and one goroutine fewer to wake. The price is a
// guarantee: results wait while src waits for its next item, so a source
// that blocks (a channel, a pipe fed by what the sink does) delays or
// deadlocks them. It shows what the feeder goroutine costs.
func chanOrderedInline[T, U any](ctx context.Context, src iter.Seq[T], n, window int, fn func(context.Context, T) (U, error), sink func(U) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan chanJob[T], window)
	out := make(chan chanResult[U], window)
	chanWorkers(ctx, n, fn, in, out)

	size := 1
	for size < window {
		size *= 2
	}
	ring := make([]chanResult[U], size)
	mask := size - 1
	seq, next := 0, 0 // seq: of the next item sent; next: of the next item for sink
	var err error
	// take handles one result: the first error ends the run; a result in
	// order goes to sink, with those after it already in the ring; one out
	// of order waits in the ring.
	take := func(r chanResult[U]) {
		switch {
		case err != nil:
		case r.err != nil:
			err = r.err
		case r.seq != next:
			r.ok = true
			ring[r.seq&mask] = r
		default:
			for {
				if err = sink(r.v); err != nil {
					return
				}
				next++
				slot := &ring[next&mask]
				if !slot.ok {
					return
				}
				r = *slot
				*slot = chanResult[U]{}
			}
		}
	}
	fedAll := true
	for v := range src {
		for seq-next == window && err == nil {
			take(<-out)
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			fedAll = false
			break
		}
		in <- chanJob[T]{seq, v}
		seq++
	}
	close(in)
	for r := range out {
		take(r)
	}
	if err == nil && !fedAll {
		err = ctx.Err()
	}
	return err
}

// --- Every setup does the work ---------------------------------------------

// TestStreamSetups runs every benchmarked setup, through the same run
// functions, over sources of several lengths (empty, one item, odd, around
// a batch boundary, long), at concurrencies 1, 4 and GOMAXPROCS: the sink
// gets exactly the items the workload keeps, with exactly their sum, in
// order for the ordered setups; the concurrent function runs exactly once
// per item (once per batch of streamBatchSize, the last one shorter), never
// on more than n goroutines at once and, with a function that waits, on
// several (on one for the sequential references); an error from it, or an
// ended context, is returned by the setups that take errors; the
// hand-written pipelines stop when their sink fails; and no goroutine
// outlives a run (leaktest).
func TestStreamSetups(t *testing.T) {
	leaktest.Check(t)
	lengths := []int{0, 1, 2, 63, 64, 65, 1000, 10_001}
	ctx := context.Background()

	for _, lib := range streamChainLibs {
		t.Run("chain/lib="+lib.name, func(t *testing.T) {
			for _, items := range lengths {
				got, err := lib.run(items)
				if want := streamWant(items); err != nil || got != want {
					t.Errorf("run(%d) = %+v, %v; want %+v, nil", items, got, err, want)
				}
			}
		})
	}

	for _, lib := range streamConcLibs {
		t.Run("concurrent/lib="+lib.name, func(t *testing.T) {
			for _, n := range []int{1, 4, runtime.GOMAXPROCS(0)} {
				for _, items := range lengths {
					var p streamProbe
					got, err := lib.run(ctx, items, n, streamProbed(&p, streamTripleCtx))
					p.check(t, fmt.Sprintf("run(%d items, n=%d)", items, n), got, err, items, items, n, lib.ordered)
				}
				// A function that waits lets the workers overlap.
				var p streamProbe
				got, err := lib.run(ctx, 200, n, streamProbed(&p, func(_ context.Context, x int) (int, error) {
					streamWait()
					return x * 3, nil
				}))
				name := fmt.Sprintf("run(200 waiting items, n=%d)", n)
				p.check(t, name, got, err, 200, 200, n, lib.ordered)
				if most := p.most.Load(); n > 1 && most < 2 && !lib.serial {
					t.Errorf("%s: at most %d call of fn at once, want several", name, most)
				}
				if most := p.most.Load(); lib.serial && most != 1 {
					t.Errorf("%s: %d calls of fn at once, want 1", name, most)
				}
			}
			if !lib.errs {
				return
			}
			errStop := errors.New("stop at 500")
			for _, n := range []int{1, 4} {
				_, err := lib.run(ctx, 10_000, n, func(_ context.Context, x int) (int, error) {
					if x == 500 {
						return 0, errStop
					}
					return x * 3, nil
				})
				if err != errStop {
					t.Errorf("run(10000, n=%d) with fn failing at 500: err = %v, want %v", n, err, errStop)
				}
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := lib.run(cctx, 10_000, 4, streamTripleCtx); !errors.Is(err, context.Canceled) {
				t.Errorf("run(10000, n=4) with a canceled ctx: err = %v, want %v", err, context.Canceled)
			}
		})
	}

	for _, lib := range streamBatchLibs {
		t.Run("batch/lib="+lib.name, func(t *testing.T) {
			for _, n := range []int{1, 4, runtime.GOMAXPROCS(0)} {
				for _, items := range lengths {
					var p streamProbe
					var short atomic.Int64 // batches shorter than streamBatchSize
					var seen atomic.Int64  // items in all batches
					got, err := lib.run(ctx, items, n, streamProbed(&p, func(ctx context.Context, b []int) ([]int, error) {
						if len(b) < streamBatchSize {
							short.Add(1)
						}
						seen.Add(int64(len(b)))
						return streamTripleBatch(ctx, b)
					}))
					name := fmt.Sprintf("run(%d items, n=%d)", items, n)
					batches := (items + streamBatchSize - 1) / streamBatchSize
					p.check(t, name, got, err, items, batches, n, true)
					if want := int64(min(1, items%streamBatchSize)); short.Load() != want {
						t.Errorf("%s: %d short batches, want %d", name, short.Load(), want)
					}
					if seen.Load() != int64(items) {
						t.Errorf("%s: %d items in the batches, want %d", name, seen.Load(), items)
					}
				}
			}
		})
	}

	// The hand-written pipelines stop when their sink fails, as a consumer
	// that breaks out of its loop stops a stream.
	errSink := errors.New("sink stops")
	for _, pipe := range []struct {
		name string
		run  func(context.Context, iter.Seq[int], int, int, func(context.Context, int) (int, error), func(int) error) error
	}{
		{"chanOrdered", chanOrdered[int, int]},
		{"chanUnordered", chanUnordered[int, int]},
		{"chanOrderedInline", chanOrderedInline[int, int]},
	} {
		for _, n := range []int{1, 4} {
			seen := 0
			err := pipe.run(ctx, streamCount(10_000), n, streamWindow(n), streamTripleCtx, func(int) error {
				if seen++; seen == 100 {
					return errSink
				}
				return nil
			})
			if err != errSink || seen != 100 {
				t.Errorf("%s(n=%d) with a sink failing at its 100th item = %v after %d items, want %v after 100", pipe.name, n, err, seen, errSink)
			}
		}
	}
}

// streamWait waits 20 µs of wall-clock time, yielding its P meanwhile.
func streamWait() {
	start := time.Now()
	for time.Since(start) < 20*time.Microsecond {
		runtime.Gosched()
	}
}

// A streamProbe counts the calls of a concurrent stage's function and the
// most that ran at once.
type streamProbe struct {
	calls, active, most atomic.Int64
}

// streamProbed returns fn counted by p.
func streamProbed[T, U any](p *streamProbe, fn func(context.Context, T) (U, error)) func(context.Context, T) (U, error) {
	return func(ctx context.Context, v T) (U, error) {
		p.calls.Add(1)
		a := p.active.Add(1)
		for m := p.most.Load(); a > m && !p.most.CompareAndSwap(m, a); m = p.most.Load() {
		}
		defer p.active.Add(-1)
		return fn(ctx, v)
	}
}

// check fails t unless a run over items source items returned the
// workload's sink (in order if ordered) and no error, after exactly calls
// calls of the stage function, never more than n at once.
func (p *streamProbe) check(t *testing.T, name string, got streamSink, err error, items, calls, n int, ordered bool) {
	t.Helper()
	want := streamWant(items)
	if !ordered {
		got.inversions, got.last = 0, want.last
	}
	if err != nil || got != want {
		t.Errorf("%s = %+v, %v; want %+v, nil", name, got, err, want)
	}
	if c := p.calls.Load(); c != int64(calls) {
		t.Errorf("%s: fn called %d times, want %d", name, c, calls)
	}
	if m := p.most.Load(); m > int64(n) {
		t.Errorf("%s: %d calls of fn at once, want at most %d", name, m, n)
	}
}
