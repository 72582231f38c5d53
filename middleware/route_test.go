package middleware_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/nodekit/nodekit/middleware"
)

var routeUser = middleware.NewKey[string]("user")

// Routes on an http.ServeMux served by Mount run on the App's Context: they
// see values earlier layers set and the mux's PathValue, and their errors go
// up the stack, where the layers above see them and the App answers them.
func TestHandlerFuncUnderMount(t *testing.T) {
	var seen error
	var status int
	mux := http.NewServeMux()
	mux.Handle("GET /hello/{name}", middleware.HandlerFunc(func(c *middleware.Context) error {
		u, _ := routeUser.Get(c)
		_, err := io.WriteString(c.Writer, "hello "+c.Request.PathValue("name")+" from "+u)
		return err
	}))
	mux.Handle("GET /teapot", middleware.HandlerFunc(func(*middleware.Context) error {
		return middleware.Errorf(http.StatusTeapot, "short and stout")
	}))
	app := newApp(func(c *middleware.Context, next middleware.Next) error {
		routeUser.Set(c, "ada")
		err := next.Call()
		seen, status = err, c.FinalStatus(err)
		return err
	}, middleware.Mount(mux))
	srv := newServer(t, app)

	resp, body, err := get(t, srv, "/hello/bob")
	if err != nil || resp.StatusCode != 200 || body != "hello bob from ada" || seen != nil || status != 200 {
		t.Fatalf("GET /hello/bob = %d %q (%v), above saw %v %d", resp.StatusCode, body, err, seen, status)
	}
	resp, body, err = get(t, srv, "/teapot")
	if err != nil || resp.StatusCode != 418 || body != "short and stout\n" || status != 418 {
		t.Fatalf("GET /teapot = %d %q (%v), above saw status %d", resp.StatusCode, body, err, status)
	}
	var he *middleware.HTTPError
	if !errors.As(seen, &he) || he.Code != 418 {
		t.Fatalf("the layer above saw %v, want the route's *HTTPError", seen)
	}
	resp, _, _ = get(t, srv, "/nope")
	if resp.StatusCode != 404 || seen != nil || status != 404 {
		t.Fatalf("GET /nope = %d, above saw %v %d; want the mux's 404", resp.StatusCode, seen, status)
	}
}

// A HandlerFunc served on its own answers its error as an App would.
func TestHandlerFuncStandalone(t *testing.T) {
	h := middleware.HandlerFunc(func(c *middleware.Context) error {
		c.Writer.Header().Set("Set-Cookie", "a=b")
		if strings.HasSuffix(c.Request.URL.Path, "/fail") {
			return middleware.Errorf(http.StatusConflict, "taken")
		}
		_, err := io.WriteString(c.Writer, "ok")
		return err
	})
	srv := newServer(t, h)
	if resp, body, err := get(t, srv, "/"); err != nil || resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("GET / = %d %q (%v)", resp.StatusCode, body, err)
	}
	resp, body, err := get(t, srv, "/fail")
	if err != nil || resp.StatusCode != 409 || body != "taken\n" || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("GET /fail = %d %q %v (%v)", resp.StatusCode, body, resp.Header, err)
	}
}

// In an App, a layer that kept the Next of one request cannot run another
// request's layers with it, on the other's Context (issue 9, item 1).
func TestAppKeptNextCannotTouchAnotherRequest(t *testing.T) {
	var mu sync.Mutex
	var kept middleware.Next
	var stale error
	var paths []string
	app := newApp(func(c *middleware.Context, next middleware.Next) error {
		mu.Lock()
		if c.Request.URL.Path == "/first" {
			kept = next
		} else {
			stale = kept.Call()
		}
		mu.Unlock()
		return next.Call()
	}, func(c *middleware.Context, _ middleware.Next) error {
		mu.Lock()
		paths = append(paths, c.Request.URL.Path)
		mu.Unlock()
		_, err := io.WriteString(c.Writer, c.Request.URL.Path)
		return err
	})
	srv := newServer(t, app)
	for _, path := range []string{"/first", "/second"} {
		if resp, body, err := get(t, srv, path); err != nil || resp.StatusCode != 200 || body != path {
			t.Fatalf("GET %s = %d %q (%v)", path, resp.StatusCode, body, err)
		}
	}
	srv.Close()
	if !errors.Is(stale, middleware.ErrNextAfterReturn) {
		t.Fatalf("the first request's next during the second = %v, want ErrNextAfterReturn", stale)
	}
	if len(paths) != 2 || paths[0] != "/first" || paths[1] != "/second" {
		t.Fatalf("the handler saw %q, want each request once", paths)
	}
}
