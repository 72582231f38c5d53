// Package timers is Node's event loop for Go: a Loop runs callbacks one at a
// time, on one goroutine, in Node's documented order, so callback code needs
// no locks.
//
//	var l timers.Loop
//	l.SetTimeout(func() { fmt.Println("timeout") }, 0)
//	l.SetImmediate(func() { fmt.Println("immediate") })
//	l.NextTick(func() { fmt.Println("nextTick") })
//	l.Run(ctx) // nextTick, then immediate and timeout
//
// Each iteration runs the timers phase, the poll phase (callbacks other
// goroutines handed over with Post, Node's I/O callbacks) and the check
// phase (SetImmediate). After every callback the NextTick queue drains, then
// the microtask queue. Run returns when nothing keeps the loop alive: no
// ref'd timer, immediate, tick, pending Post or Hold.
//
// The timers are Node's data structures: one intrusive list per duration,
// kept in arming order (which is deadline order), and a heap of lists by
// their earliest expiry; one time.Timer wakes the loop for the earliest, and
// no goroutine is started per timer. A Timer is 64 bytes; Refresh moves it
// to the end of its list in O(1); Touch lets other goroutines record
// activity with one atomic store. time.AfterFunc, by contrast, runs each
// callback on its own goroutine, in no particular order.
//
// Sleep and Ticks are timers/promises for plain goroutines.
//
// Differences from Node: durations keep nanoseconds (Node rounds to
// milliseconds); timers of different durations due at the same instant run
// in the order they were set; a callback's panic ends Run with a
// *PanicError and closes the Loop, where Node exits the process.
package timers
