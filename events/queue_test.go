package events

import (
	"testing"

	"pgregory.net/rapid"
)

// TestRingMatchesSlice checks the ring against a slice used as a FIFO, and
// that its buffer stays within four times its length (or minRing): memory
// follows the backlog.
func TestRingMatchesSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var r ring[int]
		var model []int
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				for range rapid.IntRange(1, 40).Draw(t, "n") {
					r.push(next)
					model = append(model, next)
					next++
				}
			},
			"pop": func(t *rapid.T) {
				for range rapid.IntRange(1, 40).Draw(t, "n") {
					v, ok := r.pop()
					if len(model) == 0 {
						if ok {
							t.Fatalf("pop() of an empty ring = %d, true", v)
						}
						return
					}
					if !ok || v != model[0] {
						t.Fatalf("pop() = %d, %v; want %d, true", v, ok, model[0])
					}
					model = model[1:]
				}
			},
			"release": func(t *rapid.T) {
				r.release()
			},
			"": func(t *rapid.T) {
				if r.len() != len(model) {
					t.Fatalf("len() = %d, want %d", r.len(), len(model))
				}
				if c := len(r.buf); c > max(minRing, 4*r.len()) {
					t.Fatalf("buffer of %d for %d values", c, r.len())
				}
			},
		})
	})
}

// A consumer one behind a million values keeps a buffer of minRing, and
// allocates nothing per value.
func TestRingOneBehind(t *testing.T) {
	var r ring[int]
	r.push(0)
	allocs := testing.AllocsPerRun(1_000_000, func() {
		r.push(1)
		r.pop()
	})
	if allocs != 0 || len(r.buf) != minRing {
		t.Fatalf("one behind: %v allocs per value, a buffer of %d; want 0 and %d", allocs, len(r.buf), minRing)
	}
}
