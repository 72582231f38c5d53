// Command ticker is the seeds' Server-Sent Events tick stream on an
// sse.Broker, with a page that shows the ticks:
//
//	go run ./examples/ticker            # then open http://127.0.0.1:3000/
//	curl -N http://127.0.0.1:3000/events
//
// Every -interval one goroutine publishes a "tick" event whose data is
// {"counter":N,"ts":<Unix ms>} to the broker's "ticks" topic, and every
// client of /events receives it:
//
//	event: tick
//	id: 3f9c0a6b1e2d4c58-7
//	data: {"counter":7,"ts":1767225600000}
//
// Node's version (an Express handler) runs a setInterval per connection, so
// each client counts from 1 and a reconnecting browser starts again at 1.
// Here the clock is one for all clients, as a dashboard's data would be, and
// the broker is the seam that makes that work: it encodes each tick once for
// every client, keeps the recent ones so that a browser that reconnects with
// Last-Event-ID gets the ticks it missed, sends heartbeat comments, drops a
// client too slow to keep up without slowing the others, and ends every
// stream on shutdown (http.Server.Shutdown waits for handlers, and a stream's
// handler runs until its stream ends). The broker assigns the IDs, unique
// across restarts, so a browser that reconnects to a restarted server is not
// taken for one that saw the new server's ticks.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nodekit/nodekit/sse"
)

//go:embed index.html
var page []byte

// topic is the broker topic the ticks are published to.
const topic = "ticks"

// A tick is the data of one tick event.
type tick struct {
	Counter int   `json:"counter"`
	TS      int64 `json:"ts"` // Unix milliseconds, as Date.now()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	interval := flag.Duration("interval", 2*time.Second, "time between ticks")
	flag.Parse()
	if *interval <= 0 {
		log.Fatalf("-interval %v: must be positive", *interval)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *interval, func(addr string) {
		fmt.Printf("listening on http://%s/ (events on /events)\n", addr)
	}); err != nil {
		log.Fatal(err)
	}
}

// run serves the page and the tick stream on addr, ticking every interval,
// until ctx ends (or serving or a publish fails: run returns that error);
// listening is called with the address once the server accepts
// connections. It then stops the ticks, ends the streams and waits up to
// five seconds for the handlers.
func run(ctx context.Context, addr string, interval time.Duration, listening func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	b := &sse.Broker{}
	srv := &http.Server{Handler: handler(b)}
	listening(ln.Addr().String())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	tickCtx, stopTicks := context.WithCancel(ctx)
	tickErr := make(chan error, 1)
	go func() { tickErr <- ticks(tickCtx, b, interval) }()

	// Run until ctx ends, the listener fails or a publish fails; then
	// shut down the same way in all three cases. A nil channel marks the
	// result already taken.
	select {
	case err = <-serveErr:
		serveErr = nil
	case err = <-tickErr:
		tickErr = nil
	case <-ctx.Done():
	}
	stopTicks()
	if tickErr != nil {
		err = errors.Join(err, <-tickErr)
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// http.Server.Shutdown closes the listeners, then runs this hook, then
	// waits for the handlers, which return once the broker has ended
	// their streams.
	brokerErr := make(chan error, 1)
	srv.RegisterOnShutdown(func() { brokerErr <- b.Shutdown(shutdownCtx) })
	err = errors.Join(err, srv.Shutdown(shutdownCtx), <-brokerErr)
	if serveErr != nil {
		if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	return err
}

// handler serves the page on / and the tick stream on /events.
func handler(b *sse.Broker) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page) // a failed write means the client left: nothing to do
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		if err := b.Subscribe(w, r, topic); err != nil && !ended(err) {
			log.Printf("GET /events from %s: %v", r.RemoteAddr, err)
		}
	})
	return mux
}

// ended reports whether err from Subscribe is the ordinary end of a stream:
// the client left, the server is shutting down, or the broker dropped a
// client too slow to keep up (its browser reconnects and replays).
func ended(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, sse.ErrClosed) || errors.Is(err, sse.ErrSlowSubscriber)
}

// ticks publishes a tick to b every interval until ctx ends, and then
// returns nil; it returns the error of a failed publish.
func ticks(ctx context.Context, b *sse.Broker, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for counter := 1; ; counter++ {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			data := tick{Counter: counter, TS: now.UnixMilli()}
			if _, err := b.PublishJSON(ctx, topic, sse.Event{Type: "tick"}, data); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("publishing tick %d: %w", counter, err)
			}
		}
	}
}
