package benchmarks

// Side-by-side benchmarks of github.com/nodekit/nodekit/sse's Broker against
// tmaxmax/go-sse, r3labs/sse and a stdlib hub (sse_hub_test.go), over real
// loopback TCP with the clients in a second process (sse_clients_test.go).
// Names end in /lib=NAME, nodekit first, as in events_test.go:
//
//	go test -run '^$' -bench 'SSE' -count 6 -timeout 0 | tee sse.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /lib sse.txt
//
// With an iteration count as -benchtime (CI's smoke pass, -benchtime 1x) the
// broadcast and idle benchmarks run at small sizes (subs=20, events=200;
// conns=50), so the pass takes seconds.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	r3sse "github.com/r3labs/sse/v2"
	gosse "github.com/tmaxmax/go-sse"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/sse"
)

const (
	// sseTopic is the one topic (stream) every setup publishes to.
	sseTopic = "bench"
	// sseHubQueue is the hub's queue per subscriber, a channel made with
	// each subscriber (nodekit's queues grow with their backlog instead).
	sseHubQueue = 256
)

// sseSmoke reports whether -benchtime is an iteration count (CI's
// -benchtime 1x): the benchmarks then run at small sizes.
func sseSmoke() bool {
	f := flag.Lookup("test.benchtime")
	return f != nil && strings.HasSuffix(f.Value.String(), "x")
}

// An sseServer is one library serving one topic on a loopback HTTP server.
type sseServer struct {
	url     string
	publish func(data string) error // publishes one event with this data and no type
	close   func() error            // the library's own stop, called once the clients have gone

	srv   *http.Server
	conns atomic.Int64 // connections open on srv
}

// An sseSetup starts one library's server; heartbeat is the interval of
// the libraries that send heartbeats (0: their default).
type sseSetup struct {
	lib   string
	start func(heartbeat time.Duration) (h http.Handler, path string, publish func(string) error, close func() error)
}

var sseSetups = []sseSetup{
	{"nodekit", startNodekitSSE},
	{"nodekit-q256", startNodekitSmallQueueSSE},
	{"hub", startHubSSE},
	{"gosse", startGoSSE},
	{"r3labs", startR3labsSSE},
}

// startNodekitSSE: a Broker with its defaults (queue of 4096 frames,
// Disconnect for a subscriber whose queue is full, a replay window of
// 10,000 events), subscribed from a handler, published to with Publish. Its
// warning per slow subscriber is silenced: reconnects/op counts them.
func startNodekitSSE(heartbeat time.Duration) (http.Handler, string, func(string) error, func() error) {
	return startBroker(&sse.Broker{Heartbeat: heartbeat})
}

// startNodekitSmallQueueSSE: the same with a queue of 256 frames, which a
// burst overflows: the laggards are disconnected, reconnect with
// Last-Event-ID and resume from the replay window (reconnects/op counts
// them), so this row shows what the slow-subscriber path costs.
func startNodekitSmallQueueSSE(heartbeat time.Duration) (http.Handler, string, func(string) error, func() error) {
	return startBroker(&sse.Broker{Heartbeat: heartbeat, QueueSize: 256})
}

func startBroker(b *sse.Broker) (http.Handler, string, func(string) error, func() error) {
	b.Logger = slog.New(slog.DiscardHandler)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.Subscribe(w, r, sseTopic)
	})
	publish := func(data string) error {
		_, err := b.Publish(context.Background(), sseTopic, sse.Event{Data: data})
		return err
	}
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return b.Shutdown(ctx)
	}
	return h, "/events", publish, stop
}

// startHubSSE: the stdlib anchor.
func startHubSSE(time.Duration) (http.Handler, string, func(string) error, func() error) {
	h := newSSEHub(sseHubQueue)
	publish := func(data string) error { h.publish(data); return nil }
	return h, "/events", publish, func() error { h.close(); return nil }
}

// startGoSSE: go-sse's Server with its default provider (Joe, no replay),
// one Message per event.
func startGoSSE(time.Duration) (http.Handler, string, func(string) error, func() error) {
	s := &gosse.Server{}
	publish := func(data string) error {
		m := &gosse.Message{}
		m.AppendData(data)
		return s.Publish(m)
	}
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.Shutdown(ctx)
	}
	return s, "/events", publish, stop
}

// startR3labsSSE: r3labs' sse.New() (its defaults: AutoReplay on, buffer
// 1024), CreateStream, Publish of one Event per event.
func startR3labsSSE(time.Duration) (http.Handler, string, func(string) error, func() error) {
	s := r3sse.New()
	s.CreateStream(sseTopic)
	publish := func(data string) error {
		s.Publish(sseTopic, &r3sse.Event{Data: []byte(data)})
		return nil
	}
	return s, "/events?stream=" + sseTopic, publish, func() error { s.Close(); return nil }
}

// startSSEServer starts setup on a loopback HTTP server.
func startSSEServer(tb testing.TB, setup sseSetup, heartbeat time.Duration) *sseServer {
	tb.Helper()
	h, path, publish, stop := setup.start(heartbeat)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &sseServer{url: "http://" + ln.Addr().String() + path, publish: publish, close: stop}
	s.srv = &http.Server{
		Handler: h,
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.conns.Add(-1)
			}
		},
	}
	go s.srv.Serve(ln)
	return s
}

// stop waits until the clients' connections have closed, then stops the
// library and the HTTP server.
func (s *sseServer) stop(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.conns.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.conns.Load(); n > 0 {
		tb.Errorf("%d connections still open 30 s after the clients closed theirs", n)
	}
	if err := s.close(); err != nil {
		tb.Errorf("stopping the library: %v", err)
	}
	s.srv.Close()
}

// sseHeapInUse returns the heap and stack bytes in use after two
// collections: the memory the process holds for its live objects and
// goroutines.
func sseHeapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// --- Broadcast ---------------------------------------------------------------

// sseBroadcast publishes batches of events events to subs clients of
// setup, one batch per iteration of loop, waiting for every client to have
// received every event of a batch before the next; it returns the clients'
// totals and the time the batches took.
func sseBroadcast(tb testing.TB, setup sseSetup, subs, events int, loop func() bool) (sseStats, int, time.Duration) {
	tb.Helper()
	srv := startSSEServer(tb, setup, 0)
	clients := startSSEClients(tb, srv.url, subs, events)
	clients.waitReady(tb, func() error { return srv.publish(sseProbe) }, 2*time.Minute)
	var buf []byte
	batches := 0
	start := time.Now()
	var failed error
	for loop() {
		for j := range events {
			buf = ssePayload(buf[:0], batches*events+j)
			if err := srv.publish(string(buf)); err != nil {
				failed = fmt.Errorf("Publish: %w", err)
				break
			}
		}
		if failed == nil {
			failed = clients.waitBatch(batches, srv.publish)
		}
		batches++
		if failed != nil {
			break
		}
	}
	elapsed := time.Since(start)
	st := clients.stop(tb, batches*events)
	srv.stop(tb)
	if failed != nil {
		tb.Fatalf("lib=%s: %v; the clients: %+v", setup.lib, failed, st)
	}
	return st, batches, elapsed
}

// BenchmarkSSEBroadcast: one publisher, subs loopback subscribers in the
// client process, events 32-byte events per op, every event checked at
// every client. deliveries/s counts the events received in order; lost/op
// the events some client never received (a library that drops is shown
// here, not counted as delivered).
func BenchmarkSSEBroadcast(b *testing.B) {
	subs, events := 1000, 10_000
	if sseSmoke() {
		subs, events = 20, 200
	}
	for _, setup := range sseSetups {
		b.Run(fmt.Sprintf("subs=%d/events=%d/lib=%s", subs, events, setup.lib), func(b *testing.B) {
			st, batches, elapsed := sseBroadcast(b, setup, subs, events, b.Loop)
			delivered := batches*events*subs - st.lost
			b.ReportMetric(float64(delivered)/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(st.lost)/float64(batches), "lost/op")
			b.ReportMetric(float64(st.reconnects)/float64(batches), "reconnects/op")
			if st.lost > 0 || st.dup > 0 || st.bad > 0 || st.resets > 0 {
				b.Logf("lib=%s did not deliver every event once, in order: %+v", setup.lib, st)
			}
		})
	}
}

// --- Idle memory -------------------------------------------------------------

// BenchmarkSSEIdleMemory: the server process's heap and stack growth per
// idle subscriber (KiB/conn), with conns subscribers connected and each
// having received one event. One op is one round: start the server,
// connect, measure, disconnect.
func BenchmarkSSEIdleMemory(b *testing.B) {
	conns := 2000
	if sseSmoke() {
		conns = 50
	}
	for _, setup := range sseSetups {
		b.Run(fmt.Sprintf("conns=%d/lib=%s", conns, setup.lib), func(b *testing.B) {
			var sum float64
			rounds := 0
			for b.Loop() {
				sum += sseIdleBytes(b, setup, conns) / float64(conns)
				rounds++
			}
			b.ReportMetric(sum/float64(rounds)/1024, "KiB/conn")
		})
	}
}

// sseIdleBytes returns how much the server process's heap and stacks grow
// when conns clients subscribe to setup and idle.
func sseIdleBytes(tb testing.TB, setup sseSetup, conns int) float64 {
	srv := startSSEServer(tb, setup, 0)
	before := sseHeapInUse()
	clients := startSSEClients(tb, srv.url, conns, 0)
	clients.waitReady(tb, func() error { return srv.publish(sseProbe) }, 2*time.Minute)
	after := sseHeapInUse()
	clients.stop(tb, 0)
	srv.stop(tb)
	return float64(after - before)
}

// --- Encoding ----------------------------------------------------------------

// sseEncodeID, sseEncodeType and sseEncodeData make the encoded event: an
// id, a type and 32 bytes of data.
var (
	sseEncodeID   = "12345"
	sseEncodeType = "tick"
	sseEncodeData = string(ssePayload(nil, 12345))
)

// sseR3labsEncode writes ev as r3labs/sse's ServeHTTP does (http.go,
// v2.10.0, SplitData off): its encoding is not exported, so this is its
// code, copied.
func sseR3labsEncode(w io.Writer, ev *r3sse.Event) {
	if len(ev.Data) > 0 {
		fmt.Fprintf(w, "id: %s\n", ev.ID)
		if bytes.HasPrefix(ev.Data, []byte(":")) {
			fmt.Fprintf(w, "%s\n", ev.Data)
		} else {
			fmt.Fprintf(w, "data: %s\n", ev.Data)
		}
		if len(ev.Event) > 0 {
			fmt.Fprintf(w, "event: %s\n", ev.Event)
		}
		if len(ev.Retry) > 0 {
			fmt.Fprintf(w, "retry: %s\n", ev.Retry)
		}
	}
	if len(ev.Comment) > 0 {
		fmt.Fprintf(w, ": %s\n", ev.Comment)
	}
	fmt.Fprint(w, "\n")
}

// sseEncoders encode the same event into a reused buffer; each returns the
// bytes it made.
var sseEncoders = []struct {
	lib    string
	encode func(tb testing.TB) func() []byte
}{
	{"nodekit", func(tb testing.TB) func() []byte {
		ev := sse.Event{ID: sseEncodeID, Type: sseEncodeType, Data: sseEncodeData}
		var buf []byte
		return func() []byte {
			var err error
			if buf, err = sse.AppendEvent(buf[:0], ev); err != nil {
				tb.Fatal(err)
			}
			return buf
		}
	}},
	// gosse: the Message built once, WriteTo per op: what Joe pays per
	// subscriber for every event (Session.Send writes the message to each).
	{"gosse", func(tb testing.TB) func() []byte {
		m := &gosse.Message{ID: gosse.ID(sseEncodeID), Type: gosse.Type(sseEncodeType)}
		m.AppendData(sseEncodeData)
		var buf bytes.Buffer
		return func() []byte {
			buf.Reset()
			if _, err := m.WriteTo(&buf); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}
	}},
	// gosse-build: the Message built per event too, as a publisher does.
	{"gosse-build", func(tb testing.TB) func() []byte {
		var buf bytes.Buffer
		return func() []byte {
			m := &gosse.Message{ID: gosse.ID(sseEncodeID), Type: gosse.Type(sseEncodeType)}
			m.AppendData(sseEncodeData)
			buf.Reset()
			if _, err := m.WriteTo(&buf); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}
	}},
	// r3labs: its handler's fmt.Fprintf sequence, per subscriber per event.
	{"r3labs", func(tb testing.TB) func() []byte {
		ev := &r3sse.Event{ID: []byte(sseEncodeID), Event: []byte(sseEncodeType), Data: []byte(sseEncodeData)}
		var buf bytes.Buffer
		return func() []byte {
			buf.Reset()
			sseR3labsEncode(&buf, ev)
			return buf.Bytes()
		}
	}},
}

// BenchmarkSSEEncode: one event with an id, a type and 32 bytes of data,
// encoded into a reused buffer.
func BenchmarkSSEEncode(b *testing.B) {
	for _, e := range sseEncoders {
		b.Run("lib="+e.lib, func(b *testing.B) {
			encode := e.encode(b)
			b.ReportAllocs()
			for b.Loop() {
				encode()
			}
		})
	}
}

// --- Tests -------------------------------------------------------------------

// TestSSESetups runs every broadcast setup small: 20 subscribers, two
// batches of 100 events, each client checking every event; every setup
// must deliver every event once, in order, and leave no goroutine behind.
// It also checks that every encoder writes the same event.
func TestSSESetups(t *testing.T) {
	if err := sseCheckPayloads(); err != nil {
		t.Fatal(err)
	}
	const subs, events, batches = 20, 100, 2
	for _, setup := range sseSetups {
		t.Run("lib="+setup.lib, func(t *testing.T) {
			leaktest.Check(t)
			n := 0
			st, got, _ := sseBroadcast(t, setup, subs, events, func() bool { n++; return n <= batches })
			want := sseStats{events: subs * events * batches, hbMin: st.hbMin, hbMaxGap: st.hbMaxGap}
			if got != batches || st != want {
				t.Errorf("%d batches, clients saw %+v; want %d batches, %+v", got, st, batches, want)
			}
		})
	}
	t.Run("encoders", func(t *testing.T) {
		for _, e := range sseEncoders {
			got := string(e.encode(t)())
			// Every library writes its own field order and spacing:
			// compare what a parser sees.
			evs, err := sseParseAll(got)
			if err != nil || len(evs) != 1 {
				t.Fatalf("lib=%s wrote %q: %v, %d events; want 1", e.lib, got, err, len(evs))
			}
			if ev := evs[0]; ev.ID != sseEncodeID || ev.Type != sseEncodeType || ev.Data != sseEncodeData {
				t.Errorf("lib=%s wrote %q, parsed as %+v", e.lib, got, ev)
			}
		}
	})
}

// sseParseAll parses a whole stream with nodekit's Decoder.
func sseParseAll(s string) ([]sse.Event, error) {
	d := sse.NewDecoder(strings.NewReader(s))
	var evs []sse.Event
	for {
		ev, err := d.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

// TestSSEHold10k holds 10,000 idle subscribers on a nodekit Broker whose
// heartbeat is 1 s for 10 s: the server's heap and stacks must stay flat
// (grow by less than 1 KiB per connection over the hold), every client must
// receive its heartbeats (at least 8, never more than 1.5 s apart), and the
// memory per connection is logged. It takes about half a minute and 20,000
// file descriptors, so it runs only with NODEKIT_SSE_HOLD=1:
//
//	NODEKIT_SSE_HOLD=1 go test -run TestSSEHold10k -v
func TestSSEHold10k(t *testing.T) {
	if os.Getenv("NODEKIT_SSE_HOLD") == "" {
		t.Skip("set NODEKIT_SSE_HOLD=1 to hold 10,000 idle subscribers")
	}
	const conns, hold, beat = 10_000, 10 * time.Second, time.Second
	leaktest.Check(t)
	setup := sseSetup{"nodekit", startNodekitSSE}
	srv := startSSEServer(t, setup, beat)
	before := sseHeapInUse()
	clients := startSSEClients(t, srv.url, conns, 0)
	clients.waitReady(t, func() error { return srv.publish(sseProbe) }, 2*time.Minute)
	connected := sseHeapInUse()
	time.Sleep(hold) // the hold itself: what is measured is what happens during it
	held := sseHeapInUse()
	st := clients.stop(t, 0)
	srv.stop(t)
	perConn := float64(connected-before) / conns / 1024
	growth := float64(held-connected) / conns
	t.Logf("%d idle subscribers: %.1f KiB/conn connected, %+.0f B/conn after %v; heartbeats: at least %d per client, at most %v apart",
		conns, perConn, growth, hold, st.hbMin, st.hbMaxGap)
	if growth > 1024 {
		t.Errorf("heap and stacks grew by %.0f B per connection over the %v hold, want < 1 KiB", growth, hold)
	}
	if min := int(hold/beat) - 2; st.hbMin < min {
		t.Errorf("a client received %d heartbeats in %v, want at least %d", st.hbMin, hold, min)
	}
	if st.hbMaxGap > beat*3/2 {
		t.Errorf("heartbeats %v apart, want at most %v", st.hbMaxGap, beat*3/2)
	}
	if st.lost != 0 || st.bad != 0 || st.reconnects != 0 {
		t.Errorf("clients saw %+v, want no loss, no bad line, no reconnection", st)
	}
}
