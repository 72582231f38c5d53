package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/chromium"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/sse"
)

// start runs the example on a free loopback port, ticking every interval,
// and returns its base URL; when t ends it stops it and checks that run
// returned nil.
func start(t *testing.T, interval time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", interval, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		cancel()
		t.Fatalf("run() = %v before listening", err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run() = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("run() has not returned 10 s after its context ended")
		}
	})
	return "http://" + addr
}

// readTicks GETs /events, sending lastID as Last-Event-ID when not empty,
// and returns the first n events, with their decoded data.
func readTicks(t *testing.T, ctx context.Context, url, lastID string, n int) ([]sse.Event, []tick) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET /events = %d, Content-Type %q; want 200, text/event-stream", resp.StatusCode, ct)
	}
	d := sse.NewDecoder(resp.Body)
	var evs []sse.Event
	var data []tick
	for len(evs) < n {
		ev, err := d.Next()
		if err != nil {
			t.Fatalf("after %d ticks: Next() = %v", len(evs), err)
		}
		var tk tick
		if err := json.Unmarshal([]byte(ev.Data), &tk); err != nil {
			t.Fatalf("event %+v: data is not a tick: %v", ev, err)
		}
		evs, data = append(evs, ev), append(data, tk)
	}
	return evs, data
}

// TestTicker reads ticks with a plain HTTP client, checks their type, IDs
// and data, then reconnects with Last-Event-ID and gets the ticks missed
// meanwhile; stopping run while a stream is open returns promptly.
func TestTicker(t *testing.T) {
	leaktest.Check(t)
	url := start(t, 20*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	begin := time.Now()

	evs, data := readTicks(t, ctx, url, "", 3)
	seen := map[string]bool{}
	for i, ev := range evs {
		if ev.Type != "tick" || ev.ID == "" || seen[ev.ID] {
			t.Errorf("event %d = %+v; want type tick and a new, non-empty ID", i, ev)
		}
		seen[ev.ID] = true
		if i > 0 && data[i].Counter != data[i-1].Counter+1 {
			t.Errorf("counters %d then %d, want consecutive", data[i-1].Counter, data[i].Counter)
		}
		if ts := time.UnixMilli(data[i].TS); ts.Before(begin.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("tick %d: ts %v, not between the test's start and now", data[i].Counter, ts)
		}
	}

	// A client that saw up to the first tick reconnects: the ticks after
	// it come first, replayed, and the counter goes on without a gap.
	_, again := readTicks(t, ctx, url, evs[0].ID, 3)
	for i, tk := range again {
		if want := data[0].Counter + 1 + i; tk.Counter != want {
			t.Errorf("after reconnecting from tick %d: tick %d has counter %d, want %d", data[0].Counter, i, tk.Counter, want)
		}
	}
}

// TestTickerShutdownEndsStreams stops run while a client holds a stream
// open: the broker ends the stream and run returns (the cleanup in start
// waits for it).
func TestTickerShutdownEndsStreams(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", time.Hour, func(a string) { addrc <- a }) }()
	url := "http://" + <-addrc

	reqCtx, reqCancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer reqCancel()
	req, err := http.NewRequestWithContext(reqCtx, "GET", url+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run() = %v", err)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("run() has not returned 6 s after its context ended, with a stream open")
	}
	// The stream ended cleanly: the body reads to EOF.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Errorf("reading the ended stream: %v", err)
	}
}

func TestTickerPage(t *testing.T) {
	leaktest.Check(t)
	url := start(t, time.Hour)
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.Contains(string(body), `new EventSource("/events")`) || !strings.Contains(string(body), `addEventListener("tick"`) {
		t.Fatalf("GET / = %d\n%s\nwant the page that listens for ticks", resp.StatusCode, body)
	}
	for _, path := range []string{"/nothing", "/index.html"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestTickerBrowser loads the page in headless Chromium, which shows three
// ticks and then closes its EventSource (the page's ?ticks=3).
func TestTickerBrowser(t *testing.T) {
	chromium.Require(t)
	leaktest.Check(t)
	url := start(t, 20*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	dom, err := chromium.DumpDOM(ctx, url+"/?ticks=3", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := chromium.Text(dom, "count"); got != "3" {
		t.Errorf("ticks seen = %q, want 3\n%s", got, dom)
	}
	if got, _ := chromium.Text(dom, "state"); got != "closed" {
		t.Errorf("state = %q, want closed", got)
	}
	items := regexp.MustCompile(`<li data-id="([^"]+)">tick (\d+) at (\S+)</li>`).FindAllStringSubmatch(dom, -1)
	if len(items) != 3 {
		t.Fatalf("%d ticks listed, want 3:\n%s", len(items), dom)
	}
	// Newest first, consecutive counters, distinct IDs, ISO timestamps.
	for i, it := range items {
		if i > 0 {
			prev, _ := strconv.Atoi(items[i-1][2])
			n, _ := strconv.Atoi(it[2])
			if n != prev-1 || it[1] == items[i-1][1] {
				t.Errorf("ticks listed %q then %q: want consecutive counters, newest first, distinct IDs", items[i-1][0], it[0])
			}
		}
		if _, err := time.Parse(time.RFC3339, it[3]); err != nil {
			t.Errorf("tick %s: time %q: %v", it[2], it[3], err)
		}
	}
}
