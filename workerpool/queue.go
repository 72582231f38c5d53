package workerpool

// A job is one queued task: 32 bytes in the ring, so a backlog costs 32 B
// per task plus the task itself (nothing for Submit, a Task for Go).
type job struct {
	r        runner // nil: the marker standing for the slow queue
	enqueued int64  // queue-wait sample: nanotime when queued, 0 when not sampled
	slow     bool
}

// A runner is a queued task.
type runner interface {
	// claim is called, with the pool's lock held, when a worker dequeues the
	// task; false means it was cancelled meanwhile and must be skipped.
	claim() bool
	// exec runs the claimed task on a worker and reports how it ended.
	exec(p *Pool) outcome
	// drop ends a task that will never run (a hard Close) with err.
	drop(err error)
}

type outcome uint8

const (
	succeeded outcome = iota
	failed
	canceled
)

// A ring is a FIFO of jobs that grows by doubling and reuses its array.
type ring struct {
	buf        []job
	head, size int
}

func (q *ring) len() int { return q.size }

func (q *ring) push(j job) {
	if q.size == len(q.buf) {
		n := max(16, 2*len(q.buf))
		buf := make([]job, n)
		k := copy(buf, q.buf[q.head:])
		copy(buf[k:], q.buf[:q.head])
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = j
	q.size++
}

func (q *ring) front() job { return q.buf[q.head] }

func (q *ring) pop() job {
	j := q.buf[q.head]
	q.buf[q.head] = job{}
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return j
}
