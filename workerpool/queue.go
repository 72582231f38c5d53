package workerpool

// A job is one queued task: 24 bytes in the ring, so a backlog costs about
// 24 B per task plus the task itself (nothing for Submit, a Task for Go).
type job struct {
	r    runner // nil: the marker standing for the slow queue
	meta uint64 // bit 0: slow; the rest: when queued (ns since the pool's epoch) if sampled, else 0
}

func (j job) slow() bool { return j.meta&1 != 0 }

// enqueued returns when a sampled job was queued, or 0.
func (j job) enqueued() int64 { return int64(j.meta >> 1) }

// A runner is a queued task.
type runner interface {
	// claim is called, with the pool's lock held, when a worker dequeues the
	// task. run says it is the worker's to run; else a non-nil dead says its
	// context ended while it was queued, and the worker ends it with drop;
	// else it was cancelled meanwhile (Cancel ended it) and is skipped.
	claim() (run bool, dead error)
	// exec runs the claimed task on a worker and reports how it ended.
	exec(p *Pool) outcome
	// drop ends a claimed task that will never run with err: a task whose
	// context ended while queued, or one a hard stop takes off the queue.
	drop(err error)
}

type outcome uint8

const (
	succeeded outcome = iota
	failed
)

// A ring is a FIFO of jobs kept in a chain of fixed-size blocks, so that a
// growing backlog is never copied (and the garbage collector never scans
// one huge array); a few emptied blocks are kept for reuse.
type ring struct {
	head, tail *block
	hi, ti     int // next index to pop in head, to push in tail
	size       int
	spare      *block // chain of emptied blocks
	spares     int
}

const maxSpares = 8

// blockSize makes a block (255 jobs and a link) 6128 bytes, just under the
// allocator's 6144-byte size class: 24.1 B per queued job.
const blockSize = 255

type block struct {
	jobs [blockSize]job
	next *block
}

func (q *ring) len() int { return q.size }

func (q *ring) push(j job) {
	if q.tail == nil || q.ti == blockSize {
		b := q.spare
		if b == nil {
			b = new(block)
		} else {
			q.spare, b.next = b.next, nil
			q.spares--
		}
		if q.tail == nil {
			q.head, q.hi = b, 0
		} else {
			q.tail.next = b
		}
		q.tail, q.ti = b, 0
	}
	q.tail.jobs[q.ti] = j
	q.ti++
	q.size++
}

// pop removes the first job; the ring must not be empty.
func (q *ring) pop() job {
	j := q.head.jobs[q.hi]
	q.head.jobs[q.hi] = job{}
	q.hi++
	q.size--
	if q.size == 0 { // reuse the block from its start
		q.hi, q.ti = 0, 0
		return j
	}
	if q.hi == blockSize {
		old := q.head
		q.head, q.hi = old.next, 0
		old.next = nil
		if q.spares < maxSpares {
			old.next, q.spare = q.spare, old
			q.spares++
		}
	}
	return j
}
