package timers

// NextTick queues fn to run right after the current callback, before any
// other callback and before microtasks: Node's process.nextTick. Called from
// another goroutine, it wakes the loop, and fn runs after whatever callback
// is running then.
func (l *Loop) NextTick(fn func()) { l.enqueue(&l.ticks, fn) }

// QueueMicrotask queues fn to run once the NextTick queue is empty, after the
// current callback: Node's queueMicrotask, and where promise reactions run.
// Microtasks queued by microtasks run in the same drain; ticks they queue run
// after it.
func (l *Loop) QueueMicrotask(fn func()) { l.enqueue(&l.micro, fn) }

func (l *Loop) enqueue(q *fifo, fn func()) {
	mustCallback(fn)
	l.mu.Lock()
	l.lazyInit()
	q.push(fn)
	l.queued.Add(1)
	l.wakeUp()
	l.mu.Unlock()
}

// drainTicks runs Node's processTicksAndRejections: every tick (including
// those queued meanwhile), then every microtask, until both are empty.
func (l *Loop) drainTicks() {
	for {
		for fn := l.dequeue(&l.ticks); fn != nil; fn = l.dequeue(&l.ticks) {
			fn()
		}
		for fn := l.dequeue(&l.micro); fn != nil; fn = l.dequeue(&l.micro) {
			fn()
		}
		if l.queued.Load() == 0 {
			return
		}
	}
}

func (l *Loop) dequeue(q *fifo) func() {
	l.mu.Lock()
	fn := q.pop()
	if fn != nil {
		l.queued.Add(-1)
	}
	l.mu.Unlock()
	return fn
}

// A fifo is a queue of callbacks that reuses its array.
type fifo struct {
	fns  []func()
	head int
}

func (q *fifo) len() int { return len(q.fns) - q.head }

func (q *fifo) push(fn func()) { q.fns = append(q.fns, fn) }

func (q *fifo) pop() func() {
	if q.head == len(q.fns) {
		return nil
	}
	fn := q.fns[q.head]
	q.fns[q.head] = nil
	q.head++
	if q.head == len(q.fns) {
		q.fns, q.head = q.fns[:0], 0
	}
	return fn
}
