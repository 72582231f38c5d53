package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nodekit/nodekit/middleware"
)

type benchCtx struct{ n int }

// composeLayers returns n layers that each count themselves and call next.
// As in benchmarks/middleware_test.go, the layers are closures of a function
// that is inlined where it is called, so their next.Call() is a call rather
// than inlined (golang/go#81380): the common case for layers made by a small
// constructor.
func composeLayers(n int) []middleware.Middleware[*benchCtx] {
	layers := make([]middleware.Middleware[*benchCtx], n)
	for i := range layers {
		layers[i] = func(c *benchCtx, next middleware.Next) error {
			c.n++
			return next.Call()
		}
	}
	return layers
}

// BenchmarkCompose10 is one call of 10 pass-through layers, the row of
// benchmarks/middleware_test.go that is measured against alice.
func BenchmarkCompose10(b *testing.B) {
	h := middleware.Compose(composeLayers(10)...)
	c := &benchCtx{}
	b.ReportAllocs()
	for b.Loop() {
		if err := h(c, middleware.Next{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComposeDepth separates the cost of a call (depth 1) from the cost
// of a layer, against the same depths of nested http.Handler closures (the
// shape alice builds), which have no guard and no pool.
func BenchmarkComposeDepth(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("depth=%d/lib=nodekit", n), func(b *testing.B) {
			h := middleware.Compose(composeLayers(n)...)
			c := &benchCtx{}
			b.ReportAllocs()
			for b.Loop() {
				if err := h(c, middleware.Next{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("depth=%d/lib=nested", n), func(b *testing.B) {
			c := &benchCtx{}
			var h http.Handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
			for range n {
				next := h
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					c.n++
					next.ServeHTTP(w, r)
				})
			}
			w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

// sinkWriter is a reusable http.ResponseWriter that discards the body.
type sinkWriter struct{ h http.Header }

func (w *sinkWriter) Header() http.Header         { return w.h }
func (w *sinkWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *sinkWriter) WriteHeader(int)             {}

func BenchmarkApp10(b *testing.B) {
	layers := make([]middleware.Middleware[*middleware.Context], 10)
	for i := range layers {
		layers[i] = func(c *middleware.Context, next middleware.Next) error { return next.Call() }
	}
	ok := []byte("OK")
	app := newApp(append(layers, func(c *middleware.Context, _ middleware.Next) error {
		_, err := c.Writer.Write(ok)
		return err
	})...)
	w := &sinkWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		app.ServeHTTP(w, r)
	}
}
