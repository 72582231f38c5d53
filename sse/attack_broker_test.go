package sse_test

// Regression tests for two broker defects an attack found: a client that
// came after Shutdown was stopped for good, and a replay was held whole in
// memory per stalled connection.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/sse"
)

// TestAttackClosedBrokerClientsRetry: the package doc's own handler
// (b.Subscribe(w, r, topic), its error unused) on a broker that was shut
// down must not stop clients for good. Subscribe once wrote nothing, so
// net/http answered 200 without text/event-stream, which an EventSource
// and this package's Client take as final, as they would a 503 (WPT
// request-status-error). It now answers as a stream that ends at once,
// which clients retry (to the next instance).
func TestAttackClosedBrokerClientsRetry(t *testing.T) {
	b := &sse.Broker{}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		b.Subscribe(w, r, "ticks") // as in the package doc
	})
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var attempts atomic.Int32
	c := &sse.Client{HTTPClient: hc, Retry: time.Millisecond, OnError: func(error) {
		if attempts.Add(1) == 3 {
			cancel() // it keeps reconnecting: enough
		}
	}}
	var last error
	for ev, err := range c.Events(ctx, url) {
		if err == nil {
			t.Fatalf("event %+v from a closed broker", ev)
		}
		last = err
	}
	if errors.Is(last, sse.ErrStatus) {
		t.Fatalf("the client stopped for good: %v", last)
	}
	if !errors.Is(last, context.Canceled) || attempts.Load() < 3 {
		t.Errorf("last element %v after %d reconnects, want the client still reconnecting", last, attempts.Load())
	}
}

// TestAttackReplayChunked: a client chooses, with one public header (the
// ID of an old event in the window), how much its connection pins while
// it does not read. Subscribe once encoded the whole replay into one
// buffer (up to the window, 4 MiB of data at the defaults) held until one
// write of all of it succeeded or timed out. It now writes the replay in
// chunks of 64 KiB from a pooled buffer, so a stalled replay holds a chunk
// and the []Event copy of the window (72 B an event, its strings shared
// with the store): under 1 MiB here.
func TestAttackReplayChunked(t *testing.T) {
	b := &sse.Broker{Heartbeat: -1}
	defer b.Close()
	data := strings.Repeat("x", 400)
	var oldest sse.Event
	for i := range 8000 { // 3.3 MB of data: within the default window
		ev, err := b.Publish(context.Background(), "t", sse.Event{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			oldest = ev
		}
	}
	before := memtest.LiveHeap()
	const conns = 4
	var writers []*fakeWriter
	var cancels []context.CancelFunc
	var ends []chan error
	for range conns {
		ctx, cancel := context.WithCancel(context.Background())
		r := httptest.NewRequestWithContext(ctx, "GET", "/t", nil)
		r.Header.Set("Last-Event-ID", oldest.ID)
		f := newFakeWriter()
		f.keep = false
		f.stall() // a client that does not read: the first write (the replay) waits
		ended := make(chan error, 1)
		go func() { ended <- b.Subscribe(f, r, "t") }()
		writers, cancels, ends = append(writers, f), append(cancels, cancel), append(ends, ended)
	}
	for _, f := range writers {
		waitFor(t, "the replay write to stall", f.stuck)
	}
	per := (memtest.LiveHeap() - before) / conns
	for i, f := range writers {
		cancels[i]()
		f.unstall()
		<-ends[i]
	}
	t.Logf("%d bytes of heap per stalled replay of 8000 events of 400 B", per)
	if per > 1<<20 {
		t.Errorf("a stalled replay holds %d bytes, want under 1 MiB (a chunk and the window's []Event)", per)
	}
}
