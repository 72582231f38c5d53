// Command onion is Koa's README app in Go — a logger, an X-Response-Time
// header and "Hello World" — with two layers that print the onion order:
//
//	go run ./examples/onion             # then: curl -i http://127.0.0.1:3000/
//
// Each request prints
//
//	A before
//	B before
//	handler
//	B after
//	A after
//	GET / - 0.052ms
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/nodekit/nodekit/middleware"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout, func(addr string) {
		fmt.Printf("listening on http://%s/\n", addr)
	}); err != nil {
		log.Fatal(err)
	}
}

// run serves the app on addr until ctx ends, printing to out; listening is
// called with the address once the server accepts connections.
func run(ctx context.Context, addr string, out io.Writer, listening func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app(&lockedWriter{w: out})}
	listening(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// app is the middleware stack: Koa's README app plus the A/B onion.
func app(out io.Writer) *middleware.App {
	// logger: Koa's README logs once the response is done.
	logger := func(c *middleware.Context, next middleware.Next) error {
		err := next.Call()
		fmt.Fprintf(out, "%s %s - %s\n", c.Request.Method, c.Request.URL, c.Writer.Header().Get("X-Response-Time"))
		return err
	}
	say := func(name string) middleware.Middleware[*middleware.Context] {
		return func(c *middleware.Context, next middleware.Next) error {
			fmt.Fprintln(out, name, "before")
			err := next.Call()
			fmt.Fprintln(out, name, "after")
			return err
		}
	}
	hello := func(c *middleware.Context, _ middleware.Next) error {
		fmt.Fprintln(out, "handler")
		_, err := io.WriteString(c.Writer, "Hello World")
		return err
	}
	app := &middleware.App{}
	app.Use(logger, middleware.ResponseTime(), say("A"), say("B"), hello)
	return app
}

// lockedWriter serializes the lines of concurrent requests.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
