package sse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/sse"
)

// brokerTB is what testing.TB and *rapid.T share that the broker helpers use.
type brokerTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

func publish(t brokerTB, b *sse.Broker, topic string, evs ...sse.Event) []frame {
	t.Helper()
	var out []frame
	for _, ev := range evs {
		got, err := b.Publish(context.Background(), topic, ev)
		if err != nil {
			t.Fatalf("Publish(%q, %+v) = %v", topic, ev, err)
		}
		out = append(out, frame{ID: got.ID, Type: got.Type, Data: got.Data})
	}
	return out
}

func msgs(prefix string, n int) []sse.Event {
	evs := make([]sse.Event, n)
	for i := range evs {
		evs[i] = sse.Event{Data: fmt.Sprintf("%s%d", prefix, i)}
	}
	return evs
}

func TestBrokerDelivers(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{}
	s := newServer(t, b)
	a1 := s.subscribe(t, "a", "")
	a2 := s.subscribe(t, "a", "")
	c := s.subscribe(t, "b", "")
	if n := b.Subscribers("a"); n != 2 {
		t.Errorf(`Subscribers("a") = %d, want 2`, n)
	}
	if n := b.Subscribers("none"); n != 0 {
		t.Errorf(`Subscribers("none") = %d, want 0`, n)
	}
	want := publish(t, b, "a", sse.Event{Data: "one"}, sse.Event{Data: "two\nlines", Type: "t"}, sse.Event{Data: "three", ID: "mine"})
	wantB := publish(t, b, "b", sse.Event{Data: "other"})
	for i, cl := range []*client{a1, a2} {
		if diff := cmp.Diff(want, cl.events(3)); diff != "" {
			t.Errorf("subscriber %d of a (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff(wantB, c.events(1)); diff != "" {
		t.Errorf("subscriber of b (-want +got):\n%s", diff)
	}
	// A client that leaves is unregistered and its Subscribe returns nil.
	a1.close()
	if err := <-s.ended; err != nil {
		t.Errorf("Subscribe after the client left = %v, want nil", err)
	}
	if n := b.Subscribers("a"); n != 1 {
		t.Errorf(`Subscribers("a") after one left = %d, want 1`, n)
	}
}

func TestBrokerPublishJSON(t *testing.T) {
	b := &sse.Broker{}
	defer b.Close()
	ev, err := b.PublishJSON(context.Background(), "t", sse.Event{Type: "x"}, map[string]int{"n": 1})
	if err != nil || ev.Data != `{"n":1}` || ev.Type != "x" {
		t.Errorf("PublishJSON = %+v, %v; want Data {\"n\":1}", ev, err)
	}
	if _, err := b.PublishJSON(context.Background(), "t", sse.Event{}, func() {}); err == nil {
		t.Errorf("PublishJSON(func) = nil error")
	}
}

func TestBrokerPublishInvalid(t *testing.T) {
	b := &sse.Broker{}
	defer b.Close()
	for _, ev := range []sse.Event{
		{ID: "a\nid: b"}, {Type: "x\r\ndata: y"}, {ID: "\x00"},
		{ID: strings.Repeat("x", 257)}, {ID: "\xff"}, {ID: " x"}, {ID: "x\t"},
	} {
		if _, err := b.Publish(context.Background(), "t", ev); !errors.Is(err, sse.ErrInvalidField) {
			t.Errorf("Publish(%+v) = %v, want ErrInvalidField", ev, err)
		}
	}
}

func TestBrokerReplay(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{}
	s := newServer(t, b)
	past := publish(t, b, "a", msgs("m", 5)...)
	for _, tt := range []struct {
		name string
		dial func() *client
	}{
		{"header", func() *client { return s.subscribe(t, "a", past[1].ID) }},
		{"query", func() *client {
			c := dial(t, s.URL+"/a?lastEventId="+url.QueryEscape(past[1].ID), "")
			<-s.connected
			return c
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.dial()
			if diff := cmp.Diff(past[2:], c.events(len(past)-2)); diff != "" {
				t.Errorf("replay after #1 (-want +got):\n%s", diff)
			}
			live := publish(t, b, "a", sse.Event{Data: "live " + tt.name})
			if diff := cmp.Diff(live, c.events(1)); diff != "" {
				t.Errorf("live after replay (-want +got):\n%s", diff)
			}
			past = append(past, live...)
		})
	}
	// The newest ID: nothing to replay, straight to live.
	c := s.subscribe(t, "a", past[len(past)-1].ID)
	live := publish(t, b, "a", sse.Event{Data: "after newest"})
	if diff := cmp.Diff(live, c.events(1)); diff != "" {
		t.Errorf("after the newest ID (-want +got):\n%s", diff)
	}
}

// TestBrokerReset: an ID the broker cannot resume from gets one reset event
// naming the newest ID, then live events.
func TestBrokerReset(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{Store: &sse.MemoryStore{MaxEvents: 3}}
	s := newServer(t, b)
	past := publish(t, b, "a", msgs("m", 5)...)
	reset := frame{Type: sse.ResetType, ID: past[4].ID}
	for _, tt := range []struct{ name, query, header string }{
		{"unknown", "", "nope"},
		{"too old", "", past[0].ID},
		{"too long", "", strings.Repeat("x", 257)},
		{"line break", "lastEventId=" + url.QueryEscape(past[3].ID+"\n"), ""},
		{"NUL", "lastEventId=" + url.QueryEscape(past[3].ID+"\x00"), ""},
		{"not UTF-8", "lastEventId=%ff", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.URL+"/a?"+tt.query, tt.header)
			<-s.connected
			if diff := cmp.Diff([]frame{reset}, c.events(1)); diff != "" {
				t.Errorf("first event (-want +got):\n%s", diff)
			}
			live := publish(t, b, "a", sse.Event{Data: "live", ID: "live-" + tt.name})
			if diff := cmp.Diff(live, c.events(1)); diff != "" {
				t.Errorf("after the reset (-want +got):\n%s", diff)
			}
			past = append(past, live...)
			reset.ID = live[0].ID
			c.close()
			<-s.ended
		})
	}
	t.Run("empty topic", func(t *testing.T) {
		c := s.subscribe(t, "empty", "some-id")
		if diff := cmp.Diff([]frame{{Type: sse.ResetType}}, c.events(1)); diff != "" {
			t.Errorf("first event (-want +got):\n%s", diff)
		}
	})
}

// TestBrokerNoGap: events published while subscribers join with their last
// ID reach each of them exactly once, in order.
func TestBrokerNoGap(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{}
	s := newServer(t, b)
	const n = 200
	first := publish(t, b, "a", sse.Event{Data: "start"})
	done := make(chan []frame)
	go func() {
		var all []frame
		for i := range n {
			ev, err := b.Publish(context.Background(), "a", sse.Event{Data: fmt.Sprint(i)})
			if err != nil {
				t.Error(err)
			}
			all = append(all, frame{ID: ev.ID, Data: ev.Data})
		}
		done <- all
	}()
	var clients []*client
	for range 5 {
		clients = append(clients, s.subscribe(t, "a", first[0].ID))
	}
	all := <-done
	for i, c := range clients {
		if diff := cmp.Diff(all, c.events(n)); diff != "" {
			t.Errorf("client %d (-want +got):\n%s", i, diff)
		}
	}
}

// TestBrokerSlowDisconnect: a subscriber that does not read is disconnected
// with ErrSlowSubscriber without holding up Publish or the others, and
// replays what it missed when it reconnects with its last ID.
func TestBrokerSlowDisconnect(t *testing.T) {
	leaktest.Check(t)
	connected := make(chan struct{}, 10)
	var logged bytes.Buffer
	b := &sse.Broker{
		QueueSize: 4,
		OnConnect: func(string, *http.Request) { connected <- struct{}{} },
		Logger:    slog.New(slog.NewTextHandler(&logged, nil)),
	}
	defer b.Close()
	slow, cancelSlow, slowEnded := goSubscribe(b, "a", "")
	defer cancelSlow()
	<-connected
	fast, cancelFast, fastEnded := goSubscribe(b, "a", "")
	<-connected
	slow.stall()
	// Publish does not block on slow; fast keeps up (it is given the time
	// to: with a queue of 4, a tight loop of 20 could overflow it too).
	var all []frame
	for i, ev := range msgs("m", 20) {
		all = append(all, publish(t, b, "a", ev)...)
		waitFor(t, "the fast subscriber gets the event", func() bool { return len(fast.events()) == i+1 })
	}
	if n := b.Subscribers("a"); n != 1 {
		t.Errorf("Subscribers after the slow one overflowed = %d, want 1", n)
	}
	slow.unstall()
	if err := <-slowEnded; !errors.Is(err, sse.ErrSlowSubscriber) {
		t.Fatalf("slow Subscribe = %v, want ErrSlowSubscriber", err)
	}
	if n := strings.Count(logged.String(), "slow subscriber disconnected"); n != 1 {
		t.Errorf("%d warnings logged, want 1:\n%s", n, logged.String())
	}
	got := slow.events()
	if len(got) > 4 {
		t.Errorf("slow subscriber got %d events, want at most its queue (4) plus what was being written", len(got))
	}
	if diff := cmp.Diff(all[:len(got)], got); diff != "" {
		t.Errorf("slow subscriber's events (-want +got):\n%s", diff)
	}
	// It reconnects with its last ID and gets the rest.
	last := ""
	if len(got) > 0 {
		last = got[len(got)-1].ID
	}
	again, cancelAgain, againEnded := goSubscribe(b, "a", last)
	<-connected
	waitFor(t, "the reconnected subscriber catches up", func() bool { return len(again.events()) == 20-len(got) })
	if diff := cmp.Diff(all[len(got):], again.events()); diff != "" {
		t.Errorf("replay after reconnecting (-want +got):\n%s", diff)
	}
	cancelFast()
	cancelAgain()
	for _, ch := range []chan error{fastEnded, againEnded} {
		if err := <-ch; err != nil {
			t.Errorf("Subscribe after cancel = %v, want nil", err)
		}
	}
}

func TestBrokerDropOldest(t *testing.T) {
	leaktest.Check(t)
	connected := make(chan struct{}, 10)
	b := &sse.Broker{QueueSize: 4, OnSlow: sse.DropOldest, OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	defer b.Close()
	f, cancel, ended := goSubscribe(b, "a", "")
	<-connected
	f.stall()
	// Whether or not the subscriber took the first events before its
	// write stalled, its queue ends with the newest 4.
	all := publish(t, b, "a", msgs("m", 10)...)
	f.unstall()
	waitFor(t, "the newest event arrives", func() bool {
		evs := f.events()
		return len(evs) > 0 && evs[len(evs)-1].ID == all[9].ID
	})
	got := f.events()
	if diff := cmp.Diff(all[6:], got[len(got)-4:]); diff != "" {
		t.Errorf("after overflow under DropOldest, the last 4 (-want +got):\n%s", diff)
	}
	if n := b.Subscribers("a"); n != 1 {
		t.Errorf("Subscribers = %d, want 1 (DropOldest keeps it)", n)
	}
	cancel()
	if err := <-ended; err != nil {
		t.Errorf("Subscribe = %v, want nil", err)
	}
}

// waitFor polls cond with backoff for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for d := time.Millisecond; !cond(); d = min(2*d, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(d)
	}
}

// hookExit is how a hook leaves.
type hookExit int

const (
	hookPanics hookExit = iota
	hookGoexits
)

// TestBrokerHookExits: a hook that panics or calls runtime.Goexit ends
// Subscribe that way (a panic reaches Subscribe's caller), and the broker's
// bookkeeping is done: the subscriber is gone and Shutdown does not wait.
func TestBrokerHookExits(t *testing.T) {
	leaktest.Check(t)
	boom := errors.New("boom")
	for _, hook := range []string{"OnConnect", "OnDisconnect"} {
		for _, exit := range []hookExit{hookPanics, hookGoexits} {
			name := hook + map[hookExit]string{hookPanics: "Panics", hookGoexits: "Goexits"}[exit]
			t.Run(name, func(t *testing.T) {
				leave := func() {
					if exit == hookPanics {
						panic(boom)
					}
					runtime.Goexit()
				}
				connected := make(chan struct{}, 1)
				var disconnects []error
				b := &sse.Broker{}
				b.OnConnect = func(string, *http.Request) {
					connected <- struct{}{}
					if hook == "OnConnect" {
						leave()
					}
				}
				b.OnDisconnect = func(_ string, _ *http.Request, err error) {
					disconnects = append(disconnects, err)
					if hook == "OnDisconnect" {
						leave()
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
				type result struct {
					returned bool
					err      error
					panicked any
				}
				res := make(chan result, 1)
				go func() {
					out := result{}
					defer func() {
						out.panicked = recover()
						res <- out
					}()
					out.err = b.Subscribe(newFakeWriter(), r, "t")
					out.returned = true
				}()
				<-connected
				cancel()
				got := <-res
				want := result{}
				if exit == hookPanics {
					want.panicked = boom
				}
				if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{}), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
					t.Errorf("Subscribe's goroutine (-want +got):\n%s", diff)
				}
				var wantDisc []error
				if hook == "OnDisconnect" {
					wantDisc = []error{nil}
				}
				if diff := cmp.Diff(wantDisc, disconnects, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
					t.Errorf("OnDisconnect calls (-want +got):\n%s", diff)
				}
				if n := b.Subscribers("t"); n != 0 {
					t.Errorf("Subscribers after the hook left = %d, want 0", n)
				}
				sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer scancel()
				if err := b.Shutdown(sctx); err != nil {
					t.Errorf("Shutdown = %v, want nil (no Subscribe left running)", err)
				}
			})
		}
	}
}

// An exitingWriter is a fakeWriter whose Write leaves as exit says.
type exitingWriter struct {
	*fakeWriter
	exit hookExit
}

func (w *exitingWriter) Write(p []byte) (int, error) {
	if w.exit == hookPanics {
		panic(http.ErrAbortHandler)
	}
	runtime.Goexit()
	return 0, nil
}

// TestBrokerWriterExits: a ResponseWriter whose Write panics or calls
// runtime.Goexit while an event is written (by the goroutine that writes
// for the handler's) ends Subscribe that way on its caller's goroutine,
// the panic with its own value (net/http knows http.ErrAbortHandler), after
// the broker's bookkeeping: OnDisconnect gets an error wrapping ErrClosed,
// the subscriber is gone, Shutdown has nothing to wait for.
func TestBrokerWriterExits(t *testing.T) {
	leaktest.Check(t)
	for _, exit := range []hookExit{hookPanics, hookGoexits} {
		t.Run(map[hookExit]string{hookPanics: "Panics", hookGoexits: "Goexits"}[exit], func(t *testing.T) {
			connected := make(chan struct{}, 1)
			var disconnects []error // Subscribe's goroutine appends, before res
			b := &sse.Broker{
				OnConnect:    func(string, *http.Request) { connected <- struct{}{} },
				OnDisconnect: func(_ string, _ *http.Request, err error) { disconnects = append(disconnects, err) },
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
			type result struct {
				returned bool
				err      error
				panicked any
			}
			res := make(chan result, 1)
			go func() {
				out := result{}
				defer func() {
					out.panicked = recover()
					res <- out
				}()
				out.err = b.Subscribe(&exitingWriter{newFakeWriter(), exit}, r, "t")
				out.returned = true
			}()
			<-connected
			publish(t, b, "t", sse.Event{Data: "x"})
			got := <-res
			want := result{}
			if exit == hookPanics {
				want.panicked = http.ErrAbortHandler
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{}), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
				t.Errorf("Subscribe's goroutine (-want +got):\n%s", diff)
			}
			if len(disconnects) != 1 || !errors.Is(disconnects[0], sse.ErrClosed) {
				t.Errorf("OnDisconnect got %v, want one error wrapping ErrClosed", disconnects)
			}
			if n := b.Subscribers("t"); n != 0 {
				t.Errorf("Subscribers after the writer left = %d, want 0", n)
			}
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := b.Shutdown(sctx); err != nil {
				t.Errorf("Shutdown = %v, want nil (no Subscribe left running)", err)
			}
		})
	}
}

// TestBrokerHookPanicHTTP: under net/http, a panic in OnConnect is
// recovered by the server, the client's stream is aborted and the broker
// has forgotten the subscriber.
func TestBrokerHookPanicHTTP(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{OnConnect: func(string, *http.Request) { panic("hook") }}
	defer b.Close()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.Subscribe(w, r, "t")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	c := dial(t, srv.URL, "")
	if f, err := c.next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("client read %+v, %v after the handler panicked; want an aborted stream", f, err)
	}
	if n := b.Subscribers("t"); n != 0 {
		t.Errorf("Subscribers = %d, want 0", n)
	}
}

// TestBrokerShutdownHTTP: Shutdown ends every stream over real HTTP (after
// writing what was queued) so that http.Server.Shutdown returns; afterwards
// Publish and Subscribe return ErrClosed and no goroutine remains.
func TestBrokerShutdownHTTP(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{}
	s := newServer(t, b)
	var clients []*client
	for range 3 {
		clients = append(clients, s.subscribe(t, "a", ""))
	}
	want := publish(t, b, "a", sse.Event{Data: "last"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The pattern the Shutdown doc gives: the server's Shutdown starts the
	// broker's, which ends the handlers the server waits for.
	s.Config.RegisterOnShutdown(func() { b.Shutdown(ctx) })
	if err := s.Config.Shutdown(ctx); err != nil {
		t.Fatalf("http.Server.Shutdown = %v", err)
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("Broker.Shutdown = %v", err)
	}
	for i, c := range clients {
		if diff := cmp.Diff(want, c.events(1)); diff != "" {
			t.Errorf("client %d (-want +got):\n%s", i, diff)
		}
		if f, err := c.next(); err != io.EOF {
			t.Errorf("client %d after Shutdown read %+v, %v; want io.EOF", i, f, err)
		}
	}
	for range clients {
		if err := <-s.ended; !errors.Is(err, sse.ErrClosed) {
			t.Errorf("Subscribe ended by Shutdown = %v, want ErrClosed", err)
		}
	}
	if _, err := b.Publish(context.Background(), "a", sse.Event{}); !errors.Is(err, sse.ErrClosed) {
		t.Errorf("Publish after Shutdown = %v, want ErrClosed", err)
	}
	late := newFakeWriter()
	if err := b.Subscribe(late, httptest.NewRequest("GET", "/", nil), "a"); !errors.Is(err, sse.ErrClosed) {
		t.Errorf("Subscribe after Shutdown = %v, want ErrClosed", err)
	}
	if ct := late.Header().Get("Content-Type"); ct != "text/event-stream" || late.written() != 0 {
		t.Errorf("Subscribe after Shutdown set Content-Type %q and wrote %d bytes, want a stream that ends at once (text/event-stream, no event), which a client retries", ct, late.written())
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v, want nil", err)
	}
}

// TestBrokerShutdownContext: Shutdown returns ctx's error when a stream's
// write is stuck, and the stream still ends once the write returns.
func TestBrokerShutdownContext(t *testing.T) {
	leaktest.Check(t)
	connected := make(chan struct{}, 1)
	b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	f, cancel, ended := goSubscribe(b, "a", "")
	defer cancel()
	<-connected
	f.stall()
	publish(t, b, "a", sse.Event{Data: "stuck"})
	ctx, cancelCtx := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelCtx()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stuck write = %v, want DeadlineExceeded", err)
	}
	f.unstall()
	if err := <-ended; !errors.Is(err, sse.ErrClosed) {
		t.Errorf("Subscribe = %v, want ErrClosed", err)
	}
}

// TestBrokerShutdownWhileSubscribing: streams that register while
// Shutdown runs end too (an idle stream waits for its wake-up only, which
// Shutdown sends to every registered subscriber; one that registers after
// that sees the broker stopped), so Shutdown returns and every Subscribe
// call with it.
func TestBrokerShutdownWhileSubscribing(t *testing.T) {
	leaktest.Check(t)
	for range 20 {
		b := &sse.Broker{}
		const n = 50
		var ends []chan error
		var cancels []context.CancelFunc
		for i := range n {
			_, cancel, ended := goSubscribe(b, fmt.Sprint("t", i%3), "")
			ends, cancels = append(ends, ended), append(cancels, cancel)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := b.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown with streams registering = %v", err)
		}
		cancel()
		for _, ended := range ends {
			if err := <-ended; !errors.Is(err, sse.ErrClosed) {
				t.Errorf("Subscribe = %v, want ErrClosed", err)
			}
		}
		for _, cancel := range cancels {
			cancel()
		}
	}
}

// TestBrokerClose: Close ends streams without writing what was queued.
func TestBrokerClose(t *testing.T) {
	leaktest.Check(t)
	connected := make(chan struct{}, 1)
	b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	f, cancel, ended := goSubscribe(b, "a", "")
	defer cancel()
	<-connected
	f.stall()
	want := publish(t, b, "a", sse.Event{Data: "being written"})
	waitFor(t, "the write is stuck", f.stuck)
	publish(t, b, "a", msgs("m", 3)...)
	if err := b.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	f.unstall()
	if err := <-ended; !errors.Is(err, sse.ErrClosed) {
		t.Errorf("Subscribe = %v, want ErrClosed", err)
	}
	if diff := cmp.Diff(want, f.events()); diff != "" {
		t.Errorf("after Close, the stream (-want only the event being written, +got):\n%s", diff)
	}
	if _, err := b.Publish(context.Background(), "a", sse.Event{}); !errors.Is(err, sse.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
}

func TestBrokerMisuse(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func()
	}{
		{"negative QueueSize", func() { (&sse.Broker{QueueSize: -1}).Publish(context.Background(), "t", sse.Event{}) }},
		{"unknown OnSlow", func() { (&sse.Broker{OnSlow: 7}).Publish(context.Background(), "t", sse.Event{}) }},
		{"nil ctx", func() { (&sse.Broker{}).Publish(nil, "t", sse.Event{}) }}, //lint:ignore SA1012 testing misuse
		{"nil request", func() { (&sse.Broker{}).Subscribe(newFakeWriter(), nil, "t") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "sse: ") {
					t.Errorf("panic %v, want one starting with %q", r, "sse: ")
				}
			}()
			tt.f()
		})
	}
}

// TestBrokerHeartbeat: an idle stream gets a comment every Heartbeat, a
// busy one none, from one broker-wide ticker that is gone once the
// subscribers are.
func TestBrokerHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		connected := make(chan struct{}, 3)
		b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
		idle, cancelIdle, idleEnded := goSubscribe(b, "idle", "")
		busy, cancelBusy, busyEnded := goSubscribe(b, "busy", "")
		once, cancelOnce, onceEnded := goSubscribe(b, "once", "")
		for range 3 {
			<-connected
		}
		synctest.Wait() // the heartbeat goroutine has started
		if n := heartbeatGoroutines(); n != 1 {
			t.Errorf("%d heartbeat goroutines for 3 subscribers, want 1", n)
		}
		comments := map[*fakeWriter][]time.Duration{}
		count := func(f *fakeWriter) int {
			n := 0
			for _, fr := range f.frames() {
				if fr.Comment {
					n++
				}
			}
			return n
		}
		for s := 1; s <= 61; s++ {
			time.Sleep(time.Second)
			publish(t, b, "busy", sse.Event{Data: "tick"})
			if s == 5 {
				publish(t, b, "once", sse.Event{Data: "only"})
			}
			synctest.Wait()
			for _, f := range []*fakeWriter{idle, busy, once} {
				if n := count(f); n > len(comments[f]) {
					comments[f] = append(comments[f], time.Since(start))
				}
			}
		}
		secs := func(s ...int) []time.Duration {
			var out []time.Duration
			for _, v := range s {
				out = append(out, time.Duration(v)*time.Second)
			}
			return out
		}
		// Ticks every 3.75 s; idle since registration at 0: 15, 30, 45, 60.
		if diff := cmp.Diff(secs(15, 30, 45, 60), comments[idle]); diff != "" {
			t.Errorf("idle stream's comments (-want +got):\n%s", diff)
		}
		if len(comments[busy]) != 0 {
			t.Errorf("busy stream got comments at %v, want none", comments[busy])
		}
		// An event at 5 s, then idle: the first comment within 15 s of it
		// (at the tick of 18.75 s, seen at 19 s), then every 15 s.
		if diff := cmp.Diff(secs(19, 34, 49), comments[once]); diff != "" {
			t.Errorf("stream with one event at 5 s, comments (-want +got):\n%s", diff)
		}
		cancelIdle()
		cancelBusy()
		cancelOnce()
		for _, ch := range []chan error{idleEnded, busyEnded, onceEnded} {
			if err := <-ch; err != nil {
				t.Errorf("Subscribe = %v", err)
			}
		}
		// The ticker notices at its next tick that nobody is left.
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if n := heartbeatGoroutines(); n != 0 {
			t.Errorf("with no subscribers left, %d heartbeat goroutines, want 0", n)
		}
	})
}

// heartbeatGoroutines counts the goroutines running a broker's heartbeat.
func heartbeatGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "sse.(*Broker).heartbeatLoop(")
}

// TestBrokerIdleMemory: an idle subscriber costs the broker (and its
// Writer) a small struct, and a burst through them is given back.
func TestBrokerIdleMemory(t *testing.T) {
	leaktest.Check(t)
	const n = 2000
	connected := make(chan struct{}, n)
	b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	defer b.Close()
	type sub struct {
		f   *fakeWriter
		r   *http.Request
		end chan error
	}
	subs := make([]sub, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range subs {
		subs[i] = sub{newFakeWriter(), httptest.NewRequestWithContext(ctx, "GET", "/", nil), make(chan error, 1)}
		subs[i].f.keep = false
	}
	publish(t, b, "warm", sse.Event{}) // the broker's own first-use state
	// What n goroutines blocked on a channel cost (net/http's handler
	// goroutine is there anyway), to subtract. Measured the second time:
	// the runtime never frees a goroutine's struct but reuses it, so the
	// first time counts n new ones and Subscribe's reuse them.
	var perGoroutine int64
	for range 2 {
		block := make(chan struct{})
		base := memtest.LiveHeap()
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { <-block })
		}
		perGoroutine = (memtest.LiveHeap() - base) / n
		close(block)
		wg.Wait()
	}
	before := memtest.LiveHeap()
	for _, s := range subs {
		go func() { s.end <- b.Subscribe(s.f, s.r, "t") }()
	}
	for range n {
		<-connected
	}
	idle := memtest.LiveHeap()
	per := (idle-before)/n - perGoroutine
	t.Logf("%d B of heap per idle subscriber (broker, Writer, ResponseController; beyond its goroutine's %d B and stack)", per, perGoroutine)
	if per > 1024 {
		t.Errorf("an idle subscriber holds %d B of heap, want at most 1 KiB", per)
	}
	// A burst: every subscriber queues and writes, then all are idle again.
	for _, ev := range msgs("m", 10) {
		publish(t, b, "t", ev)
	}
	for _, s := range subs {
		waitFor(t, "the burst is written", func() bool { return s.f.lastWrote("data: m9\n\n") })
	}
	after := memtest.LiveHeap()
	t.Logf("after a burst of 10 events: %d B more than idle before it", after-idle)
	if after-idle > 256<<10 {
		t.Errorf("after a burst, %d B more than before it, want at most 256 KiB (the window, pools emptied by GC)", after-idle)
	}
	cancel()
	for _, s := range subs {
		if err := <-s.end; err != nil {
			t.Errorf("Subscribe = %v", err)
		}
	}
}

// TestBrokerMemoryFollowsBacklog: a million events through subscribers,
// then idle, leave the heap where it was but for the replay window; a
// million topic names published once leave nothing in the broker and the
// store's MaxTopics windows.
func TestBrokerMemoryFollowsBacklog(t *testing.T) {
	leaktest.Check(t)
	n := 1_000_000
	if testing.Short() || raceEnabled() {
		n = 100_000 // a million takes 17 s under -race
	}
	t.Run("Events", func(t *testing.T) {
		connected := make(chan struct{}, 2)
		b := &sse.Broker{
			Store:     &sse.MemoryStore{MaxEvents: 1000},
			OnSlow:    sse.DropOldest,
			OnConnect: func(string, *http.Request) { connected <- struct{}{} },
		}
		defer b.Close()
		var fs []*fakeWriter
		for range 2 {
			f, cancel, _ := goSubscribe(b, "t", "")
			defer cancel()
			f.mu.Lock()
			f.keep = false
			f.mu.Unlock()
			fs = append(fs, f)
			<-connected
		}
		before := memtest.LiveHeap()
		ev := sse.Event{Data: "0123456789abcdef0123456789abcdef"}
		for i := range n {
			if _, err := b.Publish(context.Background(), "t", ev); err != nil {
				t.Fatal(i, err)
			}
		}
		publish(t, b, "t", sse.Event{Data: "last"})
		for _, f := range fs {
			waitFor(t, "the last event is written", func() bool { return f.lastWrote("data: last\n\n") })
		}
		kept := memtest.LiveHeap() - before
		t.Logf("%d events through 2 subscribers: %d B kept", n, kept)
		if kept > 512<<10 {
			t.Errorf("%d events through, then idle: %d B kept, want at most 512 KiB (the window of 1000)", n, kept)
		}
	})
	t.Run("Topics", func(t *testing.T) {
		b := &sse.Broker{Store: &sse.MemoryStore{MaxTopics: 1000}}
		defer b.Close()
		publish(t, b, "warm", sse.Event{})
		before := memtest.LiveHeap()
		for i := range n {
			if _, err := b.Publish(context.Background(), fmt.Sprint("topic-", i), sse.Event{Data: "x"}); err != nil {
				t.Fatal(i, err)
			}
		}
		kept := memtest.LiveHeap() - before
		t.Logf("%d topics published once: %d B kept", n, kept)
		if kept > 1<<20 {
			t.Errorf("%d topics published once: %d B kept, want at most 1 MiB (1000 windows of one event)", n, kept)
		}
	})
}

// panicStore is a Store whose calls panic (or Goexit) when told to.
type panicStore struct {
	sse.MemoryStore
	append, after func()
}

func (s *panicStore) Append(ctx context.Context, topic string, ev sse.Event) (sse.Event, error) {
	if s.append != nil {
		s.append()
	}
	return s.MemoryStore.Append(ctx, topic, ev)
}

func (s *panicStore) After(ctx context.Context, topic, lastID string) ([]sse.Event, bool, error) {
	if s.after != nil {
		s.after()
	}
	return s.MemoryStore.After(ctx, topic, lastID)
}

// TestBrokerStorePanics: a Store that panics reaches the caller of Publish
// or Subscribe, and leaves the topic usable (no lock held, no count off).
func TestBrokerStorePanics(t *testing.T) {
	leaktest.Check(t)
	ps := &panicStore{}
	b := &sse.Broker{Store: ps}
	defer b.Close()
	ps.append = func() { panic("append") }
	func() {
		defer func() {
			if r := recover(); r != "append" {
				t.Errorf("Publish recovered %v, want the Store's panic", r)
			}
		}()
		b.Publish(context.Background(), "t", sse.Event{})
	}()
	ps.append = nil
	ev := publish(t, b, "t", sse.Event{Data: "after"})
	ps.after = func() { panic("after") }
	func() {
		defer func() {
			if r := recover(); r != "after" {
				t.Errorf("Subscribe recovered %v, want the Store's panic", r)
			}
		}()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Last-Event-ID", ev[0].ID)
		b.Subscribe(newFakeWriter(), r, "t")
	}()
	if n := b.Subscribers("t"); n != 0 {
		t.Errorf("Subscribers after a panic in After = %d, want 0", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
}

// TestBrokerPublishDoneContext: an ended context publishes nothing, every
// time (the MemoryStore would not have looked at it).
func TestBrokerPublishDoneContext(t *testing.T) {
	b := &sse.Broker{}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 3 {
		if _, err := b.Publish(ctx, "t", sse.Event{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Publish with a canceled ctx = %v, want context.Canceled", err)
		}
	}
}

// A memCost is live heap and goroutine stacks, after collection.
type memCost struct{ heap, stack int64 }

func liveMemory() memCost {
	heap := memtest.LiveHeap()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memCost{heap, int64(m.StackInuse)}
}

// TestBrokerIdleConnectionCost compares idle loopback streams served by
// Subscribe with streams served by the cheapest net/http handler that can
// stream: one that sends its headers and an event from another goroutine
// and waits. (Writing from the handler's own goroutine grows its stack to
// 8 KiB for good, see freshStack; the same handler doing so is logged.)
// Each stream has had one event. The broker must add at most 1 KiB of heap
// per connection (its subscriber, Writer and ResponseController) and no
// stack: a handler goroutine left at 8 KiB shows as 4 KiB more. Client and
// server are both in this process, so the totals logged count both ends.
func TestBrokerIdleConnectionCost(t *testing.T) {
	leaktest.Check(t)
	const n = 500
	measure := func(t *testing.T, h http.HandlerFunc, ready func()) memCost {
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		before := liveMemory()
		var resps []*http.Response
		defer func() {
			for _, r := range resps {
				r.Body.Close()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for range n {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/t", nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resps = append(resps, resp)
		}
		ready()
		for _, r := range resps { // one event each
			var got []byte
			for !bytes.HasSuffix(got, []byte("data: x\n\n")) {
				var buf [64]byte
				k, err := r.Body.Read(buf[:])
				if err != nil {
					t.Fatalf("reading the first event: %v after %q", err, got)
				}
				got = append(got, buf[:k]...)
			}
		}
		after := liveMemory()
		return memCost{(after.heap - before.heap) / n, (after.stack - before.stack) / n}
	}
	stream := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.Write([]byte("data: x\n\n"))
		http.NewResponseController(w).Flush()
	}
	floorHandler := func(w http.ResponseWriter, r *http.Request) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			stream(w)
		}()
		<-done
		<-r.Context().Done()
	}
	onHandler := func(w http.ResponseWriter, r *http.Request) {
		stream(w)
		<-r.Context().Done()
	}
	measure(t, floorHandler, func() {}) // first use of net/http's pools
	floor := measure(t, floorHandler, func() {})
	bare := measure(t, onHandler, func() {})
	connected := make(chan struct{}, n)
	b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	defer b.Close()
	broker := measure(t, func(w http.ResponseWriter, r *http.Request) {
		b.Subscribe(w, r, "t")
	}, func() {
		for range n {
			<-connected
		}
		publish(t, b, "t", sse.Event{Data: "x"})
	})
	t.Logf("per idle loopback connection, both ends, heap + stacks: handler writing from another goroutine %d + %d B, "+
		"from its own %d + %d B, Broker.Subscribe %d + %d B", floor.heap, floor.stack, bare.heap, bare.stack, broker.heap, broker.stack)
	if raceEnabled() {
		return // the race detector's larger frames can double a stack
	}
	if d := broker.heap - floor.heap; d > 1024 {
		t.Errorf("an idle Subscribe holds %d B more heap than the bare streaming handler, want at most 1 KiB", d)
	}
	// Stacks vary by a KiB from run to run: new goroutines get the
	// runtime's average stack size, which the parked handlers set.
	if d := broker.stack - floor.stack; d > 2048 {
		t.Errorf("an idle Subscribe holds %d B more stack than the bare streaming handler, want at most 2 KiB (no stack grown to 8 KiB)", d)
	}
}

// TestBrokerManyIdle: 10,000 idle subscribers (2,000 under -race, which
// allows 8,128 goroutines) each get exactly one comment per Heartbeat, on
// time, and the heap stays flat from one minute to the next.
func TestBrokerManyIdle(t *testing.T) {
	n := 10_000
	if raceEnabled() {
		n = 2_000
	}
	synctest.Test(t, func(t *testing.T) {
		connected := make(chan struct{}, n)
		b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
		fs := make([]*fakeWriter, n)
		cancels := make([]context.CancelFunc, n)
		ends := make([]chan error, n)
		for i := range fs {
			fs[i], cancels[i], ends[i] = goSubscribe(b, fmt.Sprint("topic-", i%100), "")
			fs[i].mu.Lock()
			fs[i].keep = false
			fs[i].mu.Unlock()
		}
		for range n {
			<-connected
		}
		var heaps []int64
		for k := 1; k <= 4; k++ {
			time.Sleep(sse.DefaultHeartbeat) // to just after the k-th heartbeat
			synctest.Wait()
			late := 0
			for _, f := range fs {
				if f.written() != 2*k { // ":\n" each
					late++
				}
			}
			if late > 0 {
				t.Fatalf("after %v, %d of %d idle subscribers have not exactly %d comments", time.Duration(k)*sse.DefaultHeartbeat, late, n, k)
			}
			heaps = append(heaps, memtest.LiveHeap())
		}
		t.Logf("live heap at each heartbeat with %d idle subscribers: %v", n, heaps)
		if grew := heaps[3] - heaps[1]; grew > 64<<10 {
			t.Errorf("the heap grew by %d B between the 2nd and 4th heartbeat, want flat", grew)
		}
		b.Close() // the heartbeat goroutine is gone when it returns
		for i := range fs {
			cancels[i]()
			if err := <-ends[i]; err != nil && !errors.Is(err, sse.ErrClosed) {
				t.Errorf("Subscribe = %v", err)
			}
		}
	})
}

// TestBrokerRetry: the broker's Retry reaches each stream with its headers.
func TestBrokerRetry(t *testing.T) {
	connected := make(chan struct{}, 1)
	b := &sse.Broker{Retry: 1500 * time.Millisecond, OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	defer b.Close()
	f, cancel, ended := goSubscribe(b, "t", "")
	<-connected
	cancel()
	<-ended
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.buf.String(); !strings.HasPrefix(got, "retry: 1500\n") {
		t.Errorf("stream begins %q, want a retry: 1500 field", got)
	}
}

// TestBrokerLoopbackNoLoss is the promise end to end: sse.Clients
// (EventSources for Go) over real loopback HTTP receive every event of a
// burst far larger than their queues, in order and exactly once: those the
// Disconnect policy forces off reconnect with Last-Event-ID and replay
// what they missed, and nobody else waits for them.
func TestBrokerLoopbackNoLoss(t *testing.T) {
	leaktest.Check(t)
	const clients, events = 20, 3000
	var mu sync.Mutex
	var connects, slow int
	b := &sse.Broker{
		Store:     &sse.MemoryStore{MaxEvents: events + 1}, // the window holds the whole burst
		QueueSize: 16,
		Retry:     5 * time.Millisecond,
		Logger:    slog.New(slog.DiscardHandler),
	}
	registered := make(chan struct{}, clients)
	b.OnConnect = func(string, *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if connects++; connects <= clients {
			registered <- struct{}{}
		}
	}
	b.OnDisconnect = func(_ string, _ *http.Request, err error) {
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, sse.ErrSlowSubscriber) {
			slow++
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.Subscribe(w, r, "t")
	}))
	defer srv.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The topic has an event before the clients come, so each is told an
	// ID to resume from even if it is forced off before its first event.
	publish(t, b, "t", sse.Event{Data: "before"})
	got := make([][]string, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c := &sse.Client{Retry: 5 * time.Millisecond, MaxRetry: 20 * time.Millisecond}
			for ev, err := range c.Events(ctx, srv.URL) {
				if err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
				got[i] = append(got[i], ev.Data)
				if len(got[i]) == events {
					return
				}
			}
		})
	}
	for range clients {
		<-registered
	}
	want := make([]string, events)
	for i := range want {
		want[i] = strconv.Itoa(i)
		if _, err := b.Publish(ctx, "t", sse.Event{Data: want[i]}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i := range got {
		if diff := cmp.Diff(want, got[i]); diff != "" {
			t.Errorf("client %d (-want +got):\n%s", i, diff)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d clients, %d events: %d connections, %d forced off as slow and resumed", clients, events, connects, slow)
}

// TestBrokerTellsNewestID: a client without Last-Event-ID is told the
// newest ID in an id-only block (no event dispatched); on a topic with no
// event, nothing.
func TestBrokerTellsNewestID(t *testing.T) {
	connected := make(chan struct{}, 2)
	b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	defer b.Close()
	past := publish(t, b, "a", msgs("m", 2)...)
	fa, cancelA, endA := goSubscribe(b, "a", "")
	fe, cancelE, endE := goSubscribe(b, "empty", "")
	<-connected
	<-connected
	live := publish(t, b, "a", sse.Event{Data: "live"})
	waitFor(t, "the live event arrives", func() bool { return len(fa.events()) == 1 })
	cancelA()
	cancelE()
	<-endA
	<-endE
	want := []frame{{ID: past[1].ID, IDOnly: true}, live[0]}
	if diff := cmp.Diff(want, fa.frames()); diff != "" {
		t.Errorf("new client of a topic with events (-want +got):\n%s", diff)
	}
	if got := fe.frames(); len(got) != 0 {
		t.Errorf("new client of an empty topic got %+v, want nothing", got)
	}
}

// TestBrokerHTTP2: streams multiplexed on one HTTP/2 connection (TLS
// loopback) each get their topic's events.
func TestBrokerHTTP2(t *testing.T) {
	leaktest.Check(t)
	connected := make(chan struct{}, 3)
	b := &sse.Broker{OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			t.Errorf("request over %s, want HTTP/2", r.Proto)
		}
		b.Subscribe(w, r, strings.TrimPrefix(r.URL.Path, "/"))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer b.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var decs []*sse.Decoder
	for _, topic := range []string{"a", "a", "b"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/"+topic, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		decs = append(decs, sse.NewDecoder(resp.Body))
		<-connected
	}
	a := publish(t, b, "a", sse.Event{Data: "to a"})
	bb := publish(t, b, "b", sse.Event{Data: "to b"})
	for i, want := range []frame{a[0], a[0], bb[0]} {
		ev, err := decs[i].Next()
		if err != nil || ev.Data != want.Data || ev.ID != want.ID {
			t.Errorf("stream %d: Next() = %+v, %v; want %+v", i, ev, err, want)
		}
	}
}
