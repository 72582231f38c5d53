package workerpool_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nodekit/nodekit/timers"
	"github.com/nodekit/nodekit/workerpool"
)

func ExampleGo() {
	var p workerpool.Pool // UV_THREADPOOL_SIZE workers, else 4
	defer p.Close()
	task := workerpool.Go(context.Background(), &p, func(context.Context) (string, error) {
		return strings.ToUpper("hashed"), nil
	})
	v, err := task.Wait(context.Background())
	fmt.Println(v, err)
	// Output:
	// HASHED <nil>
}

func ExamplePool_Submit() {
	p := &workerpool.Pool{Size: 2, QueueSize: 100}
	results := make(chan int, 3)
	for i := 1; i <= 3; i++ {
		if err := p.Submit(context.Background(), func(context.Context) { results <- i * i }); err != nil {
			fmt.Println(err) // ErrClosed, or the context's error
			return
		}
	}
	if err := p.Shutdown(context.Background()); err != nil { // waits for the queued tasks
		fmt.Println(err)
	}
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	fmt.Println(sum)
	// Output:
	// 14
}

// Shutdown drains the queue, with a deadline for the wait; the pool then
// refuses new tasks.
func ExamplePool_Shutdown() {
	p := &workerpool.Pool{Size: 1}
	for i := range 3 {
		if err := p.Submit(context.Background(), func(context.Context) { fmt.Println("task", i) }); err != nil {
			fmt.Println(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		fmt.Println("shutdown:", err)
	}
	fmt.Println(p.Submit(context.Background(), func(context.Context) {}))
	// Output:
	// task 0
	// task 1
	// task 2
	// workerpool: pool closed
}

// Close stops the pool now: the running task's context is cancelled (its
// cause is ErrClosed), the queued task never runs.
func ExamplePool_Close() {
	p := &workerpool.Pool{Size: 1}
	started := make(chan struct{})
	err := p.Submit(context.Background(), func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		fmt.Println("running task stopped:", context.Cause(ctx))
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	queued := workerpool.Go(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
	<-started
	p.Close()
	_, err = queued.Wait(context.Background())
	fmt.Println("queued task:", err)
	// Output:
	// running task stopped: workerpool: pool closed
	// queued task: workerpool: task canceled: workerpool: pool closed
}

// Completions on an event loop, like libuv's after_work_cb: the callback
// runs on the loop's goroutine, and the loop stays alive until it has.
func ExampleTask_OnDone() {
	var l timers.Loop
	var p workerpool.Pool
	defer p.Close()
	task := workerpool.Go(context.Background(), &p, func(context.Context) (int, error) {
		return 6 * 7, nil // work off the loop
	})
	task.OnDone(&l, func(v int, err error) {
		fmt.Println("on the loop:", v, err)
	})
	if err := l.Run(context.Background()); err != nil {
		fmt.Println(err) // a callback's panic, as a *PanicError
	}
	// Output:
	// on the loop: 42 <nil>
}

func ExampleNewGroup() {
	p := &workerpool.Pool{Size: 2}
	defer p.Close()
	g, _ := workerpool.NewGroup(context.Background(), p)
	for _, name := range []string{"a", "b", "c"} {
		g.Go(func(ctx context.Context) error {
			if name == "b" {
				return fmt.Errorf("fetching %s failed", name)
			}
			return nil
		})
	}
	fmt.Println(g.Wait())
	// Output:
	// fetching b failed
}

func ExampleTask_Cancel() {
	p := &workerpool.Pool{Size: 1}
	defer p.Close()
	block := make(chan struct{})
	if err := p.Submit(context.Background(), func(context.Context) { <-block }); err != nil {
		fmt.Println(err)
		return
	}
	queued := workerpool.Go(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
	fmt.Println(queued.Cancel())
	_, err := queued.Wait(context.Background())
	fmt.Println(err)
	close(block)
	// Output:
	// true
	// workerpool: task canceled
}
