package sse_test

// Attacks on the package as an outside reviewer would make them, one
// checklist item (../shared/REVIEW.md) at a time: pooled buffers, every way
// out of user code, misuse, closed means closed, HTTP, untrusted input.
// Each test asserts what the documentation promises; the defects these
// found in the Client and in the IDs Publish accepts are fixed, and those
// left to the broker's owners are in attack_failing_test.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/sse"
)

// --- Client -------------------------------------------------------------

// TestAttackClientHeaderKeyNotCanonical: a Header written as a map literal
// keeps the key as spelled, and the standard spells it "Last-Event-ID",
// which is not Go's canonical "Last-Event-Id". The stored ID must still be
// taken as the one to resume from and then replaced, not sent beside the
// stream's own on every reconnect (the server reads the first of the two,
// and would replay from the stale ID forever).
func TestAttackClientHeaderKeyNotCanonical(t *testing.T) {
	var mu sync.Mutex
	var seen [][]string
	var n atomic.Int32
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Values("Last-Event-ID"))
		mu.Unlock()
		k := n.Add(1)
		if k == 3 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeStream(w, fmt.Sprintf("retry: 1\nid: new%d\ndata: x\n\n", k))
	})
	c := &sse.Client{HTTPClient: hc, Header: http.Header{
		"Last-Event-ID": {"stored"},
		"accept":        {"text/html"}, // replaced by the Client's own, whatever its spelling
		"x-trace":       {"t1"},
	}}
	var end error
	for _, err := range c.Events(testContext(t), url) {
		end = err
	}
	if !errors.Is(end, sse.ErrStatus) {
		t.Fatalf("last element = %v, want ErrStatus (204)", end)
	}
	mu.Lock()
	defer mu.Unlock()
	want := [][]string{{"stored"}, {"new1"}, {"new2"}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("Last-Event-ID values per request (-want +got):\n%s", diff)
	}
}

// TestAttackClientHeaderCanonicalOnTheWire checks, without a network, what
// the requests carry for a literal Header: one Accept (the Client's) and
// the user's other headers intact.
func TestAttackClientHeaderCanonicalOnTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got http.Header
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = r.Header.Clone()
			return &http.Response{StatusCode: http.StatusNoContent, Status: "204", Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})
		c := &sse.Client{HTTPClient: &http.Client{Transport: rt}, Header: http.Header{
			"accept":        {"text/html"},
			"cache-control": {"max-age=60"},
			"x-trace":       {"a", "b"},
		}}
		for range c.Events(t.Context(), "http://example.test/") {
		}
		want := http.Header{
			"Accept":        {"text/event-stream"},
			"Cache-Control": {"no-cache"},
			"X-Trace":       {"a", "b"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request header (-want +got):\n%s", diff)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAttackClientUnsendableLastEventID: an id field may hold any control
// character but NUL, CR and LF, and Go's HTTP client refuses to send a
// header value with one (a Go server answers 400 to one). The Client used
// to retry such a reconnect for ever, each attempt failing before it left;
// now it ends the stream with an error wrapping ErrInvalidField, after the
// event that carried the ID.
func TestAttackClientUnsendableLastEventID(t *testing.T) {
	for _, id := range []string{"a\x01b", "\x7f", "esc\x1b[0m"} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			var n atomic.Int32
			url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				writeStream(w, "retry: 1\nid: "+id+"\ndata: x\n\n")
			})
			var reconnects atomic.Int32
			c := &sse.Client{HTTPClient: hc, OnError: func(error) { reconnects.Add(1) }}
			var evs []sse.Event
			var errs []error
			for ev, err := range c.Events(testContext(t), url) {
				if err != nil {
					errs = append(errs, err)
					if reconnects.Load() > 3 {
						break // the old behaviour: retrying for ever
					}
					continue
				}
				evs = append(evs, ev)
			}
			if diff := cmp.Diff([]sse.Event{{ID: id, Type: "message", Data: "x"}}, evs); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if len(errs) != 1 || !errors.Is(errs[0], sse.ErrInvalidField) {
				t.Errorf("errors = %v, want one wrapping ErrInvalidField", errs)
			}
			if got := n.Load(); got != 1 {
				t.Errorf("server saw %d requests, want 1", got)
			}
		})
	}
}

// TestAttackClientUnsendableHeader: a header value the HTTP client would
// refuse on every attempt ends the stream at once with ErrInvalidField,
// without a request, instead of a retry loop that can never succeed.
func TestAttackClientUnsendableHeader(t *testing.T) {
	leaktest.Check(t)
	for _, h := range []http.Header{
		{"Last-Event-Id": {"4\x01"}},
		{"Authorization": {"Bearer x\x7f"}},
		{"Bad Name": {"v"}},
		{"": {"v"}},
	} {
		var requests atomic.Int32
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			requests.Add(1)
			return nil, errors.New("unreachable")
		})
		c := &sse.Client{HTTPClient: &http.Client{Transport: rt}, Header: h, Retry: time.Millisecond}
		var got []error
		for ev, err := range c.Events(testContext(t), "http://127.0.0.1:1/") {
			if err == nil {
				t.Fatalf("%v: got event %+v", h, ev)
			}
			got = append(got, err)
			if len(got) > 3 {
				break
			}
		}
		if len(got) != 1 || !errors.Is(got[0], sse.ErrInvalidField) {
			t.Errorf("%v: Events yielded %v, want one error wrapping ErrInvalidField", h, got)
		}
		if requests.Load() != 0 {
			t.Errorf("%v: %d requests made, want none", h, requests.Load())
		}
	}
}

// TestAttackClientContentTypeAsBrowsers: the Client accepts a response as
// an event stream when the Content-Type's essence (the part before any
// ';') is text/event-stream, as the Fetch standard's MIME parser and
// Chromium do; mime.ParseMediaType's strictness about parameters used to
// end such streams for good with ErrStatus.
func TestAttackClientContentTypeAsBrowsers(t *testing.T) {
	tests := []struct {
		ctype string
		ok    bool
	}{
		{"text/event-stream", true},
		{"text/event-stream;", true},                  // WPT format-mime-trailing-semicolon
		{"TEXT/Event-Stream; charset=utf-8", true},    //
		{"text/event-stream; charset", true},          // a parameter without '=' is skipped
		{"text/event-stream; a=1; a=2", true},         // a repeated parameter: the first wins
		{"text/event-stream ; charset=\"utf-8", true}, // space before ';', unterminated quote
		{"\ttext/event-stream\t;x=y", true},           // HTTP white space around the essence
		{"x bogus", false},                            // WPT format-mime-bogus
		{"text/x-bogus", false},                       // WPT format-mime-valid-bogus
		{"text/event-stream,text/html", false},        //
		{"text/event-streams", false},                 //
		{"text/event-stream-x; charset=utf-8", false}, //
		{"", false}, //
	}
	synctest.Test(t, func(t *testing.T) {
		for _, tt := range tests {
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{
					StatusCode: 200, Status: "200 OK",
					Header:  http.Header{"Content-Type": {tt.ctype}},
					Body:    io.NopCloser(strings.NewReader("data: x\n\n")),
					Request: r,
				}, nil
			})
			c := &sse.Client{HTTPClient: &http.Client{Transport: rt}}
			var got error
			for ev, err := range c.Events(t.Context(), "http://example.test/") {
				got = err
				if err == nil && ev.Data != "x" {
					t.Errorf("%q: event %+v", tt.ctype, ev)
				}
				break
			}
			if ok := got == nil; ok != tt.ok {
				t.Errorf("Content-Type %q: first element error %v, want accepted=%v", tt.ctype, got, tt.ok)
			}
			if !tt.ok && !errors.Is(got, sse.ErrStatus) {
				t.Errorf("Content-Type %q: error %v, want ErrStatus", tt.ctype, got)
			}
		}
	})
}

// TestAttackClientOnErrorGoexit: runtime.Goexit in OnError (t.Fatal does
// it) ends the ranging goroutine with the response closed and nothing left
// running: the server sees the connection go.
func TestAttackClientOnErrorGoexit(t *testing.T) {
	var n atomic.Int32
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeStream(w, "data: a\n\n")
	})
	done := make(chan bool)
	go func() {
		finished := false
		defer func() { done <- finished }()
		c := &sse.Client{HTTPClient: hc, OnError: func(error) { runtime.Goexit() }}
		for range c.Events(testContext(t), url) {
		}
		finished = true
	}()
	if <-done {
		t.Fatal("Events ended normally; want the Goexit to end the goroutine")
	}
	if n.Load() != 1 {
		t.Errorf("server saw %d requests, want 1 (no reconnect after Goexit)", n.Load())
	}
}

// TestAttackClientSaturatedRetry: a retry field past uint64 is ignored
// (the 5 ms before it stays), and one past time.Duration's range
// saturates; the wait that follows neither overflows into a busy loop nor
// panics, and the context still ends it.
func TestAttackClientSaturatedRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s := &scripted{steps: []step{
			{status: 200, body: "retry: 5\nretry: 99999999999999999999\ndata: a\n\n"},
			{status: 200, body: "retry: 18446744073709551615\ndata: b\n\n"},
		}}
		var reasons int
		c := &sse.Client{HTTPClient: &http.Client{Transport: s}, OnError: func(error) {
			if reasons++; reasons == 2 {
				time.AfterFunc(1000*time.Hour, cancel) // far inside the saturated wait
			}
		}}
		var last error
		var data []string
		for ev, err := range c.Events(ctx, "http://example.test/") {
			if err != nil {
				last = err
				continue
			}
			data = append(data, ev.Data)
		}
		if !errors.Is(last, context.Canceled) || len(data) != 2 {
			t.Errorf("events %q, last element %v; want a and b, then context.Canceled", data, last)
		}
		if len(s.times) != 2 {
			t.Fatalf("%d requests, want 2", len(s.times))
		}
		if gap := s.times[1].Sub(s.times[0]); gap > 5*time.Millisecond || gap < 4*time.Millisecond {
			t.Errorf("first wait %v, want 5 ms less at most a fifth", gap)
		}
		if end := time.Since(s.times[1]); end != 1000*time.Hour {
			t.Errorf("second wait cut after %v, want at 1000h", end)
		}
	})
}

// --- Decoder: untrusted input -------------------------------------------

// repeating repeats pattern for ever, counting the bytes read.
type repeating struct {
	pattern []byte
	block   []byte // pattern repeated to 4 KiB or so
	off     int    // into block, always within its first len(pattern) bytes
	n       int
}

func (e *repeating) Read(p []byte) (int, error) {
	if e.block == nil {
		e.block = bytes.Repeat(e.pattern, 4096/len(e.pattern)+1)
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.block[e.off:])
		n += c
		e.off = (e.off + c) % len(e.pattern)
	}
	e.n += n
	return n, nil
}

// TestAttackDecoderHostileStreams: a server that never ends a line, or
// sends data fields without end (one byte each, or none), gets ErrTooLarge
// after reading little more than the limit; one that sends only comments
// or unknown fields costs no memory as it goes.
func TestAttackDecoderHostileStreams(t *testing.T) {
	const limit = 64 << 10
	for _, tt := range []struct{ name, pattern string }{
		{"a line without end", "x"},
		{"empty data fields", "data\n"},
		{"one-byte data fields", "data:x\r"},
		{"data fields split by comments", "data: y\n:\n"},
	} {
		e := &repeating{pattern: []byte(tt.pattern)}
		d := sse.NewDecoder(e)
		d.MaxEventSize = limit
		_, err := d.Next()
		if !errors.Is(err, sse.ErrTooLarge) {
			t.Errorf("%s: Next = %v, want ErrTooLarge", tt.name, err)
		}
		// Empty data fields grow the data by their LF only: 5 bytes read per byte kept.
		if e.n > 5*limit+64<<10 {
			t.Errorf("%s: read %d bytes before failing, want about %d", tt.name, e.n, limit)
		}
	}
	for _, pattern := range []string{":\n", "x\n", "event: e\n", "id: 1\n", "retry: 99999999999999999999\n", "\n"} {
		src := io.LimitReader(&repeating{pattern: []byte(pattern)}, 512<<10)
		d := sse.NewDecoder(src)
		d.MaxEventSize = 1 << 10
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := d.Next()
		runtime.ReadMemStats(&after)
		if err != io.EOF {
			t.Errorf("%q for 512 KiB: Next = %v, want io.EOF", pattern, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
			t.Errorf("%q for 512 KiB: allocated %d bytes, want a few KiB", pattern, grew)
		}
	}
}

// --- Broker: IDs a client must be able to send back ------------------

// TestAttackBrokerRefusesUnsendableIDs: an ID with a control character
// other than tab cannot come back as Last-Event-ID (Go's client refuses to
// send it; Go's server answers 400, which stops an EventSource for good),
// so Publish refuses it like an ID with a line break.
func TestAttackBrokerRefusesUnsendableIDs(t *testing.T) {
	b := &sse.Broker{}
	defer b.Close()
	for _, id := range []string{"a\x01b", "\x1b[31m", "del\x7f", "\x00"} {
		if _, err := b.Publish(context.Background(), "t", sse.Event{ID: id}); !errors.Is(err, sse.ErrInvalidField) {
			t.Errorf("Publish with ID %q = %v, want ErrInvalidField", id, err)
		}
	}
	for _, id := range []string{"a\tb", "…", "1-2:3/4"} {
		if _, err := b.Publish(context.Background(), "t", sse.Event{ID: id}); err != nil {
			t.Errorf("Publish with ID %q = %v, want nil", id, err)
		}
	}
}

// TestAttackBrokerIDsComeBackIntact is the property behind the previous
// test, over loopback: every ID Publish accepts reaches a Go server intact
// as the Last-Event-ID header of a Go client's request, and the broker
// resumes after it.
func TestAttackBrokerIDsComeBackIntact(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{Heartbeat: -1}
	srv := newServer(t, b)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	idGen := rapid.Custom(func(t *rapid.T) string {
		return rapid.OneOf(
			rapid.StringMatching(`[ -~]{1,12}`),
			rapid.String(),
			rapid.Map(rapid.SliceOfN(rapid.Byte(), 1, 12), func(b []byte) string { return string(b) }),
		).Draw(t, "id")
	})
	accepted := 0
	rapid.Check(t, func(rt *rapid.T) {
		id := idGen.Draw(rt, "id")
		topic := fmt.Sprintf("p%d", accepted)
		stored, err := b.Publish(context.Background(), topic, sse.Event{ID: id, Data: "before"})
		if err != nil {
			if !errors.Is(err, sse.ErrInvalidField) {
				rt.Fatalf("Publish(%q) = %v, want nil or ErrInvalidField", id, err)
			}
			return
		}
		id = stored.ID // the store's, when id is empty
		accepted++
		if _, err := b.Publish(context.Background(), topic, sse.Event{Data: "after"}); err != nil {
			rt.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/"+topic, nil)
		req.Header.Set("Last-Event-ID", id)
		resp, err := hc.Do(req)
		if err != nil {
			rt.Fatalf("ID %q accepted by Publish cannot be sent back: %v", id, err)
		}
		defer resp.Body.Close()
		<-srv.connected
		ev, err := sse.NewDecoder(resp.Body).Next()
		if err != nil || ev.Data != "after" {
			rt.Fatalf("resuming after ID %q: first event %+v, %v; want the one after it", id, ev, err)
		}
		cancel()
		<-srv.ended
	})
	t.Logf("%d IDs accepted and resumed from", accepted)
}

// --- Broker: pooled queues and buffers ----------------------------------

// TestAttackBrokerPooledBuffersStayPut: a subscriber whose write is stuck
// holds a coalesced batch in a pooled buffer while other subscribers take
// buffers and queues from the same pools for thousands of writes; when it
// resumes, it writes exactly what was queued for it, byte for byte, and
// the others got theirs intact. (A buffer or queue given back while still
// in use would show as another subscriber's bytes, or as a race.)
func TestAttackBrokerPooledBuffersStayPut(t *testing.T) {
	leaktest.Check(t)
	connected := make(chan struct{}, 8)
	b := &sse.Broker{Heartbeat: -1, OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	defer b.Close()
	stuck := newHoldWriter(1, 2) // its first two writes wait to be released
	ctx, cancelStuck := context.WithCancel(context.Background())
	stuckEnded := make(chan error, 1)
	go func() { stuckEnded <- b.Subscribe(stuck, httptest.NewRequestWithContext(ctx, "GET", "/a", nil), "a") }()
	<-connected
	var want bytes.Buffer
	publishTo := func(topic, data string) {
		ev, err := b.Publish(context.Background(), topic, sse.Event{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if topic == "a" {
			buf, _ := sse.AppendEvent(nil, ev)
			want.Write(buf)
		}
	}
	// The first event is the stuck writer's first write; the next ones
	// queue behind it and go out as its second write, one coalesced batch
	// in a pooled buffer, which then waits while the others churn.
	publishTo("a", "first")
	<-stuck.held[1]
	for i := range 50 {
		publishTo("a", fmt.Sprintf("queued %d %s", i, strings.Repeat("q", i)))
	}
	close(stuck.release[1])
	<-stuck.held[2]
	var others []*fakeWriter
	var cancels []context.CancelFunc
	var ends []chan error
	for range 3 {
		f, cancel, ended := goSubscribe(b, "b", "")
		<-connected
		others, cancels, ends = append(others, f), append(cancels, cancel), append(ends, ended)
	}
	var wantB []frame
	for i := range 3000 {
		data := fmt.Sprintf("churn %d %s", i, strings.Repeat("z", i%97))
		publishTo("b", data)
		wantB = append(wantB, frame{Data: data})
	}
	for _, f := range others {
		waitFor(t, "the churn to be written", func() bool { return len(f.events()) == len(wantB) })
		got := f.events()
		for i := range got {
			got[i].ID = ""
		}
		if diff := cmp.Diff(wantB, got); diff != "" {
			t.Fatalf("a churning subscriber's events (-want +got):\n%s", diff)
		}
	}
	close(stuck.release[2])
	waitFor(t, "the stuck writer to catch up", func() bool { return stuck.written() >= want.Len() })
	got := stuck.bytes()
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("stuck subscriber wrote %d bytes, want %d; first difference at %d", len(got), want.Len(), firstDiff(got, want.Bytes()))
	}
	if stuck.writes() != 2 {
		t.Errorf("stuck subscriber made %d writes, want 2 (one event, then one batch of 50)", stuck.writes())
	}
	cancelStuck()
	<-stuckEnded
	for i := range others {
		cancels[i]()
		<-ends[i]
	}
}

// A holdWriter is a ResponseWriter whose numbered writes (1 is the first)
// wait until released, signalling held when they start waiting. It keeps
// what it is given only once the write is released, as net/http does.
type holdWriter struct {
	header  http.Header
	held    map[int]chan struct{}
	release map[int]chan struct{}

	mu  sync.Mutex
	n   int
	buf bytes.Buffer
}

func newHoldWriter(writes ...int) *holdWriter {
	w := &holdWriter{header: http.Header{}, held: map[int]chan struct{}{}, release: map[int]chan struct{}{}}
	for _, n := range writes {
		w.held[n], w.release[n] = make(chan struct{}), make(chan struct{})
	}
	return w
}

func (w *holdWriter) Header() http.Header { return w.header }
func (w *holdWriter) WriteHeader(int)     {}
func (w *holdWriter) Flush()              {}

func (w *holdWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.n++
	n := w.n
	w.mu.Unlock()
	if w.held[n] != nil {
		close(w.held[n])
		<-w.release[n]
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *holdWriter) writes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *holdWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Len()
}

func (w *holdWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// --- Broker: hooks, closed, misuse --------------------------------------

// TestAttackBrokerOnConnectPublishes: a hook that publishes to its own
// topic (a "user joined" event) does not deadlock, and the new subscriber
// gets that event after its replay, once.
func TestAttackBrokerOnConnectPublishes(t *testing.T) {
	leaktest.Check(t)
	store := &sse.MemoryStore{}
	b := &sse.Broker{Heartbeat: -1, Store: store}
	defer b.Close()
	past, err := b.Publish(context.Background(), "room", sse.Event{Data: "past"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(context.Background(), "room", sse.Event{Data: "missed"}); err != nil {
		t.Fatal(err)
	}
	joined := make(chan error, 1)
	b.OnConnect = func(topic string, r *http.Request) {
		_, err := b.Publish(r.Context(), topic, sse.Event{Type: "joined", Data: "hello"})
		joined <- err
	}
	b.OnDisconnect = func(topic string, r *http.Request, _ error) {
		b.Publish(context.Background(), topic, sse.Event{Type: "left"}) // after unregistering: reaches no one here
	}
	f, cancel, ended := goSubscribe(b, "room", past.ID)
	if err := <-joined; err != nil {
		t.Fatalf("Publish from OnConnect = %v", err)
	}
	waitFor(t, "two events", func() bool { return len(f.events()) == 2 })
	got := f.events()
	for i := range got {
		got[i].ID = ""
	}
	if diff := cmp.Diff([]frame{{Data: "missed"}, {Type: "joined", Data: "hello"}}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	cancel()
	if err := <-ended; err != nil {
		t.Errorf("Subscribe = %v, want nil", err)
	}
	evs, _, _ := store.After(context.Background(), "room", past.ID)
	if n := len(evs); n != 3 || evs[2].Type != "left" {
		t.Errorf("window after the hooks = %+v, want missed, joined, left", evs)
	}
}

// TestAttackBrokerClosedMeansClosed: after Close, Publish and Subscribe
// give ErrClosed every time, nothing is registered, no goroutine stays
// (the heartbeat's included), and Shutdown after Close returns at once.
func TestAttackBrokerClosedMeansClosed(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{Heartbeat: time.Millisecond}
	_, _, ended := goSubscribe(b, "t", "")
	waitFor(t, "the subscriber", func() bool { return b.Subscribers("t") == 1 })
	first, err := b.Publish(context.Background(), "t", sse.Event{Data: "x"})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := <-ended; !errors.Is(err, sse.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
	for range 3 {
		if _, err := b.Publish(context.Background(), "t", sse.Event{Data: "late"}); !errors.Is(err, sse.ErrClosed) {
			t.Errorf("Publish after Close = %v, want ErrClosed", err)
		}
		late := newFakeWriter()
		r := httptest.NewRequest("GET", "/t", nil)
		r.Header.Set("Last-Event-ID", first.ID)
		if err := b.Subscribe(late, r, "t"); !errors.Is(err, sse.ErrClosed) {
			t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
		}
		// What it answers is TestAttackFailingClosedBrokerStopsClientsForGood's.
		if n := b.Subscribers("t"); n != 0 {
			t.Errorf("Subscribers after Close = %d", n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after Close = %v, want nil", err)
	}
}

// TestAttackMisusePanicsAtTheCall: nil arguments panic where they are
// passed, with the package's prefix.
func TestAttackMisusePanicsAtTheCall(t *testing.T) {
	var nilCtx context.Context
	r := httptest.NewRequest("GET", "/", nil)
	for name, f := range map[string]func(){
		"Subscribe nil ResponseWriter": func() { (&sse.Broker{}).Subscribe(nil, r, "t") },
		"Shutdown nil ctx":             func() { (&sse.Broker{}).Shutdown(nilCtx) },
		"PublishJSON nil ctx":          func() { (&sse.Broker{}).PublishJSON(nilCtx, "t", sse.Event{}, 1) },
		"Upgrade nil ResponseWriter":   func() { sse.Upgrade(nil, r) },
		"Decoder negative limit":       func() { d := sse.NewDecoder(strings.NewReader("")); d.MaxEventSize = -1; d.Next() },
		"Client negative MaxRetry":     func() { (&sse.Client{MaxRetry: -1}).Events(context.Background(), "http://x/") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if s, _ := recover().(string); !strings.HasPrefix(s, "sse: ") {
					t.Errorf("panic %q, want one starting with %q", s, "sse: ")
				}
			}()
			f()
		})
	}
}

// --- Broker: HTTP -------------------------------------------------------

// TestAttackBrokerHugeLastEventID: a 64 KiB Last-Event-ID (and one in the
// query) is not looked up: the client gets a reset event naming the newest
// ID, then live events, and the broker serves others as before.
func TestAttackBrokerHugeLastEventID(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{Heartbeat: -1}
	s := newServer(t, b)
	newest, err := b.Publish(context.Background(), "t", sse.Event{Data: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("7", 64<<10)
	c := s.subscribe(t, "t", huge)
	q := s.subscribe(t, "t?lastEventId="+strings.Repeat("%41", 4<<10), "")
	reset := []frame{{ID: newest.ID, Type: sse.ResetType}}
	for _, cl := range []*client{c, q} {
		if diff := cmp.Diff(reset, cl.events(1)); diff != "" {
			t.Errorf("first event (-want +got):\n%s", diff)
		}
	}
	live, err := b.Publish(context.Background(), "t", sse.Event{Data: "live"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*client{c, q} {
		if got := cl.events(1); got[0].ID != live.ID || got[0].Data != "live" {
			t.Errorf("after the reset got %+v, want the live event", got)
		}
	}
}

// TestAttackBrokerClientVanishesMidReplay: a client that asks for a large
// replay and closes its connection after the first bytes frees its
// Subscribe (an error wrapping ErrClosed, or nil if the context ended
// first) within the write timeout, and leaves nothing registered.
func TestAttackBrokerClientVanishesMidReplay(t *testing.T) {
	leaktest.Check(t)
	b := &sse.Broker{Heartbeat: -1, WriteTimeout: 2 * time.Second}
	s := newServer(t, b)
	data := strings.Repeat("r", 1<<10)
	first, err := b.Publish(context.Background(), "t", sse.Event{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	for range 2999 {
		if _, err := b.Publish(context.Background(), "t", sse.Event{Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	c := s.subscribe(t, "t", first.ID)
	c.events(1)
	c.close()
	select {
	case err := <-s.ended:
		if err != nil && !errors.Is(err, sse.ErrClosed) {
			t.Errorf("Subscribe = %v, want nil or ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Subscribe still running 10 s after its client vanished")
	}
	if n := b.Subscribers("t"); n != 0 {
		t.Errorf("Subscribers = %d after the client vanished", n)
	}
}

// TestAttackBrokerFlushlessWriter: a ResponseWriter with no Flush anywhere
// gets ErrFlushUnsupported before anything is written or registered.
func TestAttackBrokerFlushlessWriter(t *testing.T) {
	b := &sse.Broker{}
	defer b.Close()
	called := false
	b.OnConnect = func(string, *http.Request) { called = true }
	w := &noFlushWriter{header: http.Header{}}
	err := b.Subscribe(w, httptest.NewRequest("GET", "/", nil), "t")
	if !errors.Is(err, sse.ErrFlushUnsupported) {
		t.Errorf("Subscribe = %v, want ErrFlushUnsupported", err)
	}
	if w.wrote || w.status != 0 || len(w.header) != 0 || called || b.Subscribers("t") != 0 {
		t.Errorf("wrote=%v status=%d header=%v OnConnect=%v subscribers=%d; want nothing done",
			w.wrote, w.status, w.header, called, b.Subscribers("t"))
	}
}

type noFlushWriter struct {
	header http.Header
	status int
	wrote  bool
}

func (w *noFlushWriter) Header() http.Header         { return w.header }
func (w *noFlushWriter) WriteHeader(code int)        { w.status = code }
func (w *noFlushWriter) Write(p []byte) (int, error) { w.wrote = true; return len(p), nil }

// BenchmarkAttackDropOldestFull is Publish to 100 subscribers whose writes
// are stuck and whose queues are full under DropOldest, with a small queue
// and the default one: each drop shifts the whole queue, so the cost of a
// Publish grows with QueueSize (see the report on attack_failing_test.go).
func BenchmarkAttackDropOldestFull(b *testing.B) {
	for _, qs := range []int{16, sse.DefaultQueueSize} {
		b.Run(fmt.Sprint("queue=", qs), func(b *testing.B) {
			br := &sse.Broker{QueueSize: qs, OnSlow: sse.DropOldest, Heartbeat: -1}
			var fs []*fakeWriter
			var ends []chan error
			for range 100 {
				f, _, ended := goSubscribe(br, "t", "")
				f.mu.Lock()
				f.keep = false
				f.mu.Unlock()
				f.stall()
				fs, ends = append(fs, f), append(ends, ended)
			}
			for br.Subscribers("t") < 100 {
				time.Sleep(time.Millisecond)
			}
			ctx := context.Background()
			for range qs + 2 {
				br.Publish(ctx, "t", sse.Event{ID: "x", Data: "d"})
			}
			for b.Loop() {
				br.Publish(ctx, "t", sse.Event{ID: "x", Data: "d"})
			}
			br.Close()
			for i, f := range fs {
				f.unstall()
				<-ends[i]
			}
		})
	}
}
