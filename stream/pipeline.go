package stream

import (
	"context"
	"errors"
	"sync"

	"github.com/nodekit/nodekit/internal/panics"
)

// Pipeline runs every stage on its own goroutine with a context derived
// from ctx, and returns when all of them have returned: Node's
// stream.pipeline. The first stage to fail cancels the context of all the
// others (Node destroys every stream of the pipeline) and its error is
// Pipeline's result; nil if none failed. Stages are connected with Pipes:
// one writes (Write, or Feed), the next reads its Stream with the stage's
// context, so that a failure anywhere ends the wait of every stage.
//
// A stage fails when it returns an error, except ErrStopped, which says
// that its reader stopped first and is no failure of its own (the reader
// reports its own reason, if it has one). A panic in a stage is its
// failure as a *PanicError with the value and stack, a runtime.Goexit as
// ErrGoexit: Pipeline never lets a stage take the program down or leave
// the others waiting. A panic that comes after the first failure is not
// lost: it is joined to it (errors.Join), so errors.As finds it. If ctx has ended at the call, no stage runs and
// Pipeline returns ctx.Err().
//
// Pipeline works as errgroup.WithContext with Wait, plus the rules above
// (errgroup loses a stage's runtime.Goexit and lets a panic crash the
// program; see the package doc). It panics if ctx or a stage is nil.
func Pipeline(ctx context.Context, stages ...func(ctx context.Context) error) error {
	mustContext(ctx)
	for _, st := range stages {
		mustFunc(st == nil)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		late  []error // the panics of stages that panicked after the first failure
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			cancel(err)
		} else if _, ok := err.(*PanicError); ok {
			late = append(late, err)
		}
	}
	for _, st := range stages {
		wg.Go(func() {
			normal := false
			defer func() {
				if normal {
					return
				}
				if v := recover(); v != nil {
					fail(panics.New(v))
				} else {
					fail(ErrGoexit)
				}
			}()
			err := st(ctx)
			normal = true
			if err != nil && !errors.Is(err, ErrStopped) {
				fail(err)
			}
		})
	}
	wg.Wait()
	if len(late) > 0 {
		return errors.Join(append([]error{first}, late...)...)
	}
	return first
}
