package events

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestListMatchesSlice checks with and without against a slice of handles,
// and that neither changes a list that Emits may hold.
func TestListMatchesSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l *list[int]
		var model []*Listener
		var published []*list[int] // every list so far, with its handles
		var contents [][]*Listener
		t.Repeat(map[string]func(*rapid.T){
			"with": func(t *rapid.T) {
				h := new(Listener)
				prepend := rapid.Bool().Draw(t, "prepend")
				l = l.with(record[int]{fn: func(int) {}, h: h}, prepend)
				if prepend {
					model = slices.Insert(model, 0, h)
				} else {
					model = append(model, h)
				}
				published, contents = append(published, l), append(contents, slices.Clone(model))
			},
			"without": func(t *rapid.T) {
				if len(model) < 2 {
					t.Skip("without needs two listeners")
				}
				i := rapid.IntRange(0, len(model)-1).Draw(t, "i")
				l = l.without(i)
				model = slices.Delete(model, i, i+1)
				published, contents = append(published, l), append(contents, slices.Clone(model))
			},
			"": func(t *rapid.T) {
				if l == nil {
					return
				}
				if l.head != nil && (l.head.head != nil || len(l.rs) != 1) {
					t.Fatalf("a list with a head has a head of its own or %d records", len(l.rs))
				}
				for i, p := range published {
					if got := handles(p); !slices.Equal(got, contents[i]) {
						t.Fatalf("list %d holds %v, held %v", i, got, contents[i])
					}
				}
				for i, h := range model {
					if got := l.indexOf(h); got != i {
						t.Fatalf("indexOf(listener %d) = %d", i, got)
					}
				}
				if l.len() != len(model) || l.indexOf(new(Listener)) != -1 {
					t.Fatalf("len() = %d, want %d; or a stranger found", l.len(), len(model))
				}
			},
		})
	})
}

// handles returns the handles of l's listeners in order.
func handles(l *list[int]) []*Listener {
	var hs []*Listener
	for _, rs := range l.parts() {
		for _, r := range rs {
			hs = append(hs, r.h)
		}
	}
	return hs
}
