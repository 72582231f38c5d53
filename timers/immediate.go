package timers

// An Immediate is a callback queued by SetImmediate, Node's Immediate.
type Immediate struct {
	loop *Loop
	fn   func()
	done bool // ran or cleared
}

// SetImmediate queues fn for the loop's next check phase, after the poll
// phase: Node's setImmediate. Immediates run in the order they were queued;
// one queued while the check phase runs waits for the next iteration.
func (l *Loop) SetImmediate(fn func()) *Immediate {
	mustCallback(fn)
	im := &Immediate{loop: l, fn: fn}
	l.mu.Lock()
	l.lazyInit()
	l.immediates = append(l.immediates, im)
	l.liveImmediates++
	l.wakeUp()
	l.mu.Unlock()
	return im
}

// Clear cancels the immediate if it has not run: Node's clearImmediate.
func (im *Immediate) Clear() {
	l := im.loop
	l.mu.Lock()
	if !im.done {
		im.done = true
		l.liveImmediates--
		l.wakeUp()
	}
	l.mu.Unlock()
}

// runImmediates is the check phase: it runs the immediates queued before it
// began.
func (l *Loop) runImmediates() {
	l.mu.Lock()
	batch := l.immediates
	l.immediates, l.immSpare = l.immSpare[:0], nil
	l.mu.Unlock()
	for i, im := range batch {
		batch[i] = nil
		l.mu.Lock()
		skip := im.done
		if !skip {
			im.done = true
			l.liveImmediates--
		}
		l.mu.Unlock()
		if !skip {
			l.call(im.fn)
		}
	}
	l.mu.Lock()
	l.immSpare = spare(batch)
	l.mu.Unlock()
}
