package stream_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/nodekit/nodekit/stream"
)

// settle fails t if more goroutines than base are still alive after a
// grace period: the per-case leak check of the property tests (leaktest
// checks once per test).
func settle(t interface {
	Helper()
	Fatalf(string, ...any)
}, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for backoff := 10 * time.Microsecond; ; backoff = min(2*backoff, 10*time.Millisecond) {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines alive, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(backoff)
	}
}

// count returns a Stream of 0..n-1.
func count(n int) stream.Stream[int] {
	return stream.Generate(func(yield func(int) bool) error {
		for i := range n {
			if !yield(i) {
				return nil
			}
		}
		return nil
	})
}

// collect ranges s and returns its values and its error, failing t if an
// element follows an error.
func collect[T any](t testing.TB, s stream.Stream[T]) ([]T, error) {
	t.Helper()
	var out []T
	var last error
	for v, err := range s {
		if last != nil {
			t.Fatalf("element (%v, %v) after the error %v", v, err, last)
		}
		if err != nil {
			last = err
			continue
		}
		out = append(out, v)
	}
	return out, last
}
