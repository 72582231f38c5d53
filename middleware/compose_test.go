package middleware_test

// koa-compose 4.2's test cases (test/test.js), as Go tests.

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/middleware"
)

type trace []string

func (t *trace) add(s string) { *t = append(*t, s) }

// layer returns a middleware that records ">name" and "<name" around next.
func layer[C any](t *trace, name string) middleware.Middleware[C] {
	return func(_ C, next middleware.Next) error {
		t.add(">" + name)
		err := next.Call()
		t.add("<" + name)
		return err
	}
}

func TestComposeOnionOrder(t *testing.T) {
	var got trace
	h := middleware.Compose(layer[int](&got, "1"), layer[int](&got, "2"), layer[int](&got, "3"),
		func(int, middleware.Next) error { got.add("final"); return nil })
	if err := h(0, middleware.Next{}); err != nil {
		t.Fatalf("composed() = %v", err)
	}
	want := trace{">1", ">2", ">3", "final", "<3", "<2", "<1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
}

func TestComposeCalledTwice(t *testing.T) {
	type ctx struct{ arr trace }
	var tr trace
	h := middleware.Compose(layer[*ctx](&tr, "1"), func(c *ctx, next middleware.Next) error {
		c.arr.add("inner")
		return next.Call()
	})
	c1, c2 := &ctx{}, &ctx{}
	for _, c := range []*ctx{c1, c2} {
		if err := h(c, middleware.Next{}); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(trace{"inner"}, c1.arr); diff != "" || len(c2.arr) != 1 {
		t.Fatalf("each call sees its own context: c1 %v, c2 %v", c1.arr, c2.arr)
	}
}

func TestComposeZeroLayers(t *testing.T) {
	if err := middleware.Compose[int]()(0, middleware.Next{}); err != nil {
		t.Fatalf("Compose()() = %v, want nil", err)
	}
	called := false
	err := middleware.Compose[int]()(0, middleware.NextFunc(func() error { called = true; return nil }))
	if err != nil || !called {
		t.Fatalf("Compose() with next: err %v, next called %v", err, called)
	}
}

func TestComposeNilLayerPanics(t *testing.T) {
	defer func() {
		if p := recover(); p != "middleware: Compose: layer 1 of 2 is nil" {
			t.Fatalf("Compose(ok, nil) panicked with %v", p)
		}
	}()
	middleware.Compose(func(int, middleware.Next) error { return nil }, nil)
}

func TestComposeNextAtEnd(t *testing.T) {
	called := false
	h := middleware.Compose(func(_ int, next middleware.Next) error {
		err := next.Call() // the end of the stack: no-op
		called = true
		return err
	})
	if err := h(0, middleware.Next{}); err != nil || !called {
		t.Fatalf("err %v, called %v", err, called)
	}
}

func TestComposeErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("rejects on errors in middleware", func(t *testing.T) {
		h := middleware.Compose(func(int, middleware.Next) error { return boom })
		if err := h(0, middleware.Next{}); err != boom {
			t.Fatalf("composed() = %v, want boom", err)
		}
	})
	t.Run("catches downstream errors", func(t *testing.T) {
		var arr trace
		h := middleware.Compose(
			func(_ int, next middleware.Next) error {
				arr.add("1")
				arr.add("6")
				if err := next.Call(); err != nil {
					arr.add("2")
				} else {
					arr.add("7")
				}
				arr.add("3")
				return nil
			},
			func(int, middleware.Next) error {
				arr.add("4")
				return boom
			},
		)
		if err := h(0, middleware.Next{}); err != nil {
			t.Fatalf("composed() = %v, want nil: the error was handled", err)
		}
		if diff := cmp.Diff(trace{"1", "6", "4", "2", "3"}, arr); diff != "" {
			t.Fatalf("order (-want +got):\n%s", diff)
		}
	})
	t.Run("upstream replaces the error", func(t *testing.T) {
		replaced := errors.New("replaced")
		h := middleware.Compose(
			func(_ int, next middleware.Next) error {
				if err := next.Call(); errors.Is(err, boom) {
					return fmt.Errorf("%w (was %v)", replaced, err)
				}
				return nil
			},
			func(int, middleware.Next) error { return boom },
		)
		if err := h(0, middleware.Next{}); !errors.Is(err, replaced) {
			t.Fatalf("composed() = %v, want the replacement", err)
		}
	})
}

func TestComposeKeepsContext(t *testing.T) {
	type ctx struct{}
	c := &ctx{}
	check := func(c2 *ctx, next middleware.Next) error {
		err := next.Call()
		if c2 != c {
			t.Error("a layer got another context")
		}
		return err
	}
	if err := middleware.Compose(check, check, check)(c, middleware.Next{}); err != nil {
		t.Fatal(err)
	}
}

func TestComposeWithNext(t *testing.T) {
	called := false
	h := middleware.Compose(func(_ int, next middleware.Next) error { return next.Call() })
	if err := h(0, middleware.NextFunc(func() error { called = true; return nil })); err != nil || !called {
		t.Fatalf("err %v, outer next called %v", err, called)
	}
}

func TestComposeNested(t *testing.T) {
	var called []int
	step := func(n int) middleware.Middleware[int] {
		return func(_ int, next middleware.Next) error {
			called = append(called, n)
			return next.Call()
		}
	}
	h := middleware.Compose(middleware.Compose(step(1), step(2)), step(3))
	if err := h(0, middleware.Next{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, called); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
}

func TestComposeNextCalledMultipleTimes(t *testing.T) {
	var second error
	h := middleware.Compose(func(_ int, next middleware.Next) error {
		if err := next.Call(); err != nil {
			return err
		}
		second = next.Call()
		return second
	})
	if err := h(0, middleware.Next{}); !errors.Is(err, middleware.ErrNextCalledMultipleTimes) {
		t.Fatalf("composed() = %v, want ErrNextCalledMultipleTimes", err)
	}
	// Downstream does not run again.
	runs := 0
	h = middleware.Compose(
		func(_ int, next middleware.Next) error { next.Call(); return next.Call() },
		func(int, middleware.Next) error { runs++; return nil },
	)
	if err := h(0, middleware.Next{}); !errors.Is(err, middleware.ErrNextCalledMultipleTimes) || runs != 1 {
		t.Fatalf("composed() = %v, downstream ran %d times; want the error and 1", err, runs)
	}
}

func TestComposeShortCircuit(t *testing.T) {
	var got trace
	h := middleware.Compose(layer[int](&got, "1"),
		func(int, middleware.Next) error { got.add("stop"); return nil },
		layer[int](&got, "never"))
	if err := h(0, middleware.Next{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(trace{">1", "stop", "<1"}, got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
}

func TestComposeDoesNotKeepInput(t *testing.T) {
	var got trace
	layers := []middleware.Middleware[int]{layer[int](&got, "a")}
	h := middleware.Compose(layers...)
	layers[0] = layer[int](&got, "b") // changing the caller's slice changes nothing
	h(0, middleware.Next{})
	if diff := cmp.Diff(trace{">a", "<a"}, got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
}

func TestComposePanicsPropagate(t *testing.T) {
	h := middleware.Compose(func(int, middleware.Next) error { panic("kaboom") })
	defer func() {
		if p := recover(); p != "kaboom" {
			t.Fatalf("recovered %v, want kaboom", p)
		}
		// The composed middleware stays usable.
		if err := middleware.Compose(func(_ int, next middleware.Next) error { return next.Call() })(0, middleware.Next{}); err != nil {
			t.Fatal(err)
		}
	}()
	h(0, middleware.Next{})
}

// A Next made by NextFunc has no guard: it calls its function every time.
// NextFunc(nil) is the zero Next, which runs nothing.
func TestNextFunc(t *testing.T) {
	calls := 0
	n := middleware.NextFunc(func() error { calls++; return nil })
	for range 3 {
		if err := n.Call(); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 {
		t.Fatalf("NextFunc's function ran %d times, want 3", calls)
	}
	if n := middleware.NextFunc(nil); n != (middleware.Next{}) || n.Call() != nil {
		t.Fatalf("NextFunc(nil) = %v, want the zero Next", n)
	}
}

// The guards hold deep in a long stack, and in a composition nested in it:
// a layer's second next runs nothing, and a next kept past its layer runs
// nothing when a layer far above calls it.
func TestComposeGuardsDeep(t *testing.T) {
	const n = 1000
	var kept middleware.Next
	var twice, stale error
	ran := make([]int, n)
	layers := make([]middleware.Middleware[int], n)
	for i := range layers {
		layers[i] = func(_ int, next middleware.Next) error {
			ran[i]++
			switch i {
			case 300:
				err := next.Call()
				stale = kept.Call() // layer 700 has returned
				return err
			case 500:
				if err := next.Call(); err != nil {
					return err
				}
				twice = next.Call()
				return nil
			case 700:
				kept = next
			}
			return next.Call()
		}
	}
	inner := middleware.Compose(layers[600:]...)
	h := middleware.Compose(append(layers[:600:600], inner)...)
	for call := range 3 {
		twice, stale = nil, nil
		if err := h(call, middleware.Next{}); err != nil {
			t.Fatalf("call %d: composed() = %v", call, err)
		}
		if !errors.Is(twice, middleware.ErrNextCalledMultipleTimes) {
			t.Fatalf("call %d: second next of layer 500 = %v, want ErrNextCalledMultipleTimes", call, twice)
		}
		if !errors.Is(stale, middleware.ErrNextAfterReturn) {
			t.Fatalf("call %d: next of layer 700 after it returned = %v, want ErrNextAfterReturn", call, stale)
		}
		for i, r := range ran {
			if r != call+1 {
				t.Fatalf("call %d: layer %d ran %d times in all, want %d", call, i, r, call+1)
			}
		}
	}
}
