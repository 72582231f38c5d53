package events

import (
	"fmt"
	"maps"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// TestNamesMatchesMap checks names against a map, over a pool of names larger
// than the slots (in which some share a tag), so that names go to the slots
// and to the sync.Map behind them as they come and go.
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
				// Several names at a time, so that the slots fill up.
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
					en := &entry[int]{name: k}
					ns.put(en)
					model[k] = en
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
				ns.delete(model[k])
				delete(model, k)
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
				ns.each(func(en *entry[int]) {
					if _, dup := all[en.name]; dup {
						t.Fatalf("each() gave %q twice", en.name)
					}
					all[en.name] = en
				})
				if !maps.Equal(all, model) {
					t.Fatalf("each() = %v, model %v", all, model)
				}
				checkSlots(t, &ns, len(model))
			},
		})
	})
}

// checkSlots fails t unless the slots of ns are consistent and, with the map,
// hold size names.
func checkSlots(t *rapid.T, ns *names[int], size int) {
	f := ns.few.Load()
	if f == nil {
		if size != 0 {
			t.Fatalf("no slots for %d names", size)
		}
		return
	}
	n, used := int(f.n.Load()), 0
	for i := range f.s {
		s := &f.s[i]
		en, tag := s.en.Load(), s.tag.Load()
		switch {
		case en == nil && tag != 0:
			t.Fatalf("free slot %d has tag %x", i, tag)
		case en != nil && tag != tagOf(en.name):
			t.Fatalf("slot %d: tag %x for %q, want %x", i, tag, en.name, tagOf(en.name))
		case en != nil && i >= n:
			t.Fatalf("slot %d is in use, beyond n = %d", i, n)
		case en != nil:
			used++
		}
	}
	switch {
	case n > 0 && f.s[n-1].en.Load() == nil:
		t.Fatalf("n = %d, but slot %d is free", n, n-1)
	case f.more.Load() != (ns.nmany > 0):
		t.Fatalf("more = %v with %d names in the map", f.more.Load(), ns.nmany)
	case used+ns.nmany != size:
		t.Fatalf("%d names in the slots and %d in the map, want %d in all", used, ns.nmany, size)
	case ns.nmany > 0 && used < fewNames && size <= used:
		t.Fatal("names in the map while the slots hold them all")
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
		ens[k] = &entry[int]{name: k}
		ns.put(ens[k])
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

// Readers look names up while a writer gives the slots to other names and
// takes them back: a reader finds a name that stays, never finds one that
// is not there, and never takes one name's entry for another's.
func TestNamesReadersDuringWrites(t *testing.T) {
	var ns names[int]
	var mu sync.Mutex // the emitter's mu
	stays := &entry[int]{name: "stays"}
	ns.put(stays)
	pool := make([]*entry[int], 3*fewNames)
	for i := range pool {
		pool[i] = &entry[int]{name: "k" + string(rune('A'+i)) + "mk"} // one tag
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		in := map[*entry[int]]bool{}
		for i := range 20_000 {
			en := pool[(i*7)%len(pool)]
			mu.Lock()
			if in[en] {
				ns.delete(en)
			} else {
				ns.put(en)
			}
			mu.Unlock()
			in[en] = !in[en]
		}
	})
	for range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if got := ns.get("stays"); got != stays {
					t.Errorf("get(stays) = %p, want %p", got, stays)
					return
				}
				en := pool[i%len(pool)]
				if got := ns.get(en.name); got != nil && got != en {
					t.Errorf("get(%q) = the entry of %q", en.name, got.name)
					return
				}
				if got := ns.get("absent"); got != nil {
					t.Errorf("get(absent) = the entry of %q", got.name)
					return
				}
			}
		})
	}
	wg.Wait()
}
