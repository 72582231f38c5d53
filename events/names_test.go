package events

import (
	"fmt"
	"maps"
	"testing"

	"pgregory.net/rapid"
)

// TestNamesMatchesMap checks names against a map, over a pool of names larger
// than the table, so that names move between the table and the sync.Map
// behind it as they come and go.
func TestNamesMatchesMap(t *testing.T) {
	pool := make([]string, 3*fewNames)
	for i := range pool {
		pool[i] = fmt.Sprint("event-", i)
	}
	rapid.Check(t, func(t *rapid.T) {
		var ns names[int]
		model := map[string]*entry[int]{}
		t.Repeat(map[string]func(*rapid.T){
			"put": func(t *rapid.T) {
				// Several names at a time, so that the table fills up.
				for range rapid.IntRange(1, fewNames).Draw(t, "names") {
					var absent []string
					for _, k := range pool {
						if model[k] == nil {
							absent = append(absent, k)
						}
					}
					if len(absent) == 0 {
						return
					}
					k := rapid.SampledFrom(absent).Draw(t, "k")
					old, oldT := ns.few.Load(), tableCopy(ns.few.Load())
					en := new(entry[int])
					ns.put(k, en)
					model[k] = en
					unchanged(t, old, oldT)
				}
			},
			"delete": func(t *rapid.T) {
				var present []string
				for _, k := range pool {
					if model[k] != nil {
						present = append(present, k)
					}
				}
				if len(present) == 0 {
					t.Skip("no name to delete")
				}
				k := rapid.SampledFrom(present).Draw(t, "k")
				old, oldT := ns.few.Load(), tableCopy(ns.few.Load())
				ns.delete(k)
				delete(model, k)
				unchanged(t, old, oldT)
			},
			"clear": func(t *rapid.T) {
				ns.clear()
				clear(model)
			},
			"": func(t *rapid.T) {
				for _, k := range pool {
					if got := ns.get(k); got != model[k] {
						t.Fatalf("get(%q) = %p, model has %p", k, got, model[k])
					}
				}
				all := map[string]*entry[int]{}
				ns.each(func(k string, en *entry[int]) {
					if _, dup := all[k]; dup {
						t.Fatalf("each() gave %q twice", k)
					}
					all[k] = en
				})
				if !maps.Equal(all, model) {
					t.Fatalf("each() = %v, model %v", all, model)
				}
				few := ns.few.Load()
				switch {
				case len(model) == 0 && few != nil:
					t.Fatal("the table of no names is not nil")
				case few == nil:
					return
				case few.more != (ns.nmany > 0):
					t.Fatalf("more = %v with %d names in the map", few.more, ns.nmany)
				case few.n+ns.nmany != len(model):
					t.Fatalf("%d names in the table and %d in the map, want %d in all", few.n, ns.nmany, len(model))
				case ns.nmany > 0 && few.n < fewNames && len(model) <= few.n:
					t.Fatal("names in the map while the table holds them all")
				}
				for i := range fewNames {
					switch {
					case i < few.n && few.tag[i] != tagOf(few.key[i]):
						t.Fatalf("slot %d: tag %x for %q, want %x", i, few.tag[i], few.key[i], tagOf(few.key[i]))
					case i >= few.n && (few.key[i] != "" || few.tag[i] != 0 || few.en[i] != nil):
						t.Fatalf("unused slot %d holds %q, %x, %p", i, few.key[i], few.tag[i], few.en[i])
					}
				}
			},
		})
	})
}

// tableCopy returns a copy of t, or nil.
func tableCopy[T any](t *table[T]) *table[T] {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// unchanged fails t unless the table old, which Emits may hold, still equals
// its copy: writers must replace tables, never modify them.
func unchanged(t *rapid.T, old, copied *table[int]) {
	if old != nil && *old != *copied {
		t.Fatalf("a published table changed: %+v, was %+v", *old, *copied)
	}
}

// Names that share their tag are still told apart, and the empty name is a
// name like any other.
func TestNamesSameTag(t *testing.T) {
	same := []string{"", "axxa", "abxa", "acxa", "a\x00xa"}
	for _, k := range same[2:] {
		if tagOf(k) != tagOf(same[1]) {
			t.Fatalf("tagOf(%q) = %x, tagOf(%q) = %x: not a collision", k, tagOf(k), same[1], tagOf(same[1]))
		}
	}
	var ns names[int]
	ens := map[string]*entry[int]{}
	for _, k := range same {
		ens[k] = new(entry[int])
		ns.put(k, ens[k])
	}
	for _, k := range same {
		if got := ns.get(k); got != ens[k] {
			t.Errorf("get(%q) = %p, want %p", k, got, ens[k])
		}
	}
	if got := ns.get("adxa"); got != nil {
		t.Errorf("get(%q) = %p, want nil", "adxa", got)
	}
}
