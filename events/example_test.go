package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nodekit/nodekit/events"
)

func ExampleEmitter() {
	var e events.Emitter[string]
	e.On("greet", func(name string) { fmt.Println("hello,", name) })
	e.On("greet", func(name string) { fmt.Println("welcome,", name) })

	fmt.Println(e.Emit("greet", "ada"))
	fmt.Println(e.Emit("leave", "ada")) // no listeners
	// Output:
	// hello, ada
	// welcome, ada
	// true
	// false
}

func ExampleEmitter_Once() {
	var e events.Emitter[int]
	e.Once("ready", func(v int) { fmt.Println("first ready:", v) })
	e.Emit("ready", 1)
	e.Emit("ready", 2)
	fmt.Println(e.ListenerCount("ready"))
	// Output:
	// first ready: 1
	// 0
}

func ExampleEmitter_Prepend() {
	var e events.Emitter[string]
	e.On("log", func(s string) { fmt.Println("write", s) })
	e.Prepend("log", func(s string) { fmt.Println("check", s) })
	e.Emit("log", "line")
	// Output:
	// check line
	// write line
}

func ExampleEmitter_Off() {
	var e events.Emitter[int]
	l := e.On("n", func(v int) { fmt.Println("got", v) })
	e.Emit("n", 1)
	fmt.Println(e.Off(l), e.Off(l))
	e.Emit("n", 2)
	// Output:
	// got 1
	// true false
}

func ExampleEmitter_Emit_error() {
	var e events.Emitter[error]
	e.On(events.ErrorMonitor, func(err error) { fmt.Println("monitor saw:", err) })
	defer func() {
		err := recover().(error)
		fmt.Println("recovered:", err)
		fmt.Println("is ErrDisk:", errors.Is(err, ErrDisk))
	}()
	e.Emit(events.ErrorEvent, ErrDisk) // no "error" listener: panics
	// Output:
	// monitor saw: disk full
	// recovered: events: unhandled "error" event: disk full
	// is ErrDisk: true
}

var ErrDisk = errors.New("disk full")

func ExampleEmitter_SetMaxListeners() {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	e := events.Emitter[int]{
		Logger: slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime})),
	}
	e.SetMaxListeners(2)
	for range 3 {
		e.On("data", func(int) {})
	}
	// Output:
	// level=WARN msg="Possible EventEmitter memory leak detected. 3 data listeners added to *events.Emitter[int]. MaxListeners is 2. Use SetMaxListeners to increase limit" event=data listeners=3 max=2
}

func ExampleEmitter_Changes() {
	var e events.Emitter[string]
	e.Changes().On(events.RemoveListener, func(c events.Change) {
		fmt.Println("removed one from", c.Event)
	})
	// Start work when the first listener arrives, as Node streams do with
	// 'newListener'. (Added first, it would also hear of the RemoveListener
	// listener: the Changes emitter announces its own changes, as Node does.)
	e.Changes().On(events.NewListener, func(c events.Change) {
		if e.ListenerCount(c.Event) == 0 {
			fmt.Println("first listener for", c.Event)
		}
	})
	l := e.On("data", func(string) {})
	e.On("data", func(string) {})
	e.Off(l)
	// Output:
	// first listener for data
	// removed one from data
}

func ExampleOnce() {
	var e events.Emitter[int]
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a heartbeat, emitted on another goroutine
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				e.Emit("beat", i)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Once waits for the next beat, whenever it comes.
	n, err := events.Once(ctx, &e, "beat")
	fmt.Println(n > 0, err, e.ListenerCount("beat"))
	// Output:
	// true <nil> 0
}

// Node's `const p = once(server, 'listening'); start(); await p`: register
// first, then start what emits, then wait.
func ExampleOnceChan() {
	var server events.Emitter[string]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	listening := events.OnceChan(ctx, &server, "listening") // listening from here
	go server.Emit("listening", "127.0.0.1:8080")           // may come at once
	r := <-listening
	fmt.Println(r.Value, r.Err)
	// Output:
	// 127.0.0.1:8080 <nil>
}

func ExampleOn() {
	var e events.Emitter[int]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	values := events.On(ctx, &e, "data", "end") // listening from here; "end" ends it
	go func() {
		for i := 1; i <= 3; i++ {
			e.Emit("data", i) // buffered until the loop takes them
		}
		e.Emit("end", 0)
	}()
	sum := 0
	for v, err := range values {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		sum += v
	}
	fmt.Println(sum, e.ListenerCount("data"))
	// Output:
	// 6 0
}

// An "error" event ends the loop: the values emitted before it come first,
// then the error as the last pair.
func ExampleOn_error() {
	var e events.Emitter[error]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := events.On(ctx, &e, "result")
	e.Emit("result", nil)
	e.Emit(events.ErrorEvent, ErrDisk) // handled by On: no panic
	for v, err := range results {
		fmt.Println(v, err)
	}
	// Output:
	// <nil> <nil>
	// <nil> disk full
}

// A Payload is what "task:done" carries in the TaskBus example.
type Payload struct {
	ID     int
	Result string
}

// Node's TaskBus: work finishes on another goroutine and is announced with a
// "task:done" event; the Once listener runs only for the first completion.
// (examples/taskbus is the same as a program, with Node's 100ms timers.)
func Example_taskBus() {
	var bus events.Emitter[Payload]
	bus.On("task:done", func(p Payload) { fmt.Printf("Task finished: %+v\n", p) })
	bus.Once("task:done", func(Payload) { fmt.Println("This runs only for the first completion") })

	done := make(chan struct{})
	go func() { // the asynchronous work, finishing in order
		defer close(done)
		for id, work := range []string{1: "compile", 2: "test"} {
			if work != "" {
				bus.Emit("task:done", Payload{ID: id, Result: strings.ToUpper(work)})
			}
		}
	}()
	<-done
	// Output:
	// Task finished: {ID:1 Result:COMPILE}
	// This runs only for the first completion
	// Task finished: {ID:2 Result:TEST}
}
