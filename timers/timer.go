package timers

import (
	"sync/atomic"
	"time"
)

// A Timer is a callback scheduled by SetTimeout or SetInterval, Node's
// Timeout. It is 64 bytes, and it lives in an intrusive list of the timers
// of its duration, so arming, moving and clearing it allocate nothing.
type Timer struct {
	prev, next *Timer
	list       *timerList // the list it is in while active
	loop       *Loop
	fn         func() // nil once cleared
	start      int64  // loop clock when (re)armed
	seq        uint64 // arming order, for ties
	msTouched  uint32 // atomic: the duration in ms << 1, | 1 when touched
	state      uint8  // guarded by loop.mu
}

// Timer states (bits).
const (
	active   uint8 = 1 << iota // in its list
	interval                   // re-armed after each call
	unref                      // does not keep the loop alive
	cleared                    // Clear was called: never armed again
)

// maxDelay is Node's TIMEOUT_MAX, 2³¹−1 ms.
const maxDelay = (1<<31 - 1) * time.Millisecond

// millis returns d in whole milliseconds, as Node counts it: truncated, and
// 1 when below 1ms or above TIMEOUT_MAX, then with Node's
// TimeoutOverflowWarning.
func (l *Loop) millis(d time.Duration) uint32 {
	switch {
	case d < time.Millisecond:
		return 1
	case d > maxDelay:
		l.warnOverflow(d)
		return 1
	}
	return uint32(d / time.Millisecond)
}

// warnOverflow logs Node's TimeoutOverflowWarning for d. It is apart from
// millis so that millis stays small enough to be inlined.
func (l *Loop) warnOverflow(d time.Duration) {
	l.logger().Warn("timers: TimeoutOverflowWarning: duration does not fit into a 32-bit signed integer of milliseconds; set to 1ms",
		"duration", d)
}

// SetTimeout schedules fn to run once, d from now: Node's setTimeout. Like
// Node, it counts whole milliseconds: d is truncated to the millisecond, and
// one below 1ms or above 2³¹−1 ms (about 24.8 days) becomes 1ms, the latter
// with a warning through the Loop's Logger. Timers due at the same instant
// run in the order they were set. On a closed Loop the Timer returned is
// cleared: it never runs, and the Loop keeps nothing.
func (l *Loop) SetTimeout(fn func(), d time.Duration) *Timer {
	return l.setTimer(fn, d, 0)
}

// SetInterval schedules fn to run every d until the timer is cleared:
// Node's setInterval. The next run is d after the previous one began. d
// counts as SetTimeout's does, and a closed Loop keeps nothing, as there.
func (l *Loop) SetInterval(fn func(), d time.Duration) *Timer {
	return l.setTimer(fn, d, interval)
}

func (l *Loop) setTimer(fn func(), d time.Duration, kind uint8) *Timer {
	mustCallback(fn)
	t := &Timer{loop: l, fn: fn, state: kind, msTouched: l.millis(d) << 1}
	l.mu.Lock()
	if l.closed {
		t.fn, t.state = nil, kind|cleared // never armed, keeps nothing
	} else {
		l.arm(t, l.clock())
	}
	l.mu.Unlock()
	return t
}

// ms returns the timer's duration in whole milliseconds.
func (t *Timer) ms() uint32 { return atomic.LoadUint32(&t.msTouched) >> 1 }

// arm puts t at the end of the list of its duration, armed at start. l.mu
// must be held.
func (l *Loop) arm(t *Timer, start int64) {
	ls := l.listFor(t.ms())
	l.seq++
	t.start, t.seq = start, l.seq
	t.state |= active
	if t.state&unref == 0 {
		l.refTimers++
	}
	ls.append(t)
	if ls.index < 0 {
		ls.expiry = start + ls.d
		l.heap.push(ls)
		if ls.expiry < l.wakeAt {
			l.wakeUp()
		}
	}
}

// disarm takes t out of its list. l.mu must be held and t active.
func (l *Loop) disarm(t *Timer) {
	ls := t.list
	ls.remove(t)
	t.list = nil
	t.state &^= active
	if t.state&unref == 0 {
		l.refTimers--
	}
	if ls.head == nil {
		l.emptied(ls)
	}
}

// Clear cancels the timer: Node's clearTimeout and clearInterval. An
// interval cleared from its own callback does not run again. A cleared timer
// is never armed again, not even by Refresh.
func (t *Timer) Clear() {
	l := t.loop
	l.mu.Lock()
	if t.state&active != 0 {
		l.disarm(t)
		l.wakeUp() // the loop may have nothing left to wait for
	}
	t.state |= cleared
	t.fn = nil // as Node drops _onTimeout: a kept handle keeps no callback
	l.mu.Unlock()
}

// Refresh restarts the timer from now with its duration, moving it behind
// the timers already set, in O(1): Node's timeout.refresh. A timer that has
// already run is armed again; a cleared one, or one of a closed Loop, is
// not.
func (t *Timer) Refresh() {
	l := t.loop
	l.mu.Lock()
	if t.state&cleared == 0 && !l.closed {
		now := l.clock()
		if t.state&active != 0 && t.list.tail == t {
			// Already last: restarting keeps the list in order.
			l.seq++
			t.start, t.seq = now, l.seq
		} else {
			if t.state&active != 0 {
				l.disarm(t)
			}
			l.arm(t, now)
		}
	}
	l.mu.Unlock()
}

// Touch records activity for the timer without taking the loop's lock, for
// goroutines that see traffic on what the timer guards: when the timer comes
// due and finds it touched, it starts over with its full duration instead of
// running. A timer touched at least once every d never runs; one left alone
// runs between d and 2d after the last touch. It costs an atomic load, and
// an atomic OR on the first touch since the timer last came due.
func (t *Timer) Touch() {
	if atomic.LoadUint32(&t.msTouched)&1 == 0 { // spare the cache line when already touched
		atomic.OrUint32(&t.msTouched, 1)
	}
}

// Ref makes the timer keep the loop alive, as timers do by default.
func (t *Timer) Ref() { t.setRef(true) }

// Unref lets the loop end while the timer is pending: Node's timeout.unref.
// An unref'd timer still runs if the loop is running when it is due.
func (t *Timer) Unref() { t.setRef(false) }

func (t *Timer) setRef(ref bool) {
	l := t.loop
	l.mu.Lock()
	if was := t.state&unref == 0; was != ref {
		t.state ^= unref
		if t.state&active != 0 {
			if ref {
				l.refTimers++
			} else {
				l.refTimers--
				l.wakeUp()
			}
		}
	}
	l.mu.Unlock()
}

// runTimers is the timers phase: it runs every timer due at the cached time,
// in the order of their deadlines, then of their arming. The next timer is
// always the head of the list at the top of the heap; while a list's next
// head is due no later than every other list, it runs without the heap
// moving, so firing n timers of one duration costs O(n). (Node runs a due
// list to its end before the next list; the two orders differ only for a loop
// that is late by more than the gap between two deadlines.)
func (l *Loop) runTimers() {
	l.mu.Lock()
	for len(l.heap) > 0 && l.heap[0].expiry <= l.now {
		ls := l.heap[0]
		t := ls.head
		if t == nil {
			l.dropList(ls)
			continue
		}
		if due := t.start + ls.d; due != ls.expiry {
			ls.expiry = due // the key was stale: the head changed
			l.heap.fix(0)
			continue
		}
		l.fire(t)
	}
	l.mu.Unlock()
}

// fire runs the due timer t. l.mu is held on entry and on return, and
// released around the callback.
func (l *Loop) fire(t *Timer) {
	l.disarm(t)
	if atomic.AndUint32(&t.msTouched, ^uint32(1))&1 != 0 {
		l.arm(t, l.now) // activity since it was armed: start over
		return
	}
	start, fn := l.now, t.fn
	l.mu.Unlock()
	l.call(fn)
	l.mu.Lock()
	if t.state&(interval|cleared) == interval && !l.closed {
		if t.state&active != 0 { // refreshed by its own callback
			l.disarm(t)
		}
		l.arm(t, start) // Node re-inserts with the start taken before
	}
}
