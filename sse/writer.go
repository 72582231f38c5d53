package sse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultWriteTimeout is the deadline on each write and flush of a Writer
// whose Upgrader leaves WriteTimeout zero: long enough for a slow mobile
// link to take an event, short enough that a client that vanished without
// closing its connection frees its goroutine soon.
const DefaultWriteTimeout = 10 * time.Second

// maxKeptBuffer is the largest encode buffer a Writer keeps between
// events: one larger event grows it for that event only, so a connection's
// memory follows the events in flight, not the largest ever sent.
const maxKeptBuffer = 64 << 10

// An Upgrader turns an HTTP response into an event stream, as a Node
// handler does with res.writeHead(200, {"Content-Type":
// "text/event-stream", ...}) and res.flushHeaders(). The zero value is
// ready to use and uses DefaultWriteTimeout; an Upgrader is safe for
// concurrent use and must not be changed while in use.
type Upgrader struct {
	// Retry, when positive, is sent with the headers as a "retry:" field
	// (in whole milliseconds, truncated as Event.Retry is): the client's
	// reconnection time.
	Retry time.Duration

	// WriteTimeout is the deadline on each write and flush of the
	// stream, set before and cleared after each one, so that a peer that
	// stopped reading cannot block a Send for longer. 0 means
	// DefaultWriteTimeout; a negative value sets no deadline.
	WriteTimeout time.Duration
}

// Upgrade answers r with an event stream using the zero Upgrader: see
// (*Upgrader).Upgrade.
func Upgrade(w http.ResponseWriter, r *http.Request) (*Writer, error) {
	var u Upgrader
	return u.Upgrade(w, r)
}

// Upgrade starts an event stream on w, the response to r, and returns the
// Writer that sends its events. It must be called before anything is
// written to w, and the Writer used only until the handler returns; the
// stream ends when the handler returns.
//
// Upgrade sets Content-Type: text/event-stream, Cache-Control: no-cache and
// X-Accel-Buffering: no (nginx then passes each event on at once), removes
// any Content-Length, writes status 200 and the "retry:" field if Retry is
// set, and flushes at once, so that the browser's EventSource fires "open"
// before the first event, not when it arrives. It clears the write deadline
// the server set (http.Server's WriteTimeout would otherwise cut the
// stream) and puts WriteTimeout on each later write instead.
//
// Upgrade reaches the connection through http.NewResponseController, so it
// works through middleware whose writers implement Unwrap (as nodekit's
// middleware, chi's and alice's do) or Flush. If no Flush is reachable it
// writes nothing and returns an error wrapping ErrFlushUnsupported: events
// would otherwise wait in a buffer. If the headers cannot be sent (the
// client left) it returns an error wrapping ErrClosed. Through a wrapper
// that has Flush but no Unwrap, deadlines cannot be set: the stream has
// no per-write deadline, a server WriteTimeout still cuts it, and a Flush
// that cannot report failure may hide that from Send until a later write.
//
// net/http cannot tell whether a response was already committed: if
// something was written to w before Upgrade, the headers Upgrade sets are
// not sent (net/http logs a superfluous WriteHeader), and a browser rejects
// the stream unless the status and Content-Type already sent were 200 and
// text/event-stream. Upgrade leaves any Content-Encoding alone: a
// compressing wrapper that set it (gorilla/handlers sets it before the
// handler runs) must compress what it is given, and its Flush must flush
// the compressor too, or events wait in it; simplest is to serve event
// streams outside compression, which wrappers that choose by Content-Type
// do by themselves.
//
// Upgrade sends the headers from a goroutine of its own, waiting for it:
// net/http's header path would otherwise grow the calling goroutine's stack
// to 8 KiB for as long as the handler runs. A panic there (in a wrapper's
// WriteHeader or Flush) is re-raised on the caller's goroutine, with the
// same value.
//
// Upgrade panics if w is nil. r is the request answered; Upgrade does not
// read its body. When r's context ends — the handler returned, the client
// left (HTTP/2 says so at once, HTTP/1 when the server notices) — the
// stream is over: the Writer then writes nothing more and returns an error
// wrapping ErrClosed. A nil r (in tests) has no context.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (*Writer, error) {
	if w == nil {
		panic("sse: Upgrade: nil ResponseWriter")
	}
	timeout := u.WriteTimeout
	if timeout == 0 {
		timeout = DefaultWriteTimeout
	}
	sw := &Writer{w: w, rc: http.NewResponseController(w), timeout: timeout}
	if r != nil {
		sw.ctx = r.Context()
	}
	if !canFlush(w) {
		return nil, fmt.Errorf("%w: %T has no Flush, FlushError or Unwrap reaching one", ErrFlushUnsupported, w)
	}
	// The server's WriteTimeout counts from the request: clear it, each
	// write sets its own. A writer with no deadlines (a test recorder, a
	// wrapper without Unwrap) streams without them, and is not asked
	// again (ResponseController makes a new error each time it says no).
	if err := sw.rc.SetWriteDeadline(time.Time{}); errors.Is(err, http.ErrNotSupported) {
		sw.timeout = -1
	} else if err != nil {
		return nil, fmt.Errorf("%w: clearing the write deadline: %w", ErrClosed, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	var p []byte
	if u.Retry > 0 {
		p = append(p, "retry: "...)
		p = strconv.AppendInt(p, u.Retry.Milliseconds(), 10)
		p = append(p, "\n\n"...)
	}
	// Sending the headers is net/http's deepest path: on the handler's
	// goroutine it would double the stack an idle stream keeps.
	err := onFreshStack(func() error {
		w.WriteHeader(http.StatusOK)
		return sw.sendRaw(p)
	})
	if err != nil {
		return nil, err
	}
	return sw, nil
}

// canFlush reports whether http.ResponseController can flush w: whether w
// or a writer down its Unwrap chain has FlushError or Flush. It asks
// without flushing, so that Upgrade fails before it writes anything.
func canFlush(w http.ResponseWriter) bool {
	for w != nil {
		switch t := w.(type) {
		case interface{ FlushError() error }, http.Flusher:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
	return false
}

// A Writer sends the events of one stream, as res.write("data: ...\n\n")
// does in a Node handler, but encoded safely (see Event) and flushed at
// once. Upgrade makes it; the zero Writer is not usable.
//
// A Writer is safe for concurrent use: a heartbeat goroutine may send
// comments while the handler sends events; each call writes and flushes
// whole under a mutex. It must not be used after the handler that upgraded
// the response returns.
//
// Each write and flush runs under the Upgrader's WriteTimeout, cleared
// afterwards (an HTTP/2 stream whose write deadline passes is reset even if
// idle). After a write or flush fails — the client left, or stopped reading
// for longer than WriteTimeout — the stream is over: that call and every
// later one return an error wrapping ErrClosed and the cause, and the
// handler should return. The same holds once the request's context ends:
// a goroutine that outlives the handler (a heartbeat not yet stopped) gets
// ErrClosed instead of writing to a finished response. (It must still stop
// before the handler returns: the context ends just after, so a write can
// slip between the two.)
//
// A Writer keeps one encode buffer, reused for every event (Send does not
// allocate once it has grown to the events' size) and dropped after an
// event larger than 64 KiB.
type Writer struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration   // < 0: no deadline (none asked, or w has none)
	ctx     context.Context // the request's; nil: none

	mu  sync.Mutex // guards buf, err and the writes to w
	buf []byte
	err error // sticky, wraps ErrClosed
}

// Send writes ev and flushes it to the client. It returns an error
// wrapping ErrInvalidField, and writes nothing, if ev's ID or Type would
// inject fields (see AppendEvent), and an error wrapping ErrClosed if the
// stream is over.
func (w *Writer) Send(ev Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	buf, err := AppendEvent(w.buf[:0], ev)
	if err != nil {
		return err
	}
	w.keep(buf)
	return w.writeLocked(buf)
}

// SendJSON sends ev with Data replaced by the JSON encoding of v
// (json.Marshal's, one line), the form browsers read with
// JSON.parse(e.data) and better-sse sends by default. A value json.Marshal
// rejects returns its error and writes nothing; otherwise it is Send. A
// panic in v's MarshalJSON propagates to the caller and leaves the Writer
// usable. It allocates what json.Marshal does and a copy of the result.
func (w *Writer) SendJSON(ev Event, v any) error {
	b, err := json.Marshal(v) // outside the lock: a panicking MarshalJSON holds nothing
	if err != nil {
		return fmt.Errorf("sse: SendJSON: %w", err)
	}
	ev.Data = string(b)
	return w.Send(ev)
}

// Comment writes text as comment lines (see AppendComment), which clients
// ignore, and flushes: a heartbeat that keeps proxies and load balancers
// from closing an idle stream, and that finds a dead peer. It returns an
// error wrapping ErrClosed if the stream is over.
func (w *Writer) Comment(text string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	buf := AppendComment(w.buf[:0], text)
	w.keep(buf)
	return w.writeLocked(buf)
}

// sendRaw writes p, frames already encoded (any number of events and
// comments), and flushes once, with Send's locking, deadline and sticky
// error: the Broker's path, which encodes each event once for all its
// subscribers and coalesces what a subscriber has queued into one flush.
func (w *Writer) sendRaw(p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.writeLocked(p)
}

// keep keeps buf for the next event, unless it grew past maxKeptBuffer.
func (w *Writer) keep(buf []byte) {
	if cap(buf) <= maxKeptBuffer {
		w.buf = buf
	} else {
		w.buf = nil
	}
}

// writeLocked writes p and flushes under the write deadline; w.mu is held.
// A failure makes w.err sticky.
func (w *Writer) writeLocked(p []byte) error {
	if w.w == nil {
		panic("sse: Writer not made by Upgrade")
	}
	if w.ctx != nil && w.ctx.Err() != nil {
		w.err = fmt.Errorf("%w: request ended: %w", ErrClosed, context.Cause(w.ctx))
		return w.err
	}
	deadline := w.timeout > 0
	if deadline {
		// A failure here surfaces in the write below.
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	var err error
	if len(p) > 0 {
		_, err = w.w.Write(p)
	}
	if err == nil {
		err = w.rc.Flush()
	}
	if err != nil {
		// The deadline stays: on HTTP/2 it resets the stream, which is over.
		w.err = fmt.Errorf("%w: %w", ErrClosed, err)
		return w.err
	}
	if deadline {
		if err := w.rc.SetWriteDeadline(time.Time{}); err != nil {
			w.err = fmt.Errorf("%w: clearing the write deadline: %w", ErrClosed, err)
			return w.err
		}
	}
	return nil
}
