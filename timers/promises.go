package timers

import (
	"context"
	"iter"
	"time"
)

// Sleep waits for d, or until ctx ends, and returns ctx.Err() in the latter
// case: Node's timers/promises setTimeout for a goroutine. It needs no Loop.
// A ctx that has already ended gives ctx.Err() at once, whatever d is, as
// Node rejects at once on an aborted signal.
func Sleep(ctx context.Context, d time.Duration) error {
	mustContext(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
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
// setInterval for a goroutine. It needs no Loop, and leaves no goroutine or
// timer behind. It panics at the call if d is not positive.
//
// Like Node's, and unlike time.Ticker, it drops no tick while ctx lasts:
// when the loop body runs late, the ticks it missed are yielded at once, one
// by one, each with the time it was due. Once ctx has ended it yields
// nothing more, not even ticks that were already due; Node's iterator still
// yields the ticks it had counted before it throws its AbortError. In Go an
// ended context means stop, and the caller reads why from ctx.Err().
func Ticks(ctx context.Context, d time.Duration) iter.Seq[time.Time] {
	mustContext(ctx)
	if d <= 0 {
		panic("timers: Ticks: non-positive interval")
	}
	return func(yield func(time.Time) bool) {
		t := time.NewTimer(d)
		defer t.Stop()
		next := time.Now().Add(d)
		for {
			if wait := time.Until(next); wait > 0 {
				t.Reset(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
				}
			}
			if ctx.Err() != nil { // checked after the wait: an ended ctx always wins
				return
			}
			if !yield(next) {
				return
			}
			next = next.Add(d)
		}
	}
}

// mustContext panics on a nil context, a programmer error, at the call.
func mustContext(ctx context.Context) {
	if ctx == nil {
		panic("timers: nil context")
	}
}
