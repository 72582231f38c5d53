package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
)

// An App serves a stack of layers over net/http, Koa's application: Use adds
// layers, and the App is the http.Handler. For each request it makes a
// *Context, runs the layers in onion order and turns the error they return
// into the response:
//
//   - an error with a StatusCode() int method in its chain (an *HTTPError,
//     say) answers with that status and, for an *HTTPError, its Message;
//   - any other error answers 500 "Internal Server Error", leaking nothing
//     of the error to the client, and is logged;
//   - an error that arrives after the response was committed can no longer
//     change it: it is logged, not written.
//
// The App is the outermost error mapper: it runs after every layer has
// returned. A layer that logs the status of a request must therefore not read
// Status() after next returns an error — the response is not written yet —
// but FinalStatus(err), which is what Logger does. (Echo's logger has the
// well-known bug of logging 200 for such requests.)
//
// When the layers return nil without writing anything, the App sends 200
// with an empty body, as net/http does, after running the OnCommit hooks.
//
// The zero App is ready to use and answers 404 to everything until a
// layer is added. Use must not be called after the first request.
type App struct {
	// Logger receives 5xx errors and errors after commit. Nil means
	// slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex
	layers []Middleware[*Context]
	stack  atomic.Pointer[stack[*Context]] // composed at the first request
	pool   sync.Pool                       // *Context, each with its run
}

// Handler returns an App serving layers.
func Handler(layers ...Middleware[*Context]) *App {
	a := &App{}
	a.Use(layers...)
	return a
}

// Use appends layers to the stack. It panics if a layer is nil or if the App
// has already served a request.
func (a *App) Use(layers ...Middleware[*Context]) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stack.Load() != nil {
		panic("middleware: App.Use after the first request")
	}
	a.layers = append(a.layers, layers...)
	newStack(a.layers) // checks for nil layers now, not at the first request
}

// composed returns the stack, composing it at the first request.
func (a *App) composed() *stack[*Context] {
	if s := a.stack.Load(); s != nil {
		return s
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.stack.Load(); s != nil {
		return s
	}
	layers := a.layers
	if len(layers) == 0 {
		layers = []Middleware[*Context]{Mount(http.NotFoundHandler())}
	}
	s := newStack(layers)
	a.stack.Store(s)
	return s
}

// ServeHTTP runs the stack for one request.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := a.composed()
	c, _ := a.pool.Get().(*Context)
	if c == nil {
		c = &Context{run: s.newRun()}
	}
	c.reset(w, r)
	err := c.run.do(c, nil)
	a.respond(c, err)
	c.clear()
	a.pool.Put(c)
}

// respond turns the stack's result into the response.
func (a *App) respond(c *Context, err error) {
	switch {
	case err == nil:
		c.rw.commit() // run the OnCommit hooks even when nothing was written
	case c.Committed():
		a.logger().ErrorContext(c.R.Context(), "middleware: error after the response was committed",
			requestAttrs(c), slog.Int("status", c.Status()), slog.Any("error", err))
	default:
		code := StatusOf(err)
		msg := http.StatusText(code)
		var he *HTTPError
		if errors.As(err, &he) && he.Code == code && he.Message != "" {
			msg = he.Message
		}
		if code >= 500 {
			attrs := []any{requestAttrs(c), slog.Int("status", code), slog.Any("error", err)}
			var pe *PanicError
			if errors.As(err, &pe) {
				attrs = append(attrs, slog.String("stack", string(pe.Stack)))
			}
			a.logger().ErrorContext(c.R.Context(), "middleware: request failed", attrs...)
		}
		http.Error(&c.rw, msg, code)
	}
}

func (a *App) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

func requestAttrs(c *Context) slog.Attr {
	return slog.Group("request", slog.String("method", c.R.Method), slog.String("path", c.R.URL.Path))
}
