package stream_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/stream"
)

func double(x int) (int, error) { return 2 * x, nil }
func even(x int) bool           { return x%2 == 0 }

func TestSources(t *testing.T) {
	s := stream.Of(1, 2, 3)
	for range 2 { // a slice source runs again from the start
		if got, err := stream.Collect(s); !slices.Equal(got, []int{1, 2, 3}) || err != nil {
			t.Errorf("Of(1, 2, 3) = %v, %v", got, err)
		}
	}
	seq := stream.FromSeq(slices.Values([]string{"a", "b"}))
	for range 2 {
		if got, err := stream.Collect(seq); !slices.Equal(got, []string{"a", "b"}) || err != nil {
			t.Errorf("FromSeq = %q, %v", got, err)
		}
	}
	if got, err := stream.Collect(stream.Of[int]()); len(got) != 0 || err != nil {
		t.Errorf("Of() = %v, %v", got, err)
	}

	// Generate: the error after the values; a generator that ignores a
	// false from yield cannot push more.
	got, err := collect(t, stream.Generate(func(yield func(int) bool) error {
		yield(1)
		return errSource
	}))
	if !slices.Equal(got, []int{1}) || err != errSource {
		t.Errorf("Generate = %v, %v; want [1], %v", got, err, errSource)
	}
	calls := 0
	for range stream.Generate(func(yield func(int) bool) error {
		for i := range 5 {
			calls++
			yield(i) // ignores false
		}
		return errSource // not delivered: the consumer has gone
	}) {
		break
	}
	if calls != 5 {
		t.Errorf("the generator ran %d steps", calls)
	}
}

func TestFromChan(t *testing.T) {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	close(ch)
	s := stream.FromChan(t.Context(), ch)
	if got, err := collect(t, s); !slices.Equal(got, []int{1, 2}) || err != nil {
		t.Errorf("FromChan = %v, %v", got, err)
	}
	if got, err := collect(t, s); len(got) != 0 || err != stream.ErrConsumed {
		t.Errorf("second range of FromChan = %v, %v; want none, ErrConsumed", got, err)
	}

	// An ended ctx is seen before a value ready on ch, every time.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 100 {
		ch := make(chan int, 1)
		ch <- 1
		if got, err := collect(t, stream.FromChan(ctx, ch)); len(got) != 0 || err != context.Canceled {
			t.Fatalf("FromChan with an ended ctx = %v, %v; want none, context.Canceled", got, err)
		}
	}

	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		ch := make(chan int)
		got, err := collect(t, stream.FromChan(ctx, ch))
		if len(got) != 0 || err != context.DeadlineExceeded {
			t.Errorf("FromChan waiting when ctx ends = %v, %v", got, err)
		}
	})
}

func TestSequentialOperators(t *testing.T) {
	errMap := errors.New("map failed")
	for _, tc := range []struct {
		name    string
		s       stream.Stream[int]
		want    []int
		wantErr error
	}{
		{"Map", stream.Map(count(4), double), []int{0, 2, 4, 6}, nil},
		{"Map error", stream.Map(count(4), func(x int) (int, error) {
			if x == 2 {
				return 0, errMap
			}
			return x, nil
		}), []int{0, 1}, errMap},
		{"Map passes the source's error", stream.Map(stream.Generate(func(yield func(int) bool) error {
			yield(1)
			return errSource
		}), double), []int{2}, errSource},
		{"Filter", stream.Filter(count(7), even), []int{0, 2, 4, 6}, nil},
		{"FlatMap", stream.FlatMap(count(4), func(x int) stream.Stream[int] {
			if x == 1 {
				return nil // empty
			}
			return stream.Of(x, x)
		}), []int{0, 0, 2, 2, 3, 3}, nil},
		{"FlatMap inner error", stream.FlatMap(count(4), func(x int) stream.Stream[int] {
			if x == 2 {
				return stream.Map(count(3), func(y int) (int, error) {
					if y == 1 {
						return 0, errMap
					}
					return 10 * x, nil
				})
			}
			return stream.Of(x)
		}), []int{0, 1, 20}, errMap},
		{"Take", stream.Take(count(10), 3), []int{0, 1, 2}, nil},
		{"Take more than there is", stream.Take(count(2), 3), []int{0, 1}, nil},
		{"Take 0", stream.Take(count(2), 0), nil, nil},
		{"chain", stream.Map(stream.Filter(stream.Map(count(6), double), func(x int) bool { return x%4 == 0 }), func(x int) (int, error) { return x + 1, nil }), []int{1, 5, 9}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, tc.s)
			if diff := cmp.Diff(tc.want, got); diff != "" || err != tc.wantErr {
				t.Errorf("%s = %v, %v; want %v, %v (-want +got):\n%s", tc.name, got, err, tc.want, tc.wantErr, diff)
			}
		})
	}
}

// Take never asks for the element after the n-th, and does not range its
// source at all for 0: a one-shot source keeps what Take did not take.
func TestTakeStopsAtN(t *testing.T) {
	asked := 0
	src := stream.Generate(func(yield func(int) bool) error {
		for i := 0; ; i++ {
			asked++
			if !yield(i) {
				return nil
			}
		}
	})
	stream.Drain(stream.Take(src, 3))
	if asked != 3 {
		t.Errorf("Take(3) asked the source for %d elements, want 3", asked)
	}
	ch := make(chan int, 2)
	ch <- 7
	close(ch)
	stream.Drain(stream.Take(stream.FromChan(t.Context(), ch), 0))
	if len(ch) != 1 {
		t.Errorf("Take(0) received from the channel")
	}
}

// Every operator stops its source when the consumer breaks, and never
// calls yield again after it returned false (the range-over-func rules
// would panic).
func TestBreakStopsEveryStage(t *testing.T) {
	ctx := context.Background()
	id := func(_ context.Context, x int) (int, error) { return x, nil }
	ops := map[string]func(stream.Stream[int]) stream.Stream[int]{
		"Map":    func(s stream.Stream[int]) stream.Stream[int] { return stream.Map(s, double) },
		"Filter": func(s stream.Stream[int]) stream.Stream[int] { return stream.Filter(s, even) },
		"FlatMap": func(s stream.Stream[int]) stream.Stream[int] {
			return stream.FlatMap(s, func(x int) stream.Stream[int] { return stream.Of(x, x) })
		},
		"Take": func(s stream.Stream[int]) stream.Stream[int] { return stream.Take(s, 1000) },
		"Tap":  func(s stream.Stream[int]) stream.Stream[int] { return stream.Tap(s, func(int) {}) },
		"Batch": func(s stream.Stream[int]) stream.Stream[int] {
			return stream.FlatMap(stream.Batch(s, 3), func(b []int) stream.Stream[int] { return stream.FromSlice(b) })
		},
		"BatchTimeout": func(s stream.Stream[int]) stream.Stream[int] {
			return stream.FlatMap(stream.BatchTimeout(ctx, s, 3, time.Hour), func(b []int) stream.Stream[int] { return stream.FromSlice(b) })
		},
		"MapConcurrent": func(s stream.Stream[int]) stream.Stream[int] { return stream.MapConcurrent(ctx, s, 3, id) },
		"FilterConcurrent": func(s stream.Stream[int]) stream.Stream[int] {
			return stream.FilterConcurrent(ctx, s, 3, func(context.Context, int) (bool, error) { return true, nil })
		},
	}
	for name, op := range ops {
		stopped := false
		src := stream.Generate(func(yield func(int) bool) error {
			defer func() { stopped = true }()
			for i := 0; ; i++ {
				if !yield(i) {
					return nil
				}
			}
		})
		n := 0
		for range op(src) {
			if n++; n == 10 {
				break
			}
		}
		if !stopped {
			t.Errorf("%s: the source did not stop after the consumer broke", name)
		}
	}
}

func TestSinks(t *testing.T) {
	var seen []int
	errStop := errors.New("stop")
	err := stream.ForEach(count(10), func(x int) error {
		seen = append(seen, x)
		if x == 3 {
			return errStop
		}
		return nil
	})
	if err != errStop || !slices.Equal(seen, []int{0, 1, 2, 3}) {
		t.Errorf("ForEach = %v after %v; want %v after [0 1 2 3]", err, seen, errStop)
	}
	failing := stream.Generate(func(yield func(int) bool) error { yield(1); return errSource })
	if err := stream.ForEach(failing, func(int) error { return nil }); err != errSource {
		t.Errorf("ForEach of a failing stream = %v", err)
	}
	if err := stream.Drain(failing); err != errSource {
		t.Errorf("Drain of a failing stream = %v", err)
	}
	if err := stream.Drain(count(5)); err != nil {
		t.Errorf("Drain = %v", err)
	}
	got, err := stream.Collect(failing)
	if !slices.Equal(got, []int{1}) || err != errSource {
		t.Errorf("Collect of a failing stream = %v, %v; want [1], %v", got, err, errSource)
	}
}

// Misuse panics at the call with the package prefix, not later on another
// goroutine.
func TestMisuse(t *testing.T) {
	ctx := context.Background()
	var nilCtx context.Context
	s := count(3)
	id := func(_ context.Context, x int) (int, error) { return x, nil }
	for name, call := range map[string]func(){
		"FromSeq nil":              func() { stream.FromSeq[int](nil) },
		"FromChan nil ctx":         func() { stream.FromChan(nilCtx, make(chan int)) },
		"FromChan nil chan":        func() { stream.FromChan[int](ctx, nil) },
		"Generate nil":             func() { stream.Generate[int](nil) },
		"Lines nil":                func() { stream.Lines(nil) },
		"LinesMax 0":               func() { stream.LinesMax(strings.NewReader(""), 0) },
		"Chunks nil":               func() { stream.Chunks(nil, 1) },
		"Chunks 0":                 func() { stream.Chunks(strings.NewReader(""), 0) },
		"Map nil fn":               func() { stream.Map[int, int](s, nil) },
		"Map nil stream":           func() { stream.Map(nil, double) },
		"Filter nil fn":            func() { stream.Filter(s, nil) },
		"FlatMap nil fn":           func() { stream.FlatMap[int, int](s, nil) },
		"Take negative":            func() { stream.Take(s, -1) },
		"Tap nil":                  func() { stream.Tap(s, nil) },
		"Batch 0":                  func() { stream.Batch(s, 0) },
		"BatchTimeout 0":           func() { stream.BatchTimeout(ctx, s, 0, time.Second) },
		"BatchTimeout d 0":         func() { stream.BatchTimeout(ctx, s, 1, 0) },
		"BatchTimeout nil ctx":     func() { stream.BatchTimeout(nilCtx, s, 1, time.Second) },
		"MapConcurrent n 0":        func() { stream.MapConcurrent(ctx, s, 0, id) },
		"MapConcurrent nil ctx":    func() { stream.MapConcurrent(nilCtx, s, 1, id) },
		"MapConcurrent nil fn":     func() { stream.MapConcurrent[int, int](ctx, s, 1, nil) },
		"MapConcurrent zero opt":   func() { stream.MapConcurrent(ctx, s, 1, id, stream.Option{}) },
		"FilterConcurrent nil fn":  func() { stream.FilterConcurrent(ctx, s, 1, nil) },
		"ForEachConcurrent nil fn": func() { stream.ForEachConcurrent(ctx, s, 1, nil) },
		"ForEachConcurrent n -1":   func() { stream.ForEachConcurrent(ctx, s, -1, func(context.Context, int) error { return nil }) },
		"HighWaterMark negative":   func() { stream.HighWaterMark(-1) },
		"HighWaterMark overflow":   func() { stream.MapConcurrent(ctx, s, 2, id, stream.HighWaterMark(math.MaxInt)) },
		"Collect nil":              func() { stream.Collect[int](nil) },
		"ForEach nil fn":           func() { stream.ForEach(s, nil) },
		"Drain nil":                func() { stream.Drain[int](nil) },
		"WriteTo nil writer":       func() { stream.WriteTo(stream.Of([]byte("x")), nil) },
		"Reader nil":               func() { stream.Reader(nil) },
		"NewPipe negative":         func() { stream.NewPipe[int](-1) },
		"Write nil ctx":            func() { stream.NewPipe[int](1).Write(nilCtx, 1) },
		"Stream nil ctx":           func() { stream.NewPipe[int](1).Stream(nilCtx) },
		"Feed nil stream":          func() { stream.NewPipe[int](1).Feed(ctx, nil) },
		"NewWriter nil pipe":       func() { stream.NewWriter(ctx, nil) },
		"NewWriter nil ctx":        func() { stream.NewWriter(nilCtx, stream.NewPipe[[]byte](1)) },
		"Pipeline nil ctx":         func() { stream.Pipeline(nilCtx) },
		"Pipeline nil stage":       func() { stream.Pipeline(ctx, nil) },
	} {
		func() {
			defer func() {
				v := recover()
				msg, _ := v.(string)
				if !strings.HasPrefix(msg, "stream: ") {
					t.Errorf("%s: recovered %v, want a panic starting with %q", name, v, "stream: ")
				}
			}()
			call()
		}()
	}
}
