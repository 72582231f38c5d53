// Package memtest measures the live heap for the tests that check that
// memory follows the backlog, not the history (a million items through,
// then idle: the heap returns to where it started).
package memtest

import "runtime"

// LiveHeap returns the bytes of live heap objects after two full
// collections (the second frees what the first's finalizers released).
func LiveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
