package stream

import (
	"context"
	"sync"

	"github.com/nodekit/nodekit/internal/panics"
)

// A Pipe is the writable side of a Stream, for producers that push: Node's
// PassThrough in object mode. Write blocks while highWaterMark values wait
// to be read (Node's write() returning false, then 'drain'); the reader
// ranges Stream. The zero Pipe is ready to use, with a highWaterMark of 0:
// each Write waits for the reader to take its value, as a send on an
// unbuffered channel does.
//
// A Pipe ends in one of two ways. The writer closes it (Close, or
// CloseWithError with the error the reader gets after the values written
// before); once the reader has read to that end, Done is closed and Err
// returns that error. Or the reader stops first (it breaks out of its loop,
// or the context given to Stream ends): then the values waiting are
// dropped, every Write returns ErrStopped, Done is closed and Err returns
// ErrStopped (or the context's error). Either way the Pipe keeps no value
// and no goroutine afterwards.
//
// Write, Close and CloseWithError are safe for concurrent use; there is one
// reader. The buffer is a channel of highWaterMark slots, made at first
// use: memory is highWaterMark times the size of T, and a value leaves the
// Pipe when it is read or dropped.
type Pipe[T any] struct {
	hwm  int
	once sync.Once
	ch   chan T // the values waiting; closed once closed is set and no Write is under way

	mu       sync.Mutex // guards the fields below
	writers  int        // Writes past their check of the state
	closed   bool       // Close or CloseWithError was called
	chClosed bool
	closeErr error
	closing  chan struct{} // closed by Close
	stopped  bool          // the reader stopped before the end
	stop     chan struct{} // closed when the reader stops
	reading  bool          // a range has started
	done     chan struct{} // closed when the Pipe has ended
	err      error         // the outcome, set before done is closed
}

// NewPipe returns a Pipe whose Write blocks while highWaterMark values wait
// to be read; 0 makes each Write wait for the reader. Node's default for an
// object stream is 16. NewPipe panics if highWaterMark is negative.
func NewPipe[T any](highWaterMark int) *Pipe[T] {
	if highWaterMark < 0 {
		panic("stream: negative highWaterMark")
	}
	return &Pipe[T]{hwm: highWaterMark}
}

func (p *Pipe[T]) init() {
	p.once.Do(func() {
		p.ch = make(chan T, p.hwm)
		p.closing = make(chan struct{})
		p.stop = make(chan struct{})
		p.done = make(chan struct{})
	})
}

// Write puts v in the Pipe for the reader, blocking while highWaterMark
// values wait. It returns ErrClosed after Close or CloseWithError,
// ErrStopped once the reader has stopped, or ctx.Err() if ctx ends first;
// in each case v is not in the Pipe (an ended ctx is seen before room in
// the buffer). A Write concurrent with Close or with the reader stopping
// may go either way; its result says which.
func (p *Pipe[T]) Write(ctx context.Context, v T) error {
	mustContext(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	p.init()
	p.mu.Lock()
	switch {
	case p.stopped:
		p.mu.Unlock()
		return ErrStopped
	case p.closed:
		p.mu.Unlock()
		return ErrClosed
	}
	p.writers++
	p.mu.Unlock()
	defer p.leave()

	select {
	case p.ch <- v:
		return nil
	default:
	}
	select {
	case p.ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stop:
		return ErrStopped
	case <-p.closing:
		return ErrClosed
	}
}

// leave ends a Write: the last one out closes the channel of a closed Pipe,
// and drops what a Write racing the reader's stop put in.
func (p *Pipe[T]) leave() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writers--
	if p.writers > 0 {
		return
	}
	if p.stopped {
		p.drain()
	}
	if p.closed && !p.chClosed {
		p.chClosed = true
		close(p.ch)
	}
}

// drain drops the values waiting; p.mu is held.
func (p *Pipe[T]) drain() {
	for {
		select {
		case _, ok := <-p.ch:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// Close ends the Pipe: the reader gets the values written before, then the
// end of the stream. Later Writes return ErrClosed. Close returns ErrClosed
// if the Pipe was already closed, else nil. Node's writable.end().
func (p *Pipe[T]) Close() error { return p.CloseWithError(nil) }

// CloseWithError ends the Pipe with err: the reader gets the values written
// before, then err as the last element (nothing more when err is nil, as
// Close). Later Writes return ErrClosed. It returns ErrClosed, and err is
// not kept, if the Pipe was already closed; else nil. Node's
// writable.destroy(err), except that the values written before are still
// read.
func (p *Pipe[T]) CloseWithError(err error) error {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.closed = true
	p.closeErr = err
	close(p.closing)
	if p.writers == 0 {
		p.chClosed = true
		close(p.ch)
	}
	return nil
}

// Stream returns the readable side of the Pipe: the values in the order
// their Writes returned, then the end, or the error given to
// CloseWithError. When ctx ends first the stream ends with ctx.Err() (an
// ended ctx is seen before any value), and the Pipe is stopped as if the
// reader broke out of its loop. A Pipe has one reader: the first range of
// any Stream of the Pipe reads it, any other range yields ErrConsumed. In
// a Pipeline, pass the stage's context, so that the stage ends when another
// one fails.
func (p *Pipe[T]) Stream(ctx context.Context) Stream[T] {
	mustContext(ctx)
	return func(yield func(T, error) bool) {
		p.init()
		p.mu.Lock()
		first := !p.reading
		p.reading = true
		p.mu.Unlock()
		if !first {
			consumed(yield)
			return
		}
		ended := false
		defer func() {
			if !ended { // the loop broke, panicked or called runtime.Goexit
				p.halt(ErrStopped)
			}
		}()
		var zero T
		done := ctx.Done()
		for {
			if err := ctx.Err(); err != nil {
				ended = true
				p.halt(err)
				yield(zero, err)
				return
			}
			var v T
			var ok bool
			select {
			case v, ok = <-p.ch:
			default:
				select {
				case v, ok = <-p.ch:
				case <-done:
					continue // seen at the top
				}
			}
			if !ok {
				ended = true
				p.mu.Lock()
				err := p.closeErr
				p.finish(err)
				p.mu.Unlock()
				if err != nil {
					yield(zero, err)
				}
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// halt stops the Pipe from the reader's side, with err as its outcome.
func (p *Pipe[T]) halt(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	close(p.stop)
	if p.writers == 0 {
		p.drain()
	}
	p.finish(err)
}

// finish records the outcome and closes done; p.mu is held.
func (p *Pipe[T]) finish(err error) {
	p.err = err
	close(p.done)
}

// Done returns a channel that is closed when the Pipe has ended: the reader
// has read to the end (the values, then the end or the error of
// CloseWithError), or it stopped first. Node's stream.finished.
func (p *Pipe[T]) Done() <-chan struct{} {
	p.init()
	return p.done
}

// Err returns the Pipe's outcome once Done is closed, nil before: nil for
// an end read by the reader, the error given to CloseWithError, ErrStopped
// if the reader broke out of its loop, or the error of the reader's context
// if it ended first.
func (p *Pipe[T]) Err() error {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Feed writes the values of s to p, in order, then closes p with the
// outcome: Close when s ends, CloseWithError with s's error or the error of
// a Write (so the reader learns why the values stopped). It returns that
// error, nil when every value was written: ErrStopped if the reader
// stopped first (which Pipeline does not count as a failure). The Go
// spelling of readable.pipe(writable) as one Pipeline stage:
//
//	lines := stream.NewPipe[string](64)
//	err := stream.Pipeline(ctx,
//		func(ctx context.Context) error { return lines.Feed(ctx, stream.Lines(r)) },
//		func(ctx context.Context) error { return stream.ForEach(lines.Stream(ctx), use) },
//	)
func (p *Pipe[T]) Feed(ctx context.Context, s Stream[T]) error {
	mustContext(ctx)
	mustStream(s)
	normal := false
	defer func() {
		if normal {
			return
		}
		// s panicked or called runtime.Goexit: the reader must not wait
		// for a Close that will not come.
		if v := recover(); v != nil {
			p.CloseWithError(panics.New(v))
			panic(v)
		}
		p.CloseWithError(ErrGoexit)
	}()
	var err error
	for v, serr := range s {
		if serr != nil {
			err = serr
			break
		}
		if err = p.Write(ctx, v); err != nil {
			break
		}
	}
	normal = true
	if err != nil {
		p.CloseWithError(err)
		return err
	}
	p.Close()
	return nil
}
