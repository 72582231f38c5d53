//go:build unix

package cluster_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/leaktest"
)

// Two workers share one port; the requests reach both; Shutdown stops them
// gracefully; every process is reaped and no goroutine remains.
func TestServeAndShutdown(t *testing.T) {
	leaktest.Check(t)
	p := newPrimary(t, "http", 2)
	rec := record(p)
	done := start(t, p)
	for range 2 {
		rec.next(t, cluster.Listening, 30*time.Second)
	}
	if n := len(p.Live()); n != 2 {
		t.Fatalf("Live() has %d workers, want 2", n)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pids := map[string]bool{}
	re := regexp.MustCompile(`^worker \d+ pid (\d+)\n$`)
	for i := 0; i < 200 && len(pids) < 2; i++ {
		body, err := get(ctx, client, baseURL(p)+"/")
		if err != nil {
			t.Fatalf("GET /: %v", err)
		}
		m := re.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("GET / = %q", body)
		}
		pids[m[1]] = true
	}
	if len(pids) != 2 {
		t.Errorf("200 requests reached %d workers, want 2", len(pids))
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	if err := wait(t, done, 30*time.Second); err != nil {
		t.Fatalf("Run() = %v after Shutdown, want nil", err)
	}
	for range 2 {
		if ev := rec.next(t, cluster.Exit, time.Second); ev.Code != 0 || ev.Signal != nil || ev.Err != nil {
			t.Errorf("exit event: code %d signal %v err %v; want a clean exit", ev.Code, ev.Signal, ev.Err)
		}
	}
	if n := len(p.Live()); n != 0 {
		t.Errorf("after Run: Live() has %d workers", n)
	}
	if err := p.Run(ctx); !errors.Is(err, cluster.ErrRunning) {
		t.Errorf("second Run() = %v, want ErrRunning", err)
	}
}

// kill -9 a worker: it is replaced in the same slot (the policy restarts
// a stable worker at once) and the replacement serves.
func TestReplaceKilledWorker(t *testing.T) {
	p := newPrimary(t, "http", 2)
	p.MinUptime = time.Millisecond
	rec := record(p)
	start(t, p)
	first := rec.next(t, cluster.Listening, 30*time.Second)
	rec.next(t, cluster.Listening, 30*time.Second)
	time.Sleep(10 * time.Millisecond) // past MinUptime
	killed := time.Now()
	if err := syscall.Kill(first.Worker.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ev := rec.next(t, cluster.Exit, 10*time.Second)
	if ev.Worker != first.Worker || ev.Signal != syscall.SIGKILL || ev.Code != -1 {
		t.Fatalf("exit event: worker %d signal %v code %d; want worker %d, SIGKILL, -1",
			ev.Worker.ID(), ev.Signal, ev.Code, first.Worker.ID())
	}
	repl := rec.next(t, cluster.Listening, 30*time.Second)
	latency := time.Since(killed)
	t.Logf("replacement ready %v after kill -9", latency)
	if repl.Worker.Slot() != first.Worker.Slot() || repl.Worker.ID() != 3 {
		t.Errorf("replacement: id %d slot %d; want id 3 in slot %d", repl.Worker.ID(), repl.Worker.Slot(), first.Worker.Slot())
	}
	if !first.Worker.Exited() {
		t.Error("the killed worker's handle does not report Exited")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := first.Worker.Send(ctx, "hi"); !errors.Is(err, cluster.ErrWorkerGone) {
		t.Errorf("Send to a dead worker = %v, want ErrWorkerGone", err)
	}
}
