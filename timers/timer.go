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
	list       *timerList // its duration's list; kept after it fires, for Refresh
	loop       *Loop
	fn         func()
	start      int64  // loop clock when (re)armed
	seq        uint64 // arming order, for ties
	state      uint8  // guarded by loop.mu
	touched    atomic.Uint32
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

// delay coerces d the way Node does: outside [1ms, 2³¹−1 ms], it is 1ms.
// (Node measures in whole milliseconds at 1ms resolution; nodekit keeps the
// nanoseconds of a valid d.)
func delay(d time.Duration) time.Duration {
	if d < time.Millisecond || d > maxDelay {
		return time.Millisecond
	}
	return d
}

// SetTimeout schedules fn to run once, d from now: Node's setTimeout. A d
// below 1ms or above 2³¹−1 ms becomes 1ms, as in Node. Timers due at the
// same instant run in the order they were set.
func (l *Loop) SetTimeout(fn func(), d time.Duration) *Timer {
	return l.setTimer(fn, d, 0)
}

// SetInterval schedules fn to run every d until the timer is cleared:
// Node's setInterval. The next run is d after the previous one began.
func (l *Loop) SetInterval(fn func(), d time.Duration) *Timer {
	return l.setTimer(fn, d, interval)
}

func (l *Loop) setTimer(fn func(), d time.Duration, kind uint8) *Timer {
	mustCallback(fn)
	t := &Timer{loop: l, fn: fn, state: kind}
	l.mu.Lock()
	l.arm(t, delay(d), l.clock())
	l.mu.Unlock()
	return t
}

// arm puts t at the end of the list of duration d, armed at start. l.mu
// must be held.
func (l *Loop) arm(t *Timer, d time.Duration, start int64) {
	ls := l.lists[d]
	if ls == nil {
		ls = &timerList{d: d, index: -1}
		l.lists[d] = ls
	}
	l.seq++
	t.start, t.seq = start, l.seq
	t.state |= active
	if t.state&unref == 0 {
		l.refTimers++
	}
	ls.append(t)
	if ls.index < 0 {
		ls.expiry = start + int64(d)
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
	t.state &^= active
	if t.state&unref == 0 {
		l.refTimers--
	}
	if ls.head == nil {
		l.dropList(ls)
	}
}

// dropList forgets an empty list. l.mu must be held.
func (l *Loop) dropList(ls *timerList) {
	if ls.index >= 0 {
		l.heap.removeAt(ls.index)
	}
	if l.lists[ls.d] == ls {
		delete(l.lists, ls.d)
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
	l.mu.Unlock()
}

// Refresh restarts the timer from now with its duration, moving it behind
// the timers already set, in O(1): Node's timeout.refresh. A timer that has
// already run is armed again; a cleared one is not.
func (t *Timer) Refresh() {
	l := t.loop
	l.mu.Lock()
	if t.state&cleared == 0 {
		now := l.clock()
		if t.state&active != 0 && t.list.tail == t {
			// Already last: restarting keeps the list in order.
			l.seq++
			t.start, t.seq = now, l.seq
		} else {
			if t.state&active != 0 {
				l.disarm(t)
			}
			l.arm(t, t.list.d, now)
		}
	}
	l.mu.Unlock()
}

// Touch records activity for the timer without taking the loop's lock, for
// goroutines that see traffic on what the timer guards: when the timer comes
// due and finds it touched, it starts over with its full duration instead of
// running. A timer touched at least once every d never runs; one left alone
// runs between d and 2d after the last touch. It costs one atomic store.
func (t *Timer) Touch() { t.touched.Store(1) }

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
		if due := t.start + int64(ls.d); due != ls.expiry {
			ls.expiry = due // the key was stale: the head changed
			l.heap.fix(0)
			continue
		}
		l.fire(ls, t)
	}
	l.mu.Unlock()
}

// fire runs the due timer t, the head of ls. l.mu is held on entry and on
// return, and released around the callback.
func (l *Loop) fire(ls *timerList, t *Timer) {
	l.disarm(t)
	if t.touched.Swap(0) != 0 {
		l.arm(t, ls.d, l.now) // activity since it was armed: start over
		return
	}
	start := l.now
	l.mu.Unlock()
	l.call(t.fn)
	l.mu.Lock()
	if t.state&(interval|cleared) == interval {
		if t.state&active != 0 { // refreshed by its own callback
			l.disarm(t)
		}
		l.arm(t, ls.d, start) // Node re-inserts with the start taken before
	}
}
