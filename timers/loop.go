package timers

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nodekit/nodekit/internal/panics"
)

// A Loop runs callbacks one at a time, on the goroutine that calls Run, in
// the phase order of Node's event loop. Each iteration runs
//
//   - timers: the SetTimeout and SetInterval callbacks that are due;
//   - poll: the callbacks handed over with Post (Node's I/O callbacks),
//     waiting for one or for the next timer when nothing else is ready;
//   - check: the SetImmediate callbacks queued before the phase began.
//
// After every callback the NextTick queue is drained, then the microtask
// queue (QueueMicrotask), again and again while either has work, as Node
// does after each callback since v11. What is scheduled before Run plays the
// part of Node's main script: its ticks and microtasks run first.
//
// The zero Loop is ready to use; Logger is its one setting. Every method is
// safe to call from any goroutine; callbacks need no locks, since they never
// run concurrently.
// Run returns when nothing that keeps the loop alive remains: a ref'd timer,
// an immediate, a tick or microtask, a Post not yet run, or a Hold. A Loop
// owns no goroutine of its own. Close stops it for good and drops what is
// scheduled; so does a callback that panics or calls runtime.Goexit.
//
// Time is read once per iteration and cached, as libuv does: a timer set by
// a callback counts from the iteration's start, and one set from another
// goroutine while callbacks run counts from there too. While the loop waits,
// and before Run, timers count from the current time.
type Loop struct {
	// Logger receives Node's TimeoutOverflowWarning (see SetTimeout); nil
	// means slog.Default(). slog.New(slog.DiscardHandler) silences it. It
	// must not be changed after first use.
	Logger *slog.Logger

	mu    sync.Mutex
	epoch time.Time // zero of the loop clock, set at first use
	now   int64     // cached loop clock, ns since epoch
	seq   uint64    // arming order of timers, for ties

	lists     map[uint32]*timerList // by duration in whole ms
	listsPeak int                   // the most lists since lists was made
	heap      listHeap
	last      *timerList // the list last armed into; kept in lists when empty
	spareList *timerList // the last list dropped, for the next one needed
	refTimers int        // active timers that keep the loop alive

	immediates, immSpare []*Immediate // cleared ones are skipped when run
	liveImmediates       int          // not yet run nor cleared
	ticks, micro         fifo
	queued               atomic.Int32 // len(ticks)+len(micro), read without the lock
	posted, postSpare    []func()
	holds                int

	running, sleeping, closed bool
	stopped                   atomic.Bool   // closed, read without the lock
	done                      chan struct{} // closed when the Loop closes; made by Done
	wake                      chan struct{} // cap 1: wakes a sleeping Run
	wakeAt                    int64         // the deadline the sleeping Run waits for
	timer                     *time.Timer   // the one OS timer, owned by Run
}

func (l *Loop) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// lazyInit prepares the zero Loop. l.mu must be held.
func (l *Loop) lazyInit() {
	if l.wake == nil {
		l.epoch = time.Now()
		l.wake = make(chan struct{}, 1)
	}
}

// clock returns the time to arm timers from: the cached loop time while Run
// is running callbacks, the current time otherwise. l.mu must be held.
func (l *Loop) clock() int64 {
	l.lazyInit()
	if l.running && !l.sleeping {
		return l.now
	}
	return int64(time.Since(l.epoch))
}

// wakeUp makes a sleeping Run look again at what there is to do. l.mu must
// be held.
func (l *Loop) wakeUp() {
	if l.sleeping {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// aliveLocked reports whether anything keeps the loop running. l.mu must be
// held.
func (l *Loop) aliveLocked() bool {
	return l.refTimers > 0 || l.liveImmediates > 0 || len(l.posted) > 0 ||
		l.holds > 0 || l.ticks.len() > 0 || l.micro.len() > 0
}

// Run runs the loop until nothing keeps it alive, and then returns nil; or
// until ctx ends, and then returns ctx.Err() (what was scheduled stays
// scheduled, for a later Run; with a ctx already ended, Run runs nothing);
// or until the Loop is closed, and then returns ErrClosed. Only one Run may
// be under way at a time: another returns ErrRunning.
//
// A panic in a callback stops Run, which returns a *PanicError carrying the
// panic value and the stack, and closes the Loop, as Close does. A callback
// that calls runtime.Goexit (t.Fatal does) ends Run's goroutine, and closes
// the Loop too: it is never left "running" with nobody running it. A closed
// Loop's Run returns ErrClosed.
func (l *Loop) Run(ctx context.Context) (err error) {
	mustContext(ctx)
	l.mu.Lock()
	l.lazyInit()
	switch {
	case l.closed:
		l.mu.Unlock()
		return ErrClosed
	case l.running:
		l.mu.Unlock()
		return ErrRunning
	}
	l.running = true
	l.now = int64(time.Since(l.epoch))
	l.mu.Unlock()
	returned := false
	defer func() {
		p := recover()
		l.mu.Lock()
		defer l.mu.Unlock()
		if p != nil {
			err = panics.New(p)
		}
		if p != nil || !returned { // a panic, or runtime.Goexit
			l.closeLocked()
		}
		l.running, l.sleeping = false, false
		if l.closed && l.timer != nil {
			l.timer.Stop()
			l.timer = nil
		}
	}()
	err = l.run(ctx)
	returned = true
	return err
}

func (l *Loop) run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.drainTicks() // the main script's ticks and microtasks
	for {
		if l.stopped.Load() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		l.now = int64(time.Since(l.epoch))
		l.mu.Unlock()
		l.runTimers()
		alive, err := l.poll(ctx)
		if err != nil {
			return err
		}
		if !alive {
			return nil
		}
		l.runImmediates()
	}
}

// call runs one callback and then, as Node does, the ticks and microtasks it
// queued.
func (l *Loop) call(fn func()) {
	fn()
	if l.queued.Load() > 0 {
		l.drainTicks()
	}
}

// poll runs the posted callbacks, first waiting for one, for the next timer
// or for ctx when nothing else is ready. It reports whether the loop is
// still alive, or ErrClosed when it was closed.
func (l *Loop) poll(ctx context.Context) (alive bool, err error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false, ErrClosed
	}
	if !l.aliveLocked() {
		l.mu.Unlock()
		return false, nil
	}
	if len(l.posted) == 0 && l.liveImmediates == 0 && l.ticks.len() == 0 && l.micro.len() == 0 {
		err := l.sleep(ctx)
		if l.closed {
			err = ErrClosed
		}
		if err != nil {
			l.mu.Unlock()
			return true, err
		}
	}
	batch := l.posted
	l.posted, l.postSpare = l.postSpare[:0], nil
	l.mu.Unlock()

	if l.queued.Load() > 0 { // ticks queued by other goroutines meanwhile
		l.drainTicks()
	}
	for i, fn := range batch {
		if l.stopped.Load() {
			clear(batch[i:])
			return false, ErrClosed
		}
		batch[i] = nil
		l.call(fn)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false, ErrClosed
	}
	l.postSpare = spare(batch)
	return l.aliveLocked(), nil
}

// maxSpare is the largest batch array kept for the next batch: a larger one
// came from a burst, and keeping it would keep the burst's memory.
const maxSpare = 1024

// spare returns batch emptied, to hold the next batch, or nil when it is
// too large to keep.
func spare[T any](batch []T) []T {
	if cap(batch) > maxSpare {
		return nil
	}
	return batch[:0]
}

// mustCallback panics on a nil callback, a programmer error (Node throws
// ERR_INVALID_ARG_TYPE), rather than letting it crash the loop later.
func mustCallback(fn func()) {
	if fn == nil {
		panic("timers: nil callback")
	}
}

// sleep waits, with l.mu held on entry and on return, until another
// goroutine wakes the loop, the first timer is due or ctx ends.
func (l *Loop) sleep(ctx context.Context) error {
	var due <-chan time.Time
	l.wakeAt = math.MaxInt64
	if len(l.heap) > 0 {
		l.wakeAt = l.heap[0].expiry
		// From the current time, not the cached one: callbacks took time.
		wait := time.Duration(l.wakeAt - int64(time.Since(l.epoch)))
		if wait <= 0 {
			return nil
		}
		if l.timer == nil {
			l.timer = time.NewTimer(wait)
		} else {
			l.timer.Reset(wait)
		}
		due = l.timer.C
	}
	l.sleeping = true
	l.mu.Unlock()
	select {
	case <-l.wake:
	case <-due:
	case <-ctx.Done():
	}
	if due != nil {
		l.timer.Stop()
	}
	l.mu.Lock()
	l.sleeping = false
	l.now = int64(time.Since(l.epoch))
	return ctx.Err()
}

// Post arranges for fn to run on the loop, in its poll phase, as libuv runs
// an I/O callback: the way for other goroutines to hand results to the loop.
// A posted callback keeps the loop alive until it has run.
//
// On a closed Loop, Post keeps nothing and returns ErrClosed: a producer
// learns that its result has nowhere to go (Done tells it sooner).
func (l *Loop) Post(fn func()) error {
	mustCallback(fn)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.lazyInit()
	l.posted = append(l.posted, fn)
	l.wakeUp()
	return nil
}

// Hold keeps the loop alive until release is called, like a ref'd libuv
// handle: for work started on other goroutines whose results will come back
// with Post. Calling release more than once has no further effect. A Hold on
// a closed Loop holds nothing, and Close drops the holds taken before it:
// their release does nothing.
func (l *Loop) Hold() (release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return func() {}
	}
	l.holds++
	var once atomic.Bool
	return func() {
		if !once.CompareAndSwap(false, true) {
			return
		}
		l.mu.Lock()
		if !l.closed {
			l.holds--
			l.wakeUp()
		}
		l.mu.Unlock()
	}
}

// Close closes the Loop now, as http.Server's Close does: what is scheduled
// (timers, immediates, ticks, microtasks, posted callbacks, holds) is
// dropped without running, and the Loop keeps none of it, not even through
// the Timer and Immediate handles the program kept. A Run under way returns
// ErrClosed as soon as the callback running, if any, returns (Close does not
// wait for it, so a callback may call Close); a Run called later returns
// ErrClosed at once. A closed Loop stays closed: Post returns ErrClosed, and
// SetTimeout, SetInterval, SetImmediate, NextTick and QueueMicrotask keep
// nothing and their callbacks never run. Done's channel is closed.
//
// A Loop owns no goroutine (Run uses its caller's), so there is no Shutdown:
// letting Run return nil, once nothing keeps the loop alive, is the drain.
// Close always returns nil; it makes a Loop an io.Closer.
func (l *Loop) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeLocked()
	if !l.running && l.timer != nil { // a running Run owns it
		l.timer.Stop()
		l.timer = nil
	}
	return nil
}

// Done returns a channel that is closed when the Loop closes: by Close, or
// when a callback panics or calls runtime.Goexit. Work on other goroutines
// whose results are for the loop can select on it to give up early.
func (l *Loop) Done() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done == nil {
		l.done = make(chan struct{})
		if l.closed {
			close(l.done)
		}
	}
	return l.done
}

// closeLocked closes the loop and drops everything scheduled, unlinking the
// timers and immediates the program may still hold so that they keep
// neither their callbacks nor one another. l.mu must be held.
func (l *Loop) closeLocked() {
	if l.closed {
		return
	}
	l.closed = true
	l.stopped.Store(true)
	for _, ls := range l.heap {
		for t := ls.head; t != nil; {
			next := t.next
			t.prev, t.next, t.list, t.fn = nil, nil, nil, nil
			t.state = t.state&^active | cleared
			t = next
		}
		ls.head, ls.tail = nil, nil
	}
	l.heap, l.lists, l.listsPeak, l.last, l.spareList, l.refTimers = nil, nil, 0, nil, nil, 0
	for _, im := range l.immediates {
		im.done, im.fn = true, nil
	}
	l.immediates, l.immSpare, l.liveImmediates = nil, nil, 0
	l.ticks, l.micro = fifo{}, fifo{}
	l.queued.Store(0)
	l.posted, l.postSpare = nil, nil
	l.holds = 0
	if l.done != nil {
		close(l.done)
	}
	l.wakeUp()
}
