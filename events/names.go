package events

import (
	"hash/maphash"
	"math/bits"
)

// names is a persistent (immutable) hash trie from event names to values.
// Writers build a new trie that shares all untouched nodes with the old one
// and publish it with one atomic store; readers walk whatever trie they loaded
// without locks. Put and Delete copy one path: O(log₃₂ n) nodes, so adding a
// new event name never copies every other name, unlike a copy-on-write map.
//
// A nil *names is the empty trie. A node keeps its children in popcount order
// under a 32-bit bitmap, five hash bits per level. Below the last full level
// (after 60 bits) a node is a plain list of colliding entries.
//
// A node fills a cache line (see lineSize), because every Emit reads it.
type names[V any] struct {
	bitmap uint32
	slots  []slot[V]
	_      [lineSize - 32]byte
}

// A slot holds either a subtrie or one entry.
type slot[V any] struct {
	sub  *names[V] // non-nil: a subtrie; the other fields are unused
	hash uint64    // of key, kept so that moving an entry down needs no rehash
	key  string
	val  V
}

const (
	levelBits = 5
	levelMask = 1<<levelBits - 1
	maxDepth  = 64 / levelBits // levels of the trie that use hash bits
)

// seed keys the trie's hash. It is random per process, so that names chosen
// by a remote peer cannot be crafted to collide.
var seed = maphash.MakeSeed()

func hashName(key string) uint64 { return maphash.String(seed, key) }

// get returns the value stored under key, whose hash is h.
func (n *names[V]) get(h uint64, key string) (v V, ok bool) {
	for depth := 0; n != nil; depth++ {
		if depth == maxDepth {
			return n.getCollision(key)
		}
		bit := uint32(1) << (h & levelMask)
		h >>= levelBits
		if n.bitmap&bit == 0 {
			return v, false
		}
		s := &n.slots[bits.OnesCount32(n.bitmap&(bit-1))]
		if s.sub == nil {
			if s.key == key {
				return s.val, true
			}
			return v, false
		}
		n = s.sub
	}
	return v, false
}

func (n *names[V]) getCollision(key string) (v V, ok bool) {
	for i := range n.slots {
		if n.slots[i].key == key {
			return n.slots[i].val, true
		}
	}
	return v, false
}

// put returns a trie that maps key (hash h) to v and is otherwise n.
func (n *names[V]) put(h uint64, key string, v V) *names[V] {
	return n.putAt(0, h, key, v)
}

func (n *names[V]) putAt(depth int, h uint64, key string, v V) *names[V] {
	if depth == maxDepth {
		return n.putCollision(h, key, v)
	}
	if n == nil {
		n = &names[V]{}
	}
	bit := uint32(1) << (h >> (depth * levelBits) & levelMask)
	i := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		return n.with(bit, i, slot[V]{hash: h, key: key, val: v})
	}
	old := n.slots[i]
	switch {
	case old.sub != nil:
		old.sub = old.sub.putAt(depth+1, h, key, v)
	case old.key == key:
		old.val = v
	default: // two names share this slot: push both one level down
		sub := (*names[V])(nil).putAt(depth+1, old.hash, old.key, old.val)
		old = slot[V]{sub: sub.putAt(depth+1, h, key, v)}
	}
	return n.replaced(i, old)
}

func (n *names[V]) putCollision(h uint64, key string, v V) *names[V] {
	c := &names[V]{}
	if n != nil {
		c.slots = make([]slot[V], len(n.slots), len(n.slots)+1)
		copy(c.slots, n.slots)
	}
	for i := range c.slots {
		if c.slots[i].key == key {
			c.slots[i].val = v
			return c
		}
	}
	c.slots = append(c.slots, slot[V]{hash: h, key: key, val: v})
	return c
}

// delete returns a trie without key (hash h); n itself when key is absent.
func (n *names[V]) delete(h uint64, key string) *names[V] {
	return n.deleteAt(0, h, key)
}

func (n *names[V]) deleteAt(depth int, h uint64, key string) *names[V] {
	if n == nil {
		return nil
	}
	if depth == maxDepth {
		for i := range n.slots {
			if n.slots[i].key == key {
				return n.without(0, i)
			}
		}
		return n
	}
	bit := uint32(1) << (h >> (depth * levelBits) & levelMask)
	if n.bitmap&bit == 0 {
		return n
	}
	i := bits.OnesCount32(n.bitmap & (bit - 1))
	old := n.slots[i]
	if old.sub == nil {
		if old.key != key {
			return n
		}
		return n.without(bit, i)
	}
	sub := old.sub.deleteAt(depth+1, h, key)
	if sub == old.sub {
		return n
	}
	// Keep the trie canonical: a subtrie left with one entry moves up.
	if len(sub.slots) == 1 && sub.slots[0].sub == nil {
		return n.replaced(i, sub.slots[0])
	}
	return n.replaced(i, slot[V]{sub: sub})
}

// with returns a copy of n with s inserted at index i under bit.
func (n *names[V]) with(bit uint32, i int, s slot[V]) *names[V] {
	c := &names[V]{bitmap: n.bitmap | bit, slots: make([]slot[V], len(n.slots)+1)}
	copy(c.slots, n.slots[:i])
	c.slots[i] = s
	copy(c.slots[i+1:], n.slots[i:])
	return c
}

// without returns a copy of n without the slot at index i under bit, or nil
// when that leaves it empty.
func (n *names[V]) without(bit uint32, i int) *names[V] {
	if len(n.slots) == 1 {
		return nil
	}
	c := &names[V]{bitmap: n.bitmap &^ bit, slots: make([]slot[V], 0, len(n.slots)-1)}
	c.slots = append(append(c.slots, n.slots[:i]...), n.slots[i+1:]...)
	return c
}

// replaced returns a copy of n with slot i replaced by s.
func (n *names[V]) replaced(i int, s slot[V]) *names[V] {
	c := &names[V]{bitmap: n.bitmap, slots: make([]slot[V], len(n.slots))}
	copy(c.slots, n.slots)
	c.slots[i] = s
	return c
}

// each calls fn for every entry, in no particular order.
func (n *names[V]) each(fn func(key string, v V)) {
	if n == nil {
		return
	}
	for i := range n.slots {
		if s := &n.slots[i]; s.sub != nil {
			s.sub.each(fn)
		} else {
			fn(s.key, s.val)
		}
	}
}
