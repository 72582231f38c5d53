package sse

import "time"

// heartbeatTicks is the number of ticks per heartbeat period: the one
// ticker runs at a quarter of the period, and a subscriber gets a comment
// when nothing was queued for it during the last four ticks. So an idle
// stream gets one every period exactly, and no stream stays silent longer
// than one period (a finer tick would cost more walks for little).
const heartbeatTicks = 4

// heartbeatLoop is the broker's one heartbeat goroutine: each tick it walks
// every subscriber and queues the shared comment frame for those idle for
// a heartbeat period. No timer per subscriber. It runs while the broker
// has subscribers (pin starts it) and exits at the first tick with none,
// or when the broker stops.
func (b *Broker) heartbeatLoop() {
	defer b.hbGroup.Done()
	period := max(b.heartbeat/heartbeatTicks, time.Millisecond) // a tiny Heartbeat must not spin
	tk := time.NewTicker(period)
	defer tk.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-tk.C:
		}
		if !b.beat() {
			return
		}
	}
}

// beat advances the tick and queues heartbeats; it returns false, having
// marked the goroutine gone, when the broker has no subscriber or is
// closed.
func (b *Broker) beat() bool {
	tick := b.tick.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == 0 || b.closed {
		b.hbOn = false
		return false
	}
	// Under b.mu, topics cannot come or go; each topic's lock keeps its
	// list still (and orders the comment with Publish's frames).
	for _, t := range b.topics {
		t.mu.Lock()
		for s := t.head; s != nil; s = s.next {
			s.heartbeat(tick, tick-heartbeatTicks)
		}
		t.mu.Unlock()
	}
	return true
}
