package events

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// names maps the events that have listeners to their entries. Emit looks a
// name up on every call, without a lock. Most emitters have a handful of
// events, so the first fewNames names live in a small immutable table that
// Emit scans, with no hashing; further names go to a sync.Map, whose reads
// are lock-free too (Go's hash trie). Writers hold the emitter's mu.
//
// Adding or removing one of the few names copies the table (320 bytes);
// adding or removing any other name costs what sync.Map's Store and Delete
// cost, never a copy of the other names. The persistent hash trie that this
// replaced took about a third less time per Emit among 1,000 names, but 3.7
// µs and 5 KB to add and remove a name among them (sync.Map: 0.4 µs and 216
// B, on the same machine). sync.Map's own nodes are not padded to cache lines as
// the table is, so parallel Emits of an emitter with more than fewNames
// names can meet the false sharing that lineSize describes.
type names[T any] struct {
	few   atomic.Pointer[table[T]] // nil when empty
	many  sync.Map                 // string → *entry[T]: the names not in few
	nmany int                      // the number of names in many
}

// fewNames is how many names the table holds.
const fewNames = 8

// A table is an immutable array of names and their entries, replaced as a
// whole by writers. It fills whole cache lines (see lineSize), because every
// Emit reads it.
type table[T any] struct {
	n    int  // names in use: key[:n], tag[:n] and en[:n]
	more bool // some names are in many
	key  [fewNames]string
	tag  [fewNames]uint64 // tagOf(key[i])
	en   [fewNames]*entry[T]
	_    [5*lineSize - 272]byte
}

// tagOf packs the length of name and three of its bytes into one word, so
// that a scan compares whole names only where their tags agree.
func tagOf(name string) uint64 {
	if name == "" {
		return 0
	}
	return uint64(len(name))<<24 | uint64(name[0])<<16 | uint64(name[len(name)/2])<<8 | uint64(name[len(name)-1])
}

// get returns the entry of name, or nil.
func (ns *names[T]) get(name string) *entry[T] {
	t := ns.few.Load()
	if t == nil {
		return nil
	}
	tag := tagOf(name)
	for i, g := range t.tag[:t.n] {
		// The same string, as when Emit and On name the event with the
		// same constant, needs no comparison of bytes.
		if k := t.key[i]; g == tag && (unsafe.StringData(k) == unsafe.StringData(name) || k == name) {
			return t.en[i]
		}
	}
	if t.more {
		return ns.getMany(name)
	}
	return nil
}

// getMany returns the entry of name from many, or nil.
func (ns *names[T]) getMany(name string) *entry[T] {
	if v, ok := ns.many.Load(name); ok {
		return v.(*entry[T])
	}
	return nil
}

// put adds name, which has no entry, with its entry en. mu must be held.
func (ns *names[T]) put(name string, en *entry[T]) {
	old := ns.few.Load()
	if old != nil && old.n == fewNames {
		ns.many.Store(name, en)
		ns.nmany++
		if old.more {
			return // the table stays as it is
		}
	}
	t := new(table[T])
	if old != nil {
		*t = *old
	}
	if t.n < fewNames {
		t.key[t.n], t.tag[t.n], t.en[t.n] = name, tagOf(name), en
		t.n++
	} else {
		t.more = true
	}
	ns.few.Store(t)
}

// delete removes name, which has an entry. mu must be held.
func (ns *names[T]) delete(name string) {
	old := ns.few.Load() // not nil: name has an entry
	i := slices.Index(old.key[:old.n], name)
	if i < 0 {
		ns.many.Delete(name)
		if ns.nmany--; ns.nmany > 0 {
			return // the table stays as it is
		}
	}
	t := new(table[T])
	*t = *old
	if i >= 0 {
		t.n--
		t.key[i], t.tag[i], t.en[i] = t.key[t.n], t.tag[t.n], t.en[t.n]
		t.key[t.n], t.tag[t.n], t.en[t.n] = "", 0, nil
	} else {
		t.more = false
	}
	if t.n == 0 && !t.more {
		t = nil
	}
	ns.few.Store(t)
}

// each calls fn for every name, in no particular order. mu must be held.
func (ns *names[T]) each(fn func(name string, en *entry[T])) {
	t := ns.few.Load()
	if t == nil {
		return
	}
	for i := range t.n {
		fn(t.key[i], t.en[i])
	}
	if t.more {
		ns.many.Range(func(k, v any) bool {
			fn(k.(string), v.(*entry[T]))
			return true
		})
	}
}

// clear removes every name. mu must be held.
func (ns *names[T]) clear() {
	ns.few.Store(nil)
	ns.many.Clear()
	ns.nmany = 0
}
