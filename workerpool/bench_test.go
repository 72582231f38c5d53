package workerpool_test

import (
	"context"
	"fmt"
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

// The benchmarks time b.N tasks from the first submission to the end of the
// last one (Shutdown waits for it), so they measure throughput, not just
// queueing.

func BenchmarkSubmit(b *testing.B) {
	for _, queue := range []int{0, 1024} {
		b.Run(fmt.Sprintf("QueueSize=%d", queue), func(b *testing.B) {
			p := &workerpool.Pool{Size: 4, QueueSize: queue}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p.Submit(context.Background(), spin)
			}
			p.Shutdown(context.Background())
		})
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

// BenchmarkChannelPool is the baseline: a buffered channel feeding four
// goroutines.
func BenchmarkChannelPool(b *testing.B) {
	ch := make(chan func(context.Context), 1024)
	done := make(chan struct{})
	for range 4 {
		go func() {
			for fn := range ch {
				fn(context.Background())
			}
			done <- struct{}{}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ch <- spin
	}
	close(ch)
	for range 4 {
		<-done
	}
}
