// Command eventloop is the classic Node ordering demo on a timers.Loop:
//
//	go run ./examples/eventloop
//
// It prints what this Node program prints:
//
//	const fs = require('fs');
//	setTimeout(() => console.log('timeout'), 0);
//	setImmediate(() => console.log('immediate'));
//	process.nextTick(() => console.log('nextTick'));
//	Promise.resolve().then(() => console.log('microtask'));
//	fs.readFile(__filename, () => {
//	  console.log('I/O callback');
//	  setTimeout(() => console.log('timeout in I/O'), 0);
//	  setImmediate(() => console.log('immediate in I/O'));
//	});
//	console.log('sync');
//
// sync, nextTick and microtask come first, in that order (the main script,
// then its ticks, then its microtasks). "immediate" runs in the first check
// phase, while the file read still needs more trips through the loop. Inside
// the I/O callback the order is fixed: the check phase (immediates) comes
// right after the poll phase that ran the callback, before the loop goes back
// to its timers.
//
// The one line Node leaves to timing is the top-level "timeout": a 0ms
// timeout is a 1ms one, and it runs in the first timers phase that finds a
// millisecond gone. Node usually prints it first, because its start-up takes
// longer than that; this program starts faster and reads files faster, so
// its "timeout" may come after "immediate", or even after the I/O lines.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/nodekit/nodekit/timers"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	var l timers.Loop
	// Should ctx end first, Close makes the file read's late results find the
	// loop closed, so that it closes the file instead of leaving its
	// callbacks on a loop nobody runs.
	defer l.Close()
	say := func(s string) func() { return func() { fmt.Fprintln(out, s) } }

	l.SetTimeout(say("timeout"), 0)
	l.SetImmediate(say("immediate"))
	l.NextTick(say("nextTick"))
	l.QueueMicrotask(say("microtask"))
	readFile(&l, os.Args[0], func(_ []byte, err error) {
		if err != nil {
			fmt.Fprintln(out, "I/O callback:", err)
		} else {
			fmt.Fprintln(out, "I/O callback")
		}
		l.SetTimeout(say("timeout in I/O"), 0)
		l.SetImmediate(say("immediate in I/O"))
	})
	fmt.Fprintln(out, "sync")
	return l.Run(ctx)
}

// readFile reads a file the way Node's fs.readFile does: open, stat, read
// and close each run on another goroutine (libuv's threadpool), and each
// step's result comes back to the loop with Post, as an I/O callback, before
// the next step starts; done runs on the loop after the last. Hold keeps the
// loop alive meanwhile.
//
// If the loop closes before the read ends, done never runs and the file is
// closed all the same: a step that ends after the close finds Post refusing
// its result, and a result the loop took but Close dropped unrun is covered
// by a goroutine that waits for Done.
func readFile(l *timers.Loop, name string, done func([]byte, error)) {
	release := l.Hold()
	var mu sync.Mutex
	var f *os.File // open between the first step and the last; guarded by mu
	file := func() (*os.File, error) {
		mu.Lock()
		defer mu.Unlock()
		if f == nil {
			return nil, os.ErrClosed
		}
		return f, nil
	}
	closeFile := func() error {
		mu.Lock()
		defer mu.Unlock()
		if f == nil {
			return nil
		}
		err := f.Close()
		f = nil
		return err
	}
	finished := make(chan struct{})
	go func() {
		select {
		case <-l.Done():
			closeFile()
		case <-finished:
		}
	}()
	async := func(work func(), then func()) {
		go func() {
			work()
			if err := l.Post(then); err != nil { // the loop is closed
				closeFile()
				release()
			}
		}()
	}
	finish := func(data []byte, err error) {
		close(finished)
		release()
		done(data, err)
	}
	var info os.FileInfo
	var data []byte
	var err error
	async(func() {
		var opened *os.File
		opened, err = os.Open(name)
		mu.Lock()
		f = opened
		mu.Unlock()
	}, func() {
		if err != nil {
			finish(nil, err)
			return
		}
		async(func() {
			var fh *os.File
			if fh, err = file(); err == nil {
				info, err = fh.Stat()
			}
		}, func() {
			if err != nil {
				closeFile()
				finish(nil, err)
				return
			}
			async(func() {
				var fh *os.File
				if fh, err = file(); err == nil {
					data = make([]byte, info.Size())
					_, err = io.ReadFull(fh, data)
				}
			}, func() {
				async(func() {
					if cerr := closeFile(); err == nil {
						err = cerr
					}
				}, func() { finish(data, err) })
			})
		})
	})
}
