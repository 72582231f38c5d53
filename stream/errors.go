package stream

import (
	"errors"

	"github.com/nodekit/nodekit/internal/panics"
)

// ErrConsumed is the only element of a second range over a Stream whose
// source can be read once (FromChan, Lines, Chunks, a Pipe's Stream, and
// every stage built on one).
var ErrConsumed = errors.New("stream: one-shot stream ranged again")

// ErrClosed is returned by a Pipe's Write after Close or CloseWithError, by
// a second Close, and by a Reader's Read after its Close. Node's
// ERR_STREAM_WRITE_AFTER_END.
var ErrClosed = errors.New("stream: closed")

// ErrStopped is returned by a Pipe's Write once the Pipe's reader has
// stopped before the end (it broke out of its loop, or its context ended):
// nobody will read what is written. It is also the Pipe's Err then. Node's
// ERR_STREAM_DESTROYED. Pipeline does not count it as a stage's failure:
// the stage that stopped reading reports its own reason, if any.
var ErrStopped = errors.New("stream: reader stopped")

// ErrLineTooLong is the last element of Lines when a line is longer than
// the limit (MaxLineLength, or LinesMax's max); the error says which line.
var ErrLineTooLong = errors.New("stream: line too long")

// ErrGoexit is the error at the place of an element whose function called
// runtime.Goexit (as testing's t.FailNow does) on a goroutine of the
// package's (a concurrent operator's worker, a Pipeline stage, the
// goroutine that reads the source of MapConcurrent or BatchTimeout).
var ErrGoexit = errors.New("stream: function called runtime.Goexit")

// A PanicError is a panic recovered on a goroutine of the package's (a
// concurrent operator's worker, a Pipeline stage, the goroutine that reads
// the source of a concurrent operator or BatchTimeout): the panic value
// (Value) and the stack of the goroutine that panicked (Stack). It is the
// error at that element's place in the stream. Unwrap gives the value when
// it is an error. It is one type with workerpool.PanicError,
// timers.PanicError and middleware.PanicError.
type PanicError = panics.Error
