package workerpool

// lock takes p.mu for a worker that has just finished a task, trying a few
// times before it parks. sync.Mutex spins by itself only while its P has
// nothing else to run, which is never the case when workers outnumber CPUs
// (libuv's default of 4 workers on a 2-core machine): a contended worker then
// parks and wakes through the scheduler for a lock held for some tens of
// nanoseconds, and the workers convoy. Trying again for a few microseconds
// first, as the runtime's own locks do, cut the cost of 1M tiny tasks at
// size 4 on 2 cores from about 460 to about 300 ns per task
// (benchmarks/workerpool_test.go).
func (p *Pool) lock() {
	for range spinTries {
		if p.mu.TryLock() {
			return
		}
		for i := range spinPause {
			pause(i)
		}
	}
	p.mu.Lock()
}

// spinTries and spinPause bound lock's spinning: about 5 µs in all.
const spinTries, spinPause = 16, 200

// pause is an empty call the compiler cannot remove: a short delay between
// tries.
//
//go:noinline
func pause(int) {}
