package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// A ResponseWriter wraps an http.ResponseWriter and records what the layers
// send: the status and the number of body bytes. The first Write, Flush or
// ReadFrom implies status 200, as net/http does; WriteHeader takes effect
// once (later calls are ignored, 1xx informational headers aside). Unwrap
// returns the wrapped writer, so http.ResponseController reaches its Flush,
// deadlines and Hijack through the wrapper.
//
// A ResponseWriter is not safe for concurrent use, like the writer it wraps.
type ResponseWriter struct {
	w        http.ResponseWriter
	c        *Context // for the OnCommit hooks
	status   int
	size     int64
	hijacked bool
}

// Header returns the header map that WriteHeader will send.
func (w *ResponseWriter) Header() http.Header { return w.w.Header() }

// WriteHeader sends the status line and headers, once: a response has one
// status. A 1xx informational status (but 101) is passed through and does
// not commit the response, as in net/http.
func (w *ResponseWriter) WriteHeader(code int) {
	if w.Committed() {
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.w.WriteHeader(code)
		return
	}
	if w.c != nil {
		w.c.runHooks()
	}
	w.status = code
	w.w.WriteHeader(code)
}

// Write writes body bytes, sending status 200 first if none was sent.
func (w *ResponseWriter) Write(b []byte) (int, error) {
	w.commit()
	n, err := w.w.Write(b)
	w.size += int64(n)
	return n, err
}

// WriteString writes s without copying it when the wrapped writer can.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	w.commit()
	n, err := io.WriteString(w.w, s)
	w.size += int64(n)
	return n, err
}

// ReadFrom copies r into the body (through the wrapped writer's ReadFrom when
// it has one, which may use sendfile), sending status 200 first if needed.
func (w *ResponseWriter) ReadFrom(r io.Reader) (int64, error) {
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

// Flush sends buffered data to the client, committing the response first.
func (w *ResponseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting failure; http.ResponseController uses it.
func (w *ResponseWriter) FlushError() error {
	w.commit()
	return http.NewResponseController(w.w).Flush()
}

// Hijack takes over the connection (http.Hijacker), through the wrapped
// writer's Hijack or its own Unwrap chain; it fails with
// http.ErrNotSupported where the connection cannot be hijacked (HTTP/2).
// After it, the response counts as committed with status 0.
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, buf, err := http.NewResponseController(w.w).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, buf, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *ResponseWriter) Unwrap() http.ResponseWriter { return w.w }

// Status returns the status sent, or 0 while the response is not committed.
func (w *ResponseWriter) Status() int { return w.status }

// Size returns the number of body bytes written so far.
func (w *ResponseWriter) Size() int64 { return w.size }

// Committed reports whether the status and headers have been sent (or the
// connection hijacked), after which they cannot change.
func (w *ResponseWriter) Committed() bool { return w.status != 0 || w.hijacked }

func (w *ResponseWriter) commit() {
	if !w.Committed() {
		w.WriteHeader(http.StatusOK)
	}
}
