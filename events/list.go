package events

// A list is one event's listeners at one instant. It is immutable once
// published: an Emit calls exactly the listeners of the list it loaded, which
// is Node's snapshot rule. Writers publish a new list by compare-and-swap on
// the entry (see Emitter.add and Emitter.remove).
type list[T any] struct {
	rs []record[T] // never empty

	// parent is the list before the last listener of rs was appended: the
	// same listeners but the last. Removing the listener just added, the
	// usual end of a short-lived registration, republishes the parent
	// instead of copying. A parent holds a prefix of rs and so keeps no
	// removed listener alive; depth bounds the chain of parents, and with
	// it the memory they hold.
	parent *list[T]
	depth  uint8

	warned bool // the max-listeners warning was logged (Node's list.warned)
}

// maxParents is the longest chain of parents a list keeps.
const maxParents = 4

// newList returns a list of n zero records to fill.
func newList[T any](n int) *list[T] {
	// Short lists, the common case, take one allocation, a block padded to
	// whole cache lines like the other objects Emit reads (see lineSize).
	switch {
	case n <= 1:
		b := new(block1[T])
		b.l.rs = b.a[:n]
		return &b.l
	case n <= 3:
		b := new(block3[T])
		b.l.rs = b.a[:n]
		return &b.l
	}
	b := new(blockN[T])
	b.l.rs = make([]record[T], n)
	return &b.l
}

// Blocks of newList: a list is 40 bytes, a record 24.
type (
	block1[T any] struct {
		l list[T]
		a [1]record[T]
	}
	block3[T any] struct {
		l list[T]
		a [3]record[T]
		_ [2*lineSize - 112]byte
	}
	blockN[T any] struct {
		l list[T]
		_ [lineSize - 40]byte
	}
)

// with returns a new list of l's listeners and r, which comes last, or first
// if prepend. l may be nil, for a list of r alone. It carries l's warning
// state; the caller decides about a new warning.
func (l *list[T]) with(r record[T], prepend bool) *list[T] {
	if l == nil {
		n := newList[T](1)
		n.rs[0] = r
		return n
	}
	n := newList[T](len(l.rs) + 1)
	n.warned = l.warned
	if prepend {
		n.rs[0] = r
		copy(n.rs[1:], l.rs)
		return n
	}
	copy(n.rs, l.rs)
	n.rs[len(l.rs)] = r
	if l.depth < maxParents {
		n.parent, n.depth = l, l.depth+1
	}
	return n
}

// without returns the list of l's listeners but the one at index i; l must
// have at least two.
func (l *list[T]) without(i int) *list[T] {
	last := len(l.rs) - 1
	// Node forgets the warning when one listener is left.
	warned := l.warned && last > 1
	if p := l.parent; p != nil && i == last && p.warned == warned {
		return p
	}
	n := newList[T](last)
	n.warned = warned
	copy(n.rs, l.rs[:i])
	copy(n.rs[i:], l.rs[i+1:])
	return n
}
