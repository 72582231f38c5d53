package stream

import (
	"context"
	"errors"
	"io"
	"iter"
	"sync"
)

// Chunks returns a Stream of the bytes read from r in chunks of size
// bytes: each chunk but the last has exactly size bytes (reads are repeated
// until it is full, as io.ReadFull does), the last has what is left. Every
// chunk is a new slice, never written again: the consumer may keep it.
// A read error other than io.EOF is the last element, after a chunk of the
// bytes read before it. It can be ranged once (see ErrConsumed). Node's
// fs.createReadStream(path, {highWaterMark: size}), except that Node's
// chunks have whatever size each read returned. Chunks panics if r is nil
// or size < 1.
func Chunks(r io.Reader, size int) Stream[[]byte] {
	if r == nil {
		panic("stream: nil Reader")
	}
	mustPositive(size, "chunk size")
	var once oneShot
	return func(yield func([]byte, error) bool) {
		if !once.take() {
			consumed(yield)
			return
		}
		for {
			buf := make([]byte, size)
			n, err := io.ReadFull(r, buf)
			if n > 0 && !yield(buf[:n:n], nil) {
				return
			}
			switch {
			case err == nil:
				continue
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return
			default:
				yield(nil, err)
				return
			}
		}
	}
}

// WriteTo writes every chunk of s to w, in order, and returns the number of
// bytes written and the first error: w's (io.ErrShortWrite for a short
// write without one), which stops s, or s's. readable.pipe(writable) for
// bytes; an empty chunk is not written.
func WriteTo(s Stream[[]byte], w io.Writer) (int64, error) {
	mustStream(s)
	if w == nil {
		panic("stream: nil Writer")
	}
	var total int64
	for b, err := range s {
		if err != nil {
			return total, err
		}
		if len(b) == 0 {
			continue
		}
		n, err := w.Write(b)
		total += int64(n)
		if err == nil && n < len(b) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Reader returns an io.ReadCloser that reads the bytes of the chunks of s,
// in order: the Go side of Node's Readable for bytes, so that gzip.NewReader,
// io.Copy or an http.Request body can take a Stream. Read returns io.EOF at
// the end of s, s's error if it ends with one, and ErrClosed after Close.
// Reading does not modify the chunks.
//
// s runs as iter.Pull2 runs it, a step per Read that needs a chunk (s's
// panics surface from Read); Close stops it (s sees its yield return false)
// and must be called unless Read has returned an error, or s stays
// suspended. Read and Close are not safe for concurrent use with each
// other: Close waits for a Read under way. Reader panics if s is nil.
func Reader(s Stream[[]byte]) io.ReadCloser {
	mustStream(s)
	return &reader{s: s}
}

// reader is Reader's io.ReadCloser.
type reader struct {
	mu   sync.Mutex // one Read or Close at a time
	s    Stream[[]byte]
	next func() ([]byte, error, bool)
	stop func()
	cur  []byte // the rest of the chunk being read
	err  error  // sticky: the end, s's error, or ErrClosed
}

// Read reads the bytes of the next chunks into p.
func (r *reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.next == nil {
			r.next, r.stop = iter.Pull2(iter.Seq2[[]byte, error](r.s))
		}
		b, err, ok := r.next()
		switch {
		case !ok:
			r.err = io.EOF
		case err != nil:
			r.err = err
			r.stop()
		default:
			r.cur = b
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close stops s and makes later Reads return ErrClosed. It returns
// ErrClosed if the Reader was already closed.
func (r *reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == ErrClosed {
		return ErrClosed
	}
	if r.stop != nil {
		r.stop()
	}
	r.err, r.cur = ErrClosed, nil
	return nil
}

// NewWriter returns an io.WriteCloser that writes to p: each Write puts a
// copy of its bytes in p (one chunk per Write, blocking while p is full;
// Write keeps nothing of its argument), with ctx as Pipe.Write's context;
// Close closes p. So that gzip.NewWriter, io.Copy or an http.Response body
// can feed a Stream. Write returns len(b), nil, or 0 and Pipe.Write's error.
// NewWriter panics if ctx or p is nil.
func NewWriter(ctx context.Context, p *Pipe[[]byte]) io.WriteCloser {
	mustContext(ctx)
	if p == nil {
		panic("stream: nil Pipe")
	}
	return &writer{ctx: ctx, p: p}
}

// writer is NewWriter's io.WriteCloser.
type writer struct {
	ctx context.Context
	p   *Pipe[[]byte]
}

// Write puts a copy of b in the Pipe.
func (w *writer) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if err := w.p.Write(w.ctx, append([]byte(nil), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close closes the Pipe.
func (w *writer) Close() error { return w.p.Close() }
