package workerpool_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/nodekit/nodekit/workerpool"
)

var sink uint64

// spin burns a few hundred nanoseconds of CPU, a "tiny task".
func spin(context.Context) {
	x := uint64(1)
	for i := range 200 {
		x = x*6364136223846793005 + uint64(i)
	}
	sink += x & 1
}

// benchSizes are the pool sizes of the row in benchmarks/workerpool_test.go:
// libuv's default and GOMAXPROCS.
func benchSizes() []int { return []int{4, runtime.GOMAXPROCS(0)} }

// The benchmarks time b.N tasks from the first submission to the end of the
// last one (Shutdown waits for it), so they measure throughput, not just
// queueing. BenchmarkSubmit and BenchmarkChannelPool are the hot path of
// benchmarks/workerpool_test.go's TinyTasks row at a size that b.N sets:
// compare them with -bench 'Submit/QueueSize=0|ChannelPool'.

func BenchmarkSubmit(b *testing.B) {
	for _, queue := range []int{0, 1024} {
		for _, size := range benchSizes() {
			b.Run(fmt.Sprintf("QueueSize=%d/size=%d", queue, size), func(b *testing.B) {
				p := &workerpool.Pool{Size: size, QueueSize: queue}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					p.Submit(context.Background(), spin)
				}
				p.Shutdown(context.Background())
			})
		}
	}
	// A context other than Background is the task's: queued with it, and
	// derived when the task starts.
	b.Run("ctx=WithCancel", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := &workerpool.Pool{Size: 4}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			p.Submit(ctx, spin)
		}
		p.Shutdown(context.Background())
	})
}

// BenchmarkSubmitQueued measures Submit alone: the pool's one worker is
// held, so every task waits in the queue, which grows by b.N tasks. The
// allocations are the queue's blocks, one per 368 tasks.
func BenchmarkSubmitQueued(b *testing.B) {
	p := &workerpool.Pool{Size: 1}
	defer p.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	p.Submit(context.Background(), func(context.Context) { close(started); <-release })
	<-started
	task := func(context.Context) {}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p.Submit(context.Background(), task)
	}
	b.StopTimer()
	close(release)
}

func BenchmarkGo(b *testing.B) {
	cancelled, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, bc := range []struct {
		name string
		ctx  context.Context
	}{{"ctx=Background", context.Background()}, {"ctx=WithCancel", cancelled}} {
		b.Run(bc.name, func(b *testing.B) {
			p := &workerpool.Pool{Size: 4}
			fn := func(ctx context.Context) (int, error) { spin(ctx); return 1, nil }
			tasks := make([]*workerpool.Task[int], 0, 1024)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				tasks = append(tasks, workerpool.Go(bc.ctx, p, fn))
				if len(tasks) == cap(tasks) {
					for _, t := range tasks {
						t.Wait(context.Background())
					}
					tasks = tasks[:0]
				}
			}
			for _, t := range tasks {
				t.Wait(context.Background())
			}
			p.Shutdown(context.Background())
		})
	}
}

// BenchmarkChannelPool is the baseline: a buffered channel feeding size
// goroutines.
func BenchmarkChannelPool(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ch := make(chan func(context.Context), 1024)
			var wg sync.WaitGroup
			for range size {
				wg.Go(func() {
					for fn := range ch {
						fn(context.Background())
					}
				})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				ch <- spin
			}
			close(ch)
			wg.Wait()
		})
	}
}
