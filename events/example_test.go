package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
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
	var e events.Emitter[string]
	go func() {
		for !e.Emit("ready", "db") { // until someone listens
			runtime.Gosched()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := events.Once(ctx, &e, "ready")
	fmt.Println(v, err, e.ListenerCount("ready"))
	// Output:
	// db <nil> 0
}

func ExampleOn() {
	var e events.Emitter[int]
	go func() {
		for !e.Emit("n", 1) { // until the loop listens
			runtime.Gosched()
		}
		e.Emit("n", 2) // buffered until the loop takes them
		e.Emit("n", 3)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum := 0
	for v := range events.On(ctx, &e, "n") {
		sum += v
		if v == 3 {
			break
		}
	}
	fmt.Println(sum, e.ListenerCount("n"))
	// Output:
	// 6 0
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
