package stream

// Map returns a Stream of fn applied to each value of s, in order, on the
// goroutine that ranges it. An error from fn ends the stream with it, and
// s's error passes through. No goroutine, no allocation per value. Node's
// readable.map(fn) without concurrency; see MapConcurrent for that.
func Map[T, U any](s Stream[T], fn func(T) (U, error)) Stream[U] {
	mustStream(s)
	mustFunc(fn == nil)
	return func(yield func(U, error) bool) {
		for v, err := range s {
			if err != nil {
				fail(yield, err)
				return
			}
			u, err := fn(v)
			if err != nil {
				fail(yield, err)
				return
			}
			if !yield(u, nil) {
				return
			}
		}
	}
}

// Filter returns a Stream of the values of s for which keep reports true,
// in order. Node's readable.filter(fn).
func Filter[T any](s Stream[T], keep func(T) bool) Stream[T] {
	mustStream(s)
	mustFunc(keep == nil)
	return func(yield func(T, error) bool) {
		for v, err := range s {
			if err != nil {
				fail(yield, err)
				return
			}
			if keep(v) && !yield(v, nil) {
				return
			}
		}
	}
}

// FlatMap returns a Stream of the values of the streams fn returns for the
// values of s, one after the other; a nil Stream from fn counts as empty.
// An error from one of them, or from s, ends the stream with it. Node's
// readable.flatMap(fn).
func FlatMap[T, U any](s Stream[T], fn func(T) Stream[U]) Stream[U] {
	mustStream(s)
	mustFunc(fn == nil)
	return func(yield func(U, error) bool) {
		for v, err := range s {
			if err != nil {
				fail(yield, err)
				return
			}
			inner := fn(v)
			if inner == nil {
				continue
			}
			for u, err := range inner {
				if !yield(u, err) || err != nil {
					return
				}
			}
		}
	}
}

// Take returns a Stream of the first n values of s. It stops s as soon as
// it has yielded the n-th value (s's next value is never asked for) and
// does not range s at all when n is 0. An error among the first n elements
// passes through. Node's readable.take(n). Take panics if n is negative.
func Take[T any](s Stream[T], n int) Stream[T] {
	mustStream(s)
	if n < 0 {
		panic("stream: negative count")
	}
	return func(yield func(T, error) bool) {
		if n == 0 {
			return
		}
		left := n
		for v, err := range s {
			if !yield(v, err) || err != nil {
				return
			}
			if left--; left == 0 {
				return
			}
		}
	}
}

// Tap returns s with fn called on each value before it is passed on, on the
// goroutine that ranges the stream: for logging, counting, metrics.
func Tap[T any](s Stream[T], fn func(T)) Stream[T] {
	mustStream(s)
	mustFunc(fn == nil)
	return func(yield func(T, error) bool) {
		for v, err := range s {
			if err != nil {
				fail(yield, err)
				return
			}
			fn(v)
			if !yield(v, nil) {
				return
			}
		}
	}
}
