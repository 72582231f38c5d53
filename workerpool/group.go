package workerpool

import (
	"context"
	"sync"
)

// A Group runs related tasks on a Pool and waits for them all, like
// errgroup.Group with the pool's bound instead of SetLimit: its first error
// is Wait's, and it cancels the Group's context.
type Group struct {
	p      *Pool
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// NewGroup returns a Group on p and a context derived from ctx that is
// cancelled when a task fails or Wait returns.
func NewGroup(ctx context.Context, p *Pool) (*Group, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	return &Group{p: p, ctx: ctx, cancel: cancel}, ctx
}

// Go queues fn on the pool, blocking while a bounded queue is full. fn gets
// the Group's context. A panic in fn becomes its *PanicError. If the task
// cannot be queued (the pool is closed, or the Group's context ended while
// waiting for room), that is the task's error.
func (g *Group) Go(fn func(context.Context) error, opts ...Option) {
	g.wg.Add(1)
	err := g.p.Submit(g.ctx, func(context.Context) {
		defer g.wg.Done()
		g.fail(run(g.ctx, fn))
	}, opts...)
	if err != nil {
		g.fail(err)
		g.wg.Done()
	}
}

func run(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return fn(ctx)
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
	g.cancel(nil)
	return g.err
}
