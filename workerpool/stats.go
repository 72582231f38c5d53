package workerpool

import "time"

// Stats is a snapshot of a pool's state and counters, to size it by.
type Stats struct {
	Size    int // target number of workers
	Workers int // workers started and not yet exited
	Running int // tasks running now
	Queued  int // tasks waiting for a worker

	Submitted uint64 // tasks accepted
	Completed uint64 // tasks that ran and returned nil (or, for Submit, returned)
	Failed    uint64 // tasks that returned an error, panicked or called runtime.Goexit
	Canceled  uint64 // tasks that never ran: Cancel, a hard stop, or their context ended while queued

	// QueueWait is the mean time tasks waited for a worker, measured on one
	// task in 16 (QueueWaitSamples of them) to keep the clock off the hot
	// path.
	QueueWait        time.Duration
	QueueWaitSamples uint64
}

type counters struct {
	submitted, completed, failed, canceled uint64
	waitTotal, waitSamples                 uint64
}

// record counts one finished task. p.mu must be held.
func (c *counters) record(out outcome, waited int64, sampled bool) {
	switch out {
	case succeeded:
		c.completed++
	case failed:
		c.failed++
	}
	if sampled {
		c.waitTotal += uint64(max(waited, 0))
		c.waitSamples++
	}
}

// Stats returns a snapshot of the pool's state.
func (p *Pool) Stats() Stats {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{
		Size: p.size, Workers: p.workers, Running: p.running, Queued: p.queued,
		Submitted: p.stats.submitted, Completed: p.stats.completed,
		Failed: p.stats.failed, Canceled: p.stats.canceled,
		QueueWaitSamples: p.stats.waitSamples,
	}
	if p.stats.waitSamples > 0 {
		s.QueueWait = time.Duration(p.stats.waitTotal / p.stats.waitSamples)
	}
	return s
}
