package workerpool

import (
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"pgregory.net/rapid"
)

type fakeRunner int

func (fakeRunner) claim() (bool, error) { return true, nil }
func (fakeRunner) canceled() bool       { return false }
func (fakeRunner) exec(*Pool) outcome   { return succeeded }
func (fakeRunner) drop(error)           {}

// TestRingMatchesSlice checks the block queue against a slice: the head
// pops, in order, exactly the jobs pushed before the last sync.
func TestRingMatchesSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q ring
		var model []int
		synced := 0 // how many of model the head may pop
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				for range rapid.IntRange(1, 600).Draw(t, "n") {
					if q.push(fakeRunner(next)) {
						q.stamp(int64(next))
					}
					model = append(model, next)
					next++
				}
			},
			"sync": func(t *rapid.T) {
				q.sync()
				synced = len(model)
			},
			"pop": func(t *rapid.T) {
				for range rapid.IntRange(1, 600).Draw(t, "n") {
					if synced == 0 {
						return
					}
					if !q.ready() {
						t.Fatalf("ready() = false with %d jobs synced", synced)
					}
					if got := int(q.peek().(fakeRunner)); got != model[0] {
						t.Fatalf("peek() = %d, want %d", got, model[0])
					}
					j := q.pop()
					if got := int(j.r.(fakeRunner)); got != model[0] {
						t.Fatalf("pop() = %d, want %d", got, model[0])
					}
					// One job in sampleEvery, by position, has its time.
					want := int64(0)
					if model[0]%sampleEvery == sampleEvery-1 {
						want = int64(model[0])
					}
					if j.enqueued() != want {
						t.Fatalf("job %d popped with time %d, want %d", model[0], j.enqueued(), want)
					}
					model = model[1:]
					synced--
				}
			},
			"": func(t *rapid.T) {
				if n := int(q.pushed - q.popped); q.ready() != (synced > 0) || n != len(model) {
					t.Fatalf("ready() = %v, %d jobs in the ring, want %d with %d synced", q.ready(), n, len(model), synced)
				}
				if len(q.spare) > maxSpares || len(q.used) > maxSpares {
					t.Fatalf("%d spare and %d used blocks kept, want at most %d each", len(q.spare), len(q.used), maxSpares)
				}
			},
		})
	})
}

// TestRingEndsApart pushes from one goroutine and pops from another, each
// end under its own lock as in a Pool, across many blocks: the jobs come
// out whole and in order, and -race sees what each end hands the other
// through the locks (jobs, links, emptied blocks).
func TestRingEndsApart(t *testing.T) {
	const n = 20 * blockSize
	var q ring
	var tailMu, headMu sync.Mutex
	go func() {
		for i := range n {
			tailMu.Lock()
			if q.push(fakeRunner(i)) {
				q.stamp(int64(i))
			}
			tailMu.Unlock()
		}
	}()
	for i := 0; i < n; {
		headMu.Lock()
		if !q.ready() {
			tailMu.Lock()
			q.sync()
			tailMu.Unlock()
			if !q.ready() {
				headMu.Unlock()
				runtime.Gosched()
				continue
			}
		}
		j := q.pop()
		headMu.Unlock()
		want := int64(0)
		if i%sampleEvery == sampleEvery-1 {
			want = int64(i)
		}
		if got := int(j.r.(fakeRunner)); got != i || j.enqueued() != want {
			t.Fatalf("job %d came out as %d, time %d (want %d)", i, got, j.enqueued(), want)
		}
		i++
	}
	if q.ready() {
		t.Fatal("ready() = true after every job was popped")
	}
}

// TestRingForgets checks that the ring holds no popped job once forget has
// run, nor in the blocks it hands back for reuse.
func TestRingForgets(t *testing.T) {
	var q ring
	const n = 3*blockSize + 20
	for i := range n {
		if q.push(fakeRunner(i)) {
			q.stamp(int64(i))
		}
	}
	q.sync()
	for q.ready() {
		q.pop()
	}
	q.forget()
	q.sync() // hands the emptied blocks to the tail
	blocks := append([]*block{q.head}, q.spare...)
	for _, b := range blocks {
		for i, r := range b.jobs {
			if r != nil {
				t.Fatalf("a block still holds job %d at %d after forget", int(r.(fakeRunner)), i)
			}
		}
		for i, at := range b.at {
			if at != 0 {
				t.Fatalf("a block still holds time %d at %d after forget", at, i)
			}
		}
	}
	if len(q.spare) == 0 {
		t.Fatal("no emptied block was kept for reuse")
	}
}

// TestHotFieldsShareALine checks the layout that hotPad sets up: workMu
// starts a cache line, and what a worker writes for every task (the
// counters and the queue's head) is on that line, while the queue's tail,
// which Submit writes, is on another.
func TestHotFieldsShareALine(t *testing.T) {
	var p Pool
	const line = 64
	start := unsafe.Offsetof(p.workMu)
	if start%cacheLine != 0 {
		t.Errorf("workMu is at offset %d, want a multiple of %d: adjust hotPad", start, cacheLine)
	}
	q := unsafe.Offsetof(p.q)
	for name, off := range map[string]uintptr{
		"running":   unsafe.Offsetof(p.running),
		"queued":    unsafe.Offsetof(p.queued),
		"completed": unsafe.Offsetof(p.completed),
		"q.head":    q + unsafe.Offsetof(p.q.head),
		"q.hi":      q + unsafe.Offsetof(p.q.hi),
		"q.popped":  q + unsafe.Offsetof(p.q.popped),
		"q.seen":    q + unsafe.Offsetof(p.q.seen),
	} {
		if off/line != start/line {
			t.Errorf("%s is at offset %d, not on workMu's line (%d)", name, off, start)
		}
	}
	if tail := q + unsafe.Offsetof(p.q.tail); tail-start < cacheLine {
		t.Errorf("q.tail is %d bytes from workMu, want at least %d", tail-start, cacheLine)
	}
	if sub := unsafe.Offsetof(p.submitMu); sub-start < cacheLine {
		t.Errorf("submitMu is %d bytes from workMu, want at least %d", sub-start, cacheLine)
	}
}
