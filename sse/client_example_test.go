package sse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/nodekit/nodekit/sse"
)

// A Client is Go's EventSource: new EventSource(url) becomes a range over
// Client.Events. This server sends two events, ends the response (the
// client reconnects after the 10 ms its retry field asks, sending
// Last-Event-ID), then answers 204, which stops the client for good.
func ExampleClient() {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) > 1 {
			fmt.Println("reconnected with Last-Event-ID", r.Header.Get("Last-Event-ID"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "retry: 10\n\nid: 1\ndata: first\n\nid: 2\nevent: update\ndata: second\n\n")
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var c sse.Client
	for ev, err := range c.Events(ctx, srv.URL) {
		if err != nil {
			// The error names the URL, whose port varies: print its kind.
			fmt.Println("stopped for good:", errors.Is(err, sse.ErrStatus))
			break
		}
		fmt.Println(ev.Type, ev.ID, ev.Data)
	}
	// Output:
	// message 1 first
	// update 2 second
	// reconnected with Last-Event-ID 2
	// stopped for good: true
}
