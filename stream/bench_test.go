package stream_test

// The hot paths, each measured per element: b.N elements go through one
// range of the stream, so ns/op is the cost of one element, and allocs/op
// rounds the per-range allocations (closures, channels, goroutines) away
// to what each element costs: 0 for every stream below. (A b.Loop around
// whole ranges would report the per-range constant instead.)
//
//	go test -run '^$' -bench . -benchmem -count 6 ./stream/ | tee stream.txt
//	go run golang.org/x/perf/cmd/benchstat@latest stream.txt

import (
	"context"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nodekit/nodekit/stream"
)

var benchSink int

// upTo is a source of 0..n-1 as a plain Stream.
func upTo(n int) stream.Stream[int] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

func triple(x int) (int, error) { return 3 * x, nil }
func inc(x int) (int, error)    { return x + 1, nil }

// BenchmarkChain: source → Map → Filter → Map → sum, on one goroutine.
// Target: ≤ 20 ns and 0 allocations per element.
func BenchmarkChain(b *testing.B) {
	b.ReportAllocs()
	s := stream.Map(stream.Filter(stream.Map(upTo(b.N), triple), even), inc)
	sum := 0
	for v, err := range s {
		if err != nil {
			b.Fatal(err)
		}
		sum += v
	}
	benchSink = sum
}

// BenchmarkChainIterSeq is the floor: the same chain as hand-written
// iter.Seq stages, without errors.
func BenchmarkChainIterSeq(b *testing.B) {
	b.ReportAllocs()
	src := func(yield func(int) bool) {
		for i := range b.N {
			if !yield(i) {
				return
			}
		}
	}
	m1 := func(yield func(int) bool) {
		for v := range src {
			if !yield(3 * v) {
				return
			}
		}
	}
	f := func(yield func(int) bool) {
		for v := range m1 {
			if v%2 == 0 && !yield(v) {
				return
			}
		}
	}
	sum := 0
	for v := range f {
		sum += v + 1
	}
	benchSink = sum
}

func tripleCtx(_ context.Context, x int) (int, error) { return 3 * x, nil }

// concurrencies are the worker counts measured: libuv's 4 and GOMAXPROCS.
func concurrencies() []struct {
	name string
	n    int
} {
	return []struct {
		name string
		n    int
	}{{"n=4", 4}, {"n=gomaxprocs", runtime.GOMAXPROCS(0)}}
}

// BenchmarkMapConcurrent: an ordered concurrent map of a trivial function,
// against two hand-written ordered channel pipelines with the same
// guarantees (ctx, first error, no goroutine left): the idiomatic one, a
// channel of result channels, and one with tokens and a ring (the design of
// MapConcurrent without the Stream around it). Target: within 1.5× of the
// hand-written one.
func BenchmarkMapConcurrent(b *testing.B) {
	ctx := context.Background()
	for _, c := range concurrencies() {
		b.Run(c.name+"/impl=stream", func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			for v, err := range stream.MapConcurrent(ctx, upTo(b.N), c.n, tripleCtx) {
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			benchSink = sum
		})
		b.Run(c.name+"/impl=stream-unordered", func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			for v, err := range stream.MapConcurrent(ctx, upTo(b.N), c.n, tripleCtx, stream.Unordered()) {
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			benchSink = sum
		})
		b.Run(c.name+"/impl=chan-of-chans", func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			err := chanOfChans(ctx, b.N, c.n, 2*c.n-1, tripleCtx, func(v int) error { sum += v; return nil })
			if err != nil {
				b.Fatal(err)
			}
			benchSink = sum
		})
		b.Run(c.name+"/impl=tokens-ring", func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			err := tokensRing(ctx, b.N, c.n, 2*c.n-1, tripleCtx, func(v int) error { sum += v; return nil })
			if err != nil {
				b.Fatal(err)
			}
			benchSink = sum
		})
	}
}

// BenchmarkMapConcurrentBatch: batches of 256 through an ordered
// concurrent map, per element. Target: below 10 ns per element.
func BenchmarkMapConcurrentBatch(b *testing.B) {
	ctx := context.Background()
	for _, c := range concurrencies() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			fn := func(_ context.Context, batch []int) ([]int, error) {
				for i := range batch {
					batch[i] *= 3
				}
				return batch, nil
			}
			sum := 0
			for batch, err := range stream.MapConcurrent(ctx, stream.Batch(upTo(b.N), 256), c.n, fn) {
				if err != nil {
					b.Fatal(err)
				}
				for _, v := range batch {
					sum += v
				}
			}
			benchSink = sum
		})
	}
}

// BenchmarkPipe: one writer and one reader on two goroutines, per value.
func BenchmarkPipe(b *testing.B) {
	for _, hwm := range []int{0, 16, 1024} {
		b.Run("hwm="+itoa(hwm), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			p := stream.NewPipe[int](hwm)
			go func() {
				for i := range b.N {
					if p.Write(ctx, i) != nil {
						return
					}
				}
				p.Close()
			}()
			sum := 0
			for v, err := range p.Stream(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			benchSink = sum
		})
	}
}

// BenchmarkLines: a 64-byte line per op.
func BenchmarkLines(b *testing.B) {
	b.ReportAllocs()
	line := strings.Repeat("x", 63) + "\n"
	b.SetBytes(int64(len(line)))
	r := &repeatReader{line: line, left: b.N * len(line)}
	n := 0
	for l, err := range stream.Lines(r) {
		if err != nil {
			b.Fatal(err)
		}
		n += len(l)
	}
	benchSink = n
}

// BenchmarkBatchTimeout: values through BatchTimeout's goroutine hop, per
// value.
func BenchmarkBatchTimeout(b *testing.B) {
	b.ReportAllocs()
	sum := 0
	for batch, err := range stream.BatchTimeout(context.Background(), upTo(b.N), 256, 1<<40) {
		if err != nil {
			b.Fatal(err)
		}
		sum += len(batch)
	}
	benchSink = sum
}

// repeatReader returns left bytes of line, repeated.
type repeatReader struct {
	line string
	left int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:min(len(p), n+r.left)], r.line[r.off:])
		r.off = (r.off + c) % len(r.line)
		n += c
		r.left -= c
	}
	return n, nil
}

func itoa(n int) string {
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		if n /= 10; n == 0 {
			return s
		}
	}
}

// chanOfChans is the idiomatic hand-written ordered pipeline: the feeder
// makes a result channel per item and sends it, in order, on a channel of
// capacity window (which bounds the items in flight), and the item with
// its channel to the workers; the caller receives the result channels in
// order and waits on each. On the first error (from fn or sink) it cancels
// and drains, so every goroutine exits before it returns.
func chanOfChans(ctx context.Context, items, n, window int, fn func(context.Context, int) (int, error), sink func(int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type res struct {
		v   int
		err error
	}
	type job struct {
		v   int
		out chan res
	}
	order := make(chan chan res, window)
	jobs := make(chan job, window)
	go func() {
		defer close(order)
		defer close(jobs)
		for i := range items {
			out := make(chan res, 1)
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			jobs <- job{i, out}
		}
	}()
	var wg atomic.Int64
	wg.Store(int64(n))
	done := make(chan struct{})
	for range n {
		go func() {
			defer func() {
				if wg.Add(-1) == 0 {
					close(done)
				}
			}()
			for j := range jobs {
				if err := ctx.Err(); err != nil {
					j.out <- res{err: err}
					continue
				}
				v, err := fn(ctx, j.v)
				j.out <- res{v, err}
			}
		}()
	}
	var err error
	for out := range order {
		r := <-out
		if err != nil {
			continue
		}
		if err = r.err; err == nil {
			err = sink(r.v)
		}
		if err != nil {
			cancel()
		}
	}
	<-done
	return err
}

// tokensRing is the hand-written pipeline with MapConcurrent's design: the
// feeder takes a token (a send on a channel of capacity window) before
// each item, the workers send results out of order, the caller puts them
// in order in a ring of window slots and gives the token back as each
// leaves; no send ever blocks, so there is no select on the hot path.
func tokensRing(ctx context.Context, items, n, window int, fn func(context.Context, int) (int, error), sink func(int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct{ seq, v int }
	type res struct {
		seq, v int
		err    error
		ok     bool
	}
	tokens := make(chan struct{}, window)
	in := make(chan job, window)
	out := make(chan res, window)
	go func() {
		defer close(in)
		for i := range items {
			tokens <- struct{}{}
			if ctx.Err() != nil {
				return
			}
			in <- job{i, i}
		}
	}()
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
				r := res{seq: j.seq}
				if r.err = ctx.Err(); r.err == nil {
					r.v, r.err = fn(ctx, j.v)
				}
				out <- r
			}
		}()
	}
	size := 1
	for size < window {
		size *= 2
	}
	ring := make([]res, size)
	mask := size - 1
	next, held := 0, 0
	var err error
	for r := range out {
		if err != nil {
			<-tokens
			continue
		}
		if r.seq != next {
			r.ok = true
			ring[r.seq&mask] = r
			held++
			continue
		}
		for {
			<-tokens
			if err = r.err; err == nil {
				err = sink(r.v)
			}
			if err != nil {
				break
			}
			next++
			slot := &ring[next&mask]
			if !slot.ok {
				break
			}
			r, *slot = *slot, res{}
			held--
		}
		if err != nil {
			cancel()
			for ; held > 0; held-- {
				<-tokens
			}
		}
	}
	return err
}
