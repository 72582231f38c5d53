package cluster

import "time"

// policy is the restart policy, pure so that it can be checked against a
// model without processes: per-slot exponential backoff that resets after
// a stable run, and a crash-loop window shared by all slots.
type policy struct {
	base, max   time.Duration // first delay and cap
	maxRestarts int           // unstable exits tolerated within window
	window      time.Duration

	unstable []time.Time // unstable exits within window, oldest first
}

// A slotHistory is one slot's backoff state: the number of unstable exits
// in a row.
type slotHistory struct{ streak int }

// exit records an unexpected exit of a slot's worker at now; stable says
// whether it was ready for at least MinUptime and was not killed for a
// failure. It returns how long to wait before the replacement starts, or
// giveUp when this exit is one more than maxRestarts unstable exits within
// the window.
//
// A stable exit resets the slot's backoff and restarts at once; the k-th
// unstable exit in a row waits base·2^(k-1), capped at max.
func (p *policy) exit(s *slotHistory, now time.Time, stable bool) (delay time.Duration, giveUp bool) {
	if stable {
		s.streak = 0
		return 0, false
	}
	// Trim what left the window; compact so the slice follows the backlog.
	cut := 0
	for cut < len(p.unstable) && now.Sub(p.unstable[cut]) >= p.window {
		cut++
	}
	if cut > 0 {
		p.unstable = append(p.unstable[:0], p.unstable[cut:]...)
	}
	p.unstable = append(p.unstable, now)
	if len(p.unstable) > p.maxRestarts {
		return 0, true
	}
	s.streak++
	delay = p.base
	for i := 1; i < s.streak && delay < p.max; i++ {
		delay *= 2
	}
	return min(delay, p.max), false
}

// failures returns the unstable exits counted within the window at now.
func (p *policy) failures() int { return len(p.unstable) }
