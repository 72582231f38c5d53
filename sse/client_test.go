package sse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/sse"
)

// The loopback tests serve hand-written streams with net/http (no Writer,
// no Broker) and keep waits in milliseconds with the server's retry field;
// the timing tests run under synctest with a scripted RoundTripper, so the
// default 3 s and the backoff are checked exactly without sleeping.

// streamHandler returns a handler that writes each string of chunks to an
// event stream, flushing after each, then returns (ending the response).
func writeStream(w http.ResponseWriter, chunks ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, c := range chunks {
		io.WriteString(w, c)
		w.(http.Flusher).Flush()
	}
}

// loopback starts a server for h on 127.0.0.1 and returns its URL and an
// HTTP client with its own transport; both are closed when t ends, and t
// fails if a goroutine is left behind.
func loopback(t *testing.T, h http.HandlerFunc) (string, *http.Client) {
	t.Helper()
	leaktest.Check(t)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return srv.URL, &http.Client{Transport: tr}
}

// testContext returns a context that ends with t or after 10 s, so that a
// broken client fails the test instead of hanging it.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientReconnectSendsLastEventID(t *testing.T) {
	var n atomic.Int32
	type seen struct{ accept, cacheControl, lastEventID string }
	var mu sync.Mutex
	var reqs []seen
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, seen{r.Header.Get("Accept"), r.Header.Get("Cache-Control"), r.Header.Get("Last-Event-ID")})
		mu.Unlock()
		switch n.Add(1) {
		case 1:
			writeStream(w, "retry: 1\nid: 1\ndata: a\n\n", "id: 2\ndata: b\n\nid: 99\ndata: cut off")
		case 2:
			writeStream(w, "data: c\n\n", "id: 3\ndata: d\n\n")
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	var reasons []error
	c := &sse.Client{HTTPClient: hc, OnError: func(err error) { reasons = append(reasons, err) }}
	var got []sse.Event
	var end error
	for ev, err := range c.Events(testContext(t), url) {
		if err != nil {
			end = err
			break
		}
		got = append(got, ev)
	}
	want := []sse.Event{
		{ID: "1", Type: "message", Data: "a"},
		{ID: "2", Type: "message", Data: "b"},
		{ID: "2", Type: "message", Data: "c"}, // lastEventId persists across the reconnection
		{ID: "3", Type: "message", Data: "d"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !errors.Is(end, sse.ErrStatus) || !strings.Contains(end.Error(), "204") {
		t.Errorf("last element = %v, want ErrStatus with 204", end)
	}
	wantReqs := []seen{
		{"text/event-stream", "no-cache", ""},
		{"text/event-stream", "no-cache", "2"}, // not 99: that event never ended
		{"text/event-stream", "no-cache", "3"},
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(wantReqs, reqs, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if len(reasons) != 2 || !errors.Is(reasons[0], io.EOF) || !errors.Is(reasons[1], io.EOF) {
		t.Errorf("OnError got %v, want two ends of stream (io.EOF)", reasons)
	}
}

func TestClientStopsForGood(t *testing.T) {
	tests := []struct {
		name   string
		status int
		ctype  string
	}{
		{"204 No Content", http.StatusNoContent, "text/event-stream"},
		{"500", http.StatusInternalServerError, "text/event-stream"},
		{"404", http.StatusNotFound, "text/plain"},
		{"text/html", http.StatusOK, "text/html"},
		{"no Content-Type", http.StatusOK, ""},
		{"text/event-streams", http.StatusOK, "text/event-streams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header()["Content-Type"] = []string{tt.ctype}
				w.WriteHeader(tt.status)
				io.WriteString(w, "data: x\n\n")
			})
			c := &sse.Client{HTTPClient: hc, Retry: time.Millisecond}
			var got []error
			for ev, err := range c.Events(testContext(t), url) {
				if err == nil {
					t.Fatalf("got event %+v, want none", ev)
				}
				got = append(got, err)
			}
			if len(got) != 1 || !errors.Is(got[0], sse.ErrStatus) {
				t.Fatalf("Events yielded %v, want one error wrapping ErrStatus", got)
			}
			if n.Load() != 1 {
				t.Errorf("server saw %d requests, want 1: no retry", n.Load())
			}
		})
	}
}

func TestClientAcceptsContentTypeParameters(t *testing.T) {
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "Text/Event-Stream; charset=utf-8")
		io.WriteString(w, "data: x\n\n")
	})
	c := &sse.Client{HTTPClient: hc}
	for ev, err := range c.Events(testContext(t), url) {
		if err != nil || ev.Data != "x" {
			t.Fatalf("Events yielded %+v, %v; want x", ev, err)
		}
		break
	}
}

func TestClientHonoursRetryField(t *testing.T) {
	var n atomic.Int32
	var first, second atomic.Int64 // UnixNano
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			first.Store(time.Now().UnixNano()) // before the stream ends: the gap measured is only longer
			writeStream(w, "retry: 50\ndata: a\n\n")
		default:
			second.Store(time.Now().UnixNano())
			w.WriteHeader(http.StatusNoContent)
		}
	})
	// With the default of an hour, only the server's 50 ms lets the test
	// end before testContext's 10 s.
	c := &sse.Client{HTTPClient: hc, Retry: time.Hour}
	for _, err := range c.Events(testContext(t), url) {
		if err != nil {
			if !errors.Is(err, sse.ErrStatus) {
				t.Fatalf("Events yielded %v, want the 204's ErrStatus", err)
			}
			break
		}
	}
	if gap := time.Duration(second.Load() - first.Load()); gap < 40*time.Millisecond { // 50 ms less at most a fifth of jitter
		t.Errorf("reconnected after %v, want at least 40ms (retry: 50)", gap)
	}
}

// TestClientBacksOffOverLoopback connects to a closed port: each attempt
// fails, and the wait doubles from Retry up to MaxRetry.
func TestClientBacksOffOverLoopback(t *testing.T) {
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var times []time.Time
	c := &sse.Client{
		HTTPClient: &http.Client{Transport: tr},
		Retry:      4 * time.Millisecond,
		MaxRetry:   32 * time.Millisecond,
		OnError: func(err error) {
			times = append(times, time.Now())
			if len(times) == 8 {
				cancel()
			}
		},
	}
	for ev, err := range c.Events(ctx, url) {
		if err == nil {
			t.Fatalf("got event %+v from a closed port", ev)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("last element = %v, want context.Canceled", err)
		}
	}
	if len(times) != 8 {
		t.Fatalf("OnError called %d times, want 8", len(times))
	}
	// The wait after the k-th failure is 4ms·2^(k-1), capped at 32ms, less
	// up to a fifth: the gaps are at least that.
	for k, want := range []time.Duration{4, 8, 16, 32, 32, 32, 32} {
		want *= time.Millisecond
		if gap := times[k+1].Sub(times[k]); gap < want*4/5 {
			t.Errorf("gap after failure %d = %v, want at least %v", k+1, gap, want*4/5)
		}
	}
}

func TestClientCancelMidStream(t *testing.T) {
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		writeStream(w, "data: a\n\n")
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var got []error
	var canceledAt time.Time
	for ev, err := range (&sse.Client{HTTPClient: hc}).Events(ctx, url) {
		if err != nil {
			got = append(got, err)
			continue
		}
		if ev.Data == "a" {
			canceledAt = time.Now()
			cancel()
		}
	}
	if took := time.Since(canceledAt); took > 2*time.Second {
		t.Errorf("Events returned %v after cancel, want promptly", took)
	}
	if len(got) != 1 || !errors.Is(got[0], context.Canceled) {
		t.Errorf("Events yielded %v after cancel, want context.Canceled last", got)
	}
}

// TestClientCancelWhileWaiting ends ctx during the wait before a
// reconnection: Events returns at once, not after Retry.
func TestClientCancelWhileWaiting(t *testing.T) {
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		writeStream(w, "data: a\n\n")
	})
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	c := &sse.Client{HTTPClient: hc, Retry: time.Hour, OnError: func(error) { cancel() }}
	start := time.Now()
	var last error
	for _, err := range c.Events(ctx, url) {
		last = err
	}
	if !errors.Is(last, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("Events ended with %v after %v, want context.Canceled at once", last, time.Since(start))
	}
}

// TestClientLeavingTheLoopClosesTheResponse leaves the range loop by
// break, panic and runtime.Goexit: each time the server sees the client go.
func TestClientLeavingTheLoopClosesTheResponse(t *testing.T) {
	ways := map[string]func(){
		"break":          func() {},
		"panic":          func() { panic("boom") },
		"runtime.Goexit": runtime.Goexit,
	}
	for name, leave := range ways {
		t.Run(name, func(t *testing.T) {
			gone := make(chan struct{})
			url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
				writeStream(w, "data: a\n\n")
				<-r.Context().Done()
				close(gone)
			})
			done := make(chan any)
			go func() {
				defer func() { done <- recover() }()
				for _, err := range (&sse.Client{HTTPClient: hc}).Events(testContext(t), url) {
					if err != nil {
						t.Errorf("Events yielded %v", err)
					}
					leave()
					break
				}
			}()
			if p := <-done; name == "panic" && p != "boom" || name != "panic" && p != nil {
				t.Errorf("recovered %v", p)
			}
			select {
			case <-gone:
			case <-time.After(10 * time.Second):
				t.Fatal("the server did not see the client go within 10 s")
			}
		})
	}
}

func TestClientTooLargeStops(t *testing.T) {
	var n atomic.Int32
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeStream(w, "data: small\n\ndata: "+strings.Repeat("x", 100)+"\n\n")
	})
	c := &sse.Client{HTTPClient: hc, MaxEventSize: 64, Retry: time.Millisecond}
	var got []string
	var last error
	for ev, err := range c.Events(testContext(t), url) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, ev.Data)
	}
	if len(got) != 1 || !errors.Is(last, sse.ErrTooLarge) || n.Load() != 1 {
		t.Errorf("Events = %q, then %v after %d requests; want [small], ErrTooLarge, 1 request", got, last, n.Load())
	}
}

func TestClientHeader(t *testing.T) {
	var gotAuth, gotID atomic.Value
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		gotID.Store(r.Header.Get("Last-Event-ID"))
		writeStream(w, "data: a\n\n")
	})
	c := &sse.Client{HTTPClient: hc, Header: http.Header{
		"Authorization": {"Bearer t"},
		"Last-Event-Id": {"41"}, // resume from a stored ID
	}}
	for ev, err := range c.Events(testContext(t), url) {
		if err != nil || ev.ID != "41" {
			t.Errorf("Events yielded %+v, %v; want ID 41", ev, err)
		}
		break
	}
	if gotAuth.Load() != "Bearer t" || gotID.Load() != "41" {
		t.Errorf("server saw Authorization %q, Last-Event-ID %q", gotAuth.Load(), gotID.Load())
	}
	if c.Header.Get("Accept") != "" {
		t.Errorf("Events changed Client.Header: %v", c.Header)
	}
}

func TestClientRefusesBadInput(t *testing.T) {
	leaktest.Check(t)
	tests := []struct {
		name, url string
		header    http.Header
		want      string
	}{
		{"Last-Event-ID with LF", "http://127.0.0.1:1/", http.Header{"Last-Event-Id": {"4\n1"}}, "sse: invalid event field"},
		{"malformed URL", "http://[::1", nil, "sse: cannot make the request"},
		{"other scheme", "ftp://127.0.0.1/", nil, "not an http or https URL"},
	}
	for _, tt := range tests {
		c := &sse.Client{Header: tt.header, Retry: time.Millisecond}
		var got []error
		for ev, err := range c.Events(testContext(t), tt.url) {
			if err == nil {
				t.Fatalf("%s: got event %+v", tt.name, ev)
			}
			got = append(got, err)
		}
		if len(got) != 1 || !strings.Contains(got[0].Error(), tt.want) {
			t.Errorf("%s: Events yielded %v, want one error containing %q", tt.name, got, tt.want)
		}
	}
}

func TestClientMisuse(t *testing.T) {
	var nilCtx context.Context
	wantPanic(t, "sse: nil Context", func() { (&sse.Client{}).Events(nilCtx, "http://127.0.0.1/") })
	wantPanic(t, "sse: negative Client.Retry, MaxRetry or MaxEventSize", func() {
		(&sse.Client{Retry: -1}).Events(t.Context(), "http://127.0.0.1/")
	})
}

// scripted is a RoundTripper that answers each request with the next step
// of a script, recording when each request came and its Last-Event-ID;
// past the script it blocks until the request's context ends.
type scripted struct {
	steps []step
	times []time.Time
	ids   []string
}

type step struct {
	err    error
	status int
	body   string
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	s.times = append(s.times, time.Now())
	s.ids = append(s.ids, r.Header.Get("Last-Event-ID"))
	if len(s.steps) == 0 {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if st.err != nil {
		return nil, st.err
	}
	return &http.Response{
		StatusCode: st.status,
		Status:     fmt.Sprint(st.status),
		Header:     http.Header{"Content-Type": {"text/event-stream"}},
		Body:       io.NopCloser(strings.NewReader(st.body)),
		Request:    r,
	}, nil
}

// TestClientReconnectTiming checks every wait, in synctest's fake time:
// the default 3 s, doubling per failure up to MaxRetry, back to Retry
// after an attempt that delivered events, a server retry beyond MaxRetry
// honoured, an empty retry back to the default.
func TestClientReconnectTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refused := errors.New("connection refused")
		s := &scripted{steps: []step{
			{err: refused}, // then 3 s (first failure)
			{err: refused}, // 6 s
			{err: refused}, // 12 s
			{err: refused}, // 24 s, capped at 20 s
			{status: 200, body: "id: 1\ndata: a\n\n"}, // delivered: 3 s
			{status: 200, body: "retry: 100000\n\n"},  // nothing delivered: the server's 100 s (over MaxRetry)
			{status: 200, body: "retry\ndata: b\n\n"}, // empty retry: back to 3 s
			{status: 200},                            // 3 s (first failure)
			{status: 200, body: "retry: 0\n\n"},      // 0 doubled from a floor of 1 ms: 2 ms
			{status: 200, body: "retry: 10\nid\n\n"}, // 40 ms; the empty id is sent as no header
			{status: http.StatusNoContent},           // stops
		}}
		c := &sse.Client{HTTPClient: &http.Client{Transport: s}, MaxRetry: 20 * time.Second}
		var got []sse.Event
		var last error
		for ev, err := range c.Events(t.Context(), "http://example.test/events") {
			if err != nil {
				last = err
				continue
			}
			got = append(got, ev)
		}
		if !errors.Is(last, sse.ErrStatus) {
			t.Errorf("last element = %v, want ErrStatus", last)
		}
		if diff := cmp.Diff([]sse.Event{{ID: "1", Type: "message", Data: "a"}, {ID: "1", Type: "message", Data: "b"}}, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"", "", "", "", "", "1", "1", "1", "1", "1", ""}, s.ids); diff != "" {
			t.Errorf("Last-Event-ID sent (-want +got):\n%s", diff)
		}
		ms := time.Millisecond
		waits := []time.Duration{3000 * ms, 6000 * ms, 12000 * ms, 20000 * ms, 3000 * ms, 100000 * ms, 3000 * ms, 3000 * ms, 2 * ms, 40 * ms}
		for i, want := range waits {
			if gap := s.times[i+1].Sub(s.times[i]); gap > want || gap < want-want/5 {
				t.Errorf("wait %d = %v, want %v less at most a fifth", i+1, gap, want)
			}
		}
	})
}

// TestClientJitterSpreads checks that the waits of many clients differ.
func TestClientJitterSpreads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seen := map[time.Duration]bool{}
		for range 20 {
			s := &scripted{steps: []step{{err: errors.New("refused")}, {status: http.StatusNoContent}}}
			c := &sse.Client{HTTPClient: &http.Client{Transport: s}}
			for range c.Events(t.Context(), "http://example.test/") {
			}
			seen[s.times[1].Sub(s.times[0])] = true
		}
		if len(seen) < 10 {
			t.Errorf("20 clients waited %d distinct times, want them spread", len(seen))
		}
	})
}

// TestClientCancelDuringBackoff ends ctx 1 s into a 3 s wait: Events
// yields context.Canceled at that moment.
func TestClientCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s := &scripted{steps: []step{{err: errors.New("refused")}}}
		c := &sse.Client{HTTPClient: &http.Client{Transport: s}, OnError: func(error) { time.AfterFunc(time.Second, cancel) }}
		start := time.Now()
		var last error
		for _, err := range c.Events(ctx, "http://example.test/") {
			last = err
		}
		if !errors.Is(last, context.Canceled) || time.Since(start) != time.Second {
			t.Errorf("Events ended with %v after %v, want context.Canceled after 1s", last, time.Since(start))
		}
	})
}

// TestClientEndedContext checks that an already-ended context gives the
// same answer every time, without a request.
func TestClientEndedContext(t *testing.T) {
	var n atomic.Int32
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeStream(w, "data: a\n\n")
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 20 {
		var got []error
		for ev, err := range (&sse.Client{HTTPClient: hc}).Events(ctx, url) {
			if err == nil {
				t.Fatalf("got event %+v with an ended context", ev)
			}
			got = append(got, err)
		}
		if len(got) != 1 || got[0] != context.Canceled {
			t.Fatalf("Events yielded %v, want context.Canceled", got)
		}
	}
	if n.Load() != 0 {
		t.Errorf("server saw %d requests, want none", n.Load())
	}
}

// TestClientOnErrorPanics checks that a panic in OnError reaches the
// ranging goroutine, with the response closed and nothing left running.
func TestClientOnErrorPanics(t *testing.T) {
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		writeStream(w, "data: a\n\n")
	})
	c := &sse.Client{HTTPClient: hc, OnError: func(err error) { panic(err) }}
	defer func() {
		if p := recover(); p == nil || !errors.Is(p.(error), io.EOF) {
			t.Errorf("recovered %v, want the end-of-stream error OnError was given", p)
		}
	}()
	for _, err := range c.Events(testContext(t), url) {
		if err != nil {
			t.Fatalf("Events yielded %v", err)
		}
	}
	t.Fatal("the range ended without OnError's panic")
}
