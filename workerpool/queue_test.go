package workerpool

import (
	"testing"

	"pgregory.net/rapid"
)

type fakeRunner int

func (fakeRunner) claim() (bool, error) { return true, nil }
func (fakeRunner) exec(*Pool) outcome   { return succeeded }
func (fakeRunner) drop(error)           {}

// TestRingMatchesSlice checks the block queue against a slice.
func TestRingMatchesSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q ring
		var model []int
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				for range rapid.IntRange(1, 600).Draw(t, "n") {
					q.push(job{r: fakeRunner(next)})
					model = append(model, next)
					next++
				}
			},
			"pop": func(t *rapid.T) {
				for range rapid.IntRange(1, 600).Draw(t, "n") {
					if len(model) == 0 {
						return
					}
					if got := int(q.pop().r.(fakeRunner)); got != model[0] {
						t.Fatalf("pop() = %d, want %d", got, model[0])
					}
					model = model[1:]
				}
			},
			"": func(t *rapid.T) {
				if q.len() != len(model) || q.spares > maxSpares {
					t.Fatalf("len() = %d, want %d (spares %d)", q.len(), len(model), q.spares)
				}
			},
		})
	})
}
