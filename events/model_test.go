package events_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestEmitterMatchesModel drives the real Emitter and the plain model with the
// same random steps (listeners that add, remove, emit, clear and panic while
// an emit is under way included) and requires identical traces and state.
func TestEmitterMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		got := &runner{s: newReal()}
		want := &runner{s: newModel()}
		checked := 0 // the traces only grow: compare what each step added
		apply := func(st step) {
			got.run(st)
			want.run(st)
			if diff := cmp.Diff(want.trace[checked:], got.trace[min(checked, len(got.trace)):]); diff != "" {
				t.Fatalf("after %+v: trace mismatch (-model +real):\n%s", st, diff)
			}
			checked = len(want.trace)
		}
		t.Repeat(map[string]func(*rapid.T){
			"step": func(t *rapid.T) { apply(genStep.Draw(t, "step")) },
			"emitAll": func(t *rapid.T) {
				v := genPayload.Draw(t, "v")
				for _, ev := range []string{"a", "b", "c", "monitor", "error"} {
					apply(step{Op: "emit", Event: ev, N: v})
				}
			},
			"": func(t *rapid.T) {
				for _, ev := range []string{"a", "b", "c", "error", "monitor", "newListener", "removeListener"} {
					if g, w := got.s.count(ev), want.s.count(ev); g != w {
						t.Fatalf("ListenerCount(%q) = %d, model says %d", ev, g, w)
					}
				}
				if diff := cmp.Diff(want.s.names(), got.s.names()); diff != "" {
					t.Fatalf("EventNames mismatch (-model +real):\n%s", diff)
				}
				if diff := cmp.Diff(want.finish(), got.finish()); diff != "" {
					t.Fatalf("warnings mismatch (-model +real):\n%s", diff)
				}
			},
		})
	})
}
