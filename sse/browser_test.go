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

