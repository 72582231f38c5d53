package middleware_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/middleware"
)

// get GETs path from srv and returns the response and the error of reading
// its whole body (the transport's error, if the GET itself fails).
func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string, error) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		return &http.Response{Header: http.Header{}}, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// An error (or a recovered panic) after the body started aborts the
// response: the client sees a broken body, not a short one that looks whole
// (issue 9, item 2).
func TestErrorAfterCommitAbortsResponse(t *testing.T) {
	tests := []struct {
		name    string
		layers  []middleware.Middleware[*middleware.Context]
		wantLog []string
	}{
		{"error after flush", []middleware.Middleware[*middleware.Context]{
			func(c *middleware.Context, _ middleware.Next) error {
				io.WriteString(c.Writer, "partial")
				http.NewResponseController(c.Writer).Flush()
				return errors.New("db gone")
			},
		}, []string{"aborting", "db gone", "status=200"}},
		{"error with the body still buffered", []middleware.Middleware[*middleware.Context]{
			func(c *middleware.Context, _ middleware.Next) error {
				c.Writer.WriteHeader(http.StatusAccepted)
				io.WriteString(c.Writer, "partial")
				return middleware.Errorf(http.StatusConflict, "too late")
			},
		}, []string{"aborting", "too late", "status=202"}},
		{"panic after flush, recovered", []middleware.Middleware[*middleware.Context]{
			middleware.Recover[*middleware.Context](),
			func(c *middleware.Context, _ middleware.Next) error {
				io.WriteString(c.Writer, strings.Repeat("x", 10000))
				http.NewResponseController(c.Writer).Flush()
				panic("kaboom")
			},
		}, []string{"aborting", "kaboom", "stack="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := logBuffer()
			app := newApp(tt.layers...)
			app.Logger = logger
			srv := newServer(t, app)
			resp, body, err := get(t, srv, "/")
			if err == nil {
				t.Fatalf("client read %d and %d bytes as a whole response, want a broken one", resp.StatusCode, len(body))
			}
			srv.Close() // waits for the handler: the log is complete
			for _, want := range tt.wantLog {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log %q does not contain %q", logs.String(), want)
				}
			}
		})
	}
}

// An error response starts from a clean header set: the success response's
// cookies, caching and encoding do not leak onto a plain-text error, which
// Go's client can read; the error's own headers and the OnCommit hooks'
// are there (issue 9, item 3).
func TestErrorResponseStartsFromCleanHeaders(t *testing.T) {
	prepare := func(c *middleware.Context, next middleware.Next) error {
		h := c.Writer.Header()
		h.Set("Set-Cookie", "session=secret")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", "1234")
		return next.Call()
	}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
		wantHeader http.Header
	}{
		{"internal error", errors.New("boom"), 500, "Internal Server Error\n", nil},
		{"http error with headers", &middleware.HTTPError{
			Code: 401, Message: "log in first", Header: http.Header{"Www-Authenticate": {`Basic realm="x"`}},
		}, 401, "log in first\n", http.Header{"Www-Authenticate": {`Basic realm="x"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp(middleware.ResponseTime(), prepare, func(*middleware.Context, middleware.Next) error { return tt.err })
			app.Logger = discard()
			resp, body, err := get(t, newServer(t, app), "/")
			if err != nil {
				t.Fatalf("reading the error response: %v", err)
			}
			if resp.StatusCode != tt.wantStatus || body != tt.wantBody {
				t.Fatalf("GET = %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			for _, k := range []string{"Set-Cookie", "Cache-Control", "Content-Encoding"} {
				if v := resp.Header.Get(k); v != "" {
					t.Errorf("the error response has %s: %q", k, v)
				}
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/plain", ct)
			}
			if resp.Header.Get("X-Response-Time") == "" {
				t.Error("the OnCommit hook's X-Response-Time is missing")
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Values(k); len(got) != len(v) || got[0] != v[0] {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
