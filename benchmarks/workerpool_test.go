//go:build unix

package benchmarks

// Side-by-side benchmarks of github.com/nodekit/nodekit/workerpool against
// the worker pools Go users reach for (ants, pond, gammazero/workerpool,
// sourcegraph/conc, errgroup.SetLimit), a hand-written channel pool and raw
// goroutines: 1,000,000 tiny tasks and 100,000 tasks that wait about 10 µs,
// at pool size 4 (libuv's default) and GOMAXPROCS. Names end in /lib=NAME,
// as in events_test.go:
//
//	go test -run '^$' -bench 'TinyTasks|BlockingTasks|QueuedBacklog' -benchtime 2x -count 6 -timeout 0 | tee wp.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /lib wp.txt
//
// The file needs getrusage, hence unix only.

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	gammazero "github.com/gammazero/workerpool"
	"github.com/nodekit/nodekit/workerpool"
	"github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

const (
	// tinyTasks is the number of tasks one operation of BenchmarkTinyTasks
	// runs, blockingTasks that of BenchmarkBlockingTasks, backlogTasks the
	// backlog BenchmarkQueuedBacklog queues: the workloads, one
	// whole workload per operation.
	tinyTasks     = 1_000_000
	blockingTasks = 100_000
	backlogTasks  = 1_000_000
	// tinyRounds is the length of the dependent multiply-add chain a tiny
	// task computes: a few hundred ns of CPU (workerpool/bench_test.go's
	// spin).
	tinyRounds = 200
	// blockFor is how long a blocking task waits.
	blockFor = 10 * time.Microsecond
	// chanBuffer is the hand-written channel pool's buffer, as in
	// workerpool/bench_test.go's BenchmarkChannelPool.
	chanBuffer = 1024
	// sampleEvery is the period of the peak-memory sampler.
	sampleEvery = time.Millisecond
	// backlogSize is the pool size of BenchmarkQueuedBacklog.
	backlogSize = 4
)

// tinyOut keeps the tiny task's result observable; it is written only if the
// chain ends at 0, which it does not, so tasks share no written memory.
var tinyOut atomic.Uint64

// tinyTask burns a few hundred ns of CPU: tinyRounds dependent
// multiply-adds.
func tinyTask() {
	x := uint64(1)
	for i := range tinyRounds {
		x = x*6364136223846793005 + uint64(i)
	}
	if x == 0 {
		tinyOut.Add(1)
	}
}

// blockingTask waits blockFor of wall-clock time, yielding its P between
// clock reads (runtime.Gosched), so that while it waits every other runnable
// goroutine gets the CPU, as if the task were blocked. It does not sleep:
// time.Sleep(10*time.Microsecond) took about 0.6 to 0.7 ms here (an idle P
// waits for timers in the netpoller, whose timeout is in whole
// milliseconds), and a 10 µs nanosleep system call about 95 µs (kernel timer
// slack), so neither blocks "about 10 µs". When nothing else is runnable it
// spins, so its CPU time counts in cpu-ns/task.
func blockingTask() {
	start := time.Now()
	for time.Since(start) < blockFor {
		runtime.Gosched()
	}
}

// A poolLib is one library's way of running a batch of tasks.
type poolLib struct {
	name string
	// bounded: never runs more than size tasks at once.
	bounded bool
	// queues: has an unbounded queue, so a submission never waits for a
	// worker (BenchmarkQueuedBacklog).
	queues bool
	// handles: keeps a handle per task, in a slice of the poolScratch.
	handles bool
	// run runs n calls of task on a new pool of size workers: it submits
	// them all from the calling goroutine, calls submitted, waits until every
	// task has run and shuts the pool down, so that none of its goroutines
	// remains.
	run func(s *poolScratch, size, n int, task func(), submitted func()) error
}

// poolScratch holds the slices of task handles that nodekit-go and
// pond-future keep, allocated before any measurement, so that the metrics
// count what the library allocates, not the caller's slice.
type poolScratch struct {
	nodekit []*workerpool.Task[int]
	pond    []pond.ResultTask[int]
}

func newPoolScratch(lib poolLib, n int) *poolScratch {
	s := new(poolScratch)
	if lib.handles {
		switch lib.name {
		case "nodekit-go":
			s.nodekit = make([]*workerpool.Task[int], n)
		case "pond-future":
			s.pond = make([]pond.ResultTask[int], n)
		}
	}
	return s
}

// poolLibs, nodekit first: the base of benchstat's comparison.
var poolLibs = []poolLib{
	{
		// Fire-and-forget Submit; Shutdown waits for the queue to drain.
		name: "nodekit", bounded: true, queues: true,
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			ctx := context.Background()
			p := &workerpool.Pool{Size: size}
			fn := func(context.Context) { task() }
			for range n {
				if err := p.Submit(ctx, fn); err != nil {
					p.Close()
					return err
				}
			}
			submitted()
			return p.Shutdown(ctx)
		},
	},
	{
		// Typed tasks: Go[int] for every task, then Wait for each in order.
		name: "nodekit-go", bounded: true, queues: true, handles: true,
		run: func(s *poolScratch, size, n int, task func(), submitted func()) error {
			ctx := context.Background()
			p := &workerpool.Pool{Size: size}
			fn := func(context.Context) (int, error) { task(); return 1, nil }
			ts := s.nodekit[:n]
			for i := range ts {
				ts[i] = workerpool.Go(ctx, p, fn)
			}
			submitted()
			sum := 0
			var err error
			for i, t := range ts {
				v, e := t.Wait(ctx)
				if e != nil && err == nil {
					err = e
				}
				sum += v
				ts[i] = nil
			}
			if e := p.Shutdown(ctx); err == nil {
				err = e
			}
			if err == nil && sum != n {
				err = fmt.Errorf("nodekit-go: results sum to %d, want %d", sum, n)
			}
			return err
		},
	},
	{
		// The baseline: a buffered channel feeding size goroutines.
		name: "channel", bounded: true,
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			ch := make(chan func(), chanBuffer)
			var wg sync.WaitGroup
			for range size {
				wg.Go(func() {
					for fn := range ch {
						fn()
					}
				})
			}
			for range n {
				ch <- task
			}
			submitted()
			close(ch)
			wg.Wait()
			return nil
		},
	},
	{
		// ants has no queue (Submit waits for a free worker) and no way to
		// wait for tasks, so a WaitGroup counts them; ReleaseTimeout stops
		// the workers and ants' purge and clock goroutines.
		name: "ants", bounded: true,
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			p, err := ants.NewPool(size)
			if err != nil {
				return err
			}
			var wg sync.WaitGroup
			fn := func() { task(); wg.Done() }
			for range n {
				wg.Add(1)
				if err := p.Submit(fn); err != nil {
					wg.Done()
					wg.Wait()
					p.Release()
					return err
				}
			}
			submitted()
			wg.Wait()
			return p.ReleaseTimeout(10 * time.Second)
		},
	},
	{
		// Fire-and-forget Go on an unbounded queue; StopAndWait drains it.
		name: "pond", bounded: true, queues: true,
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			p := pond.NewPool(size)
			for range n {
				if err := p.Go(task); err != nil {
					p.StopAndWait()
					return err
				}
			}
			submitted()
			p.StopAndWait()
			return nil
		},
	},
	{
		// pond's typed futures: a ResultPool[int], Submit for every task,
		// then Wait for each in order.
		name: "pond-future", bounded: true, queues: true, handles: true,
		run: func(s *poolScratch, size, n int, task func(), submitted func()) error {
			p := pond.NewResultPool[int](size)
			fn := func() int { task(); return 1 }
			fs := s.pond[:n]
			for i := range fs {
				fs[i] = p.Submit(fn)
			}
			submitted()
			sum := 0
			var err error
			for i, f := range fs {
				v, e := f.Wait()
				if e != nil && err == nil {
					err = e
				}
				sum += v
				fs[i] = nil
			}
			p.StopAndWait()
			if err == nil && sum != n {
				err = fmt.Errorf("pond-future: results sum to %d, want %d", sum, n)
			}
			return err
		},
	},
	{
		// Submit onto the dispatcher's unbounded deque; StopWait drains it.
		name: "gammazero", bounded: true, queues: true,
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			wp := gammazero.New(size)
			for range n {
				wp.Submit(task)
			}
			submitted()
			wp.StopWait()
			return nil
		},
	},
	{
		// conc's pool.Pool with WithMaxGoroutines: Go waits for a free
		// worker; Wait waits for the tasks and the workers.
		name: "conc", bounded: true,
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			p := concpool.New().WithMaxGoroutines(size)
			for range n {
				p.Go(task)
			}
			submitted()
			p.Wait()
			return nil
		},
	},
	{
		// errgroup with SetLimit: a goroutine per task, Go waits while size
		// are running.
		name: "errgroup", bounded: true,
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			var g errgroup.Group
			g.SetLimit(size)
			fn := func() error { task(); return nil }
			for range n {
				g.Go(fn)
			}
			submitted()
			return g.Wait()
		},
	},
	{
		// A goroutine per task (WaitGroup.Go), no bound: size is ignored.
		name: "goroutines",
		run: func(_ *poolScratch, size, n int, task func(), submitted func()) error {
			var wg sync.WaitGroup
			for range n {
				wg.Go(task)
			}
			submitted()
			wg.Wait()
			return nil
		},
	},
}

// poolSizes are the pool sizes measured: libuv's default and GOMAXPROCS.
func poolSizes() []struct {
	name string
	n    int
} {
	return []struct {
		name string
		n    int
	}{{"size=4", 4}, {"size=gomaxprocs", runtime.GOMAXPROCS(0)}}
}

// BenchmarkTinyTasks runs tinyTasks tiny tasks per operation: submit them
// all, wait until all have run, shut the pool down.
func BenchmarkTinyTasks(b *testing.B) { benchPools(b, tinyTasks, tinyTask) }

// BenchmarkBlockingTasks runs blockingTasks tasks that each wait blockFor
// per operation, the same way.
func BenchmarkBlockingTasks(b *testing.B) { benchPools(b, blockingTasks, blockingTask) }

func benchPools(b *testing.B, n int, task func()) {
	for _, size := range poolSizes() {
		b.Run(size.name, func(b *testing.B) {
			for _, lib := range poolLibs {
				b.Run("lib="+lib.name, func(b *testing.B) { benchPool(b, lib, size.n, n, task) })
			}
		})
	}
}

// benchPool measures lib running n tasks per operation, each operation on a
// new pool, and reports per task: ns/task (wall clock), cpu-ns/task (the
// process's user+system CPU time, getrusage), allocs/task and B/task (heap
// allocations, runtime.ReadMemStats: Mallocs and TotalAlloc); and
// peak-MiB, the mean over operations of the most heap and stack memory in
// use during the operation above what was in use at its start (see
// poolMeter). Only the operation is measured: a GC before it and the
// readings around it run with the timer stopped.
func benchPool(b *testing.B, lib poolLib, size, n int, task func()) {
	s := newPoolScratch(lib, n)
	var m poolMeter
	b.StopTimer()
	for range b.N {
		m.begin()
		b.StartTimer()
		m.start()
		err := lib.run(s, size, n, task, m.observe)
		m.stop()
		b.StopTimer()
		m.end()
		if err != nil {
			b.Fatal(err)
		}
	}
	m.report(b, n)
}

// A poolMeter accumulates the per-task metrics of benchPool's operations.
//
// Peak memory is the sum of the runtime/metrics classes
// /memory/classes/heap/objects:bytes (heap objects, live or not yet
// collected) and /memory/classes/heap/stacks:bytes (goroutine stacks),
// sampled every sampleEvery by a goroutine, once after the last submission
// (the backlog is then largest) and once at the end; its growth over the
// value at the start, after a GC, is the operation's peak. It measures what
// the runtime holds in use, not the RSS, which would also depend on the free
// memory earlier benchmarks left behind.
type poolMeter struct {
	r    memReader // the benchmark goroutine's
	base uint64
	peak atomic.Uint64
	quit chan struct{}
	done chan struct{}
	t0   time.Time
	cpu0 time.Duration
	ms0  runtime.MemStats

	ops               int
	wall, cpu         time.Duration
	mallocs, bytes    uint64
	peakSum           float64
	lastWall, lastCPU time.Duration
}

func (m *poolMeter) begin() {
	runtime.GC()
	m.quit, m.done = make(chan struct{}), make(chan struct{})
	go m.sample()
	m.base = m.r.inUse()
	m.peak.Store(m.base)
	runtime.ReadMemStats(&m.ms0)
}

func (m *poolMeter) start() {
	m.cpu0 = cpuTime()
	m.t0 = time.Now()
}

func (m *poolMeter) stop() {
	m.lastWall = time.Since(m.t0)
	m.lastCPU = cpuTime() - m.cpu0
}

func (m *poolMeter) end() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.observe()
	close(m.quit)
	<-m.done
	m.ops++
	m.wall += m.lastWall
	m.cpu += m.lastCPU
	m.mallocs += ms.Mallocs - m.ms0.Mallocs
	m.bytes += ms.TotalAlloc - m.ms0.TotalAlloc
	m.peakSum += float64(m.peak.Load() - m.base)
}

// observe takes a memory sample on the benchmark goroutine.
func (m *poolMeter) observe() { m.record(m.r.inUse()) }

// sample is the sampler goroutine.
func (m *poolMeter) sample() {
	defer close(m.done)
	var r memReader
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-t.C:
			m.record(r.inUse())
		}
	}
}

func (m *poolMeter) record(v uint64) {
	for {
		p := m.peak.Load()
		if v <= p || m.peak.CompareAndSwap(p, v) {
			return
		}
	}
}

func (m *poolMeter) report(b *testing.B, n int) {
	tasks := float64(m.ops) * float64(n)
	b.ReportMetric(float64(m.wall)/tasks, "ns/task")
	b.ReportMetric(float64(m.cpu)/tasks, "cpu-ns/task")
	b.ReportMetric(float64(m.mallocs)/tasks, "allocs/task")
	b.ReportMetric(float64(m.bytes)/tasks, "B/task")
	b.ReportMetric(m.peakSum/float64(m.ops)/(1<<20), "peak-MiB")
}

// A memReader reads the heap memory in use: objects and goroutine stacks.
type memReader struct {
	s [2]metrics.Sample
}

func (r *memReader) inUse() uint64 {
	if r.s[0].Name == "" {
		r.s[0].Name = "/memory/classes/heap/objects:bytes"
		r.s[1].Name = "/memory/classes/heap/stacks:bytes"
	}
	metrics.Read(r.s[:])
	return r.s[0].Value.Uint64() + r.s[1].Value.Uint64()
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQueuedBacklog reports B/queued: the heap that a backlog of
// backlogTasks queued tasks holds, per task, in the libraries with an
// unbounded queue. The first backlogSize tasks hold every worker until the
// whole backlog is queued; the growth of the live heap (HeapAlloc after a
// GC) from before the pool was made to then, divided by the tasks waiting,
// is the figure (for nodekit-go and pond-future it includes each task's
// handle, for the others the queue alone). ns/op is the time of one round:
// queue, measure, run them all.
func BenchmarkQueuedBacklog(b *testing.B) {
	for _, lib := range poolLibs {
		if !lib.queues {
			continue
		}
		b.Run("lib="+lib.name, func(b *testing.B) {
			s := newPoolScratch(lib, backlogTasks)
			var total float64
			rounds := 0
			for b.Loop() {
				perTask, err := queueBacklog(lib, s, backlogSize, backlogTasks, tinyTask)
				if err != nil {
					b.Fatal(err)
				}
				total += perTask
				rounds++
			}
			b.ReportMetric(total/float64(rounds), "B/queued")
		})
	}
}

// queueBacklog runs n calls of task through lib, the first size of them
// held until all n are queued, and returns the live heap per queued task at
// that point. It fails if a submission waited for a worker (more or fewer
// than size tasks started before the last submission).
func queueBacklog(lib poolLib, s *poolScratch, size, n int, task func()) (float64, error) {
	gate := make(chan struct{})
	var started atomic.Int64
	held := func() {
		if started.Add(1) <= int64(size) {
			<-gate
			return
		}
		task()
	}
	var before, after runtime.MemStats
	var startedAtEnd int64
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := lib.run(s, size, n, held, func() {
		// The first size tasks may still be on their way to the workers.
		for deadline := time.Now().Add(10 * time.Second); started.Load() < int64(size) && time.Now().Before(deadline); {
			runtime.Gosched()
		}
		startedAtEnd = started.Load()
		runtime.GC()
		runtime.ReadMemStats(&after)
		close(gate)
	})
	if err != nil {
		return 0, err
	}
	if startedAtEnd != int64(size) {
		return 0, fmt.Errorf("%s: %d tasks had started when all %d were queued, want %d", lib.name, startedAtEnd, n, size)
	}
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n-size), nil
}

// TestPoolsRunEveryTask runs every benchmarked setup, through the same
// run functions, at sizes 1, 4 and GOMAXPROCS, with tiny and blocking
// tasks that count themselves: each run returns only once every task has
// run, each task runs exactly once (the count is exactly n when run returns
// and still n once the pools' goroutines are gone), the bounded libraries
// never run more than size tasks at once (blocking tasks do overlap: in a
// bounded pool larger than one, and in raw goroutines beyond size, so the
// bound is really checked), and no goroutine outlives its pool. It also checks that the libraries said to queue accept a whole
// backlog without waiting for a worker (BenchmarkQueuedBacklog's setup), and
// that a blocking task waits at least blockFor.
func TestPoolsRunEveryTask(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	type counted struct {
		name string
		ran  *atomic.Int64
		want int64
	}
	var all []counted
	workloads := []struct {
		name string
		n    int
		work func()
	}{
		{"tiny", 10_000, tinyTask},
		{"blocking", 500, blockingTask},
	}
	for _, lib := range poolLibs {
		t.Run("lib="+lib.name, func(t *testing.T) {
			for _, w := range workloads {
				s := newPoolScratch(lib, w.n)
				for _, size := range []int{1, 4, runtime.GOMAXPROCS(0)} {
					name := fmt.Sprintf("%s/size=%d", w.name, size)
					var ran, active, most atomic.Int64
					task := func() {
						a := active.Add(1)
						for {
							m := most.Load()
							if a <= m || most.CompareAndSwap(m, a) {
								break
							}
						}
						w.work()
						active.Add(-1)
						ran.Add(1)
					}
					calls := 0
					if err := lib.run(s, size, w.n, task, func() { calls++ }); err != nil {
						t.Errorf("%s: %v", name, err)
						continue
					}
					if got := ran.Load(); got != int64(w.n) {
						t.Errorf("%s: %d tasks had run when run returned, want %d", name, got, w.n)
					}
					if calls != 1 {
						t.Errorf("%s: submitted called %d times, want 1", name, calls)
					}
					if got := most.Load(); lib.bounded && got > int64(size) {
						t.Errorf("%s: %d tasks ran at once, want at most %d", name, got, size)
					}
					// Blocking tasks overlap: a bounded pool larger than one
					// runs several at once, raw goroutines more than size
					// (so the bound above is really checked).
					if got := most.Load(); w.name == "blocking" && size > 1 && got < 2 {
						t.Errorf("%s: at most %d task ran at once, want several", name, got)
					}
					if got := most.Load(); w.name == "blocking" && !lib.bounded && got <= int64(size) {
						t.Errorf("%s: only %d tasks ran at once, want more than size %d", name, got, size)
					}
					all = append(all, counted{lib.name + "/" + name, &ran, int64(w.n)})
				}
			}
			if lib.queues {
				const n = 10_000
				var ran atomic.Int64
				if _, err := queueBacklog(lib, newPoolScratch(lib, n), backlogSize, n, func() { ran.Add(1) }); err != nil {
					t.Errorf("backlog: %v", err)
				} else if got, want := ran.Load(), int64(n-backlogSize); got != want {
					t.Errorf("backlog: %d tasks ran, want %d", got, want)
				}
			}
		})
	}

	t.Run("blockingTask", func(t *testing.T) {
		const n = 100
		start := time.Now()
		for range n {
			blockingTask()
		}
		if got := time.Since(start); got < n*blockFor {
			t.Errorf("%d blocking tasks took %v, want at least %v", n, got, n*blockFor)
		}
	})

	// Every pool was shut down: its goroutines exit (ants' purge goroutine
	// and pond's stop task may take a moment).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > goroutines {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines remain, %d before the pools ran:\n%s", got, goroutines, buf)
	}
	for _, c := range all {
		if got := c.ran.Load(); got != c.want {
			t.Errorf("%s: %d tasks ran in all, want %d", c.name, got, c.want)
		}
	}
}
