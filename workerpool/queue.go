package workerpool

// A job is a task on its way through the queue. The ring keeps only its
// runner, 16 bytes, and the time of one job in sampleEvery: a backlog costs
// about 16.7 B per task plus the task itself (nothing for Submit, a Task
// for Go).
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
	// canceled reports, without claiming, whether Cancel ended the task
	// while it was queued (libuv's uv_cancel takes such a task off its
	// queue). The pool's lock is held.
	canceled() bool
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
// one huge array); a few emptied blocks are kept for reuse. It holds each
// job's runner, and the time it was queued for the jobs whose wait is
// measured: one in sampleEvery, by position.
//
// Its two ends can be used under two locks, the head's and the tail's, so
// that the goroutines that push and those that pop do not wait for each
// other: push needs the tail's lock; ready, peek and pop the head's; sync
// both. The head pops only the jobs that the last sync saw pushed, so that
// it never reads what the tail is writing: what was pushed before a sync is
// published to the head by the tail's lock. The two ends are a cache line
// apart, so that while the backlog is long, pushing and popping write to
// no common line.
type ring struct {
	// The head's end.
	head    *block   // the block to pop from
	hi      int      // next index to pop in head
	popped  uint64   // jobs popped
	seen    uint64   // jobs pushed as of the last sync
	cleared int      // head's jobs before this index are cleared
	used    []*block // emptied blocks, for sync to hand to the tail

	_ [cacheLine]byte

	// The tail's end.
	tail   *block
	ti     int    // next index to push in tail
	pushed uint64 // jobs pushed
	spare  []*block
}

// cacheLine is the distance kept between the state that two goroutines
// write at once: a cache line, or two on CPUs that fetch lines in pairs.
const cacheLine = 128

// maxSpares is the most emptied blocks a ring keeps.
const maxSpares = 8

// blockSize makes a block (368 runners, a link and 23 times) 6080 bytes,
// under the allocator's 6144-byte size class: 16.7 B per queued job. It is
// a multiple of sampleEvery.
const blockSize = 368

// sampleEvery is how often a job's queue wait is measured: timing every job
// would cost two clock reads per task.
const sampleEvery = 16

type block struct {
	jobs [blockSize]runner
	next *block
	// when the jobs at sampleEvery-1, 2*sampleEvery-1, ... were queued (ns
	// since the pool's epoch), after the pointers so that the collector
	// does not scan them
	at [blockSize / sampleEvery]int64
}

// push adds r at the tail and reports whether its wait is to be measured:
// then stamp gives the time it was queued. It needs the tail's lock.
func (q *ring) push(r runner) (measured bool) {
	if q.tail == nil || q.ti == blockSize {
		var b *block
		if n := len(q.spare); n > 0 {
			b = q.spare[n-1]
			q.spare[n-1] = nil
			q.spare = q.spare[:n-1]
		} else {
			b = new(block)
		}
		if q.tail == nil {
			q.head = b // the head has nothing to pop until a sync
		} else {
			q.tail.next = b
		}
		q.tail, q.ti = b, 0
	}
	q.tail.jobs[q.ti] = r
	q.ti++
	q.pushed++
	return q.ti%sampleEvery == 0
}

// stamp records when the job just pushed was queued.
func (q *ring) stamp(at int64) { q.tail.at[(q.ti-1)/sampleEvery] = at }

// sync lets the head pop every job pushed so far and hands the tail the
// blocks the head has emptied. It needs both locks.
func (q *ring) sync() {
	q.seen = q.pushed
	for _, b := range q.used {
		if len(q.spare) < maxSpares {
			q.spare = append(q.spare, b)
		}
	}
	clear(q.used)
	q.used = q.used[:0]
}

// ready reports whether the head has a job to pop, as of the last sync. It
// needs the head's lock.
func (q *ring) ready() bool { return q.popped < q.seen }

// peek returns the first job's runner; ready must have reported true.
func (q *ring) peek() runner {
	if q.hi == blockSize {
		q.advance()
	}
	return q.head.jobs[q.hi]
}

// pop removes the first job; ready must have reported true. Its meta has
// the time it was queued if it was measured; the slow bit is the caller's.
//
// The job's place is cleared later, by forget or when the head moves on,
// not here: with several workers popping, clearing each place would make
// them write to the lines they share once a job instead of once a block.
func (q *ring) pop() job {
	if q.hi == blockSize {
		q.advance()
	}
	j := job{r: q.head.jobs[q.hi]}
	if q.hi%sampleEvery == sampleEvery-1 {
		j.meta = uint64(q.head.at[q.hi/sampleEvery]) << 1
	}
	q.hi++
	q.popped++
	return j
}

// forget clears the places of the jobs popped from the head's block, so
// that the ring holds on to no task that has left it: a pool calls it
// before its workers wait for work.
func (q *ring) forget() {
	if q.head == nil || q.cleared == q.hi {
		return
	}
	clear(q.head.jobs[q.cleared:q.hi])
	clear(q.head.at[q.cleared/sampleEvery : q.hi/sampleEvery])
	q.cleared = q.hi
}

// advance moves the head to the next block, keeping the emptied one for
// reuse. The tail has moved past it: a job beyond it was pushed.
func (q *ring) advance() {
	b := q.head
	clear(b.jobs[q.cleared:])
	clear(b.at[q.cleared/sampleEvery:])
	q.head, q.hi, q.cleared = b.next, 0, 0
	b.next = nil
	if len(q.used) < maxSpares {
		q.used = append(q.used, b)
	}
}
