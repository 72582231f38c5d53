package middleware_test

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/middleware"
)

// errorSeen returns a layer that stores the error it gets from next.
func errorSeen(seen *error) middleware.Middleware[*middleware.Context] {
	return func(c *middleware.Context, next middleware.Next) error {
		err := next.Call()
		*seen = err
		return err
	}
}

// Behind http.TimeoutHandler, which sends what its handler wrote (200 if
// nothing), an error from the layers is answered through TimeoutHandler's
// writer, and the layers above still see it (issue 9, item 4).
func TestWrapTimeoutHandlerAnswersError(t *testing.T) {
	timeout := func(h http.Handler) http.Handler { return http.TimeoutHandler(h, time.Minute, "too slow") }
	notFound := middleware.Errorf(http.StatusNotFound, "no such page")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
		wantLog    string
	}{
		{"http error", notFound, 404, "no such page\n", ""},
		{"internal error", errors.New("db password is hunter2"), 500, "Internal Server Error\n", "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen error
			logger, logs := logBuffer()
			app := newApp(errorSeen(&seen), middleware.Wrap(timeout), func(c *middleware.Context, _ middleware.Next) error {
				c.Writer.Header().Set("Set-Cookie", "a=b")
				return tt.err
			})
			app.Logger = logger
			srv := newServer(t, app)
			resp, body, err := get(t, srv, "/")
			srv.Close()
			if err != nil || resp.StatusCode != tt.wantStatus || body != tt.wantBody {
				t.Fatalf("GET = %v %q (%v), want %d %q", resp.StatusCode, body, err, tt.wantStatus, tt.wantBody)
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Error("the error response kept the layers' Set-Cookie")
			}
			if !errors.Is(seen, tt.err) {
				t.Errorf("the layer above Wrap saw %v, want %v", seen, tt.err)
			}
			if tt.wantLog == "" && logs.Len() > 0 || !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log = %q, want %q", logs.String(), tt.wantLog)
			}
		})
	}
}

// gzipStd is a compressing net/http middleware of the usual kind: it sets
// Content-Encoding before calling its handler and compresses what it writes.
func gzipStd(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		next.ServeHTTP(&gzipWriter{ResponseWriter: w, gz: gz}, r)
	})
}

type gzipWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (w *gzipWriter) Write(b []byte) (int, error) { return w.gz.Write(b) }
func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// An error behind a compressing middleware is answered through its writer:
// compressed, with its Content-Encoding kept and the layers' headers gone,
// so the client reads it.
func TestWrapAnswersErrorThroughCompressor(t *testing.T) {
	var seen error
	forbidden := middleware.Errorf(http.StatusForbidden, "not yours")
	app := newApp(errorSeen(&seen), middleware.Wrap(gzipStd), func(c *middleware.Context, _ middleware.Next) error {
		c.Writer.Header().Set("Set-Cookie", "a=b")
		c.Writer.Header().Set("Cache-Control", "public")
		return forbidden
	})
	app.Logger = discard()
	resp, body, err := get(t, newServer(t, app), "/")
	if err != nil || resp.StatusCode != 403 || body != "not yours\n" || !resp.Uncompressed {
		t.Fatalf("GET = %v %q (%v), uncompressed by the client: %v; want 403 %q, gzipped",
			resp.StatusCode, body, err, resp.Uncompressed, "not yours\n")
	}
	if resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("the error response kept the layers' headers: %v", resp.Header)
	}
	if resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("Vary = %q, want the middleware's", resp.Header.Get("Vary"))
	}
	if !errors.Is(seen, forbidden) {
		t.Errorf("the layer above Wrap saw %v", seen)
	}
}

// A middleware that leaves its handler running on the very writer it was
// given and returns: the Wrap layer waits without touching the writer, so
// -race sees no race, and the client gets the whole body (issue 9, item 4).
func TestWrapAsyncMiddlewareNoRace(t *testing.T) {
	leaktest.Check(t)
	var wg sync.WaitGroup
	type startedKey struct{}
	async := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started := make(chan struct{})
			wg.Go(func() { h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), startedKey{}, started))) })
			<-started // return while the handler runs
		})
	}
	const n = 20000
	app := newApp(middleware.Wrap(async), func(c *middleware.Context, _ middleware.Next) error {
		close(c.Request.Context().Value(startedKey{}).(chan struct{}))
		for range n {
			if _, err := io.WriteString(c.Writer, "x"); err != nil {
				return err
			}
		}
		return nil
	})
	resp, body, err := get(t, newServer(t, app), "/")
	wg.Wait()
	if err != nil || resp.StatusCode != 200 || len(body) != n {
		t.Fatalf("GET = %v, %d bytes (%v); want 200, %d bytes", resp.StatusCode, len(body), err, n)
	}
}

// An error after the layers wrote through a buffering middleware aborts the
// response: TimeoutHandler would otherwise send the partial body as whole.
func TestWrapErrorAfterWriteAborts(t *testing.T) {
	timeout := func(h http.Handler) http.Handler { return http.TimeoutHandler(h, time.Minute, "too slow") }
	app := newApp(middleware.Wrap(timeout), func(c *middleware.Context, _ middleware.Next) error {
		io.WriteString(c.Writer, "partial")
		return errors.New("failed halfway")
	})
	app.Logger = discard()
	if resp, body, err := get(t, newServer(t, app), "/"); err == nil {
		t.Fatalf("client read %d %q as a whole response, want a broken one", resp.StatusCode, body)
	}
}

// A panic in the layers after http.TimeoutHandler has timed out is
// swallowed by TimeoutHandler; the Wrap layer brings it back as a
// *PanicError, which the App logs with its stack, and the client keeps its
// whole 503.
func TestWrapSwallowedPanicComesBack(t *testing.T) {
	leaktest.Check(t)
	timeout := func(h http.Handler) http.Handler { return http.TimeoutHandler(h, 20*time.Millisecond, "too slow") }
	var seen error
	logger, logs := logBuffer()
	app := newApp(errorSeen(&seen), middleware.Wrap(timeout), func(c *middleware.Context, _ middleware.Next) error {
		<-c.Request.Context().Done()
		panic("late kaboom")
	})
	app.Logger = logger
	srv := newServer(t, app)
	resp, body, err := get(t, srv, "/")
	srv.Close()
	if err != nil || resp.StatusCode != 503 || body != "too slow" {
		t.Fatalf("GET = %v %q (%v), want 503 too slow", resp.StatusCode, body, err)
	}
	var pe *middleware.PanicError
	if !errors.As(seen, &pe) || pe.Value != "late kaboom" {
		t.Fatalf("the layer above Wrap saw %v, want the *PanicError", seen)
	}
	for _, want := range []string{"late kaboom", "stack="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, logs.String())
		}
	}
}

// Misuse fails at the call, with the package prefix.
func TestMisusePanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"Mount(nil)", func() { middleware.Mount(nil) }, "middleware: Mount: nil handler"},
		{"Wrap(nil)", func() { middleware.Wrap(nil) }, "middleware: Wrap: nil middleware"},
		{"Wrap returning nil", func() { middleware.Wrap(func(http.Handler) http.Handler { return nil }) },
			"middleware: Wrap: the middleware returned a nil handler"},
		{"OnCommit(nil)", func() { (&middleware.Context{}).OnCommit(nil) }, "middleware: OnCommit: nil function"},
		{"Use(nil)", func() { (&middleware.App{}).Use(nil) }, "middleware: Compose: layer 0 of 1 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != tt.want {
					t.Fatalf("%s panicked with %v, want %q", tt.name, p, tt.want)
				}
			}()
			tt.f()
		})
	}
}
