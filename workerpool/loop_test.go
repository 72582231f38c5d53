package workerpool_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/timers"
	"github.com/nodekit/nodekit/workerpool"
)

// Completions run on the loop, like libuv's after_work_cb, and keep it alive
// until they have run.
func TestOnDoneOnLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		p := &workerpool.Pool{Size: 2}
		var got []string
		for i, d := range []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond} {
			task := workerpool.Go(context.Background(), p, func(context.Context) (int, error) {
				time.Sleep(d)
				return i, nil
			})
			task.OnDone(&l, func(v int, err error) {
				// On the loop: no lock needed.
				got = append(got, time.Duration(v).String())
			})
		}
		// Nothing else keeps the loop alive: the pending completions do.
		if err := l.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Two workers: task 1 ends at 10ms; task 0 and task 2 (started at
		// 10ms) both at 30ms, in either order.
		if len(got) != 3 || got[0] != "1ns" {
			t.Fatalf("completions %q, want task 1 first and all three", got)
		}
		p.Shutdown(t.Context())
	})
}

// fakeLoop records posts, for a target without Hold.
type fakeLoop struct {
	mu  sync.Mutex
	fns []func()
}

func (f *fakeLoop) Post(fn func()) error {
	f.mu.Lock()
	f.fns = append(f.fns, fn)
	f.mu.Unlock()
	return nil
}

func TestOnDoneAfterEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p workerpool.Pool
		boom := errors.New("boom")
		task := workerpool.Go(context.Background(), &p, func(context.Context) (int, error) { return 7, boom })
		task.Wait(t.Context())
		var f fakeLoop
		var got []any
		task.OnDone(&f, func(v int, err error) { got = append(got, v, err) })
		if len(f.fns) != 1 {
			t.Fatalf("%d posts, want 1 at once for an ended task", len(f.fns))
		}
		f.fns[0]()
		if diff := cmp.Diff([]any{7, boom}, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Fatalf("result (-want +got):\n%s", diff)
		}
		p.Shutdown(t.Context())
	})
}
