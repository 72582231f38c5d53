package workerpool_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/nodekit/nodekit/workerpool"
)

// ctxKey is a context key for the tests.
type ctxKey struct{}

// A submission is one of the ways to queue a task with a context: fn is
// the task; submit returns the error the caller sees at once (nil if the
// task was accepted) and a wait function giving the error the task ended
// with (or nil for Submit, which has no handle).
type submission struct {
	name   string
	submit func(ctx context.Context, p *workerpool.Pool, fn func(context.Context)) (err error, wait func() error)
}

var submissions = []submission{
	{"Submit", func(ctx context.Context, p *workerpool.Pool, fn func(context.Context)) (error, func() error) {
		return p.Submit(ctx, fn), func() error { return nil }
	}},
	{"TrySubmit", func(ctx context.Context, p *workerpool.Pool, fn func(context.Context)) (error, func() error) {
		return p.TrySubmit(ctx, fn), func() error { return nil }
	}},
	{"Go", func(ctx context.Context, p *workerpool.Pool, fn func(context.Context)) (error, func() error) {
		task := workerpool.Go(ctx, p, func(ctx context.Context) (int, error) { fn(ctx); return 0, nil })
		select {
		case <-task.Done(): // refused at the call: ended already
			_, err := task.Wait(context.Background())
			return err, func() error { return err }
		default:
		}
		return nil, func() error { _, err := task.Wait(context.Background()); return err }
	}},
	{"TryGo", func(ctx context.Context, p *workerpool.Pool, fn func(context.Context)) (error, func() error) {
		task, err := workerpool.TryGo(ctx, p, func(ctx context.Context) (int, error) { fn(ctx); return 0, nil })
		if err != nil {
			return err, func() error { return err }
		}
		return nil, func() error { _, err := task.Wait(context.Background()); return err }
	}},
	{"Group.Go", func(ctx context.Context, p *workerpool.Pool, fn func(context.Context)) (error, func() error) {
		g, _ := workerpool.NewGroup(ctx, p)
		g.Go(func(ctx context.Context) error { fn(ctx); return nil })
		return nil, g.Wait
	}},
}

// An ended context refuses the task at the call, every time, whether the
// queue is unbounded or bounded with room: nothing is queued and the task
// never runs. (A select with both cases ready used to pick at random.)
func TestEndedContextRefuses(t *testing.T) {
	for _, s := range submissions {
		for _, queue := range []int{0, 8} {
			synctest.Test(t, func(t *testing.T) {
				p := &workerpool.Pool{Size: 1, QueueSize: queue}
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				for range 50 {
					err, wait := s.submit(ctx, p, func(context.Context) {
						t.Errorf("%s with QueueSize %d: a task with an ended context ran", s.name, queue)
					})
					if s.name != "Group.Go" && err != context.Canceled {
						t.Fatalf("%s with QueueSize %d and an ended context = %v, want context.Canceled at the call", s.name, queue, err)
					}
					if err := wait(); !strings.HasSuffix(s.name, "Submit") && !errors.Is(err, context.Canceled) {
						t.Fatalf("%s with QueueSize %d: the task ended with %v, want context.Canceled", s.name, queue, err)
					}
				}
				synctest.Wait()
				if st := p.Stats(); st.Submitted != 0 || st.Queued != 0 {
					t.Errorf("%s with QueueSize %d: Stats %+v, want nothing submitted", s.name, queue, st)
				}
				p.Shutdown(t.Context())
			})
		}
	}
}

// The task runs with the context it was submitted with: its values, and
// its cancellation.
func TestTaskGetsItsContext(t *testing.T) {
	for _, s := range submissions {
		synctest.Test(t, func(t *testing.T) {
			p := &workerpool.Pool{Size: 1}
			ctx, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "v"))
			started := make(chan struct{})
			var value any
			var ended error
			err, wait := s.submit(ctx, p, func(ctx context.Context) {
				value = ctx.Value(ctxKey{})
				close(started)
				<-ctx.Done()
				ended = ctx.Err()
			})
			if err != nil {
				t.Fatalf("%s = %v", s.name, err)
			}
			<-started
			cancel()
			wait()
			p.Shutdown(t.Context())
			if value != "v" || ended != context.Canceled {
				t.Errorf("%s: the task saw value %v and ended with %v; want its context's value and its cancellation", s.name, value, ended)
			}
		})
	}
}

// A task whose context ends while it is queued never runs.
func TestContextEndsWhileQueued(t *testing.T) {
	for _, s := range submissions {
		synctest.Test(t, func(t *testing.T) {
			p := &workerpool.Pool{Size: 1}
			release := make(chan struct{})
			p.Submit(t.Context(), func(context.Context) { <-release })
			ctx, cancel := context.WithCancel(t.Context())
			err, wait := s.submit(ctx, p, func(context.Context) {
				t.Errorf("%s: a task ran after its context ended in the queue", s.name)
			})
			if err != nil {
				t.Fatalf("%s = %v", s.name, err)
			}
			cancel()
			close(release)
			if err := wait(); !strings.HasSuffix(s.name, "Submit") && (!errors.Is(err, workerpool.ErrCanceled) || !errors.Is(err, context.Canceled)) {
				t.Errorf("%s: the task ended with %v, want ErrCanceled wrapping context.Canceled", s.name, err)
			}
			p.Shutdown(t.Context())
			if st := p.Stats(); st.Canceled != 1 || st.Completed != 1 {
				t.Errorf("%s: Stats %+v, want 1 cancelled and 1 completed", s.name, st)
			}
		})
	}
}
