package stream_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/stream"
)

// The first error wins, every other stage sees its context end, and
// Pipeline returns after all of them.
func TestPipelineFirstErrorWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errFirst, errLater := errors.New("first"), errors.New("later")
		var ended atomic.Int64
		start := time.Now()
		err := stream.Pipeline(t.Context(),
			func(ctx context.Context) error {
				time.Sleep(time.Second)
				return errFirst
			},
			func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(time.Second) // a slow cleanup: Pipeline waits for it
				ended.Add(1)
				return errLater
			},
			func(ctx context.Context) error {
				<-ctx.Done()
				ended.Add(1)
				return ctx.Err()
			},
		)
		if err != errFirst || ended.Load() != 2 {
			t.Fatalf("Pipeline = %v with %d stages ended; want %v with 2", err, ended.Load(), errFirst)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("Pipeline returned after %v, want 2s (it waits for every stage)", d)
		}
	})
}

// A producer that fails without closing its Pipe does not leave the
// reading stage waiting: the stage's context ends its Stream. (With a
// Stream that took no context, this Pipeline would never return.)
func TestPipelineProducerFailsWithoutClosing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errProducer := errors.New("producer failed")
		p := stream.NewPipe[int](4)
		err := stream.Pipeline(t.Context(),
			func(ctx context.Context) error {
				p.Write(ctx, 1)
				return errProducer // and forgets p.CloseWithError
			},
			func(ctx context.Context) error {
				return stream.Drain(p.Stream(ctx))
			},
		)
		if err != errProducer {
			t.Fatalf("Pipeline = %v, want %v", err, errProducer)
		}
	})
}

// A consumer that stops early without an error ends the pipeline cleanly:
// the producer's ErrStopped is not a failure. A consumer that stops with an
// error reports it, not the producer's ErrStopped that follows from it.
func TestPipelineEarlyStop(t *testing.T) {
	leaktest.Check(t)
	p := stream.NewPipe[int](2)
	err := stream.Pipeline(t.Context(),
		func(ctx context.Context) error { return p.Feed(ctx, count(1_000_000)) },
		func(ctx context.Context) error {
			for v, err := range p.Stream(ctx) {
				if err != nil || v == 10 {
					return err
				}
			}
			return nil
		},
	)
	if err != nil {
		t.Fatalf("Pipeline with a consumer that took 11 values and returned nil = %v, want nil", err)
	}

	errConsumer := errors.New("bad value")
	for range 50 {
		p := stream.NewPipe[int](2)
		err = stream.Pipeline(t.Context(),
			func(ctx context.Context) error { return p.Feed(ctx, count(1_000_000)) },
			func(ctx context.Context) error {
				out := stream.MapConcurrent(ctx, p.Stream(ctx), 4, func(_ context.Context, x int) (int, error) { return x, nil })
				for v, err := range out {
					if err != nil {
						return err
					}
					if v == 10 {
						return errConsumer
					}
				}
				return nil
			},
		)
		if err != errConsumer {
			t.Fatalf("Pipeline with a consumer failing = %v, want %v", err, errConsumer)
		}
	}
}

// A stage's panic is Pipeline's error, as a *PanicError with the stage's
// stack; a runtime.Goexit is ErrGoexit. Either cancels the other stages.
func TestPipelinePanicAndGoexit(t *testing.T) {
	leaktest.Check(t)
	for _, exit := range []bool{false, true} {
		var canceled atomic.Bool
		err := stream.Pipeline(t.Context(),
			func(ctx context.Context) error {
				if exit {
					runtime.Goexit()
				}
				panicInStage()
				return nil
			},
			func(ctx context.Context) error {
				<-ctx.Done()
				canceled.Store(true)
				return nil
			},
		)
		var pe *stream.PanicError
		switch {
		case exit && err != stream.ErrGoexit:
			t.Errorf("Goexit in a stage: Pipeline = %v, want ErrGoexit", err)
		case !exit && (!errors.As(err, &pe) || pe.Value != "stage boom" || !strings.Contains(string(pe.Stack), "panicInStage")):
			t.Errorf("panic in a stage: Pipeline = %v, want a *PanicError with the stage's stack", err)
		case !canceled.Load():
			t.Errorf("exit=%v: the other stage was not canceled", exit)
		}
	}
}

func panicInStage() { panic("stage boom") }

// An ended ctx gives the same answer every time: no stage runs.
func TestPipelineEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		err := stream.Pipeline(ctx, func(context.Context) error {
			t.Error("a stage ran with an ended context")
			return nil
		})
		if err != context.Canceled {
			t.Fatalf("Pipeline with an ended ctx = %v, want context.Canceled", err)
		}
	}
	if err := stream.Pipeline(context.Background()); err != nil {
		t.Errorf("Pipeline without stages = %v, want nil", err)
	}
}

// A stage that panics after another stage's failure is not lost: its
// *PanicError is joined to the first error.
func TestPipelineLatePanic(t *testing.T) {
	leaktest.Check(t)
	errFirst := errors.New("first")
	err := stream.Pipeline(t.Context(),
		func(ctx context.Context) error { return errFirst },
		func(ctx context.Context) error {
			<-ctx.Done()
			panic("cleanup boom")
		},
	)
	var pe *stream.PanicError
	if !errors.Is(err, errFirst) || !errors.As(err, &pe) || pe.Value != "cleanup boom" {
		t.Fatalf("Pipeline = %v, want %v joined with the later stage's *PanicError", err, errFirst)
	}
}
