package workerpool

import (
	"context"
	"sync"

	"github.com/nodekit/nodekit/internal/panics"
)

// A Group runs related tasks on a Pool and waits for them all, like
// errgroup.Group with the pool's bound instead of SetLimit: its first error
// is Wait's, and it cancels the Group's context. The Group's context is
// every task's context, with the pool's one rule (see Submit): so, unlike
// errgroup's, once a task has failed the Group's tasks that have not
// started never run, and a Go after that, or after Wait, queues nothing.
type Group struct {
	p      *Pool
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   func() bool // unhooks the cancel from the pool's hard stop
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// NewGroup returns a Group on p and a context derived from ctx that is
// cancelled when a task fails, when Wait returns, or when p stops hard
// (Close, or a Shutdown whose context ends; the cause is ErrClosed).
func NewGroup(ctx context.Context, p *Pool) (*Group, context.Context) {
	mustContext(ctx)
	mustPool(p)
	p.init()
	ctx, cancel := context.WithCancelCause(ctx)
	g := &Group{p: p, ctx: ctx, cancel: cancel}
	g.stop = context.AfterFunc(p.ctx, func() { cancel(ErrClosed) })
	return g, ctx
}

// Go queues fn on the pool, blocking while a bounded queue is full; fn runs
// with the Group's context. The task's error, and so perhaps Wait's, is
// what fn returns; a *PanicError if fn panics; ErrGoexit if it calls
// runtime.Goexit; the context's error if the Group's context had ended
// (ErrCanceled wrapping it if it ended while the task was queued);
// ErrClosed if the pool is closed; ErrCanceled if a hard stop took it off
// the queue.
func (g *Group) Go(fn func(context.Context) error, opts ...Option) {
	if g.p == nil {
		panic("workerpool: Group.Go on a Group not made by NewGroup")
	}
	if fn == nil {
		panic(nilFunc)
	}
	g.wg.Add(1)
	if err := g.p.submit(g.ctx, true, job{r: &groupTask{g: g, fn: fn}, meta: slowIO(opts)}); err != nil {
		g.fail(err)
		g.wg.Done()
	}
}

func (g *Group) fail(err error) {
	if err != nil {
		g.once.Do(func() {
			g.err = err
			g.cancel(err)
		})
	}
}

// Wait waits for every task of the Group and returns the first error.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.stop()
	g.cancel(nil)
	return g.err
}

// A groupTask is a task of a Group.
type groupTask struct {
	g  *Group
	fn func(context.Context) error
}

func (t *groupTask) canceled() bool { return false } // no Cancel: its ctx ends it

func (t *groupTask) claim() (bool, error) {
	if err := t.g.ctx.Err(); err != nil {
		return false, err
	}
	return true, nil
}

func (t *groupTask) exec(*Pool) outcome {
	defer t.g.wg.Done()
	err := ErrGoexit // unless fn returns
	defer func() { t.g.fail(err) }()
	err = t.run()
	if err != nil {
		return failed
	}
	return succeeded
}

// run calls fn, turning a panic into a *PanicError.
func (t *groupTask) run() (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panics.New(v)
		}
	}()
	return t.fn(t.g.ctx)
}

func (t *groupTask) drop(err error) {
	t.g.fail(err)
	t.g.wg.Done()
}
