package benchmarks

// Side-by-side benchmarks of github.com/nodekit/nodekit/middleware against a
// naive Go port of koa-compose and the usual net/http middleware stacks
// (alice, chi, negroni, echo). Names end in /lib=NAME, as in events_test.go:
//
//	go test -run '^$' -bench 'Compose10|HTTPStack10' -count 6 | tee mw.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /lib mw.txt

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	chi "github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/justinas/alice"
	"github.com/labstack/echo/v4"
	"github.com/nodekit/nodekit/middleware"
	"github.com/urfave/negroni/v3"
)

// stackDepth is the number of layers in every benchmarked stack.
const stackDepth = 10

// okBody is the body every HTTP stack's final handler writes. It is a package
// variable so that no stack pays for converting a string to []byte.
var okBody = []byte("OK")

// --- BenchmarkCompose10: the bare onion, no HTTP ---------------------------

// onionCtx is the context BenchmarkCompose10 passes down: every layer
// increments n, so TestStacksServe can see that all of them ran.
type onionCtx struct{ n int }

// onionLayers returns stackDepth layers that each increment c.n and call next.
func onionLayers() []middleware.Middleware[*onionCtx] {
	layers := make([]middleware.Middleware[*onionCtx], stackDepth)
	for i := range layers {
		layers[i] = func(c *onionCtx, next middleware.Next) error {
			c.n++
			return next.Call()
		}
	}
	return layers
}

func newOnionNodekit() middleware.Middleware[*onionCtx] {
	return middleware.Compose(onionLayers()...)
}

func newOnionNaive() middleware.Middleware[*onionCtx] {
	return naiveCompose(onionLayers()...)
}

// newOnionAlice returns alice's chain of stackDepth pass-through layers that
// each increment c.n, around a final handler that does nothing. alice has no
// context argument, so the layers reach c through their closure; there is no
// next-called-twice guard and no error to return.
func newOnionAlice(c *onionCtx) http.Handler {
	ctors := make([]alice.Constructor, stackDepth)
	for i := range ctors {
		ctors[i] = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.n++
				next.ServeHTTP(w, r)
			})
		}
	}
	return alice.New(ctors...).Then(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}

// errNaiveNextTwice is the naive port's "next.Call() called multiple times".
var errNaiveNextTwice = errors.New("naive: next.Call() called multiple times")

// naiveCompose is koa-compose 4.2 (index.js) ported to Go as directly as the
// language allows, the baseline a Go programmer gets by translating it:
//
//	return function (context, next) {
//	  let index = -1
//	  return dispatch(0)
//	  function dispatch (i) {
//	    if (i <= index) return Promise.reject(new Error('next.Call() called multiple times'))
//	    index = i
//	    let fn = middleware[i]
//	    if (i === middleware.length) fn = next
//	    if (!fn) return Promise.resolve()
//	    return Promise.resolve(fn(context, dispatch.bind(null, i + 1)))
//	  }
//	}
//
// Every call makes a dispatch closure capturing index, and every layer's next
// is one more closure capturing i, made a middleware.Next by NextFunc (which
// itself allocates nothing). Go's Next takes no arguments, so the composed
// middleware's own next is called as next.Call() rather than with the context
// and a dispatch.
func naiveCompose[C any](mw ...middleware.Middleware[C]) middleware.Middleware[C] {
	return func(c C, next middleware.Next) error {
		index := -1
		var dispatch func(i int) error
		dispatch = func(i int) error {
			if i <= index {
				return errNaiveNextTwice
			}
			index = i
			if i == len(mw) {
				return next.Call() // the zero Next runs nothing
			}
			fn := mw[i]
			if fn == nil {
				return nil
			}
			return fn(c, middleware.NextFunc(func() error { return dispatch(i + 1) }))
		}
		return dispatch(0)
	}
}

// BenchmarkCompose10 measures one call of a stack of 10 layers that each
// increment a counter in the context and call next, with no HTTP around it.
// lib=alice is the anchor: plain func(http.Handler) http.Handler closures,
// called with a preallocated writer and request, with no guard and no errors.
func BenchmarkCompose10(b *testing.B) {
	b.Run("lib=nodekit", func(b *testing.B) {
		h := newOnionNodekit()
		c := &onionCtx{}
		b.ReportAllocs()
		for b.Loop() {
			if err := h(c, middleware.Next{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lib=naive", func(b *testing.B) {
		h := newOnionNaive()
		c := &onionCtx{}
		b.ReportAllocs()
		for b.Loop() {
			if err := h(c, middleware.Next{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lib=alice", func(b *testing.B) {
		c := &onionCtx{}
		h := newOnionAlice(c)
		w, r := newSinkWriter(), newRequest()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
}

// --- BenchmarkHTTPStack10: 10 layers over net/http --------------------------

// sinkWriter is the cheap, reusable http.ResponseWriter every HTTP benchmark
// serves into: it keeps the status and body so TestStacksServe can check
// them, and reset makes it ready for the next request without allocating. It
// has only the three ResponseWriter methods (no Flush, Hijack or ReadFrom).
type sinkWriter struct {
	h      http.Header
	status int
	body   []byte
}

func newSinkWriter() *sinkWriter { return &sinkWriter{h: make(http.Header)} }

func (w *sinkWriter) Header() http.Header { return w.h }

func (w *sinkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *sinkWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

func (w *sinkWriter) reset() {
	clear(w.h)
	w.status = 0
	w.body = w.body[:0]
}

// newRequest returns the one request every HTTP benchmark serves: GET /.
func newRequest() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }

// probe is what an HTTP stack's layers report: every layer increments layers,
// and the outermost one stores the status and size that the library's
// recorder saw, after next returns.
type probe struct {
	layers int
	status int
	size   int64
}

// finalHandler is the net/http final handler: status 200, body "OK".
func finalHandler(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(okBody)
}

// httpStacks are the setups of BenchmarkHTTPStack10 and TestStacksServe, in
// benchstat column order (nodekit first: the base).
var httpStacks = []struct {
	lib   string
	build func(p *probe) http.Handler
}{
	{"nodekit", newHTTPNodekit},
	{"alice", newHTTPAlice},
	{"chi", newHTTPChi},
	{"negroni", newHTTPNegroni},
	{"echo", newHTTPEcho},
}

// newHTTPNodekit: a middleware.App with 10 pass-through layers and a final
// layer. The Context's Writer records the status and size.
func newHTTPNodekit(p *probe) http.Handler {
	layers := make([]middleware.Middleware[*middleware.Context], 0, stackDepth+1)
	layers = append(layers, func(c *middleware.Context, next middleware.Next) error {
		p.layers++
		err := next.Call()
		p.status, p.size = c.Status(), c.Size()
		return err
	})
	for range stackDepth - 1 {
		layers = append(layers, func(_ *middleware.Context, next middleware.Next) error {
			p.layers++
			return next.Call()
		})
	}
	layers = append(layers, func(c *middleware.Context, _ middleware.Next) error {
		c.Writer.WriteHeader(http.StatusOK)
		_, err := c.Writer.Write(okBody)
		return err
	})
	app := &middleware.App{}
	app.Use(layers...)
	return app
}

// statusWriter is the status-recording wrapper an alice user writes, since
// alice has none.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += int64(n)
	return n, err
}

// newHTTPAlice: alice.New(recorder, 9 pass-through).Then(final), where the
// recorder wraps w in a statusWriter.
func newHTTPAlice(p *probe) http.Handler {
	ctors := make([]alice.Constructor, 0, stackDepth)
	ctors = append(ctors, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.layers++
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			p.status, p.size = sw.status, sw.size
		})
	})
	for range stackDepth - 1 {
		ctors = append(ctors, passThrough(p))
	}
	return alice.New(ctors...).Then(http.HandlerFunc(finalHandler))
}

// passThrough is a func(http.Handler) http.Handler layer that counts itself
// and calls next, for alice and chi.
func passThrough(p *probe) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.layers++
			next.ServeHTTP(w, r)
		})
	}
}

// newHTTPChi: a chi router with 10 middlewares, the first recording the
// status through chi's middleware.NewWrapResponseWriter, and GET / served by
// the final handler.
func newHTTPChi(p *probe) http.Handler {
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.layers++
			ww := chimw.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			p.status, p.size = ww.Status(), int64(ww.BytesWritten())
		})
	})
	for range stackDepth - 1 {
		r.Use(passThrough(p))
	}
	r.Get("/", finalHandler)
	return r
}

// newHTTPNegroni: negroni.New() with 10 negroni.HandlerFuncs and the final
// handler via UseHandler. Negroni wraps the writer in its own
// negroni.ResponseWriter, which records the status and size.
func newHTTPNegroni(p *probe) http.Handler {
	n := negroni.New()
	n.Use(negroni.HandlerFunc(func(w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
		p.layers++
		next(w, r)
		rw := w.(negroni.ResponseWriter)
		p.status, p.size = rw.Status(), int64(rw.Size())
	}))
	for range stackDepth - 1 {
		n.Use(negroni.HandlerFunc(func(w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
			p.layers++
			next(w, r)
		}))
	}
	n.UseHandler(http.HandlerFunc(finalHandler))
	return n
}

// newHTTPEcho: echo.New() with 10 middlewares and GET / routed to the final
// handler, which writes through echo's Response, the status recorder.
func newHTTPEcho(p *probe) http.Handler {
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p.layers++
			err := next(c)
			res := c.Response()
			p.status, p.size = res.Status, res.Size
			return err
		}
	})
	for range stackDepth - 1 {
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				p.layers++
				return next(c)
			}
		})
	}
	e.GET("/", func(c echo.Context) error {
		res := c.Response()
		res.WriteHeader(http.StatusOK)
		_, err := res.Write(okBody)
		return err
	})
	return e
}

// BenchmarkHTTPStack10 measures one GET / through 10 pass-through layers and
// each library's status recorder to a handler writing 200 "OK", calling
// ServeHTTP directly with a preallocated request and a reusable writer.
func BenchmarkHTTPStack10(b *testing.B) {
	for _, s := range httpStacks {
		b.Run("lib="+s.lib, func(b *testing.B) {
			h := s.build(&probe{})
			w, r := newSinkWriter(), newRequest()
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkHTTPLoopback10 measures the same stacks end to end: one GET over
// a kept-alive loopback connection per iteration, body read to the end. It
// shows what the middleware costs against a real request's cost.
func BenchmarkHTTPLoopback10(b *testing.B) {
	for _, s := range httpStacks {
		b.Run("lib="+s.lib, func(b *testing.B) {
			srv := httptest.NewServer(s.build(&probe{}))
			defer srv.Close()
			client := srv.Client()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}

// TestStacksServe builds every benchmarked setup with the same constructors
// and checks that it does its work: all 10 layers run, the library's
// recorder sees status 200 and 2 bytes, and the client gets 200 "OK". Each
// setup serves twice, since pooled state is reused on the second call.
func TestStacksServe(t *testing.T) {
	t.Run("Compose10", func(t *testing.T) {
		for _, s := range []struct {
			lib string
			h   middleware.Middleware[*onionCtx]
		}{
			{"nodekit", newOnionNodekit()},
			{"naive", newOnionNaive()},
		} {
			for call := range 2 {
				c := &onionCtx{}
				if err := s.h(c, middleware.Next{}); err != nil || c.n != stackDepth {
					t.Errorf("lib=%s call %d: err %v, %d layers ran; want nil, %d", s.lib, call, err, c.n, stackDepth)
				}
			}
		}
		c := &onionCtx{}
		h := newOnionAlice(c)
		w, r := newSinkWriter(), newRequest()
		for call := range 2 {
			c.n = 0
			h.ServeHTTP(w, r)
			if c.n != stackDepth {
				t.Errorf("lib=alice call %d: %d layers ran; want %d", call, c.n, stackDepth)
			}
		}
	})
	t.Run("Compose10 guard", func(t *testing.T) {
		// The naive port really has koa-compose's guard, as nodekit does.
		twice := func(_ *onionCtx, next middleware.Next) error {
			if err := next.Call(); err != nil {
				return err
			}
			return next.Call()
		}
		if err := naiveCompose(twice)(&onionCtx{}, middleware.Next{}); !errors.Is(err, errNaiveNextTwice) {
			t.Errorf("naive: next twice = %v, want %v", err, errNaiveNextTwice)
		}
		if err := middleware.Compose(twice)(&onionCtx{}, middleware.Next{}); !errors.Is(err, middleware.ErrNextCalledMultipleTimes) {
			t.Errorf("nodekit: next twice = %v, want %v", err, middleware.ErrNextCalledMultipleTimes)
		}
	})
	t.Run("HTTPStack10", func(t *testing.T) {
		for _, s := range httpStacks {
			p := &probe{}
			h := s.build(p)
			w, r := newSinkWriter(), newRequest()
			for call := range 2 {
				*p = probe{}
				w.reset()
				h.ServeHTTP(w, r)
				if p.layers != stackDepth || p.status != http.StatusOK || p.size != int64(len(okBody)) {
					t.Errorf("lib=%s call %d: %d layers ran, recorder saw %d and %d bytes; want %d, 200, %d",
						s.lib, call, p.layers, p.status, p.size, stackDepth, len(okBody))
				}
				if w.status != http.StatusOK || string(w.body) != "OK" {
					t.Errorf("lib=%s call %d: client got %d %q; want 200 \"OK\"", s.lib, call, w.status, w.body)
				}
			}
		}
	})
}
