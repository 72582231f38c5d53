package timers

// An Immediate is a callback queued by SetImmediate, Node's Immediate.
type Immediate struct {
	loop *Loop
	fn   func()
	done bool // ran or cleared
}

// SetImmediate queues fn for the loop's next check phase, after the poll
// phase: Node's setImmediate. Immediates run in the order they were queued;
// one queued while the check phase runs waits for the next iteration. On a
// closed Loop the Immediate returned never runs, and the Loop keeps nothing.
func (l *Loop) SetImmediate(fn func()) *Immediate {
	mustCallback(fn)
	im := &Immediate{loop: l, fn: fn}
	l.mu.Lock()
	if l.closed {
		im.fn, im.done = nil, true // never run, keeps nothing
		l.mu.Unlock()
		return im
	}
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
		im.done, im.fn = true, nil
		if !l.closed {
			l.liveImmediates--
			l.wakeUp()
		}
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
		l.mu.Lock()
		if l.closed { // by the last callback: the rest never runs
			for _, im := range batch[i:] {
				im.done, im.fn = true, nil
			}
			l.mu.Unlock()
			clear(batch[i:])
			return
		}
		batch[i] = nil
		fn := im.fn
		if !im.done {
			im.done, im.fn = true, nil
			l.liveImmediates--
		}
		l.mu.Unlock()
		if fn != nil {
			l.call(fn)
		}
	}
	l.mu.Lock()
	if !l.closed {
		l.immSpare = spare(batch)
	}
	l.mu.Unlock()
}
