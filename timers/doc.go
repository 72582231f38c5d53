// Package timers is Node's event loop for Go: a Loop runs callbacks one at a
// time, on one goroutine, in Node's documented order, so callback code needs
// no locks.
//
//	var l timers.Loop
//	l.SetTimeout(func() { fmt.Println("timeout") }, 0)
//	l.SetImmediate(func() { fmt.Println("immediate") })
//	l.NextTick(func() { fmt.Println("nextTick") })
//	err := l.Run(ctx) // nextTick, then immediate and timeout
//
// Each iteration runs the timers phase, the poll phase (callbacks other
// goroutines handed over with Post, Node's I/O callbacks) and the check
// phase (SetImmediate). After every callback the NextTick queue drains, then
// the microtask queue. Run returns when nothing keeps the loop alive: no
// ref'd timer, immediate, tick, pending Post or Hold.
//
// The timers are Node's data structures: one intrusive list per duration in
// whole milliseconds, kept in arming order (which is deadline order), and a
// heap of lists by their earliest expiry; one time.Timer wakes the loop for
// the earliest, and no goroutine is started per timer. A Timer is 64 bytes;
// arming one into an existing list, Refresh and Clear are O(1); Touch lets
// other goroutines record activity with one atomic operation. time.AfterFunc,
// by contrast, runs each callback on its own goroutine, in no particular
// order.
//
// # Milliseconds
//
// Durations count in whole milliseconds, as in Node: d is truncated, and one
// below 1ms or above Node's TIMEOUT_MAX (2³¹−1 ms, about 24.8 days) is 1ms,
// the latter with Node's TimeoutOverflowWarning through Loop.Logger (in Go,
// 30*24*time.Hour is an easy mistake). The reason is memory: durations a
// program computes, such as time.Until(deadline), almost never repeat a
// nanosecond count, and a list per nanosecond duration would give each timer
// its own list, map entry and heap slot. In whole milliseconds they share
// lists, and a timer costs its 64 bytes.
//
// # Memory
//
// The loop's memory follows what is scheduled now, not what went through
// it: the map of lists and the heap shrink as lists empty, the NextTick and
// microtask queues are rings that shrink as they drain, and the arrays of a
// burst of posts or immediates are not kept. Once the work is done or
// cleared, the loop's memory is back where it started.
//
// # Closing
//
// A Loop owns no goroutine: Run borrows its caller's. It stops in two ways,
// as net/http.Server does: Run returns nil once nothing keeps the loop alive
// (the drain, so there is no Shutdown), and Close stops it now. A closed
// Loop is closed for good, like a server after Close: what was scheduled is
// dropped without running, and nothing handed to it later is kept or run.
// Post then returns ErrClosed and Done's channel is closed, so producers on
// other goroutines can tell; the other ways to schedule (SetTimeout,
// SetImmediate, NextTick, ...) are meant for the loop's own callbacks, and
// on a closed Loop they keep nothing (the handles they return are inert).
// Run, called on a closed Loop, returns ErrClosed; a Run under way when
// Close is called from another goroutine returns ErrClosed once the callback
// it is running, if any, returns. A callback that panics closes the Loop too, and Run
// returns a *PanicError with the value and the stack (Node exits on an
// uncaught exception; re-raising on Run's goroutine is the caller's choice,
// the error carries all it needs). A callback that calls runtime.Goexit (as
// t.Fatal does) ends the goroutine that called Run, and closes the Loop
// likewise: a Loop is never left "running" with nobody running it.
//
// Sleep and Ticks are timers/promises for plain goroutines. Ticks stops at
// the cancellation of its context, even with ticks already due, where Node's
// iterator yields those first (see Ticks).
//
// Differences from Node: the loop's clock keeps nanoseconds (Node's counts
// milliseconds, so its timers may run up to 1ms early); timers of different
// durations due at the same instant run in the order they were set; a
// callback's panic ends Run with a *PanicError and closes the Loop, where
// Node exits the process.
package timers
