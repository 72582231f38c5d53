package events

// A list is one event's listeners at one instant. It is immutable once
// published: an Emit calls exactly the listeners of the list it loaded, which
// is Node's snapshot rule. Writers publish a new list by compare-and-swap on
// the entry (see Emitter.add and Emitter.remove).
//
// A list is flat (head is nil) or a flat head and one listener appended to
// it. Adding a listener to a flat list therefore allocates one cache line,
// whatever the length, and removing it again republishes the head, which
// allocates nothing: the usual short-lived registration costs no copy. A head
// holds only listeners of the lists made from it, so it keeps no removed
// listener alive.
type list[T any] struct {
	head   *list[T]    // flat, or nil
	rs     []record[T] // one record when head is not nil
	warned bool        // the max-listeners warning was logged (Node's list.warned)
}

// parts returns the listeners of l in order, as two slices.
func (l *list[T]) parts() [2][]record[T] {
	if l.head != nil {
		return [2][]record[T]{l.head.rs, l.rs}
	}
	return [2][]record[T]{l.rs}
}

// len returns the number of listeners of l.
func (l *list[T]) len() int {
	n := len(l.rs)
	if l.head != nil {
		n += len(l.head.rs)
	}
	return n
}

// indexOf returns the position of h in l, or -1.
func (l *list[T]) indexOf(h *Listener) int {
	rs := l.rs
	if l.head != nil {
		if rs[0].h == h { // the newest, the one most often removed
			return len(l.head.rs)
		}
		rs = l.head.rs
	}
	for i := range rs {
		if rs[i].h == h {
			return i
		}
	}
	return -1
}

// with returns a new list of l's listeners and r, which comes last, or first
// if prepend. l may be nil, for a list of r alone. It carries l's warning
// state; the caller decides about a new warning.
func (l *list[T]) with(r record[T], prepend bool) *list[T] {
	if l == nil || (l.head == nil && !prepend) {
		n := newList[T](1)
		n.rs[0] = r
		if l != nil {
			n.head, n.warned = l, l.warned
		}
		return n
	}
	n := newList[T](l.len() + 1)
	n.warned = l.warned
	rest := n.rs
	if prepend {
		rest[0], rest = r, rest[1:]
	} else {
		rest[len(rest)-1], rest = r, rest[:len(rest)-1]
	}
	for _, rs := range l.parts() {
		rest = rest[copy(rest, rs):]
	}
	return n
}

// without returns the list of l's listeners but the one at index i; l must
// have at least two.
func (l *list[T]) without(i int) *list[T] {
	n := l.len() - 1
	// Node forgets the warning when one listener is left.
	warned := l.warned && n > 1
	if h := l.head; h != nil && i == n && h.warned == warned {
		return h
	}
	f := newList[T](n)
	f.warned = warned
	rest := f.rs
	for _, rs := range l.parts() {
		if 0 <= i && i < len(rs) {
			rest = rest[copy(rest, rs[:i]):]
			rest = rest[copy(rest, rs[i+1:]):]
		} else {
			rest = rest[copy(rest, rs):]
		}
		i -= len(rs)
	}
	return f
}

// newList returns a flat list of n zero records to fill.
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
