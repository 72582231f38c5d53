package workerpool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/nodekit/nodekit/workerpool"
	"pgregory.net/rapid"
)

// A step is one action of the state machine.
type step struct {
	Kind string // submit cancel cancelctx finish resize close
	N    int    // cancel, cancelctx, finish: which task (mod count); resize: size
	How  string // finish: ok err panic goexit; close: graceful (Shutdown), hard (Shutdown with an ended context), now (Close)
	Slow bool   // submit: with SlowIO
}

var genStep = rapid.Custom(func(t *rapid.T) step {
	kind := rapid.SampledFrom([]string{"submit", "submit", "submit", "cancel", "cancelctx", "finish", "finish", "resize", "close"}).Draw(t, "kind")
	return step{
		Kind: kind,
		N:    rapid.IntRange(0, 30).Draw(t, "n"),
		How:  rapid.SampledFrom([]string{"ok", "err", "panic", "goexit", "graceful", "hard", "now"}).Draw(t, "how"),
		Slow: rapid.IntRange(0, 3).Draw(t, "slow") == 0,
	}
})

// TestPoolMatchesModel drives a Pool with random submits, cancels (Cancel
// and the task's own context), task ends (return, error, panic,
// runtime.Goexit), resizes and stops (Shutdown, Shutdown with an ended
// context, Close), on synctest's bubble so that the pool settles after each
// step, and checks it against a model of libuv's queue: the running tasks
// are exactly those that libuv would have started (FIFO, with SlowIO tasks
// behind a marker and at most (Size+1)/2 of them running; a task whose
// context ended while queued is passed over as if cancelled), never more
// than Size run at once, every task ends exactly once as done, failed or
// cancelled, Stats add up, the stops return what their docs say, and
// nothing starts after a stop returned.
//
// A case takes some tens of microseconds, and rapid's default of 100 cases
// rarely reaches the marker's rarer paths (a planted bug there, the marker
// queued twice, was caught by 3 of 5 runs of 10,000 cases), so the test runs
// rounds of them: 10,000 cases in all unless -short.
func TestPoolMatchesModel(t *testing.T) {
	rounds := 100
	if testing.Short() {
		rounds = 1
	}
	for range rounds {
		rapid.Check(t, func(rt *rapid.T) {
			size := rapid.IntRange(1, 4).Draw(rt, "size")
			steps := rapid.SliceOfN(genStep, 1, 40).Draw(rt, "steps")
			var failure string
			synctest.Test(t, func(t *testing.T) {
				failure = runMachine(t, size, steps)
			})
			if failure != "" {
				rt.Fatal(failure)
			}
		})
	}
}

// TestPoolMatchesModelCancelledSlowTail is a case rapid found: slow tasks
// cancelled behind the one that starts must not bring the marker back, as
// libuv's uv_cancel takes them off the slow queue: a fast task queued next
// runs before a slow task queued after it.
func TestPoolMatchesModelCancelledSlowTail(t *testing.T) {
	slow := step{Kind: "submit", How: "ok", Slow: true}
	steps := []step{
		slow, slow, slow, slow,
		{Kind: "cancel", N: 1, How: "ok", Slow: true},
		{Kind: "cancel", N: 3, How: "ok", Slow: true},
		{Kind: "cancelctx", N: 0, How: "ok", Slow: true},
		{Kind: "submit", How: "ok"},
		slow,
		{Kind: "finish", N: 0, How: "ok", Slow: true},
	}
	synctest.Test(t, func(t *testing.T) {
		if failure := runMachine(t, 1, steps); failure != "" {
			t.Fatal(failure)
		}
	})
}

// machine is the real pool with its instrumentation and the model.
type machine struct {
	p      *workerpool.Pool
	tasks  []*machineTask
	closed bool
	// wantFinal is what the final Shutdown returns: ErrClosed if the pool
	// was stopped without draining while it had work.
	wantFinal error

	mu                  sync.Mutex
	started             []int // ids in start order
	running, maxRunning int
	startedAfterClose   bool

	// the model
	size     int
	fifo     []int // ids waiting and the slow marker (-1), FIFO
	slowQ    []int // SlowIO ids waiting
	marker   bool  // the marker is in fifo
	slow     map[int]bool
	ctxEnded map[int]bool // tasks whose context was cancelled
	runSet   []int        // ids running
	ended    map[int]string
	wantDone int
	wantFail int
	wantCanc int
}

type machineTask struct {
	task    *workerpool.Task[int]
	cancel  context.CancelFunc // the task's context's
	release chan string
	ends    atomic.Int32
}

func runMachine(t *testing.T, size int, steps []step) string {
	m := &machine{p: &workerpool.Pool{Size: size}, size: size, ended: map[int]string{}, slow: map[int]bool{}, ctxEnded: map[int]bool{}}
	for i, st := range steps {
		m.do(t, st)
		synctest.Wait()
		if msg := m.check(); msg != "" {
			m.abort()
			return fmt.Sprintf("after step %d %+v: %s", i, st, msg)
		}
	}
	// Wind down: end every task, close, and check the totals.
	for _, id := range slices.Clone(m.runSet) {
		m.finish(id, "ok")
	}
	for len(m.waiting()) > 0 || len(m.runSet) > 0 {
		m.schedule()
		for _, id := range slices.Clone(m.runSet) {
			m.finish(id, "ok")
		}
	}
	if err := m.p.Shutdown(t.Context()); err != m.wantFinal {
		return fmt.Sprintf("final Shutdown = %v, want %v", err, m.wantFinal)
	}
	for id, mt := range m.tasks {
		if n := mt.ends.Load(); n > 1 {
			return fmt.Sprintf("task %d ended %d times", id, n)
		}
	}
	return m.check()
}

// abort ends every task with Close, so that a failing run leaves no
// goroutine blocked.
func (m *machine) abort() { m.p.Close() }

func (m *machine) do(t *testing.T, st step) {
	switch st.Kind {
	case "submit":
		id := len(m.tasks)
		ctx, cancel := context.WithCancel(context.Background())
		mt := &machineTask{cancel: cancel, release: make(chan string, 1)}
		m.tasks = append(m.tasks, mt)
		var opts []workerpool.Option
		if st.Slow {
			opts = append(opts, workerpool.SlowIO)
		}
		mt.task = workerpool.Go(ctx, m.p, func(ctx context.Context) (int, error) {
			m.mu.Lock()
			m.started = append(m.started, id)
			m.running++
			m.maxRunning = max(m.maxRunning, m.running)
			m.startedAfterClose = m.startedAfterClose || m.closed
			m.mu.Unlock()
			defer func() {
				m.mu.Lock()
				m.running--
				m.mu.Unlock()
			}()
			var how string
			select {
			case how = <-mt.release:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
			switch how {
			case "err":
				return 0, errors.New("task failed")
			case "panic":
				panic("task panicked")
			case "goexit":
				runtime.Goexit()
			}
			return id, nil
		}, opts...)
		go func() { // count the ends the task reports
			mt.task.Wait(context.Background())
			mt.ends.Add(1)
		}()
		switch {
		case m.closed:
			m.ended[id] = "refused"
		case st.Slow:
			m.slow[id] = true
			m.slowQ = append(m.slowQ, id)
			if !m.marker {
				m.marker = true
				m.fifo = append(m.fifo, -1)
			}
		default:
			m.fifo = append(m.fifo, id)
		}
	case "cancel":
		if len(m.tasks) == 0 {
			return
		}
		id := st.N % len(m.tasks)
		got := m.tasks[id].task.Cancel()
		want := slices.Contains(m.waiting(), id)
		if got != want {
			t.Errorf("Cancel(task %d) = %v, model says %v", id, got, want)
		}
		if want {
			m.fifo = slices.DeleteFunc(m.fifo, func(q int) bool { return q == id })
			m.slowQ = slices.DeleteFunc(m.slowQ, func(q int) bool { return q == id })
			m.ended[id] = "canceled"
			m.wantCanc++
		}
	case "cancelctx":
		if len(m.tasks) == 0 {
			return
		}
		id := st.N % len(m.tasks)
		m.tasks[id].cancel()
		switch {
		case m.ctxEnded[id] || m.ended[id] != "":
		case slices.Contains(m.runSet, id): // it returns ctx.Err()
			m.runSet = slices.DeleteFunc(m.runSet, func(r int) bool { return r == id })
			m.ended[id] = "failed"
			m.wantFail++
		}
		m.ctxEnded[id] = true // if waiting, passed over when reached
	case "finish":
		if len(m.runSet) == 0 {
			return
		}
		how := st.How
		if how != "err" && how != "panic" && how != "goexit" {
			how = "ok"
		}
		m.finish(m.runSet[st.N%len(m.runSet)], how)
	case "resize":
		m.size = st.N%4 + 1
		m.p.Resize(m.size)
	case "close":
		if m.closed {
			return
		}
		switch st.How {
		case "hard", "now":
			hadWork := len(m.waiting()) > 0 || len(m.runSet) > 0
			if hadWork {
				m.wantFinal = workerpool.ErrClosed
			}
			if st.How == "now" {
				if err := m.p.Close(); err != nil {
					t.Errorf("Close() = %v, want nil", err)
				}
			} else {
				// Ended: the pool stops as Close stops it; the result is
				// nil only if it had stopped already (no worker ever
				// started).
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				want := context.Canceled
				if len(m.tasks) == 0 || m.allRefused() {
					want = nil
				}
				if err := m.p.Shutdown(ctx); err != want {
					t.Errorf("Shutdown(ended context) = %v, want %v", err, want)
				}
			}
			for _, id := range m.waiting() {
				m.ended[id] = "canceled"
				m.wantCanc++
			}
			for _, id := range m.runSet {
				m.ended[id] = "failed"
				m.wantFail++
			}
			m.fifo, m.slowQ, m.marker, m.runSet = nil, nil, false, nil
		default:
			for len(m.waiting()) > 0 || len(m.runSet) > 0 {
				m.schedule()
				for _, id := range slices.Clone(m.runSet) {
					m.tasks[id].release <- "ok"
					m.runSet = slices.DeleteFunc(m.runSet, func(r int) bool { return r == id })
					m.ended[id] = "done"
					m.wantDone++
				}
			}
			if err := m.p.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown() = %v, want nil", err)
			}
		}
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
	}
	m.schedule()
}

// finish ends running task id in the model and for real.
func (m *machine) finish(id int, how string) {
	m.tasks[id].release <- how
	m.runSet = slices.DeleteFunc(m.runSet, func(r int) bool { return r == id })
	if how == "ok" {
		m.ended[id] = "done"
		m.wantDone++
	} else {
		m.ended[id] = "failed"
		m.wantFail++
	}
}

// allRefused reports whether no task was ever accepted, so that no worker
// ever started.
func (m *machine) allRefused() bool {
	for id := range m.tasks {
		if m.ended[id] != "refused" {
			return false
		}
	}
	return true
}

// schedule starts waiting tasks while there is room, as libuv's workers
// take them.
func (m *machine) schedule() {
	for len(m.runSet) < m.size {
		id, ok := m.take()
		if !ok {
			return
		}
		m.runSet = append(m.runSet, id)
	}
}

// take is libuv's worker dequeue (src/threadpool.c): the first task of the
// queue, where the slow marker stands for the first slow task and, when
// (size+1)/2 slow tasks run already, goes to the back of the queue instead.
// A task whose context has ended is passed over and ends cancelled.
func (m *machine) take() (int, bool) {
	for n := len(m.fifo); n > 0; n-- {
		id := m.fifo[0]
		m.fifo = m.fifo[1:]
		if id >= 0 {
			if m.passOver(id) {
				continue
			}
			return id, true
		}
		slowRunning := 0
		for _, r := range m.runSet {
			if m.slow[r] {
				slowRunning++
			}
		}
		if slowRunning >= (m.size+1)/2 {
			m.fifo = append(m.fifo, -1)
			continue
		}
		m.marker = false
		for len(m.slowQ) > 0 { // else its tasks were cancelled
			id, m.slowQ = m.slowQ[0], m.slowQ[1:]
			if m.passOver(id) {
				continue
			}
			if len(m.slowQ) > 0 {
				m.marker = true
				m.fifo = append(m.fifo, -1)
			}
			return id, true
		}
	}
	return 0, false
}

// passOver ends waiting task id as cancelled if its context has ended, and
// reports whether it did.
func (m *machine) passOver(id int) bool {
	if !m.ctxEnded[id] {
		return false
	}
	m.ended[id] = "canceled"
	m.wantCanc++
	return true
}

// waiting returns the ids of the tasks waiting to start.
func (m *machine) waiting() []int {
	w := slices.DeleteFunc(slices.Clone(m.fifo), func(id int) bool { return id < 0 })
	return append(w, m.slowQ...)
}

func (m *machine) check() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.p.Stats()
	switch {
	case m.startedAfterClose:
		return "a task started after Close returned"
	case m.maxRunning > 4:
		return fmt.Sprintf("%d tasks ran at once", m.maxRunning)
	case m.running != len(m.runSet):
		return fmt.Sprintf("%d tasks running, model says %v", m.running, m.runSet)
	case s.Queued != len(m.waiting()) || s.Running != len(m.runSet):
		return fmt.Sprintf("Stats queued %d running %d, model says %v and %v", s.Queued, s.Running, m.waiting(), m.runSet)
	case s.Completed != uint64(m.wantDone) || s.Failed != uint64(m.wantFail) || s.Canceled != uint64(m.wantCanc):
		return fmt.Sprintf("Stats %+v, model says done %d failed %d cancelled %d", s, m.wantDone, m.wantFail, m.wantCanc)
	}
	// The tasks that started are, in order, the tasks that the model started.
	var modelStarted []int
	for id := range m.tasks {
		if e := m.ended[id]; e == "done" || e == "failed" || slices.Contains(m.runSet, id) {
			modelStarted = append(modelStarted, id)
		}
	}
	got := slices.Clone(m.started)
	slices.Sort(got)
	if !slices.Equal(got, modelStarted) {
		return fmt.Sprintf("started %v, model says %v", m.started, modelStarted)
	}
	return ""
}
