package events

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// names maps the events that have listeners to their entries. Emit looks a
// name up on every call, without a lock. Most emitters have a handful of
// events, so the first fewNames names live in a small array of slots that
// Emit scans, with no hashing; further names go to a sync.Map, whose reads
// are lock-free too (Go's hash trie). Writers hold the emitter's mu.
//
// A name takes or frees a slot with two atomic stores, allocating nothing:
// an event whose only listener comes and goes (Once, OnceChan) costs no copy
// of the other names. The persistent hash trie that this replaced found a
// name among 1,000 in 60% of the time this takes, but took 2 µs and 5 KB to
// add and remove one (this: 0.4 µs and 216 B, on the same machine). sync.Map's own nodes are not padded to cache lines as the slots
// are, so parallel Emits of an emitter with more than fewNames names can meet
// the false sharing that lineSize describes.
type names[T any] struct {
	few   atomic.Pointer[slots[T]] // nil until the first name
	many  sync.Map                 // string → *entry[T]: the names not in few
	nmany int                      // the number of names in many
}

// fewNames is how many names the slots hold.
const fewNames = 8

// slots holds up to fewNames entries, in any order, with free slots among
// them. A reader may see a slot as it changes, its tag from one entry and its
// entry another, or none: it trusts a slot only once the entry's own name
// matches. It fills whole cache lines (see lineSize), because every Emit reads
// it.
type slots[T any] struct {
	n    atomic.Int32 // the slots in use are among s[:n]
	more atomic.Bool  // some names are in many
	s    [fewNames]struct {
		tag atomic.Uint64            // tagOf(en's name); 0 when free
		en  atomic.Pointer[entry[T]] // nil when free
	}
	_ [3*lineSize - 136]byte
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
	f := ns.few.Load()
	if f == nil {
		return nil
	}
	tag := tagOf(name)
	for i := range f.n.Load() {
		s := &f.s[i]
		if s.tag.Load() != tag {
			continue
		}
		if en := s.en.Load(); en != nil && sameName(en.name, name) {
			return en
		}
	}
	if f.more.Load() {
		return ns.getMany(name)
	}
	return nil
}

// sameName reports whether a == b. The same string, as when Emit and On name
// the event with the same constant, needs no comparison of bytes.
func sameName(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// getMany returns the entry of name from many, or nil.
func (ns *names[T]) getMany(name string) *entry[T] {
	if v, ok := ns.many.Load(name); ok {
		return v.(*entry[T])
	}
	return nil
}

// put adds en, whose name has no entry. mu must be held.
func (ns *names[T]) put(en *entry[T]) {
	f := ns.few.Load()
	if f == nil {
		f = new(slots[T])
		ns.few.Store(f)
	}
	for i := range f.s {
		if s := &f.s[i]; s.en.Load() == nil {
			s.en.Store(en)
			s.tag.Store(tagOf(en.name))
			if int32(i) >= f.n.Load() {
				f.n.Store(int32(i) + 1)
			}
			return
		}
	}
	ns.many.Store(en.name, en)
	ns.nmany++
	f.more.Store(true)
}

// delete removes en, which is in names. mu must be held.
func (ns *names[T]) delete(en *entry[T]) {
	f := ns.few.Load()
	for i := range f.n.Load() {
		if s := &f.s[i]; s.en.Load() == en {
			s.tag.Store(0)
			s.en.Store(nil)
			n := f.n.Load()
			for n > 0 && f.s[n-1].en.Load() == nil {
				n--
			}
			f.n.Store(n)
			return
		}
	}
	ns.many.Delete(en.name)
	if ns.nmany--; ns.nmany == 0 {
		f.more.Store(false)
	}
}

// each calls fn for every entry, in no particular order. mu must be held.
func (ns *names[T]) each(fn func(en *entry[T])) {
	f := ns.few.Load()
	if f == nil {
		return
	}
	for i := range f.n.Load() {
		if en := f.s[i].en.Load(); en != nil {
			fn(en)
		}
	}
	if f.more.Load() {
		ns.many.Range(func(_, v any) bool {
			fn(v.(*entry[T]))
			return true
		})
	}
}

// clear removes every entry. mu must be held.
func (ns *names[T]) clear() {
	if f := ns.few.Load(); f != nil {
		for i := range f.n.Load() {
			f.s[i].tag.Store(0)
			f.s[i].en.Store(nil)
		}
		f.n.Store(0)
		f.more.Store(false)
	}
	ns.many.Clear()
	ns.nmany = 0
}
