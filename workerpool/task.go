package workerpool

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/nodekit/nodekit/internal/panics"
)

// A Task is a typed result to come: a function queued on a Pool by Go, whose
// value and error Wait returns. It is safe for concurrent use.
type Task[T any] struct {
	p     *Pool
	fn    func(context.Context) (T, error)
	ctx   context.Context
	state atomic.Int32 // queued, started or ended
	ended atomic.Bool  // val and err are set

	val T
	err error

	wg    sync.WaitGroup // done when ended: how Wait waits without a channel
	mu    sync.Mutex
	ch    chan struct{} // made by the first Done, or Wait with a cancellable ctx
	hooks []func()      // OnDone callbacks
}

// Task states.
const (
	queued int32 = iota
	started
	ended
)

// Go queues fn on p and returns its Task, libuv's uv_queue_work with a typed
// result, blocking while a bounded queue is full. ctx is the task's context,
// as for Submit: if it has ended, or ends while Go waits for room, the task
// ends at once with ctx.Err() and is not queued; if it ends while the task
// is queued, the task never runs and ends with ErrCanceled wrapping
// ctx.Err(); fn runs with ctx, also cancelled when the pool stops hard
// (Close, or a Shutdown whose context ends). On a closed pool the task ends
// at once with ErrClosed; one that a hard stop takes off the queue ends with
// ErrCanceled. A panic in fn ends the task with a *PanicError, a
// runtime.Goexit with ErrGoexit.
//
// Go allocates one object, the Task; unless ctx is context.Background() or
// context.TODO(), deriving fn's context from it costs five more when fn
// starts (about 250 B, garbage once the task ends).
func Go[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error), opts ...Option) *Task[T] {
	t := newTask(ctx, p, fn)
	if err := p.submit(ctx, true, job{r: t, meta: slowIO(opts)}); err != nil {
		t.state.Store(ended)
		var zero T
		t.finish(zero, err)
	}
	return t
}

// TryGo is Go that fails at once with ErrQueueFull, instead of waiting, when
// a bounded queue has no room; it returns no Task when the task was not
// queued, with ErrQueueFull, ErrClosed or ctx.Err().
func TryGo[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error), opts ...Option) (*Task[T], error) {
	t := newTask(ctx, p, fn)
	if err := p.submit(ctx, false, job{r: t, meta: slowIO(opts)}); err != nil {
		return nil, err
	}
	return t, nil
}

// newTask returns a queued task, not yet submitted, after checking the
// arguments of Go and TryGo.
func newTask[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error)) *Task[T] {
	mustContext(ctx)
	mustPool(p)
	if fn == nil {
		panic(nilFunc)
	}
	t := &Task[T]{p: p, fn: fn, ctx: ctx}
	t.wg.Add(1)
	return t
}

func (t *Task[T]) claim() (bool, error) {
	if !t.state.CompareAndSwap(queued, started) {
		return false, nil // cancelled
	}
	if err := t.ctx.Err(); err != nil {
		return false, err
	}
	return true, nil
}

func (t *Task[T]) canceled() bool { return t.state.Load() == ended }

func (t *Task[T]) drop(err error) {
	var zero T
	t.finish(zero, err)
}

func (t *Task[T]) exec(p *Pool) outcome {
	var zero T
	ctx := p.ctx
	if !background(t.ctx) {
		c, cancel, stop := p.taskContext(t.ctx)
		defer cancel(nil)
		defer stop()
		ctx = c
	}
	returned := false
	defer func() {
		if !returned { // fn called runtime.Goexit
			t.finish(zero, ErrGoexit)
		}
	}()
	v, err := t.call(ctx)
	returned = true
	t.finish(v, err)
	if err != nil {
		return failed
	}
	return succeeded
}

// call runs fn, turning a panic into a *PanicError.
func (t *Task[T]) call(ctx context.Context) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panics.New(p)
		}
	}()
	return t.fn(ctx)
}

// finish records the result and wakes whoever waits.
func (t *Task[T]) finish(v T, err error) {
	t.mu.Lock()
	t.val, t.err = v, err
	t.ended.Store(true)
	if t.ch != nil {
		close(t.ch)
	}
	hooks := t.hooks
	t.hooks = nil
	t.mu.Unlock()
	t.wg.Done()
	runHooks(hooks)
}

// runHooks runs the OnDone posts. If one does not return (its target's Post
// called runtime.Goexit, which takes this goroutine with it), the deferred
// call runs the others: one target's failure must not cost another its
// callback.
func runHooks(hooks []func()) {
	i := 0
	defer func() {
		if i < len(hooks) {
			runHooks(hooks[i+1:])
		}
	}()
	for ; i < len(hooks); i++ {
		hooks[i]()
	}
}

// Wait returns the task's value and error once it has ended, or ctx.Err()
// if ctx ends first (the task goes on). A task that has ended gives its
// result even when ctx has ended too.
func (t *Task[T]) Wait(ctx context.Context) (T, error) {
	mustContext(ctx)
	if t.ended.Load() {
		return t.val, t.err
	}
	if ctx.Done() == nil { // cannot be cancelled: no channel needed
		t.wg.Wait()
		return t.val, t.err
	}
	select {
	case <-t.Done():
		return t.val, t.err
	case <-ctx.Done():
		if t.ended.Load() { // both were ready: the result wins, every time
			return t.val, t.err
		}
		var zero T
		return zero, ctx.Err()
	}
}

// Done returns a channel closed when the task has ended.
func (t *Task[T]) Done() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ch == nil {
		t.ch = make(chan struct{})
		if t.ended.Load() {
			close(t.ch)
		}
	}
	return t.ch
}

// Cancel keeps a task that has not started from ever running: it ends with
// ErrCanceled (libuv's uv_cancel and UV_ECANCELED) and its place in a bounded
// queue is freed. It reports whether it did; a started task is cancelled
// through its context only.
func (t *Task[T]) Cancel() bool {
	p := t.p
	p.mu.Lock()
	if !t.state.CompareAndSwap(queued, ended) {
		p.mu.Unlock()
		return false
	}
	p.queued--
	p.stats.canceled++
	if p.closing && p.queued == 0 {
		p.wakeAll() // the workers waiting for it exit
	}
	p.mu.Unlock()
	p.release(1)
	var zero T
	t.finish(zero, ErrCanceled)
	return true
}

// A Poster runs functions on an event loop: *timers.Loop is one. Post
// returns an error, and keeps nothing, when the loop can no longer run fn
// (it is closed). If a Poster also has a Hold() (release func()) method, as
// *timers.Loop does, OnDone holds the loop open until its callback has run.
type Poster interface {
	Post(fn func()) error
}

// OnDone arranges for fn to run on target with the task's result once it has
// ended, like libuv's after_work_cb on the loop thread. If the task has
// already ended, fn is posted at once. A nil target or fn panics.
//
// If target refuses the callback — its Post returns an error, as a closed
// *timers.Loop does with timers.ErrClosed, or panics, or calls
// runtime.Goexit — fn never runs: OnDone releases its hold on target and
// logs the refusal through the pool's Logger at level Error, with Post's
// error (a *PanicError with the stack for a panic, ErrGoexit for a Goexit)
// and the task's own error. The worker goes on with the next task (one
// replaced after a Goexit), the task's other callbacks are still posted,
// and the result stays available from Wait. Nothing is retried and nothing
// runs fn off the loop, which would break the loop's promise that its
// callbacks run on one goroutine.
func (t *Task[T]) OnDone(target Poster, fn func(T, error)) {
	if target == nil {
		panic("workerpool: OnDone with a nil target")
	}
	if fn == nil {
		panic(nilFunc)
	}
	var release func()
	if h, ok := target.(interface{ Hold() func() }); ok {
		release = h.Hold()
	}
	refused := func(err error) {
		if release != nil {
			release() // the loop refused the callback: it holds nothing for it
		}
		attrs := []any{"error", err, "task_error", t.err}
		if pe, ok := err.(*PanicError); ok {
			attrs = append(attrs, "stack", string(pe.Stack))
		}
		t.p.logger().Error("workerpool: OnDone callback refused by its target; it will not run", attrs...)
	}
	hook := func() {
		post(target, func() {
			if release != nil {
				release()
			}
			fn(t.val, t.err)
		}, refused)
	}
	t.mu.Lock()
	if !t.ended.Load() {
		t.hooks = append(t.hooks, hook)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	hook()
}

// post calls target.Post(fn), turning a panic into a *PanicError: a
// misbehaving target must not take down the worker that posts to it. A
// Post that calls runtime.Goexit cannot be stopped from ending the calling
// goroutine, but it counts as a refusal too: refused is called with
// ErrGoexit on the way out.
func post(target Poster, fn func(), refused func(error)) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			refused(panics.New(v))
			return
		}
		refused(ErrGoexit)
	}()
	err := target.Post(fn)
	returned = true
	if err != nil {
		refused(err)
	}
}
