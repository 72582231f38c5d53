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
// The timers are Node's data structures: one intrusive list per duration in
// whole milliseconds, kept in arming order (which is deadline order), and a
// heap of lists by their earliest expiry; one time.Timer wakes the loop for
// the earliest, and no goroutine is started per timer. A Timer is 64 bytes;
// arming one into an existing list, Refresh and Clear are O(1); Touch lets
// other goroutines record activity with one atomic operation. time.AfterFunc,
// by contrast, runs each callback on its own goroutine, in no particular
// order.
//
// Durations count in whole milliseconds, as in Node: d is truncated, and one
// below 1ms or above Node's TIMEOUT_MAX (2³¹−1 ms, about 24.8 days) is 1ms,
// the latter with Node's TimeoutOverflowWarning through Loop.Logger (in Go,
// 30*24*time.Hour is an easy mistake). The reason is memory: durations a
// program computes, such as time.Until(deadline), almost never repeat a
// nanosecond count, and a list per nanosecond duration would give each timer
// its own list, map entry and heap slot. In whole milliseconds they share
// lists, and a timer costs its 64 bytes. The map of lists and the heap shrink
// as lists empty, so once timers are cleared the loop's memory is back where
// it started.
//
// Sleep and Ticks are timers/promises for plain goroutines.
//
// Differences from Node: the loop's clock keeps nanoseconds (Node's counts
// milliseconds, so its timers may run up to 1ms early); timers of different
// durations due at the same instant run in the order they were set; a
// callback's panic ends Run with a *PanicError and closes the Loop, where
// Node exits the process.
package timers
