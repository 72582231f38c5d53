package leaktest

import (
	"testing"
	"time"
)

func TestWaitSeesLeakAndItsEnd(t *testing.T) {
	before := goroutines()
	stop := make(chan struct{})
	go func() { <-stop }()
	if leaked := wait(before, 20*time.Millisecond); len(leaked) != 1 {
		t.Fatalf("wait() with a blocked goroutine = %d stacks, want 1", len(leaked))
	}
	close(stop)
	if leaked := wait(before, 5*time.Second); len(leaked) != 0 {
		t.Fatalf("wait() after the goroutine ended = %q, want none", leaked)
	}
}

func TestCheckPassesWhenGoroutinesEnd(t *testing.T) {
	Check(t)
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
}
