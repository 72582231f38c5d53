package cluster

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ListenAndServe is the three-line cluster: in the primary it runs a
// Primary listening on addr with one worker per CPU, and returns what Run
// returns (nil after SIGTERM or SIGINT); in a worker it serves handler on
// the shared listener with Serve. Node's
//
//	if (cluster.isPrimary) { for (…) cluster.fork() } else { http.createServer(h).listen(3000) }
//
// is
//
//	if err := cluster.ListenAndServe(ctx, "127.0.0.1:3000", h); err != nil {
//		log.Fatal(err)
//	}
func ListenAndServe(ctx context.Context, addr string, handler http.Handler) error {
	mustContext(ctx)
	if IsPrimary() {
		p := &Primary{Addrs: []string{addr}}
		return p.Run(ctx)
	}
	return Serve(ctx, &http.Server{Handler: handler})
}

// Serve serves srv on this worker's listeners until the primary stops the
// worker (its Process.Context ends) or ctx ends, and then stops
// gracefully: it closes the listeners (no new connections; the other
// workers take them), answers with "Connection: close" for the drain
// period when the worker is being replaced, then calls srv.Shutdown
// bounded by the primary's KillTimeout, and srv.Close after that. It
// returns nil when the primary stopped the worker, ctx.Err() when ctx
// ended (before the call or while serving, as Primary.Run does), or the
// error of a listener that failed. It calls Process.Ready once it is
// serving.
//
// Serve replaces srv.Handler (nil meaning http.DefaultServeMux) with a
// wrapper that adds "Connection: close" while draining and on connections
// older than the primary's MaxConnAge (it sets srv.ConnContext for that,
// calling the one already set). The wrapper passes the ResponseWriter on
// untouched, so http.NewResponseController keeps working. srv must not be
// in use elsewhere. Serve returns ErrNotWorker in the primary.
func Serve(ctx context.Context, srv *http.Server) error {
	mustContext(ctx)
	if srv == nil {
		panic("cluster: Serve with a nil *http.Server")
	}
	p, err := Self()
	if err != nil {
		return err
	}
	lns := p.Listeners()
	if len(lns) == 0 {
		return errors.New("cluster: Serve: the primary shares no listener (Primary.Addrs is empty)")
	}
	h := &closer{next: srv.Handler, maxAge: p.env.MaxConnAge}
	if h.next == nil {
		h.next = http.DefaultServeMux
	}
	srv.Handler = h
	if h.maxAge > 0 {
		prev := srv.ConnContext
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if prev != nil {
				ctx = prev(ctx, c)
			}
			return context.WithValue(ctx, connStartKey{}, time.Now())
		}
	}
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- srv.Serve(ln) }()
	}
	running := len(lns)
	var serveErr error
	if err := p.Ready(ctx); err != nil {
		serveErr = err
	} else {
		select {
		case <-ctx.Done():
		case <-p.ctx.Done():
		case serveErr = <-errc:
			running--
		}
	}
	for _, ln := range lns {
		ln.Close() // stop accepting; the connections go on
	}
	if d := p.DrainPeriod(); d > 0 && serveErr == nil {
		h.draining.Store(true)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	// Leave the primary's kill a margin to find the worker already gone.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(p.env.KillTimeout-p.env.KillTimeout/10, 0))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	for ; running > 0; running-- {
		<-errc // each Serve returns once its listener is closed
	}
	if serveErr != nil && !errors.Is(serveErr, net.ErrClosed) && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	if p.ctx.Err() == nil { // not the primary's stop: ctx ended
		return ctx.Err()
	}
	return nil
}

type connStartKey struct{}

// closer adds "Connection: close" while draining and on old connections.
type closer struct {
	next     http.Handler
	maxAge   time.Duration
	draining atomic.Bool
}

func (c *closer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.draining.Load() {
		w.Header().Set("Connection", "close")
	} else if c.maxAge > 0 {
		if t, ok := r.Context().Value(connStartKey{}).(time.Time); ok && time.Since(t) > c.maxAge {
			w.Header().Set("Connection", "close")
		}
	}
	c.next.ServeHTTP(w, r)
}
