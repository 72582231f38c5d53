// Package leaktest checks that a test leaves no goroutine behind, in the way
// of go.uber.org/goleak: it compares the goroutines alive when the test ends
// with those alive when it began, retrying with backoff so that goroutines
// already on their way out get the time to finish.
//
// It is meant for tests that do not run in parallel with others and that are
// not inside a testing/synctest bubble (synctest makes its own check).
package leaktest

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Check records the goroutines alive now and, when t ends, fails t if others
// are still alive after a grace period of a few seconds.
func Check(t testing.TB) {
	t.Helper()
	before := goroutines()
	t.Cleanup(func() {
		t.Helper()
		if leaked := wait(before, 5*time.Second); len(leaked) > 0 {
			t.Errorf("leaktest: %d goroutine(s) left behind:\n\n%s",
				len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

// wait polls until no goroutine outside before is alive or timeout passes,
// and returns the stacks of those still alive.
func wait(before map[string]bool, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for backoff := time.Millisecond; ; backoff = min(2*backoff, 100*time.Millisecond) {
		var leaked []string
		for id, stack := range goroutinesWithStacks() {
			if !before[id] {
				leaked = append(leaked, stack)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(backoff)
	}
}

// goroutines returns the IDs of the goroutines alive now, except the caller.
func goroutines() map[string]bool {
	ids := map[string]bool{}
	for id := range goroutinesWithStacks() {
		ids[id] = true
	}
	return ids
}

// goroutinesWithStacks maps the ID of every goroutine but the caller to its
// stack trace.
func goroutinesWithStacks() map[string]string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, block := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the calling goroutine comes first
		}
		header, _, _ := bytes.Cut(block, []byte(" ["))
		out[string(header)] = string(block)
	}
	return out
}
