package middleware_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/middleware"
)

// open starts h on a loopback server for the test and GETs path, leaving
// the body to the caller (it is closed with the server at the end).
func open(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// serve returns a function that GETs paths from app over loopback and
// returns the response and its body.
func serve(t *testing.T, app http.Handler) func(path string) (*http.Response, string) {
	t.Helper()
	return func(path string) (*http.Response, string) {
		t.Helper()
		resp := open(t, app, path)
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: reading body: %v", path, err)
		}
		return resp, string(body)
	}
}

// logBuffer returns a logger writing text records to a buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func TestAppResponses(t *testing.T) {
	secret := errors.New("db password is hunter2")
	tests := []struct {
		name       string
		handler    middleware.Middleware[*middleware.Context]
		wantStatus int
		wantBody   string
		wantLog    string // "" means nothing logged
	}{
		{"ok", func(c *middleware.Context, _ middleware.Next) error {
			_, err := io.WriteString(c.Writer, "OK")
			return err
		}, 200, "OK", ""},
		{"nothing written", func(*middleware.Context, middleware.Next) error { return nil }, 200, "", ""},
		{"http error", func(*middleware.Context, middleware.Next) error {
			return middleware.Errorf(http.StatusBadRequest, "name required")
		}, 400, "name required\n", ""},
		{"http error wrapped", func(*middleware.Context, middleware.Next) error {
			return fmt.Errorf("lookup: %w", &middleware.HTTPError{Code: 404, Err: secret})
		}, 404, "Not Found\n", ""},
		{"internal error leaks nothing", func(*middleware.Context, middleware.Next) error {
			return secret
		}, 500, "Internal Server Error\n", "db password is hunter2"},
		{"5xx http error is logged with its cause", func(*middleware.Context, middleware.Next) error {
			return &middleware.HTTPError{Code: 503, Message: "try later", Err: secret}
		}, 503, "try later\n", "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := logBuffer()
			app := newApp(tt.handler)
			app.Logger = logger
			resp, body := serve(t, app)("/x")
			if resp.StatusCode != tt.wantStatus || body != tt.wantBody {
				t.Errorf("GET = %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if strings.Contains(body, "hunter2") {
				t.Errorf("the body leaks the internal error: %q", body)
			}
			if tt.wantLog == "" && logs.Len() > 0 {
				t.Errorf("logged %q, want nothing", logs.String())
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q does not contain %q", logs.String(), tt.wantLog)
			}
		})
	}
}

func TestAppOnionOverHTTP(t *testing.T) {
	var got trace
	app := newApp(
		layer[*middleware.Context](&got, "A"),
		layer[*middleware.Context](&got, "B"),
		func(c *middleware.Context, _ middleware.Next) error {
			got.add("handler")
			_, err := io.WriteString(c.Writer, "OK")
			return err
		},
	)
	resp, body := serve(t, app)("/")
	if resp.StatusCode != 200 || body != "OK" {
		t.Fatalf("GET / = %d %q", resp.StatusCode, body)
	}
	want := trace{">A", ">B", "handler", "<B", "<A"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
}

func TestRecoverOverHTTP(t *testing.T) {
	logger, logs := logBuffer()
	app := newApp(middleware.Recover[*middleware.Context](),
		func(*middleware.Context, middleware.Next) error { panic("kaboom") })
	app.Logger = logger
	resp, body := serve(t, app)("/")
	if resp.StatusCode != 500 || body != "Internal Server Error\n" {
		t.Fatalf("GET / = %d %q, want 500", resp.StatusCode, body)
	}
	for _, want := range []string{"kaboom", "stack=", "http_test.go"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, logs.String())
		}
	}
}

func TestResponseWriterRecords(t *testing.T) {
	tests := []struct {
		name       string
		write      func(w http.ResponseWriter)
		wantStatus int
		wantSize   int64
	}{
		{"write implies 200", func(w http.ResponseWriter) { io.WriteString(w, "abc") }, 200, 3},
		{"first WriteHeader wins", func(w http.ResponseWriter) {
			w.WriteHeader(201)
			w.WriteHeader(500)
			w.Write([]byte("xy"))
		}, 201, 2},
		{"flush implies 200", func(w http.ResponseWriter) { http.NewResponseController(w).Flush() }, 200, 0},
		{"ReadFrom implies 200", func(w http.ResponseWriter) {
			io.Copy(w, strings.NewReader("0123456789"))
		}, 200, 10},
		{"1xx does not commit", func(w http.ResponseWriter) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, 204, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status int
			var size int64
			var committed bool
			app := newApp(func(c *middleware.Context, next middleware.Next) error {
				err := next.Call()
				status, size, committed = c.Status(), c.Size(), c.Committed()
				return err
			}, func(c *middleware.Context, _ middleware.Next) error {
				tt.write(c.Writer)
				return nil
			})
			resp, _ := serve(t, app)("/")
			if status != tt.wantStatus || size != tt.wantSize || !committed || resp.StatusCode != tt.wantStatus {
				t.Fatalf("recorded status %d size %d committed %v, client saw %d; want %d %d true",
					status, size, committed, resp.StatusCode, tt.wantStatus, tt.wantSize)
			}
		})
	}
}

// A streaming handler flushes through the recording wrapper: the client reads
// the first chunk while the handler is still running.
func TestStreamingFlushesThroughWrapper(t *testing.T) {
	leaktest.Check(t)
	second := make(chan struct{})
	app := newApp(middleware.ResponseTime(), func(c *middleware.Context, _ middleware.Next) error {
		io.WriteString(c.Writer, "first\n")
		if err := http.NewResponseController(c.Writer).Flush(); err != nil {
			return err
		}
		<-second
		io.WriteString(c.Writer, "second\n")
		return nil
	})
	resp := open(t, app, "/")
	if resp.Header.Get("X-Response-Time") == "" {
		t.Error("no X-Response-Time on a streamed response")
	}
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); line != "first\n" || err != nil {
		t.Fatalf("first line = %q, %v", line, err)
	}
	close(second) // only now may the handler go on
	if line, err := r.ReadString('\n'); line != "second\n" || err != nil {
		t.Fatalf("second line = %q, %v", line, err)
	}
}

// http.ResponseController reaches deadlines and Hijack through the wrapper.
func TestResponseControllerThroughWrapper(t *testing.T) {
	app := newApp(func(c *middleware.Context, _ middleware.Next) error {
		rc := http.NewResponseController(c.Writer)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			return fmt.Errorf("SetWriteDeadline: %w", err)
		}
		if err := rc.SetWriteDeadline(time.Time{}); err != nil { // clears it, as sse does
			return fmt.Errorf("SetWriteDeadline(zero): %w", err)
		}
		conn, buf, err := rc.Hijack()
		if err != nil {
			return fmt.Errorf("Hijack: %w", err)
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		return buf.Flush()
	})
	var serverLog bytes.Buffer
	srv := httptest.NewUnstartedServer(app)
	srv.Config.ErrorLog = log.New(&serverLog, "", 0)
	srv.Start()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hijacked" {
		t.Fatalf("GET / = %d %q, want the hijacked response", resp.StatusCode, body)
	}
	srv.Close()
	if serverLog.Len() > 0 { // e.g. "response.WriteHeader on hijacked connection"
		t.Fatalf("the server logged %q", serverLog.String())
	}
}

func TestResponseTime(t *testing.T) {
	for name, h := range map[string]middleware.Middleware[*middleware.Context]{
		"body": func(c *middleware.Context, _ middleware.Next) error {
			_, err := io.WriteString(c.Writer, "x")
			return err
		},
		"nothing": func(*middleware.Context, middleware.Next) error { return nil },
		"error":   func(*middleware.Context, middleware.Next) error { return middleware.Errorf(418, "teapot") },
	} {
		t.Run(name, func(t *testing.T) {
			resp, _ := serve(t, newApp(middleware.ResponseTime(), h))("/")
			if v := resp.Header.Get("X-Response-Time"); !strings.HasSuffix(v, "ms") {
				t.Fatalf("X-Response-Time = %q, want a duration in ms", v)
			}
		})
	}
}

func TestLoggerSeesFinalStatus(t *testing.T) {
	tests := []struct {
		name    string
		handler middleware.Middleware[*middleware.Context]
		want    string
	}{
		{"ok", func(c *middleware.Context, _ middleware.Next) error {
			_, err := io.WriteString(c.Writer, "hello")
			return err
		}, "method=GET path=/p status=200 bytes=5"},
		{"http error not yet written", func(*middleware.Context, middleware.Next) error {
			return middleware.Errorf(404, "no such thing")
		}, "status=404"},
		{"internal error not yet written", func(*middleware.Context, middleware.Next) error {
			return errors.New("x")
		}, "status=500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := logBuffer()
			app := newApp(middleware.AccessLog(logger), tt.handler)
			app.Logger = slog.New(slog.DiscardHandler)
			serve(t, app)("/p")
			if !strings.Contains(logs.String(), tt.want) || !strings.Contains(logs.String(), "duration=") {
				t.Fatalf("log %q does not contain %q and a duration", logs.String(), tt.want)
			}
		})
	}
}

var userKey = middleware.NewKey[string]("user")
var errKey = middleware.NewKey[error]("err")

func TestKeys(t *testing.T) {
	var seen []string
	app := newApp(
		func(c *middleware.Context, next middleware.Next) error {
			if _, ok := userKey.Get(c); ok {
				t.Error("a value survived from an earlier request")
			}
			userKey.Set(c, c.Request.URL.Query().Get("u"))
			errKey.Set(c, nil)
			return next.Call()
		},
		func(c *middleware.Context, _ middleware.Next) error {
			u, ok := userKey.Get(c)
			e, eok := errKey.Get(c)
			if !ok || !eok || e != nil {
				t.Errorf("Get = %q %v, %v %v", u, ok, e, eok)
			}
			seen = append(seen, u)
			return nil
		},
	)
	get := serve(t, app)
	get("/?u=ada")
	get("/?u=bob")
	if diff := cmp.Diff([]string{"ada", "bob"}, seen); diff != "" {
		t.Fatalf("values (-want +got):\n%s", diff)
	}
	if userKey.String() != "user" {
		t.Errorf("String() = %q", userKey.String())
	}
}

func TestZeroAppAndUse(t *testing.T) {
	var app middleware.App
	get := serve(t, &app)
	if resp, _ := get("/"); resp.StatusCode != 404 {
		t.Fatalf("zero App answered %d, want 404", resp.StatusCode)
	}
	defer func() {
		if p := recover(); p != "middleware: App.Use after the first request" {
			t.Fatalf("Use after serving panicked with %v", p)
		}
	}()
	app.Use(middleware.Recover[*middleware.Context]())
}

func TestMount(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.PathValue("name"))
	})
	var status int
	app := newApp(func(c *middleware.Context, next middleware.Next) error {
		err := next.Call()
		status = c.Status()
		return err
	}, middleware.Mount(mux))
	get := serve(t, app)
	if resp, body := get("/hello/ada"); resp.StatusCode != 200 || body != "hello ada" || status != 200 {
		t.Fatalf("GET /hello/ada = %d %q (recorded %d)", resp.StatusCode, body, status)
	}
	if resp, _ := get("/nope"); resp.StatusCode != 404 || status != 404 {
		t.Fatalf("GET /nope = %d (recorded %d), want 404", resp.StatusCode, status)
	}
}

// addHeader is a chi-style middleware that sets a header, wraps the writer
// and puts a value into the request context.
type ctxKey struct{}

func addHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Std", "yes")
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, "from std"))
		next.ServeHTTP(&upper{w}, r)
	})
}

// upper upper-cases the body, to show downstream writes go through std's wrapper.
type upper struct{ http.ResponseWriter }

func (u *upper) Write(b []byte) (int, error) { return u.ResponseWriter.Write(bytes.ToUpper(b)) }
func (u *upper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func deny(http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "go away", http.StatusUnauthorized)
	})
}

func TestWrap(t *testing.T) {
	boom := middleware.Errorf(http.StatusTeapot, "short and stout")
	var status int
	var sawValue any
	var wrapErr error
	outer := func(c *middleware.Context, next middleware.Next) error {
		err := next.Call()
		status = c.Status()
		return err
	}
	final := func(c *middleware.Context, _ middleware.Next) error {
		sawValue = c.Request.Context().Value(ctxKey{})
		if c.Request.URL.Path == "/fail" {
			return boom
		}
		_, err := io.WriteString(c.Writer, "downstream")
		return err
	}
	wrapped := middleware.Wrap(addHeader)
	app := newApp(outer, func(c *middleware.Context, next middleware.Next) error {
		wrapErr = wrapped(c, next)
		return wrapErr
	}, final)
	get := serve(t, app)

	resp, body := get("/")
	if resp.StatusCode != 200 || body != "DOWNSTREAM" || resp.Header.Get("X-Std") != "yes" || status != 200 {
		t.Fatalf("GET / = %d %q X-Std=%q (recorded %d)", resp.StatusCode, body, resp.Header.Get("X-Std"), status)
	}
	if sawValue != "from std" {
		t.Fatalf("downstream saw request value %v, want std's", sawValue)
	}
	resp, _ = get("/fail")
	if resp.StatusCode != http.StatusTeapot || !errors.Is(wrapErr, boom) {
		t.Fatalf("GET /fail = %d, Wrap layer returned %v; want 418 and the downstream error", resp.StatusCode, wrapErr)
	}

	ran := false
	app = newApp(outer, middleware.Wrap(deny), func(*middleware.Context, middleware.Next) error {
		ran = true
		return nil
	})
	resp, body = serve(t, app)("/")
	if resp.StatusCode != 401 || body != "go away\n" || ran || status != 401 {
		t.Fatalf("deny: GET = %d %q, downstream ran %v, recorded %d", resp.StatusCode, body, ran, status)
	}
}

// http.TimeoutHandler runs the handler on a goroutine and returns on timeout,
// cancelling the request's context: the layers behind it end then, the Wrap
// layer waits for them, and the client gets the 503.
func TestWrapTimeoutHandler(t *testing.T) {
	leaktest.Check(t)
	timeout := func(h http.Handler) http.Handler { return http.TimeoutHandler(h, 20*time.Millisecond, "too slow") }
	app := newApp(middleware.Wrap(timeout), func(c *middleware.Context, _ middleware.Next) error {
		<-c.Request.Context().Done()
		_, err := io.WriteString(c.Writer, "late") // std's writer drops it
		return err
	})
	app.Logger = discard()
	resp, body := serve(t, app)("/")
	if resp.StatusCode != 503 || body != "too slow" {
		t.Fatalf("GET = %d %q, want 503 too slow", resp.StatusCode, body)
	}
}

// newApp returns an App serving layers.
func newApp(layers ...middleware.Middleware[*middleware.Context]) *middleware.App {
	app := &middleware.App{}
	app.Use(layers...)
	return app
}

// newServer starts h on a loopback server, closed when the test ends.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// discard returns a logger that drops everything.
func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
