package stream_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/stream"
)

var errSource = errors.New("source failed")

// failErr is the error of fn for the element i.
type failErr int

func (e failErr) Error() string { return fmt.Sprintf("fn failed at %d", int(e)) }

// A concCase is one run of a concurrent operator drawn by rapid.
type concCase struct {
	items     int          // source length
	n         int          // workers
	k         int          // HighWaterMark, -1 for the default
	unordered bool         // Unordered()
	fails     map[int]bool // elements whose fn fails
	srcErrAt  int          // the source fails instead of yielding this element (-1: never)
	breakAt   int          // the consumer breaks after this many values (-1: never)
	cancelAt  int          // the consumer cancels ctx after this many values (-1: never)
	spins     []int        // runtime.Gosched calls in fn, per element
}

func drawConcCase(t *rapid.T) concCase {
	c := concCase{
		items:     rapid.IntRange(0, 40).Draw(t, "items"),
		n:         rapid.IntRange(1, 6).Draw(t, "n"),
		k:         rapid.IntRange(-1, 4).Draw(t, "k"),
		unordered: rapid.Bool().Draw(t, "unordered"),
		fails:     map[int]bool{},
	}
	for _, i := range rapid.SliceOfNDistinct(rapid.IntRange(0, c.items), 0, 3, rapid.ID).Draw(t, "fails") {
		if rapid.IntRange(0, 2).Draw(t, "keepFail") == 0 { // most cases run without failures
			c.fails[i] = true
		}
	}
	c.srcErrAt = rapid.IntRange(-1, c.items).Draw(t, "srcErrAt")
	c.breakAt = rapid.IntRange(-1, c.items).Draw(t, "breakAt")
	c.cancelAt = rapid.IntRange(-1, c.items).Draw(t, "cancelAt")
	c.spins = rapid.SliceOfN(rapid.IntRange(0, 3), c.items+1, c.items+1).Draw(t, "spins")
	return c
}

func (c concCase) opts() []stream.Option {
	var o []stream.Option
	if c.unordered {
		o = append(o, stream.Unordered())
	}
	if c.k >= 0 {
		o = append(o, stream.HighWaterMark(c.k))
	}
	return o
}

func (c concCase) window() int {
	if c.k < 0 {
		return 2*c.n - 1
	}
	return c.n + c.k
}

// want is what the sequential Map gives: the results of the elements
// before the first failure (of fn or the source), then that error.
func (c concCase) want() ([]int, error) {
	var out []int
	for i := range c.items {
		if i == c.srcErrAt {
			return out, errSource
		}
		if c.fails[i] {
			return out, failErr(i)
		}
		out = append(out, 10*i)
	}
	return out, nil
}

// A concProbe counts what a run did.
type concProbe struct {
	produced, consumed atomic.Int64
	calls              []atomic.Int32
	active, most       atomic.Int64
	overshoot          atomic.Int64 // the largest produced-consumed seen, minus the bound
}

// runConc runs c through MapConcurrent (or, with filter, FilterConcurrent
// keeping every element and mapping after) and returns what the consumer
// saw.
func runConc(t *rapid.T, c concCase, p *concProbe, filter bool) (got []int, err error, canceled bool) {
	p.calls = make([]atomic.Int32, c.items+1)
	bound := int64(c.window() + 1) // +1: the element handed over, between the token and the consumer's count
	src := stream.Generate(func(yield func(int) bool) error {
		for i := range c.items {
			if i == c.srcErrAt {
				return errSource
			}
			ahead := p.produced.Add(1) - p.consumed.Load()
			if over := ahead - bound; over > p.overshoot.Load() {
				p.overshoot.Store(over)
			}
			if !yield(i) {
				return nil
			}
		}
		return nil
	})
	enter := func(i int) {
		p.calls[i].Add(1)
		a := p.active.Add(1)
		for m := p.most.Load(); a > m && !p.most.CompareAndSwap(m, a); m = p.most.Load() {
		}
		for range c.spins[i] {
			runtime.Gosched()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var s stream.Stream[int]
	if filter {
		s = stream.Map(stream.FilterConcurrent(ctx, src, c.n, func(_ context.Context, i int) (bool, error) {
			enter(i)
			defer p.active.Add(-1)
			if c.fails[i] {
				return false, failErr(i)
			}
			return true, nil
		}, c.opts()...), func(i int) (int, error) { return 10 * i, nil })
	} else {
		s = stream.MapConcurrent(ctx, src, c.n, func(_ context.Context, i int) (int, error) {
			enter(i)
			defer p.active.Add(-1)
			if c.fails[i] {
				return 0, failErr(i)
			}
			return 10 * i, nil
		}, c.opts()...)
	}
	for v, e := range s {
		if err != nil {
			t.Fatalf("element (%v, %v) after the error %v", v, e, err)
		}
		p.consumed.Add(1)
		if e != nil {
			err = e
			continue
		}
		got = append(got, v)
		if len(got) == c.breakAt {
			break
		}
		if len(got) == c.cancelAt {
			cancel()
			canceled = true
		}
	}
	return got, err, canceled
}

// checkConc checks a run of c against the sequential model.
func checkConc(t *rapid.T, c concCase, p *concProbe, got []int, err error, canceled bool) {
	want, wantErr := c.want()
	stopped := c.breakAt > 0 && len(got) == c.breakAt
	switch {
	case stopped:
		if err != nil {
			t.Fatalf("got an error %v after breaking", err)
		}
	case canceled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after cancel: err = %v, want context.Canceled next", err)
		}
	}
	if !c.unordered {
		// In order: exactly a prefix of the sequential result; the whole
		// of it, with its error, unless the consumer stopped it.
		if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
			t.Fatalf("got %v, want a prefix of %v", got, want)
		}
		if !stopped && !canceled {
			if diff := cmp.Diff(want, got); diff != "" || err != wantErr {
				t.Fatalf("got %v, %v; want %v, %v (-want +got):\n%s", got, err, want, wantErr, diff)
			}
		}
	} else {
		// Unordered: a permutation of a subset of the results, no
		// duplicate; all of them when nothing failed and nothing stopped.
		all := map[int]bool{}
		for i := range c.items {
			if !c.fails[i] && (c.srcErrAt < 0 || i < c.srcErrAt) {
				all[10*i] = true
			}
		}
		seen := map[int]bool{}
		for _, v := range got {
			if !all[v] || seen[v] {
				t.Fatalf("got %v: %d is not a result or comes twice", got, v)
			}
			seen[v] = true
		}
		if !stopped && !canceled {
			var fe failErr
			switch {
			case errors.As(err, &fe):
				if !c.fails[int(fe)] || (c.srcErrAt >= 0 && int(fe) >= c.srcErrAt) {
					t.Fatalf("err = %v, not the error of an element taken from the source", err)
				}
				if c.n == 1 && err != wantErr { // one worker: the first to happen is the first in order
					t.Fatalf("one worker: err = %v, want %v", err, wantErr)
				}
			case err == nil || err == errSource:
				if err != wantErr || len(got) != len(want) {
					t.Fatalf("got %v, %v; want a permutation of %v, %v", got, err, want, wantErr)
				}
			default:
				t.Fatalf("err = %v", err)
			}
		}
	}
	for i := range p.calls {
		if n := p.calls[i].Load(); n > 1 {
			t.Fatalf("fn called %d times for element %d", n, i)
		}
		if !stopped && !canceled && wantErr == nil && i < c.items && p.calls[i].Load() != 1 {
			t.Fatalf("fn not called for element %d", i)
		}
	}
	if m := p.most.Load(); m > int64(c.n) {
		t.Fatalf("%d calls of fn at once, want at most %d", m, c.n)
	}
	if over := p.overshoot.Load(); over > 0 {
		t.Fatalf("the source got %d elements more than %d ahead of the consumer", over, c.window()+1)
	}
}

func TestMapConcurrentProperties(t *testing.T) {
	leaktest.Check(t)
	rapid.Check(t, func(t *rapid.T) {
		base := runtime.NumGoroutine()
		c := drawConcCase(t)
		var p concProbe
		got, err, canceled := runConc(t, c, &p, false)
		settle(t, base)
		checkConc(t, c, &p, got, err, canceled)
	})
}

func TestFilterConcurrentProperties(t *testing.T) {
	leaktest.Check(t)
	rapid.Check(t, func(t *rapid.T) {
		base := runtime.NumGoroutine()
		c := drawConcCase(t)
		var p concProbe
		got, err, canceled := runConc(t, c, &p, true)
		settle(t, base)
		checkConc(t, c, &p, got, err, canceled)
	})
}
