package sse

import (
	"runtime"
	"sync"
)

// A freshStack runs functions on new goroutines, one at a time, the caller
// waiting for each, so that what they need in stack is not kept by the
// caller's goroutine.
//
// Why: a goroutine's stack grows while it runs and the collector halves it
// only while less than a quarter of it is in use. A handler parked in
// Subscribe sits under net/http's conn.serve (a frame of 1.1 KiB), so once
// any call has grown its stack to 8 KiB it keeps 8 KiB for the life of the
// stream, idle or not. net/http's write path (the headers most of all) is
// deep enough to do that; run on a freshStack, it leaves the handler's
// goroutine at 4 KiB: 4 KiB less per idle stream (TestBrokerIdleConnectionCost).
//
// The zero freshStack is ready to use; it must not be copied after first
// use.
type freshStack struct {
	start    func() // fs.body, bound once: a go statement on a method allocates
	f        func() error
	err      error // f's result
	done     sync.WaitGroup
	returned bool // f returned: no panic, no Goexit
	p        any  // f's panic value; nil with !returned means Goexit
}

// run runs f on a new goroutine, waits for it and returns its result. It
// re-raises on the caller's goroutine a panic of f, with the same value
// (net/http still recognizes http.ErrAbortHandler), or a runtime.Goexit.
// It allocates nothing after the first call, f being a func value made
// once.
func (fs *freshStack) run(f func() error) error {
	if fs.start == nil {
		fs.start = fs.body
	}
	fs.f, fs.returned, fs.p = f, false, nil
	fs.done.Add(1)
	go fs.start()
	fs.done.Wait()
	err := fs.err
	fs.f, fs.err = nil, nil
	if !fs.returned {
		p := fs.p
		fs.p = nil
		if p != nil { // never nil for a panic since Go 1.21
			panic(p)
		}
		runtime.Goexit()
	}
	return err
}

func (fs *freshStack) body() {
	defer fs.done.Done()
	defer func() {
		if !fs.returned {
			fs.p = recover()
		}
	}()
	fs.err = fs.f()
	fs.returned = true
}

// onFreshStack runs f once on a freshStack and returns its result.
func onFreshStack(f func() error) error {
	var fs freshStack
	return fs.run(f)
}
