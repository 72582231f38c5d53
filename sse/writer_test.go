package sse_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/middleware"
	"github.com/nodekit/nodekit/sse"
)

// wireServer starts h on 127.0.0.1, over HTTP/1.1 or (h2) HTTP/2 with TLS,
// with the server's WriteTimeout set to serverTimeout, and returns its URL
// and a client for it. Both are closed when t ends, and t fails if a
// goroutine is left behind.
func wireServer(t *testing.T, h2 bool, serverTimeout time.Duration, h http.Handler) (string, *http.Client) {
	t.Helper()
	leaktest.Check(t)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = serverTimeout
	srv.Config.ErrorLog = nil
	var c *http.Client
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
		c = srv.Client()
	} else {
		srv.Start()
		c = &http.Client{Transport: &http.Transport{}}
	}
	t.Cleanup(srv.Close)
	t.Cleanup(c.CloseIdleConnections)
	return srv.URL, c
}

// wireContext returns a context that ends with t or after 10 s, so that a
// stream that never comes fails the test instead of hanging it.
func wireContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wireGet starts a GET of url and returns the response once its headers
// arrived; the body is closed when t ends.
func wireGet(t *testing.T, ctx context.Context, c *http.Client, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v (were the headers flushed?)", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var protos = []struct {
	name string
	h2   bool
}{{"HTTP1", false}, {"HTTP2", true}}

// TestUpgradeHeadersBeforeFirstEvent: the client has the status and headers
// (and the retry field) while the handler is still blocked before its first
// Send, so a browser fires "open" at once.
func TestUpgradeHeadersBeforeFirstEvent(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			release := make(chan struct{})
			done := make(chan struct{})
			url, c := wireServer(t, p.h2, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				if want := map[bool]int{false: 1, true: 2}[p.h2]; r.ProtoMajor != want { // h2 really on
					t.Errorf("handler: r.ProtoMajor = %d, want %d", r.ProtoMajor, want)
				}
				w.Header().Set("Content-Length", "12") // Upgrade removes it
				u := sse.Upgrader{Retry: 1500 * time.Millisecond}
				sw, err := u.Upgrade(w, r)
				if err != nil {
					t.Errorf("Upgrade() = %v", err)
					return
				}
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				if err := sw.Send(sse.Event{ID: "1", Data: "first"}); err != nil {
					t.Errorf("Send() = %v", err)
				}
			}))
			resp := wireGet(t, wireContext(t), c, url)
			got := map[string]string{"Status": resp.Status}
			for _, k := range []string{"Content-Type", "Cache-Control", "X-Accel-Buffering", "Content-Length"} {
				got[k] = resp.Header.Get(k)
			}
			want := map[string]string{
				"Status":            "200 OK",
				"Content-Type":      "text/event-stream",
				"Cache-Control":     "no-cache",
				"X-Accel-Buffering": "no",
				"Content-Length":    "",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response before the first event (-want +got):\n%s", diff)
			}
			if resp.ContentLength != -1 {
				t.Errorf("ContentLength = %d, want -1 (streamed)", resp.ContentLength)
			}
			close(release)
			d := sse.NewDecoder(resp.Body)
			ev, err := d.Next()
			if err != nil || ev.ID != "1" || ev.Data != "first" {
				t.Errorf("Next() = %+v, %v; want the first event", ev, err)
			}
			if r, ok := d.Retry(); !ok || r != 1500*time.Millisecond {
				t.Errorf("Retry() = %v, %v; want 1.5s, true", r, ok)
			}
			if _, err := d.Next(); err != io.EOF {
				t.Errorf("Next() after the handler returned = %v, want io.EOF", err)
			}
			<-done
		})
	}
}

// unwrapper is a chi/alice-style writer wrapper: it hides the writer's
// Flush and deadlines but gives them back through Unwrap.
type unwrapper struct{ w http.ResponseWriter }

func (u *unwrapper) Header() http.Header         { return u.w.Header() }
func (u *unwrapper) Write(p []byte) (int, error) { return u.w.Write(p) }
func (u *unwrapper) WriteHeader(code int)        { u.w.WriteHeader(code) }
func (u *unwrapper) Unwrap() http.ResponseWriter { return u.w }

// hider is a wrapper with neither Flush nor Unwrap.
type hider struct{ w http.ResponseWriter }

func (h *hider) Header() http.Header         { return h.w.Header() }
func (h *hider) Write(p []byte) (int, error) { return h.w.Write(p) }
func (h *hider) WriteHeader(code int)        { h.w.WriteHeader(code) }

// pingPong is the handler side of a stream checked event by event: it
// sends n events, each only after the client acknowledged the one before
// (so a buffered event deadlocks, and the client's deadline fails the
// test), and stays idle for idle after the second.
func pingPong(t *testing.T, w http.ResponseWriter, r *http.Request, u *sse.Upgrader, acks <-chan int, n int, idle time.Duration) error {
	sw, err := u.Upgrade(w, r)
	if err != nil {
		return err
	}
	for i := range n {
		if i == 2 {
			time.Sleep(idle) // idle on purpose: longer than every write timeout
		}
		if err := sw.Send(sse.Event{ID: strconv.Itoa(i), Type: "n", Data: fmt.Sprint("event ", i)}); err != nil {
			return fmt.Errorf("Send(%d): %w", i, err)
		}
		select {
		case got := <-acks:
			if got != i {
				return fmt.Errorf("client acknowledged %d, want %d", got, i)
			}
		case <-r.Context().Done():
			return fmt.Errorf("waiting for the client to get %d: %w", i, r.Context().Err())
		}
	}
	return nil
}

// readPongs is the client side of pingPong.
func readPongs(t *testing.T, body io.Reader, acks chan<- int, n int) {
	t.Helper()
	d := sse.NewDecoder(body)
	for i := range n {
		ev, err := d.Next()
		want := sse.Event{ID: strconv.Itoa(i), Type: "n", Data: fmt.Sprint("event ", i)}
		if err != nil || ev != want {
			t.Fatalf("event %d: Next() = %+v, %v; want %+v", i, ev, err, want)
		}
		acks <- i
	}
	if ev, err := d.Next(); err != io.EOF {
		t.Errorf("Next() after the last event = %+v, %v; want io.EOF", ev, err)
	}
}

// TestWriterStreams: events reach the client one by one, in a plain
// HandlerFunc, behind a wrapper that has Unwrap and behind a middleware.App
// route; over HTTP/1.1 and HTTP/2; on a server whose WriteTimeout (200ms)
// is shorter than the stream, with an idle gap longer than both that and
// the Writer's own WriteTimeout (100ms, which HTTP/2 enforces by resetting
// the stream if it is not cleared).
func TestWriterStreams(t *testing.T) {
	const n, idle = 4, 350 * time.Millisecond
	u := &sse.Upgrader{WriteTimeout: 100 * time.Millisecond}
	mounts := map[string]func(http.HandlerFunc) http.Handler{
		"HandlerFunc": func(h http.HandlerFunc) http.Handler { return h },
		"Unwrap": func(h http.HandlerFunc) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(&unwrapper{w}, r) })
		},
		"middleware.App": func(h http.HandlerFunc) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("GET /", middleware.HandlerFunc(func(c *middleware.Context) error {
				h(c.Writer, c.Request)
				return nil
			}))
			var app middleware.App
			app.Use(middleware.ResponseTime(), middleware.Mount(mux))
			return &app
		},
		"middleware.Wrap": func(h http.HandlerFunc) http.Handler {
			// A net/http middleware, chi style, inside an App.
			std := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(&unwrapper{w}, r) })
			}
			var app middleware.App
			app.Use(middleware.Wrap(std), func(c *middleware.Context, _ middleware.Next) error {
				h(c.Writer, c.Request)
				return nil
			})
			return &app
		},
	}
	for _, p := range protos {
		for name, mount := range mounts {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				acks := make(chan int)
				url, c := wireServer(t, p.h2, 200*time.Millisecond, mount(func(w http.ResponseWriter, r *http.Request) {
					if err := pingPong(t, w, r, u, acks, n, idle); err != nil {
						t.Errorf("handler: %v", err)
					}
				}))
				start := time.Now()
				resp := wireGet(t, wireContext(t), c, url)
				readPongs(t, resp.Body, acks, n)
				if el := time.Since(start); el < idle {
					t.Errorf("stream lasted %v, want at least %v", el, idle)
				}
			})
		}
	}
}

// TestWriterNoWriteTimeout: with no per-write deadline (WriteTimeout < 0)
// a stream still outlives the server's WriteTimeout: Upgrade cleared it.
func TestWriterNoWriteTimeout(t *testing.T) {
	u := &sse.Upgrader{WriteTimeout: -1}
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			acks := make(chan int)
			url, c := wireServer(t, p.h2, 100*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := pingPong(t, w, r, u, acks, 3, 250*time.Millisecond); err != nil {
					t.Errorf("handler: %v", err)
				}
			}))
			resp := wireGet(t, wireContext(t), c, url)
			readPongs(t, resp.Body, acks, 3)
		})
	}
}

// TestUpgradeFlushUnsupported: a wrapper that hides Flush without Unwrap
// fails clearly, before anything is written.
func TestUpgradeFlushUnsupported(t *testing.T) {
	rec := httptest.NewRecorder()
	sw, err := sse.Upgrade(&hider{rec}, httptest.NewRequest("GET", "/", nil))
	if !errors.Is(err, sse.ErrFlushUnsupported) || sw != nil {
		t.Fatalf("Upgrade(no Flush) = %v, %v; want nil, ErrFlushUnsupported", sw, err)
	}
	if len(rec.Header()) != 0 || rec.Body.Len() != 0 || rec.Flushed {
		t.Errorf("Upgrade(no Flush) touched the response: header %v, body %q, flushed %v", rec.Header(), rec.Body, rec.Flushed)
	}
	t.Log(err)

	// Over the wire: the handler can still answer with an error.
	url, c := wireServer(t, false, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := sse.Upgrade(&hider{w}, r); err != nil {
			http.Error(w, "no streaming here", http.StatusInternalServerError)
		}
	}))
	resp := wireGet(t, wireContext(t), c, url)
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") == "text/event-stream" {
		t.Errorf("handler answering ErrFlushUnsupported: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// TestUpgradeRecorder: on a writer without deadlines (a ResponseRecorder)
// Upgrade sets the headers, drops Content-Length, writes 200 and the retry
// field and flushes.
func TestUpgradeRecorder(t *testing.T) {
	for _, tt := range []struct {
		retry time.Duration
		body  string
	}{{0, ""}, {-time.Second, ""}, {2 * time.Second, "retry: 2000\n\n"}} {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Length", "5")
		u := sse.Upgrader{Retry: tt.retry}
		sw, err := u.Upgrade(rec, httptest.NewRequest("GET", "/", nil))
		if err != nil {
			t.Fatalf("Upgrade(Retry %v) = %v", tt.retry, err)
		}
		res := rec.Result()
		got := fmt.Sprint(res.StatusCode, res.Header, rec.Flushed, rec.Body.String())
		want := fmt.Sprint(200, http.Header{
			"Content-Type":      {"text/event-stream"},
			"Cache-Control":     {"no-cache"},
			"X-Accel-Buffering": {"no"},
		}, true, tt.body)
		if got != want {
			t.Errorf("Upgrade(Retry %v): %s, want %s", tt.retry, got, want)
		}
		if err := sw.Send(sse.Event{Data: "x"}); err != nil || !strings.HasSuffix(rec.Body.String(), "data: x\n\n") {
			t.Errorf("Send() = %v, body %q", err, rec.Body)
		}
	}
}

// TestUpgradeAfterCommit documents what Upgrade does when the response was
// already committed: net/http cannot say so, the Writer is returned, and
// the status and headers already sent stay.
func TestUpgradeAfterCommit(t *testing.T) {
	rec := httptest.NewRecorder()
	io.WriteString(rec, "already here\n")
	sw, err := sse.Upgrade(rec, httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatalf("Upgrade after commit = %v", err)
	}
	if err := sw.Send(sse.Event{Data: "x"}); err != nil {
		t.Fatal(err)
	}
	res := rec.Result()
	if ct := res.Header.Get("Content-Type"); ct == "text/event-stream" {
		t.Errorf("Content-Type after commit = %q: the recorder took a header after commit", ct)
	}
	if got := rec.Body.String(); got != "already here\ndata: x\n\n" {
		t.Errorf("body = %q", got)
	}
}

// TestWriterCompressingWrapper: Upgrade leaves a Content-Encoding that a
// compressing wrapper set before the handler ran; a wrapper whose Flush
// flushes its compressor streams event by event.
func TestWriterCompressingWrapper(t *testing.T) {
	acks := make(chan int)
	u := &sse.Upgrader{}
	url, c := wireServer(t, false, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "x-upper") // a "compression": upper case
		if err := pingPong(t, &upperWriter{w}, r, u, acks, 3, 0); err != nil {
			t.Errorf("handler: %v", err)
		}
	}))
	resp := wireGet(t, wireContext(t), c, url)
	if ce := resp.Header.Get("Content-Encoding"); ce != "x-upper" {
		t.Fatalf("Content-Encoding = %q, want the wrapper's x-upper", ce)
	}
	// Upper case fields are not fields to a decoder: read raw lines.
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		var got []string
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if line == "\n" {
				break
			}
			got = append(got, line)
		}
		want := []string{"ID: " + strconv.Itoa(i) + "\n", "EVENT: N\n", "DATA: EVENT " + strconv.Itoa(i) + "\n"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("event %d through the wrapper (-want +got):\n%s", i, diff)
		}
		acks <- i
	}
}

// upperWriter "compresses" by upper-casing, with a Flush that flushes it
// (it holds nothing) and the writer under it, as gzip wrappers do.
type upperWriter struct{ w http.ResponseWriter }

func (u *upperWriter) Header() http.Header { return u.w.Header() }
func (u *upperWriter) Write(p []byte) (int, error) {
	return u.w.Write([]byte(strings.ToUpper(string(p))))
}
func (u *upperWriter) WriteHeader(code int) { u.w.WriteHeader(code) }
func (u *upperWriter) Flush()               { http.NewResponseController(u.w).Flush() }

// TestWriterDeadPeer: a client that stops reading, or goes away, makes Send
// fail within the WriteTimeout instead of blocking for good; that and every
// later call return an error wrapping ErrClosed.
func TestWriterDeadPeer(t *testing.T) {
	const timeout = 300 * time.Millisecond
	big := sse.Event{Data: strings.Repeat("x", 64<<10)}
	type result struct {
		sends int
		last  time.Duration // how long the failing Send took
		err   error
		later []error // Send and Comment after the failure
	}
	// fill sends big events until one fails (at most limit).
	fill := func(w http.ResponseWriter, r *http.Request, ready chan<- struct{}, gone <-chan struct{}) result {
		u := sse.Upgrader{WriteTimeout: timeout}
		sw, err := u.Upgrade(w, r)
		if err != nil {
			return result{err: err}
		}
		close(ready)
		<-gone
		var res result
		for res.sends = 0; res.sends < 4096; res.sends++ {
			start := time.Now()
			if err := sw.Send(big); err != nil {
				res.last, res.err = time.Since(start), err
				break
			}
		}
		res.later = []error{sw.Send(sse.Event{Data: "late"}), sw.Comment("late")}
		return res
	}
	check := func(t *testing.T, res result, wantTimeout bool) {
		t.Logf("%d events of 64 KiB sent; the failing Send took %v: %v", res.sends, res.last, res.err)
		if !errors.Is(res.err, sse.ErrClosed) {
			t.Fatalf("Send to a dead peer = %v after %d events, want ErrClosed", res.err, res.sends)
		}
		if wantTimeout && !errors.Is(res.err, os.ErrDeadlineExceeded) {
			t.Errorf("Send to a peer that stopped reading = %v, want it to wrap os.ErrDeadlineExceeded", res.err)
		}
		if res.last > timeout+2*time.Second {
			t.Errorf("the failing Send took %v, want about the WriteTimeout %v", res.last, timeout)
		}
		for _, err := range res.later {
			if !errors.Is(err, sse.ErrClosed) {
				t.Errorf("call after the failure = %v, want ErrClosed", err)
			}
		}
	}

	t.Run("HTTP1/StopsReading", func(t *testing.T) {
		results := make(chan result, 1)
		ready := make(chan struct{})
		url, _ := wireServer(t, false, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gone := make(chan struct{})
			close(gone)
			results <- fill(w, r, ready, gone)
		}))
		conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.(*net.TCPConn).SetReadBuffer(4 << 10)
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		// Read nothing: the socket buffers fill and the writes block.
		select {
		case res := <-results:
			check(t, res, true)
		case <-wireContext(t).Done():
			t.Fatal("Send still blocked after 10s")
		}
	})

	t.Run("HTTP1/ClientLeaves", func(t *testing.T) {
		results := make(chan result, 1)
		ready, gone := make(chan struct{}), make(chan struct{})
		url, c := wireServer(t, false, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			results <- fill(w, r, ready, gone)
		}))
		resp := wireGet(t, wireContext(t), c, url)
		<-ready
		resp.Body.Close() // unread: the transport closes the connection
		close(gone)
		select {
		case res := <-results:
			check(t, res, false)
		case <-wireContext(t).Done():
			t.Fatal("Send still blocked after 10s")
		}
	})

	t.Run("HTTP2/StopsReading", func(t *testing.T) {
		results := make(chan result, 1)
		ready := make(chan struct{})
		url, c := wireServer(t, true, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gone := make(chan struct{})
			close(gone)
			results <- fill(w, r, ready, gone)
		}))
		resp := wireGet(t, wireContext(t), c, url)
		// Read nothing: the stream's flow-control window closes.
		select {
		case res := <-results:
			check(t, res, false)
		case <-wireContext(t).Done():
			t.Fatal("Send still blocked after 10s")
		}
		resp.Body.Close()
	})
}

// TestWriterConcurrent: Sends from several goroutines and heartbeat
// Comments share one Writer; every event arrives whole, each goroutine's in
// its order.
func TestWriterConcurrent(t *testing.T) {
	const senders, each = 4, 200
	url, c := wireServer(t, false, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, err := sse.Upgrade(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := sw.Comment("heartbeat\nline two"); err != nil {
					t.Errorf("Comment() = %v", err)
					return
				}
			}
		})
		var senderWG sync.WaitGroup
		for g := range senders {
			senderWG.Go(func() {
				for i := range each {
					var err error
					if i%2 == 0 {
						err = sw.Send(sse.Event{ID: fmt.Sprint(g, "-", i), Type: "t", Data: fmt.Sprint(g, "\n", i)})
					} else {
						err = sw.SendJSON(sse.Event{ID: fmt.Sprint(g, "-", i), Type: "t"}, []int{g, i})
					}
					if err != nil {
						t.Errorf("Send() = %v", err)
						return
					}
				}
			})
		}
		senderWG.Wait()
		close(stop)
		wg.Wait()
	}))
	resp := wireGet(t, wireContext(t), c, url)
	next := make([]int, senders)
	d := sse.NewDecoder(resp.Body)
	for n := 0; n < senders*each; n++ {
		ev, err := d.Next()
		if err != nil {
			t.Fatalf("after %d events: %v", n, err)
		}
		var g, i int
		if _, err := fmt.Sscanf(ev.ID, "%d-%d", &g, &i); err != nil || g < 0 || g >= senders {
			t.Fatalf("event %+v: bad ID", ev)
		}
		want := fmt.Sprint(g, "\n", i)
		if i%2 == 1 {
			want = fmt.Sprintf("[%d,%d]", g, i)
		}
		if i != next[g] || ev.Data != want || ev.Type != "t" {
			t.Fatalf("event %+v, want ID %d-%d, data %q", ev, g, next[g], want)
		}
		next[g]++
	}
	if ev, err := d.Next(); err != io.EOF {
		t.Errorf("Next() after all events = %+v, %v; want io.EOF", ev, err)
	}
}

// failWriter fails its Write or its Flush once failAfter writes passed.
type failWriter struct {
	discardWriter
	failAfter int
	writes    int
	flushFail bool
}

var errBroken = errors.New("broken pipe (test)")

func (f *failWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > f.failAfter && !f.flushFail {
		return 0, errBroken
	}
	return f.discardWriter.Write(p)
}

func (f *failWriter) FlushError() error {
	if f.writes > f.failAfter && f.flushFail {
		return errBroken
	}
	f.flushes++
	return nil
}

// TestWriterStickyError: after a failed write or flush, every call returns
// the same error, wrapping ErrClosed and the cause, and writes nothing.
func TestWriterStickyError(t *testing.T) {
	for _, flushFail := range []bool{false, true} {
		t.Run(fmt.Sprint("flushFail=", flushFail), func(t *testing.T) {
			fw := &failWriter{failAfter: 1, flushFail: flushFail}
			u := sse.Upgrader{Retry: time.Second} // one write
			sw, err := u.Upgrade(fw, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := sw.Send(sse.Event{Data: "a"}); !errors.Is(err, sse.ErrClosed) || !errors.Is(err, errBroken) {
				t.Fatalf("Send() on a broken writer = %v, want ErrClosed wrapping the cause", err)
			}
			writes := fw.writes
			for _, err := range []error{
				sw.Send(sse.Event{Data: "b"}),
				sw.SendJSON(sse.Event{}, 1),
				sw.Comment("c"),
			} {
				if !errors.Is(err, sse.ErrClosed) || !errors.Is(err, errBroken) {
					t.Errorf("call after failure = %v, want ErrClosed wrapping the cause", err)
				}
			}
			if fw.writes != writes {
				t.Errorf("%d writes after the failure, want 0", fw.writes-writes)
			}
		})
	}
}

// TestUpgradeClientGone: Upgrade itself reports ErrClosed when the headers
// cannot be flushed.
func TestUpgradeClientGone(t *testing.T) {
	fw := &failWriter{failAfter: -1, flushFail: true}
	if sw, err := sse.Upgrade(fw, nil); !errors.Is(err, sse.ErrClosed) || sw != nil {
		t.Errorf("Upgrade(flush fails) = %v, %v; want nil, ErrClosed", sw, err)
	}
}

// TestWriterInvalidEvent: an event that would inject fields is refused,
// nothing of it is written, and the stream goes on.
func TestWriterInvalidEvent(t *testing.T) {
	rec := httptest.NewRecorder()
	sw, err := sse.Upgrade(rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []sse.Event{{ID: "1\n", Data: "x"}, {Type: "a\rdata: evil", Data: "x"}, {ID: "\x00"}} {
		if err := sw.Send(ev); !errors.Is(err, sse.ErrInvalidField) {
			t.Errorf("Send(%q) = %v, want ErrInvalidField", ev, err)
		}
		if err := sw.SendJSON(ev, "x"); !errors.Is(err, sse.ErrInvalidField) {
			t.Errorf("SendJSON(%q) = %v, want ErrInvalidField", ev, err)
		}
	}
	if err := sw.Send(sse.Event{Data: "ok"}); err != nil {
		t.Errorf("Send after invalid events = %v", err)
	}
	if got := rec.Body.String(); got != "data: ok\n\n" {
		t.Errorf("body = %q, want only the valid event", got)
	}
}

// panicky panics in MarshalJSON.
type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

func TestWriterSendJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	sw, err := sse.Upgrade(rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]any{"text": "line\nbreak\r\n", "n": 1}
	if err := sw.SendJSON(sse.Event{ID: "1", Type: "msg", Data: "replaced"}, v); err != nil {
		t.Fatal(err)
	}
	ev, err := sse.NewDecoder(strings.NewReader(rec.Body.String())).Next()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(ev.Data), &back); err != nil || ev.ID != "1" || ev.Type != "msg" {
		t.Fatalf("SendJSON sent %+v (%v)", ev, err)
	}
	if diff := cmp.Diff(map[string]any{"text": "line\nbreak\r\n", "n": 1.0}, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}

	before := rec.Body.Len()
	if err := sw.SendJSON(sse.Event{}, make(chan int)); err == nil || errors.Is(err, sse.ErrClosed) {
		t.Errorf("SendJSON(chan) = %v, want json's error", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("SendJSON(panicking MarshalJSON) recovered %v, want boom", r)
			}
		}()
		sw.SendJSON(sse.Event{}, panicky{})
	}()
	if rec.Body.Len() != before {
		t.Errorf("failed SendJSONs wrote %q", rec.Body.String()[before:])
	}
	done := make(chan error)
	go func() { done <- sw.Send(sse.Event{Data: "after"}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Send after a panicking MarshalJSON = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send after a panicking MarshalJSON blocked: the lock was held")
	}
}

func TestWriterMisuse(t *testing.T) {
	for name, f := range map[string]func(){
		"Upgrade(nil)":        func() { sse.Upgrade(nil, nil) },
		"zero Writer Send":    func() { new(sse.Writer).Send(sse.Event{}) },
		"zero Writer Comment": func() { new(sse.Writer).Comment("") },
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "sse: ") {
					t.Errorf("%s: recovered %q, want a panic starting with \"sse: \"", name, r)
				}
			}()
			f()
		}()
	}
}

// TestWriterAllocs: Send and Comment allocate nothing once the buffer has
// grown.
func TestWriterAllocs(t *testing.T) {
	sw, err := sse.Upgrade(&deadlineWriter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := sse.Event{ID: "1", Type: "t", Data: "0123456789abcdef0123456789abcdef"}
	if a := testing.AllocsPerRun(100, func() { sw.Send(ev); sw.Comment("hb") }); a != 0 {
		t.Errorf("Send+Comment: %v allocs, want 0", a)
	}
}

// TestWriterMemoryFollowsEvents: one large event does not keep a large
// buffer for the rest of the stream.
func TestWriterMemoryFollowsEvents(t *testing.T) {
	const size = 8 << 20
	data := strings.Repeat("x", size)
	sw, err := sse.Upgrade(&discardWriter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := memtest.LiveHeap()
	if err := sw.Send(sse.Event{Data: data}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Send(sse.Event{Data: "small"}); err != nil {
		t.Fatal(err)
	}
	if kept := memtest.LiveHeap() - before; kept > 1<<20 {
		t.Errorf("after one %d-byte event the Writer keeps %d bytes", size, kept)
	}
	runtime.KeepAlive(sw)
	runtime.KeepAlive(data)
}

// TestWriterAfterHandlerReturns: a goroutine that kept the Writer past the
// handler's return gets ErrClosed, and nothing reaches the finished
// response (on HTTP/1 the connection is then reused for another request).
func TestWriterAfterHandlerReturns(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			late := make(chan error, 1)
			url, c := wireServer(t, p.h2, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/second" {
					io.WriteString(w, "second")
					return
				}
				sw, err := sse.Upgrade(w, r)
				if err != nil {
					t.Error(err)
					return
				}
				if err := sw.Send(sse.Event{Data: "only"}); err != nil {
					t.Error(err)
				}
				go func() {
					<-r.Context().Done() // ends when ServeHTTP has returned
					late <- sw.Send(sse.Event{Data: "late"})
				}()
			}))
			ctx := wireContext(t)
			resp := wireGet(t, ctx, c, url)
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != "data: only\n\n" {
				t.Fatalf("body = %q, %v", body, err)
			}
			select {
			case err := <-late:
				if !errors.Is(err, sse.ErrClosed) {
					t.Errorf("Send after the handler returned = %v, want ErrClosed", err)
				}
			case <-ctx.Done():
				t.Fatal("the request's context never ended")
			}
			resp2 := wireGet(t, ctx, c, url+"/second")
			if b, err := io.ReadAll(resp2.Body); err != nil || string(b) != "second" {
				t.Errorf("next request on the connection = %q, %v", b, err)
			}
		})
	}
}

// panicWriter panics in Write (a broken wrapper, or one that aborts with
// http.ErrAbortHandler) while panicking is set.
type panicWriter struct {
	discardWriter
	panicking bool
}

func (p *panicWriter) Write(b []byte) (int, error) {
	if p.panicking {
		panic(http.ErrAbortHandler)
	}
	return p.discardWriter.Write(b)
}

// TestWriterWriterPanics: a panic in the ResponseWriter reaches the caller
// of Send and leaves the Writer unlocked.
func TestWriterWriterPanics(t *testing.T) {
	pw := &panicWriter{}
	sw, err := sse.Upgrade(pw, nil)
	if err != nil {
		t.Fatal(err)
	}
	pw.panicking = true
	func() {
		defer func() {
			if r := recover(); r != http.ErrAbortHandler {
				t.Errorf("Send recovered %v, want the writer's panic", r)
			}
		}()
		sw.Send(sse.Event{Data: "x"})
	}()
	pw.panicking = false
	done := make(chan error, 1)
	go func() { done <- sw.Comment("after") }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Comment after a panicking Write = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Comment after a panicking Write blocked: the lock was held")
	}
}

// exitFlusher is a ResponseWriter whose Flush panics with
// http.ErrAbortHandler, or calls runtime.Goexit when goexit is set.
type exitFlusher struct {
	discardWriter
	goexit bool
}

func (e *exitFlusher) Flush() {
	if e.goexit {
		runtime.Goexit()
	}
	panic(http.ErrAbortHandler)
}

// TestUpgradeWriterExits: Upgrade sends the headers from a goroutine of
// its own, but a panic there reaches Upgrade's caller with its own value,
// and a runtime.Goexit ends the caller's goroutine.
func TestUpgradeWriterExits(t *testing.T) {
	for _, goexit := range []bool{false, true} {
		var returned bool
		var panicked any
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() { panicked = recover() }()
			sse.Upgrade(&exitFlusher{goexit: goexit}, nil)
			returned = true
		}()
		<-done
		var want any = http.ErrAbortHandler
		if goexit {
			want = nil
		}
		if returned || panicked != want {
			t.Errorf("goexit %v: Upgrade returned %v, its caller recovered %v; want no return and %v", goexit, returned, panicked, want)
		}
	}
}

// flushOnly has Flush but no Unwrap: it hides the connection's deadlines.
type flushOnly struct{ w http.ResponseWriter }

func (f *flushOnly) Header() http.Header         { return f.w.Header() }
func (f *flushOnly) Write(p []byte) (int, error) { return f.w.Write(p) }
func (f *flushOnly) WriteHeader(code int)        { f.w.WriteHeader(code) }
func (f *flushOnly) Flush()                      { f.w.(http.Flusher).Flush() }

// TestWriterFlushOnlyWrapper shows what Upgrade documents for a wrapper
// with Flush and no Unwrap: events stream, but the server's WriteTimeout,
// which Upgrade cannot clear through it, still cuts the stream, and its
// Flush, which returns no error, hides the failure from Send.
func TestWriterFlushOnlyWrapper(t *testing.T) {
	const serverTimeout = 150 * time.Millisecond
	errs := make(chan error, 2)
	url, c := wireServer(t, false, serverTimeout, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, err := sse.Upgrade(&flushOnly{w}, r)
		if err != nil {
			t.Error(err)
			return
		}
		errs <- sw.Send(sse.Event{Data: "early"})
		time.Sleep(2 * serverTimeout) // past the server's WriteTimeout
		errs <- sw.Send(sse.Event{Data: "late"})
	}))
	resp := wireGet(t, wireContext(t), c, url)
	d := sse.NewDecoder(resp.Body)
	if ev, err := d.Next(); err != nil || ev.Data != "early" {
		t.Fatalf("first event = %+v, %v", ev, err)
	}
	if err := <-errs; err != nil {
		t.Errorf("Send before the server's WriteTimeout = %v", err)
	}
	t.Logf("Send after the server's WriteTimeout: %v", <-errs)
	if ev, err := d.Next(); err == nil {
		t.Errorf("after the server's WriteTimeout the client got %+v, want the stream cut", ev)
	}
}
