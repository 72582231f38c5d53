package workerpool_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/workerpool"
)

// A task that calls runtime.Goexit (as t.FailNow does) ends with ErrGoexit,
// its worker is replaced, later tasks run and the pool shuts down on time — for
// each kind of task.
func TestGoexit(t *testing.T) {
	kinds := []struct {
		name string
		// run queues a task that calls runtime.Goexit on p and returns
		// its error (nil for Submit, which has no handle).
		run func(t *testing.T, p *workerpool.Pool) error
	}{
		{"Go", func(t *testing.T, p *workerpool.Pool) error {
			task := workerpool.Go(t.Context(), p, func(context.Context) (int, error) {
				runtime.Goexit()
				return 1, nil
			})
			_, err := task.Wait(t.Context())
			return err
		}},
		{"Submit", func(t *testing.T, p *workerpool.Pool) error {
			if err := p.Submit(t.Context(), func(context.Context) { runtime.Goexit() }); err != nil {
				t.Fatalf("Submit() = %v", err)
			}
			synctest.Wait()
			return workerpool.ErrGoexit
		}},
		{"Group", func(t *testing.T, p *workerpool.Pool) error {
			g, _ := workerpool.NewGroup(t.Context(), p)
			g.Go(func(context.Context) error {
				runtime.Goexit()
				return nil
			})
			return g.Wait()
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &workerpool.Pool{Size: 1}
				if err := k.run(t, p); !errors.Is(err, workerpool.ErrGoexit) {
					t.Fatalf("a task that called runtime.Goexit ended with %v, want ErrGoexit", err)
				}
				// The worker was replaced: later tasks run.
				task := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { return 2, nil })
				if v, err := task.Wait(t.Context()); v != 2 || err != nil {
					t.Fatalf("the next task: Wait() = %v, %v; want 2, nil", v, err)
				}
				synctest.Wait() // the worker's bookkeeping follows the task's end
				s := p.Stats()
				if s.Failed != 1 || s.Completed != 1 || s.Running != 0 || s.Workers != 1 {
					t.Fatalf("Stats = %+v, want 1 failed, 1 completed, 1 worker, none running", s)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				if err := p.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown() = %v, want nil", err)
				}
			})
		})
	}
}

// A pool whose tasks called runtime.Goexit still drains within its deadline
// and leaves no goroutine behind, on real threads.
func TestGoexitThenShutdown(t *testing.T) {
	leaktest.Check(t)
	p := &workerpool.Pool{Size: 2}
	for range 10 {
		p.Submit(context.Background(), func(context.Context) { runtime.Goexit() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	if s := p.Stats(); s.Failed != 10 || s.Workers != 0 {
		t.Fatalf("Stats = %+v, want 10 failed and no worker", s)
	}
}
