package stream_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/stream"
)

// heapAt returns a function that, called from a consumer loop with the
// element count, records the live heap at the two counts given.
type heapAt struct {
	at        [2]int
	heap      [2]int64
	minGrowth int64
}

func (h *heapAt) see(i int) {
	for k, at := range h.at {
		if i == at {
			h.heap[k] = memtest.LiveHeap()
		}
	}
}

func (h *heapAt) check(t *testing.T, name string) {
	t.Helper()
	if grown := h.heap[1] - h.heap[0]; grown > 1<<20 {
		t.Errorf("%s: the live heap grew by %d bytes between element %d and element %d, want < 1 MiB", name, grown, h.at[0], h.at[1])
	}
}

// Memory follows the backlog, not the history: a million elements through
// each stage that holds elements (the concurrent operators' windows, a
// Pipe, BatchTimeout, Lines' buffer) leave the live heap where it was
// after the first hundred thousand.
func TestMemoryFollowsBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("a million elements through each stage")
	}
	const total = 1_000_000
	ctx := context.Background()
	id := func(_ context.Context, x int) (int, error) { return x, nil }
	for name, s := range map[string]stream.Stream[int]{
		"MapConcurrent":           stream.MapConcurrent(ctx, count(total), 4, id),
		"MapConcurrent unordered": stream.MapConcurrent(ctx, count(total), 4, id, stream.Unordered()),
		"FilterConcurrent":        stream.FilterConcurrent(ctx, count(total), 4, func(context.Context, int) (bool, error) { return true, nil }),
		"BatchTimeout": stream.FlatMap(stream.BatchTimeout(ctx, count(total), 100, 1<<40), func(b []int) stream.Stream[int] {
			return stream.FromSlice(b)
		}),
	} {
		h := heapAt{at: [2]int{100_000, total - 1}}
		i := 0
		for _, err := range s {
			if err != nil {
				t.Fatal(err)
			}
			h.see(i)
			i++
		}
		h.check(t, name)
	}

	p := stream.NewPipe[int](1024)
	go p.Feed(ctx, count(total))
	h := heapAt{at: [2]int{100_000, total - 1}}
	i := 0
	for range p.Stream(ctx) {
		h.see(i)
		i++
	}
	h.check(t, "Pipe")
}

// After a line far longer than its buffer, Lines goes back to a small
// buffer: the short lines that follow do not keep the long line's memory.
func TestLinesMemoryAfterLongLine(t *testing.T) {
	const long = 8 << 20
	// One reader with reads of at most 64 KiB, as a file or socket gives
	// them, so that reads end in the middle of lines.
	r := smallReads{strings.NewReader(strings.Repeat("x", long) + "\n" + strings.Repeat("a short line\n", 200_000))}
	before := memtest.LiveHeap()
	i := 0
	var after int64
	for line, err := range stream.LinesMax(r, 16<<20) {
		if err != nil {
			t.Fatal(err)
		}
		if i++; i == 10_000 { // two reads after the long line
			after = memtest.LiveHeap()
		}
		_ = line
	}
	if grown := after - before; grown > 1<<20 {
		t.Fatalf("Lines holds %d bytes more than before, 10,000 short lines after an 8 MiB one; want < 1 MiB", grown)
	}
}

// smallReads reads at most 64 KiB at a time.
type smallReads struct{ r io.Reader }

func (s smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 64<<10)]) }
