package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/nodekit/nodekit/middleware"
)

func ExampleCompose() {
	say := func(name string) middleware.Middleware[string] {
		return func(req string, next middleware.Next) error {
			fmt.Println(name, "before", req)
			err := next.Call()
			fmt.Println(name, "after", req)
			return err
		}
	}
	handler := func(req string, _ middleware.Next) error {
		fmt.Println("handler", req)
		return nil
	}
	app := middleware.Compose(say("A"), say("B"), handler)
	if err := app("/", middleware.Next{}); err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// A before /
	// B before /
	// handler /
	// B after /
	// A after /
}

// A layer handles the one error it knows and passes every other one up, as
// a Koa layer catches in try/catch and rethrows what it cannot handle.
func ExampleCompose_errors() {
	errNotFound := errors.New("not found")
	fallback := func(req string, next middleware.Next) error {
		err := next.Call()
		if errors.Is(err, errNotFound) {
			fmt.Println("serving the fallback for", req)
			return nil // handled: upstream sees success
		}
		return err // nil, or an error this layer cannot handle
	}
	lookup := func(req string, _ middleware.Next) error {
		switch req {
		case "/missing":
			return errNotFound
		case "/broken":
			return errors.New("database unreachable")
		}
		return nil
	}
	app := middleware.Compose(fallback, lookup)
	for _, req := range []string{"/found", "/missing", "/broken"} {
		fmt.Println(req, "->", app(req, middleware.Next{}))
	}

	twice := func(_ string, next middleware.Next) error {
		if err := next.Call(); err != nil {
			return err
		}
		return next.Call()
	}
	fmt.Println(middleware.Compose(twice)("/y", middleware.Next{}))
	// Output:
	// /found -> <nil>
	// serving the fallback for /missing
	// /missing -> <nil>
	// /broken -> database unreachable
	// middleware: next() called multiple times
}

// Koa's README app: a logger, X-Response-Time and a hello handler.
func ExampleApp() {
	logger := func(c *middleware.Context, next middleware.Next) error {
		err := next.Call()
		fmt.Println(c.Request.Method, c.Request.URL, c.FinalStatus(err), c.Writer.Header().Get("X-Response-Time") != "")
		return err
	}
	hello := func(c *middleware.Context, _ middleware.Next) error {
		_, err := io.WriteString(c.Writer, "Hello World")
		return err
	}
	var app middleware.App
	app.Use(logger, middleware.ResponseTime(), hello)

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// GET / 200 true
	// 200 Hello World
}

type user struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Routing, Koa-router style, with the standard library: an http.ServeMux with
// Go 1.22 patterns, served by a Mount layer under the App's layers. Routes
// are HandlerFuncs: they get the App's Context (PathValue, the values earlier
// layers set, the JSON helpers) and return errors that the App answers.
func ExampleApp_routing() {
	users := map[string]user{"1": {"1", "Ada"}}
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", middleware.HandlerFunc(func(c *middleware.Context) error {
		u, ok := users[c.Request.PathValue("id")]
		if !ok {
			return middleware.Errorf(http.StatusNotFound, "no user %s", c.Request.PathValue("id"))
		}
		return c.JSON(http.StatusOK, u)
	}))
	mux.Handle("POST /users", middleware.HandlerFunc(func(c *middleware.Context) error {
		var u user
		if err := c.DecodeJSON(&u, 0); err != nil {
			return err // 400 or 413, with a message for the client
		}
		users[u.ID] = u
		return c.JSON(http.StatusCreated, u)
	}))

	var app middleware.App
	app.Use(middleware.Recover[*middleware.Context](), middleware.Mount(mux))

	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/users/1", nil),
		httptest.NewRequest("GET", "/users/2", nil),
		httptest.NewRequest("POST", "/users", strings.NewReader(`{"id": "2", "name": "Grace"}`)),
		httptest.NewRequest("POST", "/users", strings.NewReader(`{"id": 2}`)),
		httptest.NewRequest("DELETE", "/users/1", nil),
	} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, r)
		fmt.Printf("%s %s: %d %s\n", r.Method, r.URL, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// GET /users/1: 200 {"id":"1","name":"Ada"}
	// GET /users/2: 404 no user 2
	// POST /users: 201 {"id":"2","name":"Grace"}
	// POST /users: 400 JSON number at id has the wrong type, want a string
	// DELETE /users/1: 405 Method Not Allowed
}

// DecodeJSON answers what the client got wrong with a 4xx, never a 500.
func ExampleContext_DecodeJSON() {
	var app middleware.App
	app.Use(func(c *middleware.Context, _ middleware.Next) error {
		var in struct {
			Name string `json:"name"`
		}
		if err := c.DecodeJSON(&in, 64); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"hello": in.Name})
	})
	for _, body := range []string{
		`{"name": "Ada"}`,
		`{"name": "Ada"`,
		`{"name": "` + strings.Repeat("a", 100) + `"}`,
		``,
	} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 {"hello":"Ada"}
	// 400 malformed JSON: unexpected end of the body
	// 413 request body larger than 64 bytes
	// 400 empty request body, want JSON
}

func ExampleErrorf() {
	var app middleware.App
	app.Use(func(c *middleware.Context, _ middleware.Next) error {
		if c.Request.URL.Query().Get("name") == "" {
			return middleware.Errorf(http.StatusBadRequest, "name required")
		}
		return nil
	})
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/greet", nil))
	fmt.Printf("%d %q\n", rec.Code, rec.Body.String())
	// Output:
	// 400 "name required\n"
}

var requestID = middleware.NewKey[string]("request-id")

func ExampleKey() {
	var app middleware.App
	app.Use(
		func(c *middleware.Context, next middleware.Next) error {
			requestID.Set(c, "req-42")
			return next.Call()
		},
		func(c *middleware.Context, _ middleware.Next) error {
			id, _ := requestID.Get(c)
			_, err := fmt.Fprintln(c.Writer, "handling", id)
			return err
		},
	)
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Print(rec.Body.String())
	// Output:
	// handling req-42
}

type tenantKey struct{}

// A net/http middleware of the chi/alice kind, used as a layer: it sets a
// header and passes a request with a context value to the layers after it.
func ExampleWrap() {
	tenant := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Tenant", "acme")
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tenantKey{}, "acme")))
		})
	}
	var app middleware.App
	app.Use(middleware.Wrap(tenant), func(c *middleware.Context, _ middleware.Next) error {
		_, err := fmt.Fprintln(c.Writer, "tenant:", c.Request.Context().Value(tenantKey{}))
		return err
	})
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Print(rec.Header().Get("X-Tenant"), " ", rec.Body.String())
	// Output:
	// acme tenant: acme
}

func ExampleRecover() {
	app := middleware.Compose(middleware.Recover[int](), func(int, middleware.Next) error {
		panic("boom")
	})
	err := app(0, middleware.Next{})
	var pe *middleware.PanicError
	fmt.Println(err, errors.As(err, &pe))
	// Output:
	// panic: boom true
}
