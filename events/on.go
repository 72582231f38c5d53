package events

import (
	"context"
	"iter"
)

// On returns the values emitted for event on e, in order, as a sequence
// that ends with an error, if any, as its last pair: Node's events.on.
//
//	for v, err := range events.On(ctx, &e, "data", "end") {
//		if err != nil {
//			return err // an "error" event, or ctx.Err()
//		}
//		use(v)
//	}
//
// On registers its listener before it returns, as Node does, so nothing
// emitted after the call is lost, also before the loop starts. Values are
// buffered until the loop takes them, so Emit never waits for the loop; the
// buffer holds the values not yet taken, and its memory follows that
// backlog, not how many went through.
//
// The sequence ends, and the listeners are removed at once, on the first of:
//
//   - an ErrorEvent on e (unless event is ErrorEvent itself, whose values are
//     then ordinary values): after the values buffered before it, the last
//     pair carries it as an error, the value itself when it is an error, as
//     Node's loop throws it. While On listens, "error" is therefore handled
//     and Emit does not panic with an *UnhandledError;
//   - the end of ctx: after the buffered values, the last pair carries
//     ctx.Err(), as Node's loop throws an AbortError;
//   - an emission of one of closeEvents (Node's close option): after the
//     buffered values, the sequence ends with no error;
//   - the end of a range loop over it, by break, return, panic or
//     runtime.Goexit in its body: Node's iterator return().
//
// If ctx has already ended, On registers nothing and the sequence yields
// ctx.Err() alone.
//
// The sequence is single-use and is meant to be ranged over once. Ranging it
// again after a loop ended early yields the values buffered by then (and the
// error that ended it, if it ended so and the error was not yet yielded), as
// Node's iterator does, and nothing more. Two loops over it at the same time
// are a misuse: the second panics. A sequence that is never ranged over keeps
// its listeners, and buffers what they receive, until ctx ends or an error or
// close event comes: give On a ctx that ends.
//
// Node's highWaterMark and lowWaterMark options pause and resume a stream
// emitter; an Emitter has no pause, so On has no such option. On panics if
// ctx or e is nil.
func On[T any](ctx context.Context, e *Emitter[T], event string, closeEvents ...string) iter.Seq2[T, error] {
	checkHelperArgs("On", ctx, e)
	s := &onSeq[T]{l: newListening(e), ready: make(chan struct{}, 1)}
	if err := ctx.Err(); err != nil {
		s.l.end(func() { s.settle(err) })
		return s.all
	}
	registered := false
	defer func() {
		if !registered { // a NewListener listener panicked: undo
			s.l.end(func() { s.settle(nil) })
		}
	}()
	s.l.add(event, s.push, false)
	if event != ErrorEvent {
		s.l.add(ErrorEvent, s.fail, false)
	}
	for _, ce := range closeEvents {
		s.l.add(ce, s.close, false)
	}
	s.l.afterFunc(ctx, func() { s.l.end(func() { s.settle(ctx.Err()) }) })
	registered = true
	return s.all
}

// An onSeq is the state of one On sequence.
type onSeq[T any] struct {
	l     *listening[T]
	ready chan struct{} // holds a token when buf or ended may have changed

	// Guarded by l.mu:
	buf     ring[T]
	ended   bool  // the listeners are gone: the sequence ends when buf is empty
	err     error // yielded after buf, once
	ranging bool  // a loop is running
}

// push is the listener of event. It buffers v even after the sequence has
// ended: only an Emit that began before the removal can still call it, and
// Node buffers such a value too.
func (s *onSeq[T]) push(v T) {
	s.l.mu.Lock()
	s.buf.push(v)
	s.l.mu.Unlock()
	s.wake()
}

// fail is the listener of ErrorEvent.
func (s *onSeq[T]) fail(v T) {
	s.l.end(func() { s.settle(errorOf(v)) })
}

// close is the listener of the close events.
func (s *onSeq[T]) close(T) {
	s.l.end(func() { s.settle(nil) })
}

// settle records that the listeners are gone and why.
func (s *onSeq[T]) settle(err error) {
	s.l.mu.Lock()
	s.ended, s.err = true, err
	s.l.mu.Unlock()
	s.wake()
}

func (s *onSeq[T]) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// all is the sequence.
func (s *onSeq[T]) all(yield func(T, error) bool) {
	s.l.mu.Lock()
	if s.ranging {
		s.l.mu.Unlock()
		panic("events: On's sequence ranged over by two loops at once")
	}
	s.ranging = true
	s.l.mu.Unlock()
	defer s.finish()
	for {
		s.l.mu.Lock()
		if v, ok := s.buf.pop(); ok {
			s.l.mu.Unlock()
			if !yield(v, nil) {
				return
			}
			continue
		}
		if s.ended {
			err := s.err
			s.err = nil
			s.buf.release()
			s.l.mu.Unlock()
			if err != nil {
				var zero T
				yield(zero, err)
			}
			return
		}
		s.l.mu.Unlock()
		<-s.ready
	}
}

// finish ends the sequence when a loop ends, however it ends, and returns
// once the listeners are gone.
func (s *onSeq[T]) finish() {
	defer func() {
		s.l.mu.Lock()
		s.ranging = false
		s.l.mu.Unlock()
	}()
	s.l.end(func() { s.settle(nil) })
	s.l.wait()
}
