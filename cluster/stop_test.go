//go:build unix

package cluster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/internal/reexec"
)

// Graceful stop: a request in flight finishes; a straggler past
// KillTimeout is SIGKILLed; Run still returns nil and reaps everything.
func TestGracefulStop(t *testing.T) {
	p := newPrimary(t, "http", 1)
	p.KillTimeout = 1500 * time.Millisecond
	rec := record(p)
	done := start(t, p)
	rec.next(t, cluster.Listening, 30*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := &http.Client{}
	type result struct {
		body string
		err  error
	}
	short, long := make(chan result, 1), make(chan result, 1)
	go func() { b, err := get(ctx, client, baseURL(p)+"/slow?ms=500"); short <- result{b, err} }()
	go func() { b, err := get(ctx, client, baseURL(p)+"/slow?ms=20000"); long <- result{b, err} }()
	time.Sleep(200 * time.Millisecond) // both in flight
	stopAt := time.Now()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	took := time.Since(stopAt)
	if r := <-short; r.err != nil || !strings.HasPrefix(r.body, "slept 500 ms") {
		t.Errorf("the in-flight request: %q, %v; want it finished", r.body, r.err)
	}
	if r := <-long; r.err == nil {
		t.Errorf("the straggler got %q, want its connection cut by the kill", r.body)
	}
	if err := wait(t, done, time.Second); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	// Serve gives up waiting at 90% of KillTimeout and closes the
	// straggler's connection itself, so the worker exits cleanly just
	// before the primary would kill it.
	ev := rec.next(t, cluster.Exit, time.Second)
	if ev.Code != 0 || ev.Err != nil {
		t.Errorf("the worker's exit: code %d signal %v err %v; want 0", ev.Code, ev.Signal, ev.Err)
	}
	t.Logf("Shutdown took %v with KillTimeout %v", took, p.KillTimeout)
	if took < p.KillTimeout*8/10 || took > p.KillTimeout+10*time.Second {
		t.Errorf("Shutdown took %v, want about KillTimeout (%v)", took, p.KillTimeout)
	}
}

// A worker that ignores the request to stop is SIGKILLed after
// KillTimeout; Run still returns nil.
func TestKillTimeout(t *testing.T) {
	p := newPrimary(t, "stubborn", 2)
	p.KillTimeout = 500 * time.Millisecond
	rec := record(p)
	done := start(t, p)
	for range 2 {
		rec.next(t, cluster.Listening, 30*time.Second)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stopAt := time.Now()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	took := time.Since(stopAt)
	t.Logf("Shutdown took %v with KillTimeout %v", took, p.KillTimeout)
	if took < p.KillTimeout {
		t.Errorf("Shutdown took %v, less than KillTimeout", took)
	}
	for range 2 {
		if ev := rec.next(t, cluster.Exit, time.Second); ev.Signal != syscall.SIGKILL || ev.Err != nil {
			t.Errorf("exit: signal %v err %v; want SIGKILL and no failure", ev.Signal, ev.Err)
		}
	}
	if err := wait(t, done, time.Second); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
}

// Shutdown whose ctx ends first kills the workers at once and returns the
// context's error; Run returns nil (the stop was asked for).
func TestShutdownCtx(t *testing.T) {
	p := newPrimary(t, "stubborn", 1)
	p.KillTimeout = time.Minute
	rec := record(p)
	done := start(t, p)
	rec.next(t, cluster.Listening, 30*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown() = %v, want DeadlineExceeded", err)
	}
	if ev := rec.next(t, cluster.Exit, time.Second); ev.Signal != syscall.SIGKILL {
		t.Errorf("exit signal %v, want SIGKILL", ev.Signal)
	}
	if err := wait(t, done, 10*time.Second); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
}

// SIGTERM to a worker (the blocking-descriptor regression): it exits
// promptly while the primary is forking others, and is replaced.
func TestWorkerSIGTERM(t *testing.T) {
	p := newPrimary(t, "http", 2)
	rec := record(p)
	start(t, p)
	w := rec.next(t, cluster.Listening, 30*time.Second).Worker
	rec.next(t, cluster.Listening, 30*time.Second)
	if err := p.Scale(4); err != nil { // forks while the SIGTERM lands
		t.Fatal(err)
	}
	sent := time.Now()
	syscall.Kill(w.Pid(), syscall.SIGTERM)
	took := waitDead(t, w.Pid(), 10*time.Second)
	t.Logf("worker exited %v after SIGTERM", took)
	if took > 5*time.Second {
		t.Errorf("worker took %v to exit after SIGTERM", took)
	}
	_ = sent
}

// Scale up and down, by the API and by SIGTTIN/SIGTTOU.
func TestScale(t *testing.T) {
	p := newPrimary(t, "http", 1)
	p.IgnoreSignals = false
	rec := record(p)
	start(t, p)
	rec.next(t, cluster.Listening, 30*time.Second)
	if err := p.Scale(3); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rec.next(t, cluster.Listening, 30*time.Second)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTTIN)
	rec.next(t, cluster.Listening, 30*time.Second)
	if n := len(p.Live()); n != 4 {
		t.Fatalf("after Scale(3) and SIGTTIN: %d workers, want 4", n)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTTOU)
	if ev := rec.next(t, cluster.Exit, 30*time.Second); ev.Worker.Slot() != 3 || ev.Code != 0 {
		t.Fatalf("SIGTTOU retired slot %d (code %d), want slot 3, cleanly", ev.Worker.Slot(), ev.Code)
	}
	if err := p.Scale(1); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rec.next(t, cluster.Exit, 30*time.Second)
	}
	if ws := p.Live(); len(ws) != 1 || ws[0].Slot() != 0 {
		t.Fatalf("after Scale(1): %d workers", len(ws))
	}
	select {
	case ev := <-rec.chs[cluster.Fork]:
		if ev.Worker.ID() > 4 {
			t.Errorf("a retired worker was replaced by worker %d", ev.Worker.ID())
		}
	default:
	}
}

// Rolling restart under light keep-alive load: every slot gets a new
// worker, each old one is gone before the next is retired, no request
// fails. (The drill runs the same under 50 connections.)
func TestRollingRestart(t *testing.T) {
	p := newPrimary(t, "http", 2)
	p.DrainPeriod = 300 * time.Millisecond
	var mu sync.Mutex
	var order []string
	rec := record(p)
	p.Events().On(cluster.Fork, func(ev cluster.Event) {
		mu.Lock()
		order = append(order, fmt.Sprintf("fork %d", ev.Worker.ID()))
		mu.Unlock()
	})
	p.Events().On(cluster.Exit, func(ev cluster.Event) {
		mu.Lock()
		order = append(order, fmt.Sprintf("exit %d", ev.Worker.ID()))
		mu.Unlock()
	})
	start(t, p)
	old := map[int]bool{}
	for range 2 {
		old[rec.next(t, cluster.Listening, 30*time.Second).Worker.Pid()] = true
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var ok, failed atomic.Int64
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for loadCtx.Err() == nil {
				if _, err := get(loadCtx, client, baseURL(p)+"/"); err != nil {
					if loadCtx.Err() == nil {
						failed.Add(1)
						t.Logf("request failed: %v", err)
					}
				} else {
					ok.Add(1)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if err := p.Restart(ctx); err != nil {
		t.Fatalf("Restart() = %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	stopLoad()
	wg.Wait()
	t.Logf("rolling restart under keep-alive load: %d ok, %d failed", ok.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during the rolling restart", failed.Load())
	}
	for _, w := range p.Live() {
		if old[w.Pid()] {
			t.Errorf("worker pid %d survived the rolling restart", w.Pid())
		}
	}
	for pid := range old {
		if alive(pid) {
			t.Errorf("old worker pid %d still alive", pid)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// fork 1, fork 2 at start; then fork 3, exit (1 or 2), fork 4, exit.
	want := []string{"fork 3", "exit", "fork 4", "exit"}
	got := order[2:]
	if len(got) != 4 {
		t.Fatalf("events after start: %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("events after start: %q, want the pattern %q (surge first, old gone before the next)", got, want)
		}
	}
}

// SIGHUP rolls the workers; SIGTERM then stops gracefully and Run
// returns nil.
func TestSignals(t *testing.T) {
	p := newPrimary(t, "http", 1)
	p.IgnoreSignals = false
	rec := record(p)
	done := start(t, p)
	first := rec.next(t, cluster.Listening, 30*time.Second).Worker
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if w := rec.next(t, cluster.Listening, 30*time.Second).Worker; w.Slot() != first.Slot() || w == first {
		t.Fatalf("after SIGHUP worker %d is ready, want a new one in slot %d", w.ID(), first.Slot())
	}
	if ev := rec.next(t, cluster.Exit, 30*time.Second); ev.Worker != first {
		t.Fatalf("worker %d exited, want the old one (%d)", ev.Worker.ID(), first.ID())
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	if err := wait(t, done, 30*time.Second); err != nil {
		t.Fatalf("Run() after SIGTERM = %v, want nil", err)
	}
}

// A panic in an event listener comes out of Run, after every worker was
// killed and reaped; so does runtime.Goexit. No goroutine is left.
func TestListenerPanicAndGoexit(t *testing.T) {
	for _, how := range []string{"panic", "goexit"} {
		t.Run(how, func(t *testing.T) {
			leaktest.Check(t)
			p := newPrimary(t, "http", 2)
			var pids []int
			var mu sync.Mutex
			p.Events().On(cluster.Fork, func(ev cluster.Event) {
				mu.Lock()
				pids = append(pids, ev.Worker.Pid())
				mu.Unlock()
			})
			p.Events().On(cluster.Listening, func(cluster.Event) {
				if how == "panic" {
					panic("boom")
				}
				runtime.Goexit()
			})
			got := make(chan any, 1)
			go func() {
				defer func() { got <- recover() }()
				p.Run(context.Background())
				got <- "returned"
			}()
			var v any
			select {
			case v = <-got:
			case <-time.After(60 * time.Second):
				t.Fatal("Run did not end")
			}
			want := any("boom")
			if how == "goexit" {
				want = nil
			}
			if v != want {
				t.Fatalf("Run ended with %v, want %v", v, want)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("worker %d alive after Run ended", pid)
				}
			}
			if err := p.Shutdown(t.Context()); !errors.Is(err, cluster.ErrNotRunning) {
				t.Errorf("Shutdown after Run = %v, want ErrNotRunning", err)
			}
		})
	}
}

// SIGKILL the primary: Pdeathsig (and the IPC EOF) end the workers
// within a second, also one with a goroutine spinning forever, and the
// port can be bound again.
func TestPrimaryKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux-only")
	}
	cmd := reexec.Command("primary", nil, reexec.Marker(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	var addr string
	var pids []int
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(60 * time.Second)
	for len(pids) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the primary exited early")
			}
			var pid int
			if _, err := fmt.Sscanf(l, "pid %d", &pid); err == nil {
				pids = append(pids, pid)
			}
			fmt.Sscanf(l, "addr %s", &addr)
		case <-timeout:
			t.Fatal("workers not ready within 60s")
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// Wedge the worker that answers: a goroutine that spins forever.
	if _, err := get(ctx, &http.Client{}, "http://"+addr+"/spin"); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	killed := time.Now()
	for _, pid := range pids {
		took := waitDead(t, pid, 10*time.Second)
		t.Logf("worker %d gone %v after the primary's SIGKILL", pid, took)
		if took > time.Second {
			t.Errorf("worker %d took %v to die, want < 1s", pid, took)
		}
	}
	cmd.Wait() // the primary's own descriptors go when its last thread exits
	// The kernel may take a moment to tear the socket down after the last
	// process holding it is gone.
	var ln net.Listener
	for {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if time.Since(killed) > time.Second {
			out, _ := exec.Command("ss", "-tlnp").CombinedOutput()
			t.Fatalf("the port cannot be bound again 1s after the kill: %v\n%s", err, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the port could be bound again %v after the kill", time.Since(killed))
	ln.Close()
}
