package timers_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/timers"
)

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := timers.Sleep(t.Context(), time.Second); err != nil || time.Since(start) != time.Second {
			t.Fatalf("Sleep = %v after %v, want nil after 1s", err, time.Since(start))
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if err := timers.Sleep(ctx, time.Second); err != context.DeadlineExceeded {
			t.Fatalf("Sleep with a shorter context = %v, want DeadlineExceeded", err)
		}
	})
}

func TestTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var got []time.Duration
		for tick := range timers.Ticks(t.Context(), 10*time.Millisecond) {
			got = append(got, tick.Sub(start))
			if len(got) == 2 {
				time.Sleep(35 * time.Millisecond) // a slow body: 3 ticks missed
			}
			if len(got) == 6 {
				break
			}
		}
		// Like Node's setInterval iterator, missed ticks are not dropped.
		want := []time.Duration{10, 20, 30, 40, 50, 60}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("tick times (-want +got):\n%s", diff)
		}
		if time.Since(start) != 60*time.Millisecond {
			t.Fatalf("the sixth tick came at %v, want 60ms", time.Since(start))
		}
	})
}

func TestTicksEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 35*time.Millisecond)
		defer cancel()
		n := 0
		for range timers.Ticks(ctx, 10*time.Millisecond) {
			n++
		}
		if n != 3 || ctx.Err() == nil {
			t.Fatalf("%d ticks before the context ended, want 3", n)
		}
	})
}

// An ended context gives the same answer every time, even when the wait is
// over too: Sleep returns ctx.Err(), and Ticks yields nothing.
func TestEndedContextWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for range 100 {
			if err := timers.Sleep(ctx, 0); err != context.Canceled {
				t.Fatalf("Sleep(ended ctx, 0) = %v, want context.Canceled", err)
			}
		}
		for range timers.Ticks(ctx, time.Nanosecond) {
			t.Fatal("Ticks yielded with an ended context")
		}
	})
}

// Ticks yields no tick once ctx has ended, not even ticks that were already
// due when it ended (Node's setInterval iterator still yields those it has
// counted before it throws its AbortError).
func TestTicksStopAtCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		n := 0
		for range timers.Ticks(ctx, 10*time.Millisecond) {
			n++
			time.Sleep(35 * time.Millisecond) // three more ticks fall due
			cancel()
		}
		if n != 1 {
			t.Fatalf("%d ticks, want 1: none after the cancellation", n)
		}
	})
}
