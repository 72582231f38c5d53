package sse_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/nodekit/nodekit/sse"
)

// A Broker serves each request's stream from a handler; Publish reaches
// every subscriber of the topic. A client that reconnects with the ID of
// the last event it got receives what it missed.
func ExampleBroker() {
	joined := make(chan struct{}, 1)
	b := &sse.Broker{OnConnect: func(topic string, r *http.Request) { joined <- struct{}{} }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Subscribe returns when the stream ends: nil when the client
		// left, ErrClosed once the broker is shut down (the client then
		// reconnects, to whichever server is up).
		if err := b.Subscribe(w, r, r.URL.Query().Get("room")); err != nil && !errors.Is(err, sse.ErrClosed) {
			log.Printf("stream: %v", err) // too slow, a Store error, a ResponseWriter that cannot flush
		}
	}))
	defer srv.Close()
	defer b.Close() // ends the streams, so that srv.Close does not wait for them

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first, err := b.Publish(ctx, "lobby", sse.Event{Type: "greeting", Data: "hello"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := b.Publish(ctx, "lobby", sse.Event{Type: "greeting", Data: "again"}); err != nil {
		fmt.Println(err)
		return
	}

	// Reconnect as an EventSource would after the first event.
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"?room=lobby", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	req.Header.Set("Last-Event-ID", first.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	select {
	case <-joined:
	case <-ctx.Done():
		fmt.Println(ctx.Err())
		return
	}
	if _, err := b.PublishJSON(ctx, "lobby", sse.Event{Type: "joined"}, map[string]string{"user": "ada"}); err != nil {
		fmt.Println(err)
		return
	}

	d := sse.NewDecoder(resp.Body)
	for range 2 {
		ev, err := d.Next()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s\n", ev.Type, ev.Data)
	}
	// Output:
	// greeting: again
	// joined: {"user":"ada"}
}
