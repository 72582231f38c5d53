package sse_test

// Semantics of web-platform-tests' eventsource directory not covered by
// the parsing vectors (testdata/sse-vectors.json): the format tests whose
// streams need bytes the vectors' JSON chunks do not show plainly, and the
// request tests (status, redirect, reconnection), ported to Decoder and
// Client. Each test names the WPT file it ports; the WPT server scripts
// (resources/message.py, status-reconnect.py, reconnect-fail.py,
// last-event-id.py) become handlers here. message.py appends "\n\n" to
// its message, or "\n" with newline=none.

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/sse"
)

// TestWPTFormat ports format tests whose streams are built in JavaScript,
// decoded whole, a byte at a time and in random pieces.
func TestWPTFormat(t *testing.T) {
	long := strings.Repeat("x", 2*1024)
	tests := []struct {
		file   string
		stream string
		want   []string // the data of each event
	}{
		{
			// A second BOM is part of the first field's name: "\uFEFFdata"
			// is unknown, so the first event has no data.
			"format-bom-2.any.js",
			"\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3" + "\n\n",
			[]string{"2", "3"},
		},
		{
			"format-comments.any.js",
			"data:1\r:\x00\n:\r\ndata:2\n:" + long + "\rdata:3\n:data:fail\r:" + long + "\ndata:4\n" + "\n",
			[]string{"1\n2\n3\n4"},
		},
		{
			"format-field-parsing.any.js",
			"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n" + "\n",
			[]string{"\x00\n 2\n1\n3\n\n4"},
		},
		{
			// format-null-character's NUL, in a field a browser keeps it in.
			"format-null-character.any.js",
			"data: \x00\n\n",
			[]string{"\x00"},
		},
	}
	for _, tt := range tests {
		for name, r := range feeds([]byte(tt.stream), 7) {
			res := decodeWith(r, 0)
			if res.Err != nil {
				t.Errorf("%s, %s: %v", tt.file, name, res.Err)
			}
			var got []string
			for _, ev := range res.Events {
				got = append(got, ev.Data)
				if ev.Type != "message" {
					t.Errorf("%s, %s: type %q, want message", tt.file, name, ev.Type)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s, %s: data (-want +got):\n%s", tt.file, name, diff)
			}
		}
	}
}

// TestWPTRequestStatusError ports request-status-error.window.js: every
// status other than 200, 503 included, fails the connection for good: no
// event, no reconnection.
func TestWPTRequestStatusError(t *testing.T) {
	var requests atomic.Int32
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var status int
		fmt.Sscan(r.URL.Query().Get("status"), &status)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(status)
		fmt.Fprint(w, "data: data\n\n") // dropped by net/http for 204
	})
	for _, status := range []int{204, 205, 210, 299, 404, 410, 503} {
		requests.Store(0)
		c := &sse.Client{HTTPClient: hc, Retry: time.Millisecond}
		var got []error
		for ev, err := range c.Events(testContext(t), fmt.Sprintf("%s/?status=%d", url, status)) {
			if err == nil {
				t.Errorf("%d: event %+v", status, ev)
				continue
			}
			got = append(got, err)
		}
		if len(got) != 1 || !errors.Is(got[0], sse.ErrStatus) || !strings.Contains(got[0].Error(), fmt.Sprint(status)) {
			t.Errorf("%d: Events yielded %v, want one ErrStatus naming the status", status, got)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("%d: %d requests, want 1 (no reconnection)", status, n)
		}
	}
}

// cookieClient returns an HTTP client with hc's transport and a cookie jar,
// as a browser's EventSource sends the cookies its responses set.
func cookieClient(t *testing.T, hc *http.Client) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: hc.Transport, Jar: jar}
}

// statusReconnect is WPT's resources/status-reconnect.py: the first
// request (no cookie) gets status and "retry: 2\n" (and "data: ok" with
// ok_first), and a cookie; the next one gets 200 "data: data".
func statusReconnect(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	name := "request" + r.URL.Query().Get("id") + status
	w.Header().Set("Content-Type", "text/event-stream")
	if c, err := r.Cookie(name); err == nil && c.Value == status {
		http.SetCookie(w, &http.Cookie{Name: name, MaxAge: -1})
		fmt.Fprint(w, "data: data\n\n")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: status, HttpOnly: true})
	var code int
	fmt.Sscan(status, &code)
	w.WriteHeader(code)
	body := "retry: 2\n"
	if r.URL.Query().Has("ok_first") {
		body += "data: ok\n\n"
	}
	fmt.Fprint(w, body)
}

// TestWPTReconnect ports eventsource-reconnect.window.js: a 200 stream
// that ends is reconnected (with the cookie it set), after the error
// event (OnError) and not before the first message.
func TestWPTReconnect(t *testing.T) {
	url, hc := loopback(t, statusReconnect)
	for _, tt := range []struct {
		name, query string
		want        []string
	}{
		{"200", "?status=200", []string{"error", "data"}}, // the first response ends without an event
		{"test reconnection events", "?status=200&ok_first&id=2", []string{"ok", "error", "data"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			c := &sse.Client{HTTPClient: cookieClient(t, hc), OnError: func(error) { got = append(got, "error") }}
			for ev, err := range c.Events(testContext(t), url+tt.query) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ev.Data)
				if ev.Data == "data" {
					break // source.close()
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events and errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWPTReconnectFail ports resources/reconnect-fail.py's sequence (used
// by eventsource-reconnect and request-credentials): open with retry 2 ms,
// reconnect with the cookie, then a 204 closes for good.
func TestWPTReconnectFail(t *testing.T) {
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		const name = "recon_fail_1"
		w.Header().Set("Content-Type", "text/event-stream")
		state := ""
		if c, err := r.Cookie(name); err == nil {
			state = c.Value
		}
		switch state {
		case "opened":
			http.SetCookie(w, &http.Cookie{Name: name, Value: "reconnected"})
			fmt.Fprint(w, "data: reconnected\n\n")
		case "reconnected":
			http.SetCookie(w, &http.Cookie{Name: name, MaxAge: -1})
			w.WriteHeader(http.StatusNoContent)
		default:
			http.SetCookie(w, &http.Cookie{Name: name, Value: "opened"})
			fmt.Fprint(w, "retry: 2\ndata: opened\n\n")
		}
	})
	var got []string
	var errs int
	c := &sse.Client{HTTPClient: cookieClient(t, hc), OnError: func(error) { errs++ }}
	var last error
	for ev, err := range c.Events(testContext(t), url) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, ev.Data)
	}
	if diff := cmp.Diff([]string{"opened", "reconnected"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !errors.Is(last, sse.ErrStatus) || errs != 2 {
		t.Errorf("ended with %v after %d reconnections, want ErrStatus (204) after 2", last, errs)
	}
}

// TestWPTRequestRedirect ports request-redirect.any.window.js: 301, 302,
// 303 and 307 to the stream are followed and the stream opens. Beyond
// WPT: a reconnection through the redirect still carries Last-Event-ID.
func TestWPTRequestRedirect(t *testing.T) {
	var mu sync.Mutex
	var ids []string
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		if status := r.URL.Query().Get("status"); status != "" {
			var code int
			fmt.Sscan(status, &code)
			http.Redirect(w, r, "/message", code)
			return
		}
		mu.Lock()
		ids = append(ids, r.Header.Get("Last-Event-ID"))
		n := len(ids)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "retry: 1\nid: %d\ndata: data\n\n", n)
	})
	for _, status := range []int{301, 302, 303, 307} {
		mu.Lock()
		ids = nil
		mu.Unlock()
		c := &sse.Client{HTTPClient: hc}
		var got []sse.Event
		for ev, err := range c.Events(testContext(t), fmt.Sprintf("%s/?status=%d", url, status)) {
			if err != nil {
				t.Fatalf("%d: %v", status, err)
			}
			if got = append(got, ev); len(got) == 2 {
				break
			}
		}
		want := []sse.Event{{ID: "1", Type: "message", Data: "data"}, {ID: "2", Type: "message", Data: "data"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%d: events (-want +got):\n%s", status, diff)
		}
		mu.Lock()
		if diff := cmp.Diff([]string{"", "1"}, ids); diff != "" {
			t.Errorf("%d: Last-Event-ID at the target (-want +got):\n%s", status, diff)
		}
		mu.Unlock()
	}
}

// TestWPTLastEventIDNonASCII ports format-field-id-2.any.js with
// resources/last-event-id.py: an id of "…" (U+2026) comes back in the
// Last-Event-ID header as its UTF-8 bytes, and the server echoes it.
func TestWPTLastEventIDNonASCII(t *testing.T) {
	url, hc := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if id := r.Header.Get("Last-Event-ID"); id != "" {
			fmt.Fprintf(w, "id: %s\ndata: %s\n\n", id, id)
			return
		}
		fmt.Fprint(w, "id: …\nretry: 1\ndata: hello\n\n")
	})
	var got []sse.Event
	c := &sse.Client{HTTPClient: hc}
	for ev, err := range c.Events(testContext(t), url) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, ev); len(got) == 3 {
			break
		}
	}
	want := []sse.Event{
		{ID: "…", Type: "message", Data: "hello"},
		{ID: "…", Type: "message", Data: "…"},
		{ID: "…", Type: "message", Data: "…"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
