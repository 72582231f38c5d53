package workerpool_test

import (
	"context"
	"testing"

	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/workerpool"
)

// Memory follows the backlog, not the history: a million tasks queued
// behind a held worker take about 24 bytes each (48 with their own
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
		{"Background", context.Background(), 26},
		{"WithCancel", ctx, 50},
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
