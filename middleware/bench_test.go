package middleware_test

import (
	"testing"

	"github.com/nodekit/nodekit/middleware"
)

type benchCtx struct{ n int }

func BenchmarkCompose10(b *testing.B) {
	layers := make([]middleware.Middleware[*benchCtx], 10)
	for i := range layers {
		layers[i] = func(c *benchCtx, next middleware.Next) error {
			c.n++
			return next()
		}
	}
	h := middleware.Compose(layers...)
	c := &benchCtx{}
	b.ReportAllocs()
	for b.Loop() {
		if err := h(c, nil); err != nil {
			b.Fatal(err)
		}
	}
}
