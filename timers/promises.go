package timers

import (
	"context"
	"iter"
	"time"
)

// Sleep waits for d, or until ctx ends, and returns ctx.Err() in the latter
// case: Node's timers/promises setTimeout for a goroutine. It needs no Loop.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ticks yields the time of each tick, every d from when the loop over it
// starts, until ctx ends or the loop breaks: Node's timers/promises
// setInterval for a goroutine. Like Node's, and unlike time.Ticker, it drops
// no tick: when the loop body runs late, the ticks it missed are yielded at
// once, one by one, each with the time it was due. It needs no Loop, and
// leaves no goroutine or timer behind.
func Ticks(ctx context.Context, d time.Duration) iter.Seq[time.Time] {
	return func(yield func(time.Time) bool) {
		if d <= 0 {
			panic("timers: Ticks: non-positive interval")
		}
		t := time.NewTimer(d)
		defer t.Stop()
		next := time.Now().Add(d)
		for {
			if wait := time.Until(next); wait > 0 {
				t.Reset(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					return
				}
			} else if ctx.Err() != nil {
				return
			}
			if !yield(next) {
				return
			}
			next = next.Add(d)
		}
	}
}
