package sse

import (
	"errors"
	"net/http"
	"runtime"
	"testing"

	"github.com/nodekit/nodekit/internal/leaktest"
)

// TestFreshStack: run runs f on another goroutine, waits for it, and
// re-raises its panic (the same value) or Goexit on the caller's goroutine;
// the freshStack stays usable after either.
func TestFreshStack(t *testing.T) {
	leaktest.Check(t)
	var fs freshStack
	boom := errors.New("boom")
	type outcome struct {
		returned bool
		panicked any
	}
	try := func(f func()) outcome {
		g := func() error { f(); return nil }
		var out outcome
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() { out.panicked = recover() }()
			fs.run(g)
			out.returned = true
		}()
		<-done
		return out
	}
	for _, tt := range []struct {
		name string
		f    func()
		want outcome
	}{
		{"return", func() {}, outcome{returned: true}},
		{"panic", func() { panic(boom) }, outcome{panicked: boom}},
		{"ErrAbortHandler", func() { panic(http.ErrAbortHandler) }, outcome{panicked: http.ErrAbortHandler}},
		{"Goexit", runtime.Goexit, outcome{}},
		{"after", func() {}, outcome{returned: true}},
	} {
		if got := try(tt.f); got != tt.want {
			t.Errorf("%s: run's caller %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestFreshStackOtherGoroutine: f does not run on the caller's goroutine.
func TestFreshStackOtherGoroutine(t *testing.T) {
	goid := func() string {
		buf := make([]byte, 64)
		buf = buf[:runtime.Stack(buf, false)]
		for i := len("goroutine "); i < len(buf); i++ {
			if buf[i] == ' ' {
				return string(buf[:i])
			}
		}
		return string(buf)
	}
	caller := goid()
	var callee string
	onFreshStack(func() error { callee = goid(); return nil })
	if callee == caller {
		t.Errorf("f ran on the caller's goroutine (%s)", caller)
	}
}

// TestFreshStackAllocs: after its first call, run allocates nothing (a
// Broker's subscriber calls it on each wake-up).
func TestFreshStackAllocs(t *testing.T) {
	var fs freshStack
	n := 0
	errOdd := errors.New("odd")
	f := func() error {
		n++
		if n%2 == 1 {
			return errOdd
		}
		return nil
	}
	if err := fs.run(f); err != errOdd {
		t.Errorf("first run = %v, want f's result %v", err, errOdd)
	}
	if a := testing.AllocsPerRun(100, func() { fs.run(f) }); a != 0 {
		t.Errorf("run allocates %v times a call, want 0", a)
	}
	if n != 102 {
		t.Errorf("f ran %d times, want 102", n)
	}
}
