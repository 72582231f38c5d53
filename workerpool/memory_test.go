package workerpool_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/workerpool"
)

// Memory follows the backlog, not the history: a million tasks queued
// behind a held worker take about 16.7 bytes each (40.7 with their own
// context), and once they have run the idle pool gives it back.
func TestMemoryFollowsBacklog(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tt := range []struct {
		name    string
		ctx     context.Context
		perTask float64 // bytes per queued task, at most
	}{
		{"Background", context.Background(), 18},
		{"WithCancel", ctx, 42},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &workerpool.Pool{Size: 1}
			defer p.Close()
			release := make(chan struct{})
			started := make(chan struct{})
			p.Submit(context.Background(), func(context.Context) { close(started); <-release })
			<-started
			before := memtest.LiveHeap()
			task := func(context.Context) {}
			for range n {
				if err := p.Submit(tt.ctx, task); err != nil {
					t.Fatal(err)
				}
			}
			queued := memtest.LiveHeap()
			if per := float64(queued-before) / float64(n); per > tt.perTask {
				t.Errorf("%d queued tasks hold %.1f B each, want at most %.0f", n, per, tt.perTask)
			}
			close(release)
			// One worker runs the queue in order: when a last task has
			// run, the backlog has.
			last := workerpool.Go(context.Background(), p, func(context.Context) (int, error) { return 0, nil })
			last.Wait(context.Background())
			t.Logf("%.1f B per queued task", float64(queued-before)/float64(n))
			if idle := memtest.LiveHeap(); idle > before+128<<10 {
				t.Errorf("after the backlog ran, the idle pool holds %d B more than before it (%d B with it queued)", idle-before, queued-before)
			}
		})
	}
}

// The queue lets go of a task once a worker has taken it: the results of
// tasks that have run are garbage as soon as their handles are, while the
// pool waits for work and after it has stopped. (Workers pop without
// clearing each place and clear the places they popped before they wait
// or exit.)
func TestQueueHoldsNoFinishedTask(t *testing.T) {
	const tasks, size = 16, 1 << 20
	for _, stop := range []bool{false, true} {
		p := &workerpool.Pool{Size: 2}
		before := memtest.LiveHeap()
		big := func(context.Context) ([]byte, error) { return make([]byte, size), nil }
		ts := make([]*workerpool.Task[[]byte], tasks)
		for i := range ts {
			ts[i] = workerpool.Go(context.Background(), p, big)
		}
		for _, task := range ts {
			if _, err := task.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		clear(ts)
		if stop {
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		} else {
			// Stats needs the workers' lock, which a worker holds from the
			// end of its task until it waits for the next one.
			for p.Stats().Running != 0 {
				runtime.Gosched()
			}
		}
		if held := memtest.LiveHeap() - before; held > size {
			t.Errorf("stopped %v: the pool holds %d B after %d tasks of %d B ended and were dropped", stop, held, tasks, size)
		}
		runtime.KeepAlive(p)
		p.Close()
	}
}
