package stream

// Collect ranges s to its end and returns its values, and its error if it
// ended with one (the values before the error are returned with it).
// Node's readable.toArray().
func Collect[T any](s Stream[T]) ([]T, error) {
	mustStream(s)
	var out []T
	for v, err := range s {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ForEach calls fn on each value of s, in order, on the calling goroutine.
// It returns s's error, or the first error from fn, which stops s. Node's
// readable.forEach(fn) without concurrency; see ForEachConcurrent for
// that.
func ForEach[T any](s Stream[T], fn func(T) error) error {
	mustStream(s)
	mustFunc(fn == nil)
	for v, err := range s {
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// Drain ranges s to its end, discarding its values, and returns its error.
// Node's readable.resume() followed by finished().
func Drain[T any](s Stream[T]) error {
	mustStream(s)
	for _, err := range s {
		if err != nil {
			return err
		}
	}
	return nil
}
