package timers_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nodekit/nodekit/timers"
)

func ExampleLoop() {
	var l timers.Loop
	l.SetTimeout(func() { fmt.Println("timeout 50ms") }, 50*time.Millisecond)
	l.SetImmediate(func() { fmt.Println("immediate") })
	l.QueueMicrotask(func() { fmt.Println("microtask") })
	l.NextTick(func() { fmt.Println("nextTick") })
	fmt.Println("main")
	if err := l.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// main
	// nextTick
	// microtask
	// immediate
	// timeout 50ms
}

func ExampleLoop_SetInterval() {
	var l timers.Loop
	n := 0
	var iv *timers.Timer
	iv = l.SetInterval(func() {
		n++
		fmt.Println("tick", n)
		if n == 3 {
			iv.Clear()
		}
	}, time.Millisecond)
	if err := l.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// tick 1
	// tick 2
	// tick 3
}

// An idle timeout: every read refreshes it, and it fires once reads stop.
func ExampleTimer_Refresh() {
	var l timers.Loop
	idle := l.SetTimeout(func() { fmt.Println("idle: closing") }, 20*time.Millisecond)
	reads := 0
	var read func()
	read = func() {
		reads++
		idle.Refresh()
		if reads < 3 {
			l.SetTimeout(read, 5*time.Millisecond)
		}
	}
	l.SetTimeout(read, 5*time.Millisecond)
	if err := l.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("reads:", reads)
	// Output:
	// idle: closing
	// reads: 3
}

// Work on another goroutine hands its result back to the loop with Post;
// Hold keeps the loop alive until it has. If the loop has closed meanwhile,
// Post says so and keeps nothing.
func ExampleLoop_Post() {
	var l timers.Loop
	release := l.Hold()
	go func() {
		defer release() // also when Post fails
		sum := 0
		for i := 1; i <= 100; i++ {
			sum += i
		}
		if err := l.Post(func() { fmt.Println("sum on the loop:", sum) }); err != nil {
			fmt.Println("result dropped:", err)
		}
	}()
	if err := l.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// sum on the loop: 5050
}

// Close stops a loop now: nothing scheduled runs, Run returns ErrClosed, and
// producers learn it from Post's error or from Done.
func ExampleLoop_Close() {
	var l timers.Loop
	l.SetTimeout(func() { fmt.Println("never runs") }, time.Hour)
	l.SetTimeout(func() {
		fmt.Println("closing")
		l.Close() // always nil
	}, time.Millisecond)
	fmt.Println("Run:", l.Run(context.Background()))
	fmt.Println("Post:", l.Post(func() { fmt.Println("never runs either") }))
	<-l.Done()
	fmt.Println("done")
	// Output:
	// closing
	// Run: timers: loop closed
	// Post: timers: loop closed
	// done
}

func ExampleTicks() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for range timers.Ticks(ctx, time.Millisecond) {
		if n++; n == 3 {
			break
		}
	}
	fmt.Println(n, "ticks")
	// Output:
	// 3 ticks
}

func ExampleSleep() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	fmt.Println(timers.Sleep(ctx, time.Hour))
	// Output:
	// context deadline exceeded
}
