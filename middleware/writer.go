package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// A recorder wraps an http.ResponseWriter and records what the layers send:
// the status and the number of body bytes. The first Write, Flush or
// ReadFrom implies status 200, as net/http does; WriteHeader takes effect
// once (later calls are ignored, 1xx informational headers aside). Unwrap
// returns the wrapped writer, so http.ResponseController reaches its Flush,
// deadlines and Hijack through the recorder.
//
// The recorder at the bottom of a Context's Writer (c.rec) runs the OnCommit
// hooks; a Wrap layer puts another one, without hooks, over the writer its
// net/http middleware gives. Both lead a HandlerFunc to their Context.
//
// A recorder is not safe for concurrent use, like the writer it wraps.
type recorder struct {
	w        http.ResponseWriter
	c        *Context
	status   int
	size     int64
	hijacked bool
}

func (w *recorder) Header() http.Header { return w.w.Header() }

// WriteHeader sends the status line and headers, once: a response has one
// status. A 1xx informational status (but 101) is passed through and does
// not commit the response, as in net/http.
func (w *recorder) WriteHeader(code int) {
	if w.committed() {
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.w.WriteHeader(code)
		return
	}
	if w.c != nil && w == &w.c.rec {
		w.c.runHooks()
	}
	w.status = code
	w.w.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	w.commit()
	n, err := w.w.Write(b)
	w.size += int64(n)
	return n, err
}

// WriteString writes s without copying it when the wrapped writer can.
func (w *recorder) WriteString(s string) (int, error) {
	w.commit()
	n, err := io.WriteString(w.w, s)
	w.size += int64(n)
	return n, err
}

// ReadFrom copies r into the body (through the wrapped writer's ReadFrom when
// it has one, which may use sendfile).
func (w *recorder) ReadFrom(r io.Reader) (int64, error) {
	w.commit()
	var n int64
	var err error
	if rf, ok := w.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.w}, r)
	}
	w.size += n
	return n, err
}

// writerOnly hides every method but Write, so io.Copy does not loop back.
type writerOnly struct{ io.Writer }

// Flush is http.Flusher's; it commits the response first.
func (w *recorder) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting failure; http.ResponseController uses it.
func (w *recorder) FlushError() error {
	w.commit()
	return http.NewResponseController(w.w).Flush()
}

// Hijack takes over the connection (http.Hijacker), through the wrapped
// writer's Hijack or its own Unwrap chain. After it, the response counts as
// committed with status 0.
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, buf, err := http.NewResponseController(w.w).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, buf, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *recorder) Unwrap() http.ResponseWriter { return w.w }

func (w *recorder) committed() bool { return w.status != 0 || w.hijacked }

func (w *recorder) commit() {
	if !w.committed() {
		w.WriteHeader(http.StatusOK)
	}
}

// contextOf returns the Context whose recorder w is or wraps (through
// Unwrap), or nil.
func contextOf(w http.ResponseWriter) *Context {
	for w != nil {
		if rec, ok := w.(*recorder); ok {
			return rec.c
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// innermost returns the writer at the bottom of w's Unwrap chain: the one
// net/http made, usually.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}
