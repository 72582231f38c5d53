//go:build unix

package cluster_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/leaktest"
)

// The roles of the REVIEW.md tests.
func init() {
	drillRoles["review-goexit"] = func() { workerOnMessage(func() { runtime.Goexit() }) }
	drillRoles["review-panic"] = func() { workerOnMessage(func() { panic("boom") }) }
	drillRoles["review-bigframe"] = workerBigFrame
	drillRoles["review-handler"] = workerHandlerExits
}

// workerHandlerExits serves GET /panic, /goexit and / with
// cluster.ListenAndServe.
func workerHandlerExits() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("handler boom") })
	mux.HandleFunc("GET /goexit", func(http.ResponseWriter, *http.Request) { runtime.Goexit() })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	if err := cluster.ListenAndServe(context.Background(), "unused", mux); err != nil {
		os.Exit(1)
	}
}

// A handler that panics or calls runtime.Goexit fails only its own
// request (net/http aborts the connection and logs the panic to the
// worker's stderr); the worker goes on serving and still stops
// gracefully, not by SIGKILL (REVIEW.md items 2, 3, 8).
func TestReviewHandlerExits(t *testing.T) {
	p := newPrimary(t, "review-handler", 1)
	var stderr strings.Builder
	p.Stderr = &lockedWriter{w: &stderr}
	rec, done, ctx, client := serveOne(t, p)
	for _, path := range []string{"/panic", "/goexit"} {
		if body, err := get(ctx, client, baseURL(p)+path); err == nil {
			t.Errorf("GET %s = %q, nil error; want the connection aborted", path, body)
		}
		if body, err := get(ctx, client, baseURL(p)+"/"); err != nil || body != "ok" {
			t.Fatalf("GET / after %s = %q, %v", path, body, err)
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := rec.next(t, cluster.Exit, time.Second); ev.Code != 0 || ev.Signal != nil {
		t.Errorf("the worker exited with code %d signal %v, want a graceful 0", ev.Code, ev.Signal)
	}
	if err := wait(t, done, 10*time.Second); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if !strings.Contains(stderr.String(), "handler boom") {
		t.Errorf("the handler's panic was not logged; worker stderr: %q", stderr.String())
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// workerOnMessage runs f in its message listener.
func workerOnMessage(f func()) {
	self, err := cluster.Self()
	if err != nil {
		os.Exit(1)
	}
	self.Events().On(cluster.Message, func(json.RawMessage) { f() })
	if err := self.Ready(context.Background()); err != nil {
		os.Exit(1)
	}
	<-self.Context().Done()
}

// workerBigFrame is a hostile worker: without calling Self it writes, on
// the IPC descriptor, a frame header announcing 4 GiB, then waits for EOF
// (the primary dropping it) and exits 0.
func workerBigFrame() {
	ipc := os.NewFile(3, "ipc")
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 0xffffffff)
	if _, err := ipc.Write(hdr[:]); err != nil {
		os.Exit(1)
	}
	io.Copy(io.Discard, ipc)
	os.Exit(0)
}

// A message listener in a worker that panics or calls runtime.Goexit ends
// the worker with status 2 (REVIEW.md items 2, 3): a Goexit used to end
// only the goroutine that reads the IPC channel, leaving a worker deaf to
// its primary's stop and EOF.
func TestReviewWorkerListenerExits(t *testing.T) {
	for _, how := range []string{"panic", "goexit"} {
		t.Run(how, func(t *testing.T) {
			p := newPrimary(t, "review-"+how, 1)
			p.Logger = slog.New(slog.DiscardHandler)
			p.Stderr = io.Discard
			rec := record(p)
			start(t, p)
			ev := rec.next(t, cluster.Listening, 30*time.Second)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if err := ev.Worker.Send(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if ex := rec.next(t, cluster.Exit, 10*time.Second); ex.Worker != ev.Worker || ex.Code != 2 {
				t.Fatalf("exit of worker %d with code %d, want worker %d with code 2", ex.Worker.ID(), ex.Code, ev.Worker.ID())
			}
		})
	}
}

// A listener panic during a rolling restart tears down without starting
// the roll's next worker, and the Restart waiting on the roll returns
// an error (REVIEW.md items 2, 3, 7): teardown used to leave the roll
// under way, so that the exit of the killed old worker started a new one
// that nothing stopped (Run hung), or ended the roll with nil.
func TestReviewListenerPanicDuringRestart(t *testing.T) {
	leaktest.Check(t)
	p := newPrimary(t, "http", 2)
	var (
		mu   sync.Mutex
		pids []int
	)
	p.Events().On(cluster.Fork, func(ev cluster.Event) {
		mu.Lock()
		pids = append(pids, ev.Worker.Pid())
		mu.Unlock()
	})
	ready := make(chan struct{}, 2)
	p.Events().On(cluster.Listening, func(ev cluster.Event) {
		if ev.Worker.ID() > 2 {
			panic("boom")
		}
		ready <- struct{}{}
	})
	got := make(chan any, 1)
	go func() {
		defer func() { got <- recover() }()
		p.Run(context.Background())
	}()
	for range 2 {
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			t.Fatal("workers not ready")
		}
	}
	restarted := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		restarted <- p.Restart(ctx)
	}()
	select {
	case v := <-got:
		if v != "boom" {
			t.Fatalf("Run ended with %v, want the panic boom", v)
		}
	case <-time.After(20 * time.Second):
		p.Close() // the teardown reads the inbox: this unwedges it
		<-got
		t.Fatal("Run did not end after the listener panicked")
	}
	if err := <-restarted; err == nil {
		t.Error("Restart() = nil after the listener panicked, want an error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pids) != 3 {
		t.Errorf("%d workers forked, want 3 (no replacement after the panic)", len(pids))
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("worker %d alive after Run ended", pid)
		}
	}
}

// After Run returns every method says so and no goroutine is left
// (REVIEW.md item 7).
func TestReviewClosedMeansClosed(t *testing.T) {
	leaktest.Check(t)
	p := newPrimary(t, "http", 1)
	rec := record(p)
	done := start(t, p)
	w := rec.next(t, cluster.Listening, 30*time.Second).Worker
	ctx := t.Context()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done, 10*time.Second); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	for name, err := range map[string]error{
		"Restart":   p.Restart(ctx),
		"Scale":     p.Scale(3),
		"Shutdown":  p.Shutdown(ctx),
		"Close":     p.Close(),
		"Broadcast": p.Broadcast(ctx, "x"),
	} {
		if !errors.Is(err, cluster.ErrNotRunning) {
			t.Errorf("%s after Run = %v, want ErrNotRunning", name, err)
		}
	}
	if err := p.Run(ctx); !errors.Is(err, cluster.ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	if err := w.Send(ctx, "x"); !errors.Is(err, cluster.ErrWorkerGone) {
		t.Errorf("Worker.Send after Run = %v, want ErrWorkerGone", err)
	}
	if !w.Exited() || len(p.Live()) != 0 {
		t.Error("a worker is live after Run returned")
	}
}

// Shutdown and Broadcast with an already-ended ctx give ctx.Err() every
// time (REVIEW.md item 4): with no live worker (the only one in restart
// backoff), Shutdown's graceful stop ended Run at once, and its select
// between Run's end and ctx picked nil or ctx.Err() at random; Broadcast
// returned nil.
func TestReviewEndedContext(t *testing.T) {
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	for i := range 20 {
		p := newPrimary(t, "none", 1)
		p.Path = "/bin/true" // exits at once: the slot waits out RestartDelay
		p.Args = nil
		p.RestartDelay = time.Minute
		p.Logger = slog.New(slog.DiscardHandler)
		rec := record(p)
		done := start(t, p)
		rec.next(t, cluster.Exit, 10*time.Second)
		if err := p.Broadcast(ended, "x"); i == 0 && !errors.Is(err, context.Canceled) {
			t.Errorf("Broadcast(ended ctx) = %v, want context.Canceled", err)
		}
		if err := p.Shutdown(ended); !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: Shutdown(ended ctx) = %v, want context.Canceled", i, err)
		}
		if err := wait(t, done, 10*time.Second); err != nil {
			t.Fatalf("run %d: Run() = %v, want nil", i, err)
		}
	}
}

// A worker announcing a frame longer than MaxMessageSize is disconnected
// without the primary reading (or allocating) it, and the primary goes on
// (REVIEW.md item 9).
func TestReviewOversizedFrame(t *testing.T) {
	p := newPrimary(t, "review-bigframe", 1)
	p.RestartDelay = time.Minute
	p.Logger = slog.New(slog.DiscardHandler)
	rec := record(p)
	done := start(t, p)
	fork := rec.next(t, cluster.Fork, 10*time.Second)
	if ev := rec.next(t, cluster.Disconnect, 10*time.Second); ev.Worker != fork.Worker {
		t.Fatalf("disconnect of worker %d, want %d", ev.Worker.ID(), fork.Worker.ID())
	}
	if ev := rec.next(t, cluster.Exit, 10*time.Second); ev.Code != 0 {
		t.Fatalf("the hostile worker exited with code %d, want 0 (it exits at EOF)", ev.Code)
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done, 10*time.Second); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
}

// The misuse TestMisuse does not cover fails at the call with the
// package's prefix, and a Run that panicked on its arguments does not use
// the Primary up (REVIEW.md item 5).
func TestReviewMisuse(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "Shutdown(nil)", func() { new(cluster.Primary).Shutdown(nilCtx) })
	mustPanic(t, "Worker.Send(nil)", func() { new(cluster.Worker).Send(nilCtx, 1) })
	mustPanic(t, "ListenAndServe(nil ctx)", func() { cluster.ListenAndServe(nilCtx, "127.0.0.1:0", http.NotFoundHandler()) })
	mustPanic(t, "negative ReadyTimeout", func() { (&cluster.Primary{ReadyTimeout: -1}).Run(t.Context()) })
	mustPanic(t, "negative RestartWindow", func() { (&cluster.Primary{RestartWindow: -1}).Run(t.Context()) })

	p := &cluster.Primary{Workers: -1}
	mustPanic(t, "Run with Workers -1", func() { p.Run(t.Context()) })
	p.Workers = 1
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Run(ended); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after a Run that panicked = %v, want context.Canceled (not ErrRunning)", err)
	}
}
