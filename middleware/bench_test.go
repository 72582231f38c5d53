package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nodekit/nodekit/middleware"
)

type benchCtx struct{ n int }

func BenchmarkCompose10(b *testing.B) {
	layers := make([]middleware.Middleware[*benchCtx], 10)
	for i := range layers {
		layers[i] = func(c *benchCtx, next middleware.Next) error {
			c.n++
			return next.Call()
		}
	}
	h := middleware.Compose(layers...)
	c := &benchCtx{}
	b.ReportAllocs()
	for b.Loop() {
		if err := h(c, middleware.Next{}); err != nil {
			b.Fatal(err)
		}
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
