package workerpool_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/workerpool"
)

// TestConcurrentUse drives one pool from several goroutines at once on real
// threads: submits, typed tasks, cancels, resizes and a draining Shutdown, with
// a bounded queue. Every accepted task must end exactly once, never more
// than the largest size may run at once, the Stats must add up, and no
// goroutine may remain.
func TestConcurrentUse(t *testing.T) {
	leaktest.Check(t)
	const submitters, perSubmitter, maxSize = 4, 500, 6
	p := &workerpool.Pool{Size: 3, QueueSize: 64}
	var running, peak, ran atomic.Int64
	work := func(context.Context) {
		n := running.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		ran.Add(1)
		running.Add(-1)
	}
	var accepted, ended, cancelled atomic.Int64
	var wg sync.WaitGroup
	for s := range submitters {
		wg.Go(func() {
			for i := range perSubmitter {
				switch (s + i) % 4 {
				case 0:
					if p.Submit(context.Background(), work) == nil {
						accepted.Add(1)
						ended.Add(1) // a Submit task has no handle; Stats count it
					}
				case 1:
					if p.TrySubmit(context.Background(), work) == nil {
						accepted.Add(1)
						ended.Add(1)
					}
				default:
					task := workerpool.Go(context.Background(), p, func(ctx context.Context) (int, error) {
						work(ctx)
						return 1, nil
					})
					if i%3 == 0 && task.Cancel() {
						cancelled.Add(1)
					}
					v, err := task.Wait(context.Background())
					switch {
					case err == nil && v == 1:
						accepted.Add(1)
						ended.Add(1)
					case errors.Is(err, workerpool.ErrCanceled):
						accepted.Add(1)
						ended.Add(1)
					case errors.Is(err, workerpool.ErrClosed):
					default:
						t.Errorf("task ended with %v, %v", v, err)
					}
				}
				if i%50 == 0 {
					p.Resize(1 + (s+i)%maxSize)
				}
			}
		})
	}
	wg.Wait()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	if got := int64(s.Submitted); got != accepted.Load() {
		t.Errorf("Stats.Submitted = %d, %d accepted", got, accepted.Load())
	}
	if got := int64(s.Completed + s.Failed + s.Canceled); got != ended.Load() {
		t.Errorf("Stats count %d ended tasks, want %d: %+v", got, ended.Load(), s)
	}
	if got := int64(s.Completed); got != ran.Load() {
		t.Errorf("Stats.Completed = %d, %d tasks ran", got, ran.Load())
	}
	if int64(s.Canceled) != cancelled.Load() {
		t.Errorf("Stats.Canceled = %d, %d cancelled", s.Canceled, cancelled.Load())
	}
	if peak.Load() > maxSize {
		t.Errorf("%d tasks ran at once, more than the largest size %d", peak.Load(), maxSize)
	}
	t.Logf("%d accepted, %d ran, %d cancelled, peak %d running", accepted.Load(), ran.Load(), cancelled.Load(), peak.Load())
	if s.Running != 0 || s.Queued != 0 || s.Workers != 0 {
		t.Errorf("after Shutdown: %+v", s)
	}
}
