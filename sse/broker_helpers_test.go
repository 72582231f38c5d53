package sse_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodekit/nodekit/sse"
)

// A frame is what the small test reader makes of one block: an event
// (data lines joined with "\n"), an id-only block that dispatches nothing
// but sets the last event ID (IDOnly), or a comment line (Comment).
type frame struct {
	ID, Type, Data string
	Comment        bool
	IDOnly         bool
}

// parseFrames splits a stream into frames: events, id-only blocks and
// comments (one frame per comment line). It returns the unparsed tail (an
// unterminated block).
func parseFrames(b []byte) (frames []frame, rest []byte) {
	var cur frame
	var data []string
	hasID := false
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return frames, b
		}
		line := string(b[:i])
		b = b[i+1:]
		switch {
		case line == "":
			if data != nil {
				cur.Data = strings.Join(data, "\n")
				frames = append(frames, cur)
			} else if hasID {
				frames = append(frames, frame{ID: cur.ID, IDOnly: true})
			}
			cur, data, hasID = frame{}, nil, false
		case strings.HasPrefix(line, ":"):
			frames = append(frames, frame{Comment: true, Data: strings.TrimPrefix(strings.TrimPrefix(line, ":"), " ")})
		default:
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				cur.ID, hasID = v, true
			case "event":
				cur.Type = v
			case "data":
				data = append(data, v)
			}
		}
	}
}

// A client is a loopback SSE connection read line by line.
type client struct {
	t      testing.TB
	resp   *http.Response
	br     *bufio.Reader
	cancel context.CancelFunc
	lastID string
}

// dial opens a stream at url (lastID, when not empty, as Last-Event-ID),
// bounded by a 10 s context.
func dial(t testing.TB, url, lastID string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		cancel()
		t.Fatalf("GET %s: %s, Content-Type %q", url, resp.Status, ct)
	}
	c := &client{t: t, resp: resp, br: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(c.close)
	return c
}

func (c *client) close() { c.cancel(); c.resp.Body.Close() }

// next returns the next frame, or an error (io.EOF when the stream ended).
func (c *client) next() (frame, error) {
	var block []byte
	for {
		line, err := c.br.ReadBytes('\n')
		if err != nil {
			if err == io.EOF && len(block)+len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return frame{}, err
		}
		block = append(block, line...)
		if fs, rest := parseFrames(block); len(fs) > 0 {
			if len(rest) != 0 {
				panic("parseFrames left a tail after a frame")
			}
			if fs[0].ID != "" {
				c.lastID = fs[0].ID
			}
			return fs[0], nil
		} else if string(line) == "\n" {
			block = nil // a retry-only block
		}
	}
}

// events reads n event frames, skipping comments and id-only blocks.
func (c *client) events(n int) []frame {
	c.t.Helper()
	var out []frame
	for len(out) < n {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		if !f.Comment && !f.IDOnly {
			out = append(out, f)
		}
	}
	return out
}

// A server serves b's topics over loopback at /TOPIC and reports each
// Subscribe's result.
type server struct {
	*httptest.Server
	b         *sse.Broker
	connected chan string // topic, after each OnConnect
	ended     chan error  // each Subscribe's result
}

// newServer serves b (whose OnConnect it sets) at ts.URL+"/"+topic.
func newServer(t testing.TB, b *sse.Broker) *server {
	s := &server{b: b, connected: make(chan string, 100), ended: make(chan error, 100)}
	b.OnConnect = func(topic string, r *http.Request) { s.connected <- topic }
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ended <- b.Subscribe(w, r, strings.TrimPrefix(r.URL.Path, "/"))
	}))
	t.Cleanup(func() {
		b.Close()
		s.Close()
	})
	return s
}

// subscribe dials topic and waits until the broker has registered it.
func (s *server) subscribe(t testing.TB, topic, lastID string) *client {
	t.Helper()
	c := dial(t, s.URL+"/"+topic, lastID)
	select {
	case <-s.connected:
	case <-time.After(10 * time.Second):
		t.Fatalf("subscriber to %q not registered after 10 s", topic)
	}
	return c
}

// A fakeWriter is an in-memory http.ResponseWriter with Flush, for
// Subscribe calls without a network (synctest, the model, benchmarks).
// Writes block while it is stalled.
type fakeWriter struct {
	header  http.Header
	mu      sync.Mutex
	buf     bytes.Buffer
	gate    chan struct{} // while not nil, Write waits for it to close
	n       int           // bytes written
	keep    bool          // keep what is written in buf (else only count it)
	last    []byte        // the end of the last Write
	waiting int           // Writes waiting for the gate
	wrote   chan struct{} // capacity 1: signaled on each Flush
}

func newFakeWriter() *fakeWriter {
	return &fakeWriter{header: http.Header{}, wrote: make(chan struct{}, 1), keep: true, last: make([]byte, 0, 256)}
}

func (f *fakeWriter) Header() http.Header { return f.header }
func (f *fakeWriter) WriteHeader(int)     {}

func (f *fakeWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		f.mu.Lock()
		f.waiting++
		f.mu.Unlock()
		<-gate
		f.mu.Lock()
		f.waiting--
		f.mu.Unlock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n += len(p)
	f.last = append(f.last[:0], p[max(0, len(p)-256):]...)
	if !f.keep {
		return len(p), nil
	}
	return f.buf.Write(p)
}

// lastWrote reports whether the last Write ended with s.
func (f *fakeWriter) lastWrote(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.HasSuffix(f.last, []byte(s))
}

// stuck reports whether a Write is waiting for the gate.
func (f *fakeWriter) stuck() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting > 0
}

// written returns the number of bytes written so far.
func (f *fakeWriter) written() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// SetWriteDeadline succeeds, as a net/http connection's does (without it
// http.ResponseController allocates an ErrNotSupported error per call).
func (f *fakeWriter) SetWriteDeadline(time.Time) error { return nil }

func (f *fakeWriter) Flush() {
	select {
	case f.wrote <- struct{}{}:
	default:
	}
}

// stall makes later Writes wait until unstall.
func (f *fakeWriter) stall() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate == nil {
		f.gate = make(chan struct{})
	}
}

func (f *fakeWriter) unstall() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate != nil {
		close(f.gate)
		f.gate = nil
	}
}

// frames parses what was written so far.
func (f *fakeWriter) frames() []frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, _ := parseFrames(f.buf.Bytes())
	return fs
}

// events returns the event frames written so far.
func (f *fakeWriter) events() []frame {
	var out []frame
	for _, fr := range f.frames() {
		if !fr.Comment && !fr.IDOnly {
			out = append(out, fr)
		}
	}
	return out
}

// goSubscribe runs b.Subscribe on a fake writer in a goroutine with a
// cancelable request (Last-Event-ID lastID when not empty); ended gets its
// result.
func goSubscribe(b *sse.Broker, topic, lastID string) (f *fakeWriter, cancel context.CancelFunc, ended chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, "GET", "/"+topic, nil)
	if lastID != "" {
		r.Header.Set("Last-Event-ID", lastID)
	}
	f = newFakeWriter()
	ended = make(chan error, 1)
	go func() { ended <- b.Subscribe(f, r, topic) }()
	return f, cancel, ended
}

// raceEnabled reports whether the test binary was built with -race, which
// makes the million-event tests take ten times as long.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}
