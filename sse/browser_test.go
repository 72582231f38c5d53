package sse_test

// The browser tests: headless Chromium (internal/chromium) loads a page
// served here, whose EventSources record every open, message and error
// event into the DOM (testdata/browser/recorder.js), and the tests compare
// that record with what the stream should mean. They skip when Chromium is
// absent, and fail then when NODEKIT_REQUIRE_CHROMIUM=1 (as CI sets it).
//
// Chromium runs twice in all: once for every parsing vector (one
// EventSource each, on one page), once for the other cases.

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/chromium"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/sse"
)

//go:embed testdata/browser
var browserFiles embed.FS

// A pageStream is one EventSource the recorder page opens (the fields are
// described in testdata/browser/recorder.js).
type pageStream struct {
	Name    string   `json:"name"`
	URL     string   `json:"url"`
	Types   []string `json:"types,omitempty"`
	Ack     string   `json:"ack,omitempty"`
	CloseOn string   `json:"closeOn,omitempty"`
}

// A record is one thing an EventSource did: kind "open", "message",
// "error", or "close" (the page called close()).
type record struct {
	Kind        string  `json:"kind"`
	Type        string  `json:"type,omitempty"`
	Data        string  `json:"data,omitempty"`
	LastEventID string  `json:"lastEventId,omitempty"`
	ReadyState  int     `json:"readyState"`
	T           float64 `json:"t,omitempty"` // performance.now() in ms (virtual time), for open and error
}

// EventSource.readyState values.
const (
	connecting = 0
	openState  = 1
	closed     = 2
)

// browserBudget is Chromium's --virtual-time-budget: the page's timers
// (an EventSource's reconnection delay) may take this long in virtual time.
// Virtual time costs no real time while nothing is pending, and one vector
// sets a retry of 10 s, so the budget is larger than that.
const browserBudget = 20 * time.Second

// runPage serves the recorder page, with streams as its config, next to
// the handlers on mux, loads it in Chromium and returns what each stream
// recorded. It fails t unless every stream ended closed.
func runPage(t *testing.T, mux *http.ServeMux, streams []pageStream) map[string][]record {
	t.Helper()
	page, err := fs.Sub(browserFiles, "testdata/browser")
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, page, "page.html")
	})
	mux.HandleFunc("GET /recorder.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, page, "recorder.js")
	})
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(streams); err != nil {
			t.Errorf("GET /config.json: %v", err)
		}
	})
	srv := httptest.NewServer(mux) // 127.0.0.1
	defer srv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
	defer cancel()
	dom, err := chromium.DumpDOM(ctx, srv.URL+"/", browserBudget)
	if err != nil {
		t.Fatal(err)
	}
	if failure, _ := chromium.Text(dom, "failure"); failure != "" {
		t.Fatalf("the page failed: %s", failure)
	}
	text, ok := chromium.Text(dom, "result")
	if !ok {
		t.Fatalf("no result in the dumped DOM:\n%s", dom)
	}
	got := map[string][]record{}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("result %q: %v", text, err)
	}
	if done, _ := chromium.Text(dom, "done"); done != "closed" {
		t.Errorf("not every EventSource closed before the virtual time budget ran out; the record:\n%s", text)
	}
	return got
}

// messages returns the message records of recs.
func messages(recs []record) []record {
	var out []record
	for _, r := range recs {
		if r.Kind == "message" {
			out = append(out, r)
		}
	}
	return out
}

// browserVector is one case of testdata/sse-vectors.json (its format is in
// that directory's README.md).
type browserVector struct {
	Name      string   `json:"name"`
	Chunks    []string `json:"chunks"`
	ChunksB64 [][]byte `json:"chunks_b64"`
	Expect    []struct {
		Type        string `json:"type"`
		Data        string `json:"data"`
		LastEventID string `json:"lastEventId"`
	} `json:"expect"`
	Retry       *int   `json:"retry"`
	LastEventID string `json:"last_event_id"`
}

func (v *browserVector) chunks() [][]byte {
	if v.ChunksB64 != nil {
		return v.ChunksB64
	}
	out := make([][]byte, len(v.Chunks))
	for i, c := range v.Chunks {
		out[i] = []byte(c)
	}
	return out
}

func loadBrowserVectors(t *testing.T) []browserVector {
	t.Helper()
	b, err := os.ReadFile("testdata/sse-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []browserVector }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("testdata/sse-vectors.json has no vectors")
	}
	return file.Vectors
}

// chromiumDefaultRetry is Chromium's reconnection time before a stream
// sets one.
const chromiumDefaultRetry = 3000

// TestBrowserVectors serves every parsing vector, each chunk written and
// flushed on its own, to its own EventSource, and checks that Chromium
// dispatches the vector's expected events, then reconnects after the
// vector's retry time (or Chromium's default) sending the vector's
// last_event_id as Last-Event-ID (no header when it is empty); the
// reconnection is answered 204, which closes the EventSource.
func TestBrowserVectors(t *testing.T) {
	chromium.Require(t)
	leaktest.Check(t)
	vectors := loadBrowserVectors(t)

	type conns struct {
		mu         sync.Mutex
		n          int
		reconnects [][]string // the Last-Event-ID values of each reconnection
	}
	seen := make([]conns, len(vectors))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /vector/{i}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		if err != nil || i < 0 || i >= len(vectors) {
			http.NotFound(w, r)
			return
		}
		c := &seen[i]
		c.mu.Lock()
		c.n++
		first := c.n == 1
		if !first {
			c.reconnects = append(c.reconnects, r.Header.Values("Last-Event-ID"))
		}
		c.mu.Unlock()
		if !first {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for _, chunk := range vectors[i].chunks() {
			if err := rc.Flush(); err != nil {
				t.Errorf("vector %s: %v", vectors[i].Name, err)
				return
			}
			if _, err := w.Write(chunk); err != nil {
				t.Errorf("vector %s: %v", vectors[i].Name, err)
				return
			}
		}
	})
	var streams []pageStream
	for i, v := range vectors {
		s := pageStream{Name: v.Name, URL: "/vector/" + strconv.Itoa(i)}
		for _, e := range v.Expect {
			s.Types = append(s.Types, e.Type)
		}
		streams = append(streams, s)
	}
	got := runPage(t, mux, streams)

	for i, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			recs := got[v.Name]
			want := []record{}
			for _, e := range v.Expect {
				want = append(want, record{Kind: "message", Type: e.Type, Data: e.Data, LastEventID: e.LastEventID, ReadyState: 0})
			}
			if diff := cmp.Diff(want, append([]record{}, messages(recs)...)); diff != "" {
				t.Errorf("messages (-want +got):\n%s\nall records: %+v", diff, recs)
			}
			var states []string
			for _, r := range recs {
				if r.Kind != "message" {
					states = append(states, r.Kind+" "+strconv.Itoa(r.ReadyState))
				}
			}
			wantStates := []string{"open 1", "error 0", "error 2"}
			if diff := cmp.Diff(wantStates, states); diff != "" {
				t.Fatalf("open/error events and readyState (-want +got):\n%s", diff)
			}
			c := &seen[i]
			c.mu.Lock()
			reconnects := c.reconnects
			c.mu.Unlock()
			// Chromium trims the whitespace around the last event ID
			// when it sends it (HTTP strips it from a field value
			// anyway): an ID of " a b " comes back as "a b", seen on the
			// wire.
			wantHeader := []string(nil)
			if v.LastEventID != "" {
				wantHeader = []string{strings.Trim(v.LastEventID, " \t")}
			}
			if diff := cmp.Diff([][]string{wantHeader}, reconnects); diff != "" {
				t.Errorf("Last-Event-ID of the reconnections (-want +got):\n%s", diff)
			}
			wantRetry := chromiumDefaultRetry
			if v.Retry != nil {
				wantRetry = *v.Retry
			}
			var errTimes []float64
			for _, r := range recs {
				if r.Kind == "error" {
					errTimes = append(errTimes, r.T)
				}
			}
			// Timers run in virtual time, which Chromium advances in
			// steps of about 10 ms.
			if delay := errTimes[1] - errTimes[0]; math.Abs(delay-float64(wantRetry)) > 50 {
				t.Errorf("reconnected %.1f ms after the stream ended, want the retry time %d ms", delay, wantRetry)
			}
		})
	}
}

// A browserCase is one case of TestBrowserStreams: serve registers its
// handlers on the shared mux (under /name/) and returns the streams the
// page opens; check reads what they recorded.
type browserCase struct {
	name  string
	serve func(t *testing.T, mux *http.ServeMux) []pageStream
	check func(t *testing.T, got map[string][]record)
}

// TestBrowserStreams runs the cases below on one page in one Chromium run.
func TestBrowserStreams(t *testing.T) {
	chromium.Require(t)
	leaktest.Check(t)
	cases := []browserCase{reconnectCase(), injectionCase(), brokerCase()}
	mux := http.NewServeMux()
	var streams []pageStream
	for _, c := range cases {
		streams = append(streams, c.serve(t, mux)...)
	}
	got := runPage(t, mux, streams)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, got) })
	}
}

// summary writes recs one per line, as "open 1", "error 0", "close 2" or
// "message type data lastEventId" (%q), for diffs that read at a glance.
func summary(recs []record) []string {
	var out []string
	for _, r := range recs {
		if r.Kind == "message" {
			out = append(out, fmt.Sprintf("message %q %q %q", r.Type, r.Data, r.LastEventID))
		} else {
			out = append(out, r.Kind+" "+strconv.Itoa(r.ReadyState))
		}
	}
	return out
}

// reconnectCase: the server sets retry: 50 and sends events 1–3 with IDs,
// then ends the response; the browser reconnects after 50 ms sending
// Last-Event-ID: 3, gets 4 and 5, reconnects with Last-Event-ID: 5 and is
// answered 204, which closes it. Every event arrives once, in order.
func reconnectCase() browserCase {
	var (
		mu      sync.Mutex
		lastIDs [][]string // Last-Event-ID values of each connection
	)
	return browserCase{
		name: "reconnect",
		serve: func(t *testing.T, mux *http.ServeMux) []pageStream {
			mux.HandleFunc("GET /reconnect/events", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				lastIDs = append(lastIDs, r.Header.Values("Last-Event-ID"))
				n := len(lastIDs)
				mu.Unlock()
				var from, to int
				switch n {
				case 1:
					from, to = 1, 3
				case 2:
					from, to = 4, 5
				default:
					w.WriteHeader(http.StatusNoContent)
					return
				}
				sw, err := (&sse.Upgrader{Retry: 50 * time.Millisecond}).Upgrade(w, r)
				if err != nil {
					t.Errorf("Upgrade() = %v", err)
					return
				}
				for i := from; i <= to; i++ {
					if err := sw.Send(sse.Event{ID: strconv.Itoa(i), Data: "event " + strconv.Itoa(i)}); err != nil {
						t.Errorf("Send(event %d) = %v", i, err)
						return
					}
				}
			})
			return []pageStream{{Name: "reconnect", URL: "/reconnect/events"}}
		},
		check: func(t *testing.T, got map[string][]record) {
			recs := got["reconnect"]
			want := []string{
				"open 1",
				`message "message" "event 1" "1"`,
				`message "message" "event 2" "2"`,
				`message "message" "event 3" "3"`,
				"error 0",
				"open 1",
				`message "message" "event 4" "4"`,
				`message "message" "event 5" "5"`,
				"error 0",
				"error 2",
			}
			if diff := cmp.Diff(want, summary(recs)); diff != "" {
				t.Fatalf("what the EventSource did (-want +got):\n%s", diff)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([][]string{nil, {"3"}, {"5"}}, lastIDs); diff != "" {
				t.Errorf("Last-Event-ID of each connection (-want +got):\n%s", diff)
			}
			// The retry: 50 sent with the headers sets the delay.
			if delay := recs[5].T - recs[4].T; math.Abs(delay-50) > 20 {
				t.Errorf("reconnected %.1f ms after the stream ended, want 50 ms (retry: 50)", delay)
			}
		},
	}
}

// injectionCase: event data holding blank lines and field lines arrives as
// one message with exactly that data (CR and CRLF as LF), and Send refuses
// an ID or a type with a line break (ErrInvalidField) without writing any
// of it: the stream goes on.
func injectionCase() browserCase {
	const evil = "first\n\nevent: evil\ndata: x\nid: 666\nretry: 1\n\n"
	return browserCase{
		name: "injection",
		serve: func(t *testing.T, mux *http.ServeMux) []pageStream {
			mux.HandleFunc("GET /injection/events", func(w http.ResponseWriter, r *http.Request) {
				sw, err := sse.Upgrade(w, r)
				if err != nil {
					t.Errorf("Upgrade() = %v", err)
					return
				}
				for _, ev := range []sse.Event{
					{ID: "a", Data: evil},
					{Data: "crlf\r\nthen cr\rthen lf\nend"},
				} {
					if err := sw.Send(ev); err != nil {
						t.Errorf("Send(%+v) = %v", ev, err)
						return
					}
				}
				for _, ev := range []sse.Event{
					{ID: "b\rretry: 1", Data: "x"},
					{ID: "b\nevent: evil", Data: "x"},
					{ID: "b\x00", Data: "x"},
					{Type: "t\r\ndata: evil", Data: "x"},
					{Type: "evil\n", Data: "x"},
				} {
					if err := sw.Send(ev); !errors.Is(err, sse.ErrInvalidField) {
						t.Errorf("Send(%+v) = %v, want %v", ev, err, sse.ErrInvalidField)
					}
				}
				if err := sw.Send(sse.Event{Type: "end", Data: "end"}); err != nil {
					t.Errorf("Send(end) = %v", err)
				}
				<-r.Context().Done() // the page closes the EventSource
			})
			return []pageStream{{Name: "injection", URL: "/injection/events", Types: []string{"evil", "end"}, CloseOn: "end"}}
		},
		check: func(t *testing.T, got map[string][]record) {
			want := []string{
				"open 1",
				fmt.Sprintf("message %q %q %q", "message", evil, "a"),
				`message "message" "crlf\nthen cr\nthen lf\nend" "a"`,
				`message "end" "end" "a"`,
				"close 2",
			}
			if diff := cmp.Diff(want, summary(got["injection"])); diff != "" {
				t.Fatalf("what the EventSource did (-want +got):\n%s", diff)
			}
		},
	}
}

// brokerCase: a page subscribed to a Broker topic receives published
// events (multi-line data, CRLF normalised, a custom type) with the IDs
// Publish returned; the server ends the stream once the browser has acked
// the third, publishes two more while the browser is away, and the browser
// reconnects with Last-Event-ID and gets them replayed, then a live one:
// every event once, in order. The third connection is answered 204.
func brokerCase() browserCase {
	var (
		mu      sync.Mutex
		lastIDs [][]string           // Last-Event-ID values of each connection
		cancels []context.CancelFunc // ends each connection's Subscribe
		sent    []sse.Event          // as Publish returned them
	)
	connected := make(chan struct{}, 2)
	acks := make(chan string, 16)
	b := &sse.Broker{Retry: 50 * time.Millisecond, OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
	publish := func(t *testing.T, ev sse.Event) {
		stored, err := b.Publish(context.Background(), "room", ev)
		if err != nil {
			t.Errorf("Publish(%+v) = %v", ev, err)
			return
		}
		mu.Lock()
		sent = append(sent, stored)
		mu.Unlock()
	}
	return browserCase{
		name: "broker",
		serve: func(t *testing.T, mux *http.ServeMux) []pageStream {
			mux.HandleFunc("GET /broker/events", func(w http.ResponseWriter, r *http.Request) {
				ctx, cancel := context.WithCancel(r.Context())
				defer cancel()
				mu.Lock()
				lastIDs = append(lastIDs, r.Header.Values("Last-Event-ID"))
				cancels = append(cancels, cancel)
				n := len(lastIDs)
				mu.Unlock()
				switch n {
				case 1:
				case 2:
					// Published while the browser is away: it gets them
					// replayed after its Last-Event-ID.
					publish(t, sse.Event{Data: "missed 1"})
					publish(t, sse.Event{Data: "missed 2\nsecond line"})
				default:
					w.WriteHeader(http.StatusNoContent)
					return
				}
				if err := b.Subscribe(w, r.WithContext(ctx), "room"); err != nil {
					t.Errorf("Subscribe() = %v", err)
				}
			})
			mux.HandleFunc("POST /broker/ack", func(w http.ResponseWriter, r *http.Request) {
				id, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("POST /broker/ack: %v", err)
					return
				}
				acks <- string(id)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			done := make(chan struct{})
			t.Cleanup(func() {
				cancel()
				<-done
				if err := b.Shutdown(context.Background()); err != nil {
					t.Errorf("Shutdown() = %v", err)
				}
			})
			// The driver: publish to the first connection, end it once the
			// browser has the third event, publish live to the second, end
			// it once the browser has that one.
			waitAck := func(id string) bool {
				for {
					select {
					case got := <-acks:
						if got == id {
							return true
						}
					case <-ctx.Done():
						t.Errorf("the browser has not acked event %q", id)
						return false
					}
				}
			}
			endConn := func(i int) {
				mu.Lock()
				defer mu.Unlock()
				cancels[i]()
			}
			lastSent := func() string {
				mu.Lock()
				defer mu.Unlock()
				return sent[len(sent)-1].ID
			}
			go func() {
				defer close(done)
				for conn := range 2 {
					select {
					case <-connected:
					case <-ctx.Done():
						t.Errorf("the browser did not connect (connection %d)", conn+1)
						return
					}
					if conn == 0 {
						publish(t, sse.Event{Data: "line 1\nline 2"})
						publish(t, sse.Event{Data: "crlf\r\nthen cr\rend"})
						publish(t, sse.Event{Type: "custom", Data: "typed"})
					} else {
						publish(t, sse.Event{Data: "live"})
					}
					if !waitAck(lastSent()) {
						return
					}
					endConn(conn)
				}
			}()
			return []pageStream{{Name: "broker", URL: "/broker/events", Types: []string{"custom"}, Ack: "/broker/ack"}}
		},
		check: func(t *testing.T, got map[string][]record) {
			mu.Lock()
			defer mu.Unlock()
			if len(sent) != 6 {
				t.Fatalf("%d events published, want 6", len(sent))
			}
			msg := func(ev sse.Event, data string) string {
				typ := ev.Type
				if typ == "" {
					typ = "message"
				}
				return fmt.Sprintf("message %q %q %q", typ, data, ev.ID)
			}
			want := []string{
				"open 1",
				msg(sent[0], "line 1\nline 2"),
				msg(sent[1], "crlf\nthen cr\nend"),
				msg(sent[2], "typed"),
				"error 0",
				"open 1",
				msg(sent[3], "missed 1"),
				msg(sent[4], "missed 2\nsecond line"),
				msg(sent[5], "live"),
				"error 0",
				"error 2",
			}
			if diff := cmp.Diff(want, summary(got["broker"])); diff != "" {
				t.Errorf("what the EventSource did (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([][]string{nil, {sent[2].ID}, {sent[5].ID}}, lastIDs); diff != "" {
				t.Errorf("Last-Event-ID of each connection (-want +got):\n%s", diff)
			}
		},
	}
}
