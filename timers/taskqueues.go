package timers

// NextTick queues fn to run right after the current callback, before any
// other callback and before microtasks: Node's process.nextTick. Called from
// another goroutine, it wakes the loop, and fn runs after whatever callback
// is running then. A closed Loop drops fn.
func (l *Loop) NextTick(fn func()) { l.enqueue(&l.ticks, fn) }

// QueueMicrotask queues fn to run once the NextTick queue is empty, after the
// current callback: Node's queueMicrotask, and where promise reactions run.
// Microtasks queued by microtasks run in the same drain; ticks they queue run
// after it. A closed Loop drops fn.
func (l *Loop) QueueMicrotask(fn func()) { l.enqueue(&l.micro, fn) }

func (l *Loop) enqueue(q *fifo, fn func()) {
	mustCallback(fn)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
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

// A fifo is a queue of callbacks in a ring that doubles when full and, above
// fifoKeep slots, halves when a quarter full, so that its memory follows
// what is queued now, not the most ever queued, nor (as a slice consumed
// from the front would) the most ever passed through without the queue
// emptying.
type fifo struct {
	buf     []func() // its length is 0 or a power of two, at least fifoMin
	head, n int
}

const (
	fifoMin  = 16   // the first ring's slots
	fifoKeep = 1024 // a ring this small is kept (8 KiB), so that a queue that fills and drains allocates nothing
)

func (q *fifo) len() int { return q.n }

func (q *fifo) push(fn func()) {
	if q.n == len(q.buf) {
		q.resize(max(fifoMin, 2*len(q.buf)))
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = fn
	q.n++
}

func (q *fifo) pop() func() {
	if q.n == 0 {
		return nil
	}
	fn := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	if len(q.buf) > fifoKeep && q.n < len(q.buf)/4 {
		q.resize(len(q.buf) / 2)
	}
	return fn
}

// resize moves the queued callbacks, in order, to a new ring of size slots.
func (q *fifo) resize(size int) {
	buf := make([]func(), size)
	k := copy(buf, q.buf[q.head:min(q.head+q.n, len(q.buf))])
	copy(buf[k:q.n], q.buf)
	q.buf, q.head = buf, 0
}
