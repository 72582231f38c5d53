package middleware_test

import (
	"errors"
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
			return next()
		},
		func(int, middleware.Next) error { downstream++; return nil },
	)
	h(0, nil)
	for range 100 { // reuse the pooled state many times
		if err := h(1, nil); err != nil {
			t.Fatal(err)
		}
	}
	runs := downstream

	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Go(func() { errs <- kept[0]() })
	wg.Wait()
	if err := <-errs; !errors.Is(err, middleware.ErrNextAfterReturn) {
		t.Fatalf("leaked next() = %v, want ErrNextAfterReturn", err)
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
			hijack = kept() // same layer, same pooled state, later call
			return next()
		},
		func(int, middleware.Next) error { downstream++; return nil },
	)
	h(0, nil)
	if err := h(1, nil); err != nil {
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
		return next()
	})
	h(0, nil)
	if err := kept(); !errors.Is(err, middleware.ErrNextAfterReturn) {
		t.Fatalf("kept next() = %v, want ErrNextAfterReturn", err)
	}
}

// A layer may run next on another goroutine if it waits for it.
func TestNextOnAnotherGoroutine(t *testing.T) {
	var got trace
	h := middleware.Compose(
		func(_ int, next middleware.Next) error {
			errc := make(chan error)
			go func() { errc <- next() }()
			return <-errc
		},
		layer[int](&got, "inner"),
	)
	for range 50 {
		if err := h(0, nil); err != nil {
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
		func(c *int, next middleware.Next) error { *c += 1; return next() },
		func(c *int, next middleware.Next) error { *c *= 10; return next() },
	)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c := i
				if err := h(&c, nil); err != nil || c != (i+1)*10 {
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
	err := h(0, nil)
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
		return next()
	})
	h(0, nil)
	if err := h(1, nil); err != nil {
		t.Fatalf("call after a recovered panic = %v", err)
	}
	if err := kept(); !errors.Is(err, middleware.ErrNextAfterReturn) {
		t.Fatalf("next of a layer that panicked = %v, want ErrNextAfterReturn", err)
	}
	// A wrapped error panic is unwrapped for errors.Is.
	boom := errors.New("boom")
	h = middleware.Compose(middleware.Recover[int](), func(int, middleware.Next) error { panic(boom) })
	if err := h(0, nil); !errors.Is(err, boom) {
		t.Fatalf("composed() = %v, want it to wrap boom", err)
	}
}
