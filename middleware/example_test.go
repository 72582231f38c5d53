package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/nodekit/nodekit/middleware"
)

func ExampleCompose() {
	say := func(name string) middleware.Middleware[string] {
		return func(req string, next middleware.Next) error {
			fmt.Println(name, "before", req)
			err := next()
			fmt.Println(name, "after", req)
			return err
		}
	}
	handler := func(req string, _ middleware.Next) error {
		fmt.Println("handler", req)
		return nil
	}
	app := middleware.Compose(say("A"), say("B"), handler)
	_ = app("/", nil)
	// Output:
	// A before /
	// B before /
	// handler /
	// B after /
	// A after /
}

func ExampleCompose_errors() {
	errNotFound := errors.New("not found")
	fallback := func(_ string, next middleware.Next) error {
		if err := next(); errors.Is(err, errNotFound) {
			fmt.Println("serving the fallback instead")
			return nil // handled: upstream sees success
		}
		return nil
	}
	lookup := func(string, middleware.Next) error { return errNotFound }
	fmt.Println(middleware.Compose(fallback, lookup)("/x", nil))

	twice := func(_ string, next middleware.Next) error {
		next()
		return next()
	}
	fmt.Println(middleware.Compose(twice)("/y", nil))
	// Output:
	// serving the fallback instead
	// <nil>
	// middleware: next() called multiple times
}

// Koa's README app: a logger, X-Response-Time and a hello handler.
func ExampleHandler() {
	logger := func(c *middleware.Context, next middleware.Next) error {
		err := next()
		fmt.Println(c.R.Method, c.R.URL, c.FinalStatus(err), c.W.Header().Get("X-Response-Time") != "")
		return err
	}
	hello := func(c *middleware.Context, _ middleware.Next) error {
		_, err := io.WriteString(c.W, "Hello World")
		return err
	}
	app := middleware.Handler(logger, middleware.ResponseTime(), hello)

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// GET / 200 true
	// 200 Hello World
}

func ExampleError() {
	app := middleware.Handler(func(c *middleware.Context, _ middleware.Next) error {
		if c.R.URL.Query().Get("name") == "" {
			return middleware.Error(http.StatusBadRequest, "name required")
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
	app := middleware.Handler(
		func(c *middleware.Context, next middleware.Next) error {
			requestID.Set(c, "req-42")
			return next()
		},
		func(c *middleware.Context, _ middleware.Next) error {
			id, _ := requestID.Get(c)
			_, err := fmt.Fprintln(c.W, "handling", id)
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
	app := middleware.Handler(middleware.Wrap(tenant), func(c *middleware.Context, _ middleware.Next) error {
		_, err := fmt.Fprintln(c.W, "tenant:", c.R.Context().Value(tenantKey{}))
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
	err := app(0, nil)
	var pe *middleware.PanicError
	fmt.Println(err, errors.As(err, &pe))
	// Output:
	// panic: boom true
}
