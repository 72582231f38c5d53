package workerpool_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/nodekit/nodekit/timers"
	"github.com/nodekit/nodekit/workerpool"
)

func ExampleGo() {
	var p workerpool.Pool // UV_THREADPOOL_SIZE workers, else 4
	defer p.Close(context.Background())
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
		p.Submit(context.Background(), func(context.Context) { results <- i * i })
	}
	p.Close(context.Background()) // waits for the queued tasks
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	fmt.Println(sum)
	// Output:
	// 14
}

// Completions on an event loop, like libuv's after_work_cb: the callback
// runs on the loop's goroutine, and the loop stays alive until it has.
func ExampleTask_OnDone() {
	var l timers.Loop
	var p workerpool.Pool
	defer p.Close(context.Background())
	task := workerpool.Go(context.Background(), &p, func(context.Context) (int, error) {
		return 6 * 7, nil // work off the loop
	})
	task.OnDone(&l, func(v int, err error) {
		fmt.Println("on the loop:", v, err)
	})
	l.Run(context.Background())
	// Output:
	// on the loop: 42 <nil>
}

func ExampleNewGroup() {
	p := &workerpool.Pool{Size: 2}
	defer p.Close(context.Background())
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
	defer p.Close(context.Background())
	block := make(chan struct{})
	p.Submit(context.Background(), func(context.Context) { <-block })
	queued := workerpool.Go(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
	fmt.Println(queued.Cancel())
	_, err := queued.Wait(context.Background())
	fmt.Println(err)
	close(block)
	// Output:
	// true
	// workerpool: task canceled
}
