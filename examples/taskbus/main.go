// Command taskbus is Node's TaskBus example in Go: a type that embeds an
// events.Emitter, does work asynchronously and emits "task:done" when each
// task finishes; a Once listener runs only for the first completion.
//
//	go run ./examples/taskbus
//
// It prints what the Node program in testdata/taskbus.js prints.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nodekit/nodekit/events"
)

// A Task is a unit of work for the bus.
type Task struct {
	ID   int
	Work string
}

// A Payload is what "task:done" carries.
type Payload struct {
	ID     int
	Result string
}

// String formats p the way Node's console.log shows the same object.
func (p Payload) String() string {
	return fmt.Sprintf("{ id: %d, result: '%s' }", p.ID, p.Result)
}

// A TaskBus runs tasks in the background and announces their results.
// The zero TaskBus is ready to use.
type TaskBus struct {
	events.Emitter[Payload]

	// Delay is how long each task takes; 0 means 100ms, as in the Node program.
	Delay time.Duration

	wg   sync.WaitGroup
	mu   sync.Mutex
	prev chan struct{} // closed once the task added before has been reported
}

// AddTask starts t. After Delay it emits "task:done" on another goroutine.
// Tasks added together finish in the order they were added, as Node's
// equal-duration timers fire in order.
func (b *TaskBus) AddTask(t Task) {
	delay := b.Delay
	if delay == 0 {
		delay = 100 * time.Millisecond
	}
	b.mu.Lock()
	prev, done := b.prev, make(chan struct{})
	b.prev = done
	b.mu.Unlock()
	b.wg.Go(func() {
		defer close(done)
		time.Sleep(delay) // the asynchronous work
		result := strings.ToUpper(t.Work)
		if prev != nil {
			<-prev
		}
		b.Emit("task:done", Payload{ID: t.ID, Result: result})
	})
}

// Wait blocks until every task added so far has been reported.
func (b *TaskBus) Wait() { b.wg.Wait() }

func run(w io.Writer, delay time.Duration) {
	bus := &TaskBus{Delay: delay}
	bus.On("task:done", func(p Payload) { fmt.Fprintln(w, "Task finished:", p) })
	bus.Once("task:done", func(Payload) { fmt.Fprintln(w, "This runs only for the first completion") })
	bus.AddTask(Task{ID: 1, Work: "compile"})
	bus.AddTask(Task{ID: 2, Work: "test"})
	bus.Wait()
}

func main() { run(os.Stdout, 0) }
