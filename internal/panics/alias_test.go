package panics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nodekit/nodekit/internal/panics"
	"github.com/nodekit/nodekit/middleware"
	"github.com/nodekit/nodekit/stream"
	"github.com/nodekit/nodekit/timers"
	"github.com/nodekit/nodekit/workerpool"
)

// The three packages that turn panics into errors share one type: a
// program that uses a pool with a loop and an HTTP stack tests for one.
func TestOnePanicErrorType(t *testing.T) {
	var l timers.Loop
	l.SetTimeout(func() { panic("from a timer") }, 0)
	loopErr := l.Run(context.Background())

	var p workerpool.Pool
	defer p.Close()
	_, poolErr := workerpool.Go(context.Background(), &p, func(context.Context) (int, error) {
		panic("from a task")
	}).Wait(context.Background())

	mwErr := middleware.Compose(middleware.Recover[int](), func(int, middleware.Next) error {
		panic("from a layer")
	})(0, middleware.Next{})

	_, streamErr := stream.Collect(stream.MapConcurrent(context.Background(), stream.Of(1), 1,
		func(context.Context, int) (int, error) { panic("from a concurrent map") }))

	for _, err := range []error{loopErr, poolErr, mwErr, streamErr} {
		var pe *workerpool.PanicError // any of the three names will do
		if !errors.As(err, &pe) {
			t.Errorf("errors.As(%v, *workerpool.PanicError) = false, want true", err)
		}
		var pe2 *panics.Error
		if !errors.As(err, &pe2) || pe2 != pe {
			t.Errorf("errors.As(%v, *panics.Error) finds another value", err)
		}
	}
	var _ *middleware.PanicError = (*timers.PanicError)(nil) // one type, not four
	var _ *stream.PanicError = (*timers.PanicError)(nil)
}
