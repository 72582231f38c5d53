package workerpool

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// A Pool runs tasks on 4 goroutines, libuv's default, or as many as
// $UV_THREADPOOL_SIZE or Size says, fed from one FIFO queue, like libuv's
// threadpool: a task starts only when a worker is free, in the order tasks
// were submitted. The zero Pool is ready to use and is safe for concurrent
// use; its workers start as work arrives. Shutdown stops it after draining
// its queue, Close stops it now; after either no goroutine of it remains.
//
// Configure a Pool by setting its fields before first use; they must not be
// changed afterwards.
type Pool struct {
	// Size is the number of workers, at most MaxSize (larger sizes are
	// clamped to it). 0 means $UV_THREADPOOL_SIZE, read at first use, else
	// DefaultSize. A negative Size panics at every use. UV_THREADPOOL_SIZE
	// is a whole number, clamped to [1, MaxSize]; a value that is not a
	// whole number, an empty one included, gives DefaultSize and a negative
	// one 1, each with a warning through Logger that says what libuv would
	// use (libuv reads the value with C's atoi: "8x" is 8 threads, "" and
	// "abc" are 1, a negative number 1024).
	Size int
	// QueueSize bounds the queue of tasks waiting for a worker: Submit, Go
	// and Group.Go block while it is full, TrySubmit and TryGo fail with
	// ErrQueueFull. 0 means unbounded, as in libuv. A negative QueueSize
	// panics at every use.
	QueueSize int
	// Logger receives configuration warnings and OnDone callbacks that
	// their target refused. Nil means slog.Default().
	Logger *slog.Logger

	once      sync.Once
	misconfig string          // why every use panics, if the fields are invalid
	ctx       context.Context // the tasks' context: cancelled by a hard stop
	stop      context.CancelCauseFunc
	slots     chan struct{} // bounded queue: one token per queued task
	done      chan struct{} // closed when closing and the last worker is gone
	epoch     time.Time
	// mu locks the whole pool: see poolLock.
	mu poolLock
	// hungry is the number of idle workers plus the workers that may still
	// be started: a submission that sees 0 needs no worker's lock. It is
	// written with workMu held, read without it.
	hungry atomic.Int32
	// size, workers and dead are guarded by workMu, like the fields below:
	// they are read for every task but rarely written, so they are kept off
	// the line that every task writes.
	size    int
	workers int
	dead    []deadTask // found by take, for the worker to end

	_ [hotPad]byte

	// The workers' half, guarded by workMu. What a worker writes for every
	// task, the queue's head included, is on one cache line (see hotPad):
	// the line moves from one worker's CPU to another's with every task.
	workMu    sync.Mutex
	running   int
	queued    int    // live tasks in q and slowQ, less those not yet folded in (see fold)
	completed uint64 // tasks completed since the last fold, not yet in stats

	// The queue: its head is the workers', its tail the submitters'. The
	// ring keeps the two a cache line apart.
	q ring

	// The submitters' half, guarded by submitMu.
	submitMu sync.Mutex
	closing  bool // no longer accepting tasks; written with both locks held

	_ [cacheLine]byte

	// The rest of the workers' half.
	stats       counters
	cond        sync.Cond // workers wait here for work
	idle        int
	slowRunning int
	marker      bool   // the slow-queue marker is in q
	stopped     bool   // a hard stop found tasks queued or running
	markers     uint64 // markers pushed to q
	folded      uint64 // tasks pushed to q that fold has counted
	slowQ       ring   // slow tasks wait here behind a marker in q; both ends under workMu
}

// Option marks a task for special treatment.
type Option uint8

// SlowIO marks a task as slow I/O, like libuv's UV__WORK_SLOW_IO (DNS
// lookups): at most (Size+1)/2 slow tasks run at once, so that slow work
// cannot take every worker from fast work. Slow tasks keep their FIFO order
// among themselves.
const SlowIO Option = 1

// init sets the pool up at first use and panics, at this and every later
// use, if it is misconfigured. The check is outside the sync.Once: a panic
// inside it would mark it done and leave a half-built pool for the next
// call.
func (p *Pool) init() {
	p.once.Do(p.setup)
	if p.misconfig != "" {
		panic(p.misconfig)
	}
}

// setup reads the configuration; p.misconfig says what is wrong with it.
func (p *Pool) setup() {
	switch {
	case p.Size < 0:
		p.misconfig = fmt.Sprintf("workerpool: negative Size %d", p.Size)
		return
	case p.QueueSize < 0:
		p.misconfig = fmt.Sprintf("workerpool: negative QueueSize %d", p.QueueSize)
		return
	}
	p.size = clampSize(p.Size)
	if p.Size == 0 {
		var warning string
		p.size, warning = sizeFromEnv()
		if warning != "" {
			p.logger().Warn(warning)
		}
	}
	if p.QueueSize > 0 {
		p.slots = make(chan struct{}, p.QueueSize)
	}
	p.ctx, p.stop = context.WithCancelCause(context.Background())
	p.done = make(chan struct{})
	p.epoch = time.Now()
	p.mu.p = p
	p.cond.L = &p.workMu
	p.setHungry()
}

// poolLock is Pool.mu, the lock on the whole pool. A pool's state is in two
// halves, each under its own lock, so that Submit and the workers do not
// wait for each other: the workers' half under workMu, the submitters'
// half (the queue's tail and closing) under submitMu. Lock takes both, in
// that order, and counts the tasks queued since the last time in queued
// and stats.submitted, so that under mu every field is up to date.
//
// A submission takes the submitters' lock, and the workers' only when a
// worker must be woken or started: when hungry is not 0. A worker takes its
// own between two tasks, and the submitters' only when it has popped every
// task it knew of (see ring). A task cannot wait while a worker sleeps: a
// submitter reads hungry after unlocking the queue's tail; a worker about
// to sleep counts itself in hungry, then looks at the tail under the
// submitters' lock (see next). Whichever takes that lock second sees what
// the other did.
type poolLock struct{ p *Pool }

// Lock locks the whole pool.
func (l *poolLock) Lock() {
	l.p.workMu.Lock()
	l.p.submitMu.Lock()
	l.p.fold()
}

// Unlock unlocks what Lock locked.
func (l *poolLock) Unlock() {
	l.p.submitMu.Unlock()
	l.p.workMu.Unlock()
}

// hotPad puts workMu at the start of a cache line, in a Pool allocated on
// its own (the allocator's size classes for it are multiples of 128 bytes),
// so that the fields a worker writes for every task share one line:
// TestHotFieldsShareALine checks it.
const hotPad = 80

// fold brings into queued and stats what the hot paths count on their
// own: the tasks pushed to q since the last fold, and those completed.
// Both locks must be held.
func (p *Pool) fold() {
	n := p.q.pushed - p.markers
	p.queued += int(n - p.folded)
	p.stats.submitted += n - p.folded
	p.folded = n
	p.stats.completed += p.completed
	p.completed = 0
}

// setHungry updates hungry. p.workMu must be held.
func (p *Pool) setHungry() {
	p.hungry.Store(int32(p.idle + max(p.size-p.workers, 0)))
}

func (p *Pool) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Submit queues fn to run on a worker, blocking while a bounded queue is
// full, and runs it with ctx, the task's context (see the package doc): if
// ctx has ended, or ends while Submit waits for room, Submit returns
// ctx.Err() and queues nothing; if it ends while the task is queued, the
// task never runs (Stats counts it as cancelled); fn's context is also
// cancelled when the pool stops hard. On a closed pool Submit returns
// ErrClosed.
//
// A panic in fn is not recovered: it crashes the program with its value and
// stack, as a panic in a goroutine started with the go statement does, since
// a Submit task has nobody to return an error to (see the package doc).
// Recover in fn to handle one, or use Go.
//
// Submit allocates nothing when ctx is context.Background() or
// context.TODO(): fn then runs with the pool's own context. Any other ctx
// costs one 24-byte allocation to queue it with fn, and five more when fn
// starts, to derive fn's context.
func (p *Pool) Submit(ctx context.Context, fn func(context.Context), opts ...Option) error {
	mustContext(ctx)
	if fn == nil {
		panic(nilFunc)
	}
	return p.submit(ctx, true, job{r: submitted(ctx, fn), meta: slowIO(opts)})
}

// TrySubmit is Submit that fails with ErrQueueFull instead of waiting for
// room in a bounded queue.
func (p *Pool) TrySubmit(ctx context.Context, fn func(context.Context), opts ...Option) error {
	mustContext(ctx)
	if fn == nil {
		panic(nilFunc)
	}
	return p.submit(ctx, false, job{r: submitted(ctx, fn), meta: slowIO(opts)})
}

// submitted returns the runner of a Submit task.
func submitted(ctx context.Context, fn func(context.Context)) runner {
	if background(ctx) {
		return taskFunc(fn)
	}
	return &ctxFunc{fn: fn, ctx: ctx}
}

// background reports whether ctx is context.Background() or
// context.TODO(): a task submitted with either runs with the pool's own
// context, which has no values and is cancelled only by a hard stop, and
// needs nothing stored or derived.
func background(ctx context.Context) bool {
	return ctx == context.Background() || ctx == context.TODO()
}

// slowIO returns a job's slow bit for opts; an unknown Option panics.
func slowIO(opts []Option) uint64 {
	var bit uint64
	for _, o := range opts {
		switch o {
		case SlowIO:
			bit = 1
		default:
			panic(fmt.Sprintf("workerpool: unknown Option %d", o))
		}
	}
	return bit
}

// submit queues j, waiting for room if block.
func (p *Pool) submit(ctx context.Context, block bool, j job) error {
	p.init()
	// An ended context refuses every time. Checked first: when a bounded
	// queue has room, reserve's select would otherwise choose at random
	// between the room and the ended context. (A taskFunc's context is
	// Background or TODO, which never end.)
	if _, ok := j.r.(taskFunc); !ok {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if p.slots != nil {
		if err := p.reserve(ctx, block); err != nil {
			return err
		}
	}
	if j.slow() {
		return p.submitSlow(j)
	}
	p.submitMu.Lock()
	if p.closing {
		p.submitMu.Unlock()
		p.release(1)
		return ErrClosed
	}
	if p.q.push(j.r) {
		p.q.stamp(p.now())
	}
	p.submitMu.Unlock()
	if p.hungry.Load() > 0 { // after the unlock: see poolLock
		p.workMu.Lock()
		p.startOne()
		p.workMu.Unlock()
	}
	return nil
}

// submitSlow queues a SlowIO task, with the whole pool locked: it goes to
// the slow queue, behind a marker in the main one.
func (p *Pool) submitSlow(j job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		p.release(1)
		return ErrClosed
	}
	p.queued++
	p.stats.submitted++
	if p.slowQ.push(j.r) {
		p.slowQ.stamp(p.now())
	}
	p.slowQ.sync()
	if !p.marker {
		p.marker = true
		p.q.push(nil) // not measured: its time stays 0
		p.markers++
	}
	p.startOne()
	return nil
}

// now is the time a measured task is queued: nanoseconds since the pool's
// epoch, at least 1 (0 means not measured).
func (p *Pool) now() int64 { return max(1, int64(time.Since(p.epoch))) }

// startOne wakes an idle worker or, if there is none, starts one if the
// pool has room for it, for a task just queued. Once the pool is closing,
// beginClose has seen to the queued tasks. p.workMu must be held.
func (p *Pool) startOne() {
	if p.closing || p.wakeOne() || p.workers >= p.size {
		return
	}
	p.workers++
	p.setHungry()
	go p.work()
}

// reserve takes a place in a bounded queue.
func (p *Pool) reserve(ctx context.Context, block bool) error {
	if !block {
		select {
		case p.slots <- struct{}{}:
			return nil
		default:
			return ErrQueueFull
		}
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release frees n places in a bounded queue.
func (p *Pool) release(n int) {
	if p.slots != nil {
		for range n {
			<-p.slots
		}
	}
}

// work is a worker's goroutine.
func (p *Pool) work() {
	p.workMu.Lock()
	for {
		j, ok := p.next()
		if !ok {
			break
		}
		p.workMu.Unlock()
		p.release(1)
		var waited int64
		if j.enqueued() != 0 {
			waited = int64(time.Since(p.epoch)) - j.enqueued()
		}
		out := p.run(j, waited)
		p.workMu.Lock()
		p.finished(j, out, waited)
	}
	p.workers--
	p.setHungry()
	if p.workers == 0 && p.closing {
		close(p.done)
	}
	p.workMu.Unlock()
}

// run runs j on the calling worker. A task can leave in three ways: it
// returns, it panics, or it calls runtime.Goexit. The runner turns a panic
// into its outcome (or lets it crash the program: see Submit); a Goexit
// unwinds the worker itself, so the deferred function here, which sees that
// exec did not return, does the worker's bookkeeping for the task and hands
// the worker's place to a new goroutine before this one exits, as
// singleflight does with its normal-return flag. The runner has already
// ended the task with ErrGoexit in its own deferred function.
func (p *Pool) run(j job, waited int64) outcome {
	returned := false
	defer func() {
		if !returned {
			p.workMu.Lock()
			p.finished(j, failed, waited)
			go p.work() // this worker's replacement: p.workers is unchanged
			p.workMu.Unlock()
		}
	}()
	var out outcome
	if f, ok := j.r.(taskFunc); ok { // the common case, spared a call
		out = call(f, p.ctx)
	} else {
		out = j.r.exec(p)
	}
	returned = true
	return out
}

// finished does the bookkeeping of a task that has ended. p.workMu must be
// held.
func (p *Pool) finished(j job, out outcome, waited int64) {
	p.running--
	if j.slow() {
		p.slowRunning--
		if p.slowQ.ready() {
			p.wakeOne()
		}
	}
	if out == succeeded && j.enqueued() == 0 {
		p.completed++ // kept on the hot line: see fold
		return
	}
	p.stats.record(out, waited, j.enqueued() != 0)
}

// next waits for the next task to run and counts it as running; false
// tells the worker to exit. p.workMu must be held; next unlocks it
// meanwhile to end the tasks that take found dead.
func (p *Pool) next() (job, bool) {
	for {
		if p.workers > p.size {
			return job{}, false // the pool was shrunk
		}
		j, ok := p.take()
		if ok {
			p.running++
		}
		if len(p.dead) > 0 {
			p.endDead()
			if !ok {
				continue // the pool may have changed meanwhile
			}
		}
		if ok {
			return j, true
		}
		if p.closing && p.queued == 0 {
			// Workers that waited while slow tasks were held back by their
			// limit exit too. (Once closing, queued is exact: beginClose
			// folded the last tasks in, and none come after.)
			p.forget()
			p.wakeAll()
			return job{}, false
		}
		// Count this worker in hungry, then look at the tail once more
		// (see poolLock): a submitter that pushed after take looked either
		// sees it idle and wakes it, or was seen here.
		p.idle++
		p.setHungry()
		seen := p.q.seen
		p.refill()
		if p.q.seen != seen {
			p.idle--
			p.setHungry()
			continue
		}
		p.forget()
		p.cond.Wait() // whoever woke us took us off idle
	}
}

// A deadTask is a task that take found with its context ended.
type deadTask struct {
	r   runner
	err error // its context's error
}

// endDead ends the tasks that take found dead, with ErrCanceled wrapping
// their context's error. p.workMu must be held; it is unlocked meanwhile,
// as ending a Task runs its OnDone posts.
func (p *Pool) endDead() {
	dead := p.dead
	p.dead = nil
	p.workMu.Unlock()
	p.release(len(dead))
	for _, d := range dead {
		d.r.drop(fmt.Errorf("%w: %w", ErrCanceled, d.err))
	}
	p.workMu.Lock()
}

// wakeOne wakes an idle worker, if there is one, and reports whether it
// did. A worker leaves the idle count when it is woken, not when it runs:
// counting it until it runs let a second submission take the same wakeup for
// its own and start no worker for its task. p.workMu must be held.
func (p *Pool) wakeOne() bool {
	if p.idle == 0 {
		return false
	}
	p.idle--
	p.setHungry()
	p.cond.Signal()
	return true
}

// wakeAll wakes every idle worker. p.workMu must be held.
func (p *Pool) wakeAll() {
	p.idle = 0
	p.setHungry()
	p.cond.Broadcast()
}

// take dequeues the first task that may start now, as libuv's worker does:
// the slow-queue marker yields its place when the slow limit is reached,
// and take stops when it meets the marker it put back. Tasks cancelled
// while queued are skipped; so are tasks whose context ended while queued,
// which are counted as cancelled and left in p.dead for the worker to end.
// p.workMu must be held.
func (p *Pool) take() (job, bool) {
	requeued := false
	for p.q.ready() || p.refill() {
		if requeued && p.q.peek() == nil {
			return job{}, false // the marker again: every task before it was seen
		}
		j := p.q.pop()
		if j.r != nil {
			if !p.claim(j.r) {
				continue
			}
			return j, true
		}
		// The marker: run the first slow task if the limit allows.
		if p.slowRunning >= (p.size+1)/2 {
			p.pushMarker() // behind the fast tasks queued after it
			requeued = true
			continue
		}
		p.marker = false
		for p.slowQ.ready() {
			s := p.slowQ.pop()
			s.meta |= 1
			if !p.claim(s.r) {
				continue
			}
			p.slowRunning++
			if p.slowWaiting() {
				p.marker = true
				p.pushMarker()
			}
			return s, true
		}
	}
	return job{}, false
}

// slowWaiting drops the tasks Cancel ended from the front of the slow
// queue and reports whether a task is left in it: as libuv's uv_cancel
// takes a task off its queue, a slow queue holding only cancelled tasks is
// empty and gets no marker back (the marker would otherwise hold a place
// ahead of fast tasks queued before the next slow one). A task whose
// context ended stays: it is passed over when reached, as the model says.
// p.workMu must be held.
func (p *Pool) slowWaiting() bool {
	for p.slowQ.ready() {
		if r := p.slowQ.peek(); r == nil || !r.canceled() {
			return true
		}
		p.slowQ.pop()
	}
	return false
}

// forget drops the queues' hold on the tasks taken from them, for a worker
// about to wait or exit. p.workMu must be held.
func (p *Pool) forget() {
	p.q.forget()
	p.slowQ.forget()
}

// refill lets the workers pop every task pushed so far (see ring) and
// reports whether there is one. p.workMu must be held, not p.submitMu.
func (p *Pool) refill() bool {
	p.submitMu.Lock()
	p.q.sync()
	p.submitMu.Unlock()
	return p.q.ready()
}

// pushMarker queues the slow-queue marker. p.workMu must be held, not
// p.submitMu.
func (p *Pool) pushMarker() {
	p.submitMu.Lock()
	p.q.push(nil)
	p.submitMu.Unlock()
	p.markers++
}

// claim claims a dequeued task for a worker and reports whether it is to
// run. p.workMu must be held.
func (p *Pool) claim(r runner) bool {
	if _, ok := r.(taskFunc); ok { // the common case, spared a call
		p.queued--
		return true
	}
	run, dead := r.claim()
	switch {
	case run:
		p.queued--
		return true
	case dead != nil:
		p.queued--
		p.stats.canceled++
		p.dead = append(p.dead, deadTask{r, dead})
	}
	return false // cancelled while queued: Cancel did the bookkeeping
}

// Resize changes the number of workers while the pool runs; n above
// MaxSize is clamped to it, n below 1 panics. Growing starts workers for
// queued tasks at once; shrinking lets surplus workers exit when they
// finish their current task.
func (p *Pool) Resize(n int) {
	if n < 1 {
		panic(fmt.Sprintf("workerpool: Resize(%d): a pool needs at least one worker", n))
	}
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.size = clampSize(n)
	if !p.closing {
		p.grow()
	}
	p.wakeAll() // idle surplus workers notice and exit
}

// grow starts workers for the queued tasks that no idle worker will take,
// as many as the size allows. p.mu must be held.
func (p *Pool) grow() {
	for spawned := 0; p.workers < p.size && p.idle+spawned < p.queued; spawned++ {
		p.workers++
		go p.work()
	}
	p.setHungry()
}

// Shutdown stops the pool gracefully, like http.Server.Shutdown: it stops
// accepting tasks at once (they get ErrClosed), lets the queued and running
// tasks finish, and returns nil once the last worker has exited. If ctx
// ends first, Shutdown does what Close does and returns ctx.Err(); the
// queued tasks end with ErrCanceled wrapping ctx.Err(). Either way no
// goroutine of the pool remains when Shutdown returns. If Close (or a
// Shutdown whose context ended) found tasks queued or running, before or
// while this Shutdown waits, Shutdown returns ErrClosed once the workers
// are gone: those tasks were not drained. An already-ended ctx gives the
// same answer every time: the result above if the workers are already
// gone, else ctx.Err().
func (p *Pool) Shutdown(ctx context.Context) error {
	mustContext(ctx)
	p.init()
	p.mu.Lock()
	p.beginClose()
	p.mu.Unlock()
	select {
	case <-p.done:
		return p.shutdownErr()
	default:
	}
	if ctx.Err() == nil {
		select {
		case <-p.done:
			return p.shutdownErr()
		case <-ctx.Done():
		}
	}
	p.stopNow(fmt.Errorf("%w: %w", ErrCanceled, ctx.Err()))
	return ctx.Err()
}

// shutdownErr is Shutdown's result once the workers are gone.
func (p *Pool) shutdownErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop(ErrClosed) // for Groups still hooked to it
	if p.stopped {
		return ErrClosed
	}
	return nil
}

// Close stops the pool now, like http.Server.Close: it stops accepting
// tasks (they get ErrClosed), ends the queued ones without running them
// (with ErrCanceled wrapping ErrClosed), cancels the context of the running
// ones (context.Cause gives ErrClosed) and waits for them to return, so that
// no goroutine of the pool remains when Close returns; a task that ignores
// its context delays that. Calling it again, or after Shutdown, waits the
// same way. Close returns nil; its result makes Pool an io.Closer.
func (p *Pool) Close() error {
	p.init()
	p.stopNow(fmt.Errorf("%w: %w", ErrCanceled, ErrClosed))
	return nil
}

// beginClose stops the pool accepting tasks. p.mu must be held. A task
// accepted just before may have no worker yet: its submitter wakes or
// starts one only after it has queued the task, and no longer does once the
// pool is closing; so beginClose starts the workers the queue needs.
func (p *Pool) beginClose() {
	if p.closing {
		return
	}
	p.closing = true
	p.grow()
	p.wakeAll()
	if p.workers == 0 {
		close(p.done)
	}
}

// stopNow closes the pool, ends the queued tasks with cause, cancels the
// running tasks' context and waits for the workers to exit.
func (p *Pool) stopNow(cause error) {
	p.mu.Lock()
	p.beginClose()
	var dropped []runner
	p.q.sync()
	for _, q := range []*ring{&p.q, &p.slowQ} {
		for q.ready() {
			if j := q.pop(); j.r != nil {
				if run, dead := j.r.claim(); run || dead != nil {
					dropped = append(dropped, j.r)
				}
			}
		}
	}
	p.forget()
	p.marker = false
	p.queued = 0
	p.stats.canceled += uint64(len(dropped))
	if len(dropped) > 0 || p.running > 0 {
		p.stopped = true
	}
	p.stop(ErrClosed)
	p.wakeAll()
	p.mu.Unlock()
	p.release(len(dropped))
	for _, r := range dropped {
		r.drop(cause)
	}
	<-p.done
}

// taskContext returns the context of a task submitted with ctx (not a
// background one): ctx, also cancelled with the pool's cause (ErrClosed)
// by a hard stop; and the functions that release it, to be deferred:
//
//	ctx, cancel, stop := p.taskContext(ctx)
//	defer cancel(nil)
//	defer stop()
func (p *Pool) taskContext(ctx context.Context) (context.Context, context.CancelCauseFunc, func() bool) {
	c, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(p.ctx, func() { cancel(context.Cause(p.ctx)) })
	return c, cancel, stop
}

// taskFunc is a Submit task with a background context.
type taskFunc func(context.Context)

func (f taskFunc) claim() (bool, error) { return true, nil }
func (f taskFunc) canceled() bool       { return false }
func (f taskFunc) drop(err error)       {}

func (f taskFunc) exec(p *Pool) outcome {
	return call(f, p.ctx)
}

// call runs a Submit task with ctx. It does not recover a panic: see
// Submit.
func call(f func(context.Context), ctx context.Context) outcome {
	f(ctx)
	return succeeded
}

// ctxFunc is a Submit task with its own context: 24 bytes.
type ctxFunc struct {
	fn  func(context.Context)
	ctx context.Context
}

func (f *ctxFunc) canceled() bool { return false }

func (f *ctxFunc) claim() (bool, error) {
	if err := f.ctx.Err(); err != nil {
		return false, err
	}
	return true, nil
}

func (f *ctxFunc) drop(err error) {}

func (f *ctxFunc) exec(p *Pool) outcome {
	ctx, cancel, stop := p.taskContext(f.ctx)
	defer cancel(nil)
	defer stop()
	return call(f.fn, ctx)
}
