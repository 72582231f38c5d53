package events

// A ring is a FIFO queue in a circular buffer whose size follows its length:
// it doubles when full and halves when down to a quarter, to no less than
// minRing, so that its memory is bounded by the backlog, not by how many
// values went through. The zero ring is empty and ready to use.
type ring[T any] struct {
	buf  []T // len(buf) is 0 or a power of two ≥ minRing
	head int // index of the oldest value
	n    int // number of values
}

// minRing is the smallest buffer a ring keeps while in use, so that a
// consumer that keeps up does not allocate per value.
const minRing = 4

func (r *ring[T]) len() int { return r.n }

// push appends v.
func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		r.resize(max(minRing, 2*len(r.buf)))
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// pop removes and returns the oldest value; ok is false if r is empty.
func (r *ring[T]) pop() (v T, ok bool) {
	if r.n == 0 {
		return v, false
	}
	v = r.buf[r.head]
	var zero T
	r.buf[r.head] = zero // let the value be collected
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	if len(r.buf) > minRing && r.n <= len(r.buf)/4 {
		r.resize(len(r.buf) / 2)
	}
	return v, true
}

// release drops the buffer of an empty ring.
func (r *ring[T]) release() {
	if r.n == 0 {
		*r = ring[T]{}
	}
}

// resize moves the values to a new buffer of size entries.
func (r *ring[T]) resize(size int) {
	buf := make([]T, size)
	if r.n > 0 {
		k := copy(buf, r.buf[r.head:min(r.head+r.n, len(r.buf))])
		copy(buf[k:r.n], r.buf)
	}
	r.buf, r.head = buf, 0
}
