package middleware_test

import (
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/google/go-cmp/cmp"
	"sync"
	"testing"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/middleware"
)

// A next called from a goroutine after its layer returned runs nothing and
// reports ErrNextAfterReturn — also once the composed middleware's pooled
// state has been reused by later calls, which is what makes pooling safe.
func TestNextAfterReturn(t *testing.T) {
	leaktest.Check(t)
	downstream := 0
	var kept []middleware.Next
	h := middleware.Compose(
		func(c int, next middleware.Next) error {
			if c == 0 {
				kept = append(kept, next) // short-circuit, keeping next
				return nil
			}
			return next.Call()
		},
		func(int, middleware.Next) error { downstream++; return nil },
	)
	h(0, middleware.Next{})
	for range 100 { // reuse the pooled state many times
		if err := h(1, middleware.Next{}); err != nil {
			t.Fatal(err)
		}
	}
	runs := downstream

	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Go(func() { errs <- kept[0].Call() })
	wg.Wait()
	if err := <-errs; !errors.Is(err, middleware.ErrNextAfterReturn) {
		t.Fatalf("leaked next.Call() = %v, want ErrNextAfterReturn", err)
	}
	if downstream != runs {
		t.Fatal("a leaked next ran the downstream layer")
	}
}

// A kept next stays dead while a later call of the same composed middleware
// is inside the very layer it belonged to.
func TestLeakedNextCannotHijackLaterCall(t *testing.T) {
	var kept middleware.Next
	var hijack error
	downstream := 0
	h := middleware.Compose(
		func(c int, next middleware.Next) error {
			if c == 0 {
				kept = next
				return nil
			}
			hijack = kept.Call() // same layer, same pooled state, later call
			return next.Call()
		},
		func(int, middleware.Next) error { downstream++; return nil },
	)
	h(0, middleware.Next{})
	if err := h(1, middleware.Next{}); err != nil {
		t.Fatalf("second call = %v, want nil", err)
	}
	if !errors.Is(hijack, middleware.ErrNextAfterReturn) || downstream != 1 {
		t.Fatalf("old next during a new call = %v, downstream ran %d times; want ErrNextAfterReturn and 1", hijack, downstream)
	}
}

// A next kept after it was called once reports ErrNextAfterReturn once the
// call is over.
func TestCalledNextAfterReturn(t *testing.T) {
	var kept middleware.Next
	h := middleware.Compose(func(_ int, next middleware.Next) error {
		kept = next
		return next.Call()
	})
	h(0, middleware.Next{})
	if err := kept.Call(); !errors.Is(err, middleware.ErrNextAfterReturn) {
		t.Fatalf("kept next.Call() = %v, want ErrNextAfterReturn", err)
	}
}

// A layer may run next on another goroutine if it waits for it.
func TestNextOnAnotherGoroutine(t *testing.T) {
	var got trace
	h := middleware.Compose(
		func(_ int, next middleware.Next) error {
			errc := make(chan error)
			go func() { errc <- next.Call() }()
			return <-errc
		},
		layer[int](&got, "inner"),
	)
	for range 50 {
		if err := h(0, middleware.Next{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 100 {
		t.Fatalf("inner ran %d times, want 50", len(got)/2)
	}
}

func TestConcurrentCalls(t *testing.T) {
	leaktest.Check(t)
	h := middleware.Compose(
		func(c *int, next middleware.Next) error { *c += 1; return next.Call() },
		func(c *int, next middleware.Next) error { *c *= 10; return next.Call() },
	)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c := i
				if err := h(&c, middleware.Next{}); err != nil || c != (i+1)*10 {
					t.Errorf("h(%d) = %v, c = %d", i, err, c)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestRecover(t *testing.T) {
	h := middleware.Compose(middleware.Recover[int](), func(int, middleware.Next) error { panic("kaboom") })
	err := h(0, middleware.Next{})
	var pe *middleware.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" || len(pe.Stack) == 0 {
		t.Fatalf("composed() = %v, want a *PanicError with the value and a stack", err)
	}
	// A recovered panic leaves the state consistent for later calls.
	var kept middleware.Next
	h = middleware.Compose(middleware.Recover[int](), func(c int, next middleware.Next) error {
		if c == 0 {
			kept = next
			panic("unwound")
		}
		return next.Call()
	})
	h(0, middleware.Next{})
	if err := h(1, middleware.Next{}); err != nil {
		t.Fatalf("call after a recovered panic = %v", err)
	}
	if err := kept.Call(); !errors.Is(err, middleware.ErrNextAfterReturn) {
		t.Fatalf("next of a layer that panicked = %v, want ErrNextAfterReturn", err)
	}
	// A wrapped error panic is unwrapped for errors.Is.
	boom := errors.New("boom")
	h = middleware.Compose(middleware.Recover[int](), func(int, middleware.Next) error { panic(boom) })
	if err := h(0, middleware.Next{}); !errors.Is(err, boom) {
		t.Fatalf("composed() = %v, want it to wrap boom", err)
	}
}

// A layer that called next and kept it cannot run a later call's downstream
// with it: the kept Next returns ErrNextAfterReturn, runs nothing, and the
// later call's own next still works (issue 9, item 1).
func TestKeptCalledNextCannotRunLaterCall(t *testing.T) {
	var kept middleware.Next
	var stale error
	var seen []int
	h := middleware.Compose(
		func(c int, next middleware.Next) error {
			if c == 0 {
				kept = next
				return next.Call()
			}
			stale = kept.Call() // same layer, same pooled state, later call
			return next.Call()
		},
		func(c int, _ middleware.Next) error { seen = append(seen, c); return nil },
	)
	if err := h(0, middleware.Next{}); err != nil {
		t.Fatal(err)
	}
	if err := h(1, middleware.Next{}); err != nil {
		t.Fatalf("later call = %v, want nil", err)
	}
	if !errors.Is(stale, middleware.ErrNextAfterReturn) {
		t.Fatalf("kept next during a later call = %v, want ErrNextAfterReturn", stale)
	}
	if diff := cmp.Diff([]int{0, 1}, seen); diff != "" {
		t.Fatalf("downstream saw (-want +got):\n%s", diff)
	}
}

// A goroutine a layer left behind (as a timeout layer does) calls the Next
// it was given while later calls reuse the pooled state on other
// goroutines: it runs nothing, and -race sees no race.
func TestLeftBehindGoroutineNext(t *testing.T) {
	leaktest.Check(t)
	var downstream atomic.Int64
	release := make(chan struct{})
	results := make(chan error, 2)
	h := middleware.Compose(
		func(c int, next middleware.Next) error {
			if c == 0 {
				go func() {
					<-release
					results <- next.Call()
					results <- next.Call()
				}()
				return next.Call()
			}
			return next.Call()
		},
		func(int, middleware.Next) error { downstream.Add(1); return nil },
	)
	if err := h(0, middleware.Next{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				if err := h(1, middleware.Next{}); err != nil {
					t.Errorf("later call = %v", err)
					return
				}
			}
		})
	}
	close(release)
	wg.Wait()
	for range 2 {
		if err := <-results; !errors.Is(err, middleware.ErrNextAfterReturn) {
			t.Errorf("left-behind next() = %v, want ErrNextAfterReturn", err)
		}
	}
	if got := downstream.Load(); got != 1+4*500 {
		t.Fatalf("downstream ran %d times, want %d", got, 1+4*500)
	}
}

// Inside one call, a Next whose layer has returned is stale at once, also
// if it was called before.
func TestNextStaleOnceItsLayerReturned(t *testing.T) {
	var inner middleware.Next
	var got error
	runs := 0
	h := middleware.Compose(
		func(_ int, next middleware.Next) error {
			err := next.Call()
			got = inner.Call() // layer 1 has returned
			return err
		},
		func(_ int, next middleware.Next) error { inner = next; return next.Call() },
		func(int, middleware.Next) error { runs++; return nil },
	)
	if err := h(0, middleware.Next{}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got, middleware.ErrNextAfterReturn) || runs != 1 {
		t.Fatalf("next of a returned layer = %v, downstream ran %d times; want ErrNextAfterReturn, 1", got, runs)
	}
}

// runtime.Goexit in a layer (what t.Fatal does) leaves the composed
// middleware usable and the Nexts of that call stale.
func TestGoexitInLayer(t *testing.T) {
	leaktest.Check(t)
	var kept middleware.Next
	runs := 0
	h := middleware.Compose(
		func(c int, next middleware.Next) error {
			if c == 0 {
				kept = next
				runtime.Goexit()
			}
			return next.Call()
		},
		func(int, middleware.Next) error { runs++; return nil },
	)
	done := make(chan struct{})
	go func() { defer close(done); h(0, middleware.Next{}) }()
	<-done
	for range 3 {
		if err := h(1, middleware.Next{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := kept.Call(); !errors.Is(err, middleware.ErrNextAfterReturn) || runs != 3 {
		t.Fatalf("next kept by a layer that called Goexit = %v, downstream ran %d; want ErrNextAfterReturn, 3", err, runs)
	}
}

// After Recover caught a panic, the Nexts of the layers it unwound are stale
// at once, within the same call.
func TestNextsStaleAfterRecoveredPanic(t *testing.T) {
	var kept middleware.Next
	var got error
	runs := 0
	recov := middleware.Recover[int]()
	h := middleware.Compose(
		func(c int, next middleware.Next) error {
			err := next.Call()
			got = kept.Call()
			return err
		},
		recov,
		func(_ int, next middleware.Next) error { kept = next; panic("unwound") },
		func(int, middleware.Next) error { runs++; return nil },
	)
	var pe *middleware.PanicError
	if err := h(0, middleware.Next{}); !errors.As(err, &pe) {
		t.Fatalf("composed() = %v, want a *PanicError", err)
	}
	if !errors.Is(got, middleware.ErrNextAfterReturn) || runs != 0 {
		t.Fatalf("next of an unwound layer = %v, downstream ran %d times; want ErrNextAfterReturn, 0", got, runs)
	}
}
