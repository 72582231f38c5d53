package events

import "sync"

// A queue is the unbounded FIFO between the listener that On registers and
// the loop that consumes it: push never blocks, pop waits.
type queue[T any] struct {
	ready chan struct{} // holds a token when items or closed may have changed

	mu     sync.Mutex
	items  []T
	head   int
	closed bool
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{ready: make(chan struct{}, 1)}
}

// push appends v unless the queue is closed.
func (q *queue[T]) push(v T) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, v)
	}
	q.mu.Unlock()
	q.wake()
}

// close makes pop report false once the buffered items are gone.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wake()
}

func (q *queue[T]) wake() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop waits for the next item; it returns false when the queue is closed
// and drained.
func (q *queue[T]) pop() (v T, ok bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			v = q.items[q.head]
			var zero T
			q.items[q.head] = zero // let the value be collected
			q.head++
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			}
			q.mu.Unlock()
			return v, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return v, false
		}
		<-q.ready
	}
}
