package middleware

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
)

// An App serves a stack of layers over net/http, Koa's application: Use adds
// layers, and the App is the http.Handler. For each request it takes a
// *Context, runs the layers in onion order and turns the error they return
// into the response:
//
//   - an error with a StatusCode() int method in its chain (an *HTTPError,
//     say) answers with that status and, for an *HTTPError, its Message and
//     Header;
//   - any other error answers 500 "Internal Server Error", leaking nothing
//     of the error to the client, and is logged with its stack if it is a
//     *PanicError;
//   - an error response starts from an empty header set, as Koa's does:
//     whatever the layers set for the success response (Set-Cookie,
//     Cache-Control, Content-Encoding) is dropped. Headers that must be on
//     every response belong in an OnCommit hook, which runs for error
//     responses too;
//   - an error that arrives after the response was committed can no longer
//     change it: it is logged and the response is aborted with
//     panic(http.ErrAbortHandler), so the client sees a broken response
//     rather than a truncated one that looks whole.
//
// The App is the outermost error mapper: it runs after every layer has
// returned. A layer that logs the status of a request must therefore not read
// Status() after next returns an error — the response is not written yet —
// but FinalStatus(err), which is what AccessLog does.
//
// When the layers return nil without writing anything, the App sends 200
// with an empty body, as net/http does, after running the OnCommit hooks.
//
// The zero App is ready to use and answers 404 to everything until a
// layer is added. Use must not be called after the first request. Serving a
// request allocates nothing of the App's own: Contexts and their call state
// are pooled.
type App struct {
	// Logger receives 5xx errors and errors after commit. Nil means
	// slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex
	layers []Middleware[*Context]
	stack  atomic.Pointer[stack[*Context]] // composed at the first request
	pool   sync.Pool                       // *Context, each with its run
}

// Use appends layers to the stack, Koa's app.use. It panics if a layer is nil
// or if the App has already served a request.
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
	err := c.run.do(c, Next{})
	abort := respond(a.logger(), c, err)
	c.clear()
	if c.run.gen.Load() < maxGen {
		a.pool.Put(c)
	}
	if abort {
		panic(http.ErrAbortHandler)
	}
}

func (a *App) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// respond turns the stack's result into the response, and reports whether
// the response must be aborted: an error arrived after it was committed.
func respond(l *slog.Logger, c *Context, err error) (abort bool) {
	switch {
	case err == nil:
		c.rec.commit() // run the OnCommit hooks even when nothing was written
	case !c.rec.committed():
		code := statusOf(err)
		logFailure(l, c, code, err)
		writeError(&c.rec, err, code, nil)
	case isAnswered(err):
		logFailure(l, c, statusOf(err), err) // answered behind a Wrap layer
	default:
		attrs := []any{requestAttrs(c), slog.Int("status", c.rec.status), slog.Any("error", err)}
		if c.rec.hijacked {
			l.ErrorContext(c.Request.Context(), "middleware: error after the connection was hijacked", attrs...)
			return false
		}
		l.ErrorContext(c.Request.Context(), "middleware: error after the response was committed; aborting it", withStack(attrs, err)...)
		return true
	}
	return false
}

// isAnswered reports whether err was answered behind a Wrap layer.
func isAnswered(err error) bool {
	var ae *answeredError
	return errors.As(err, &ae)
}

// logFailure logs a request that failed with a 5xx.
func logFailure(l *slog.Logger, c *Context, code int, err error) {
	if code < 500 {
		return
	}
	attrs := []any{requestAttrs(c), slog.Int("status", code), slog.Any("error", err)}
	l.ErrorContext(c.Request.Context(), "middleware: request failed", withStack(attrs, err)...)
}

func withStack(attrs []any, err error) []any {
	var pe *PanicError
	if errors.As(err, &pe) {
		attrs = append(attrs, slog.String("stack", string(pe.Stack)))
	}
	return attrs
}

func requestAttrs(c *Context) slog.Attr {
	return slog.Group("request", slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path))
}

// writeError answers err with status code through w, which has not
// committed. The response starts from a clean header set, but for keep
// (headers a Wrap layer's net/http middleware set, such as Content-Encoding
// for the compressing writer it gave), and adds the headers of the
// *HTTPError, if any. The body is text/plain: the *HTTPError's message, or
// the status text.
func writeError(w http.ResponseWriter, err error, code int, keep http.Header) {
	h := w.Header()
	clear(h)
	for k, v := range keep {
		h[k] = v
	}
	msg := http.StatusText(code)
	var he *HTTPError
	if errors.As(err, &he) && he.Code == code {
		if he.Message != "" {
			msg = he.Message
		}
		for k, v := range he.Header {
			h[k] = append([]string(nil), v...)
		}
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
}
