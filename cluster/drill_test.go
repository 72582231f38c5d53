//go:build drill && linux

package cluster_test

// The proof items under load, with timing measured and reported.
// They take about a minute and want a quiet machine; run them without the
// race detector:
//
//	go test -tags drill -run Drill -count=1 -v ./cluster/

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/reexec"
)

// load drives conns clients at url until ctx ends: each keeps one
// connection (keepAlive) or opens one per request.
type load struct {
	ok, failed, refused atomic.Int64
	mu                  sync.Mutex
	errs                map[string]int
}

func (l *load) run(ctx context.Context, url string, conns int, keepAlive bool) *sync.WaitGroup {
	l.errs = map[string]int{}
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			tr := &http.Transport{DisableKeepAlives: !keepAlive, MaxConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			for ctx.Err() == nil {
				_, err := get(ctx, client, url)
				switch {
				case err == nil:
					l.ok.Add(1)
				case ctx.Err() != nil:
				default:
					l.failed.Add(1)
					if errors.Is(err, syscall.ECONNREFUSED) {
						l.refused.Add(1)
					}
					l.mu.Lock()
					l.errs[err.Error()]++
					l.mu.Unlock()
				}
			}
		})
	}
	return &wg
}

func (l *load) String() string {
	return fmt.Sprintf("%d ok, %d failed (%d connection refused) %v", l.ok.Load(), l.failed.Load(), l.refused.Load(), l.errs)
}

// Proof 1: kill -9 one worker under 50 connections: replacement ready
// within 250ms, no connection refused, failures no more than the
// connections it held.
func TestDrillKillUnderLoad(t *testing.T) {
	for round := range 5 {
		p := newPrimary(t, "http", 2)
		p.MinUptime = 100 * time.Millisecond
		rec := record(p)
		done := start(t, p)
		victim := rec.next(t, cluster.Listening, 30*time.Second).Worker
		rec.next(t, cluster.Listening, 30*time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		var l load
		wg := l.run(ctx, baseURL(p)+"/", 50, true)
		time.Sleep(time.Second)
		killed := time.Now()
		syscall.Kill(victim.Pid(), syscall.SIGKILL)
		repl := rec.next(t, cluster.Listening, 10*time.Second)
		latency := time.Since(killed)
		time.Sleep(time.Second)
		cancel()
		wg.Wait()
		t.Logf("round %d: replacement (worker %d) ready %v after kill -9; load: %v", round, repl.Worker.ID(), latency, &l)
		if latency > 250*time.Millisecond {
			t.Errorf("replacement took %v, want < 250ms", latency)
		}
		if l.refused.Load() != 0 || l.failed.Load() > 50 {
			t.Errorf("load: %v; want no refused connection and at most 50 failures", &l)
		}
		p.Shutdown(t.Context())
		wait(t, done, 30*time.Second)
	}
}

// Proof 2: rolling restarts under 50 keep-alive and 50 Connection: close
// clients: no failed request; each old worker gone before the next is
// retired.
func TestDrillRollingUnderLoad(t *testing.T) {
	for _, keepAlive := range []bool{true, false} {
		t.Run(fmt.Sprintf("keepalive=%v", keepAlive), func(t *testing.T) {
			p := newPrimary(t, "http", 2)
			var mu sync.Mutex
			var order []string
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
			rec := record(p)
			start(t, p)
			for range 2 {
				rec.next(t, cluster.Listening, 30*time.Second)
			}
			ctx, cancel := context.WithCancel(t.Context())
			var l load
			wg := l.run(ctx, baseURL(p)+"/", 50, keepAlive)
			time.Sleep(time.Second)
			for range 3 {
				rctx, rcancel := context.WithTimeout(t.Context(), time.Minute)
				t0 := time.Now()
				if err := p.Restart(rctx); err != nil {
					t.Fatalf("Restart() = %v", err)
				}
				rcancel()
				t.Logf("rolling restart of 2 workers took %v", time.Since(t0))
			}
			time.Sleep(500 * time.Millisecond)
			cancel()
			wg.Wait()
			t.Logf("3 rolling restarts under 50 clients (keep-alive %v): %v", keepAlive, &l)
			if l.failed.Load() != 0 {
				t.Errorf("%d requests failed", l.failed.Load())
			}
			mu.Lock()
			defer mu.Unlock()
			// After the first two forks: fork, exit, fork, exit, … strictly.
			for i, e := range order[2:] {
				if want := []string{"fork", "exit"}[i%2]; !strings.HasPrefix(e, want) {
					t.Fatalf("events %q: at %d want %s (surge first, old gone before the next)", order, i+2, want)
				}
			}
		})
	}
}

// Proof 6: SIGTERM a worker while others are being spawned: it exits in
// under 100ms, 20 times out of 20.
func TestDrillSIGTERMWhileSpawning(t *testing.T) {
	p := newPrimary(t, "http", 2)
	rec := record(p)
	start(t, p)
	for range 2 {
		rec.next(t, cluster.Listening, 30*time.Second)
	}
	var lat []time.Duration
	for range 20 {
		ws := p.Live()
		victim := ws[0]
		p.Scale(4) // two forks under way as the SIGTERM lands
		t0 := time.Now()
		syscall.Kill(victim.Pid(), syscall.SIGTERM)
		lat = append(lat, waitDead(t, victim.Pid(), 10*time.Second))
		_ = t0
		p.Scale(2)
		// Settle: back to two ready workers.
		deadline := time.Now().Add(30 * time.Second)
		for {
			n := 0
			for _, w := range p.Live() {
				if w.Slot() < 2 {
					n++
				}
			}
			if len(p.Live()) == 2 && n == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pool did not settle: %d workers", len(p.Live()))
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // the replacement gets ready
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("SIGTERM → exit, 20 runs: min %v, median %v, max %v", lat[0], lat[10], lat[19])
	for _, d := range lat {
		if d > 100*time.Millisecond {
			t.Errorf("a worker took %v to exit after SIGTERM", d)
		}
	}
}

// Proof 3, repeated: SIGKILL the primary with a wedged worker, 10 times.
func TestDrillPrimaryKilledRepeated(t *testing.T) {
	for range 10 {
		TestPrimaryKilled(t)
	}
}

// Numbers for the note: req/s of this package's prefork (2 workers), one
// Go process, and Node's cluster (2 workers), each under 50 keep-alive
// clients for 5s from this process. Not a pass/fail test.
func TestDrillThroughput(t *testing.T) {
	const conns, dur = 50, 5 * time.Second
	measure := func(url string) float64 {
		ctx, cancel := context.WithTimeout(t.Context(), dur)
		defer cancel()
		var l load
		wg := l.run(ctx, url, conns, true)
		wg.Wait()
		if l.failed.Load() > 0 {
			t.Logf("%s: %v", url, &l)
		}
		return float64(l.ok.Load()) / dur.Seconds()
	}
	// The prefork.
	p := newPrimary(t, "http", 2)
	rec := record(p)
	done := start(t, p)
	for range 2 {
		rec.next(t, cluster.Listening, 30*time.Second)
	}
	prefork := measure(baseURL(p) + "/")
	p.Shutdown(t.Context())
	wait(t, done, 30*time.Second)

	// One Go process: a worker-less http role would need the cluster, so
	// run the same handler in a child serving on its own.
	single := reexec.Command("single", nil, reexec.Marker(t))
	port := freePortDrill(t)
	single.Env = append(single.Env, "DRILL_ADDR=127.0.0.1:"+port)
	if err := single.Start(); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, "http://127.0.0.1:"+port+"/")
	one := measure("http://127.0.0.1:" + port + "/")
	single.Process.Kill()
	single.Wait()

	var node float64
	if nodePath, err := exec.LookPath("node"); err == nil {
		port := freePortDrill(t)
		script := filepath.Join(t.TempDir(), "cluster.js")
		os.WriteFile(script, []byte(`const cluster = require('cluster'), http = require('http');
if (cluster.isPrimary) { for (let i = 0; i < 2; i++) cluster.fork(); }
else { http.createServer((req, res) => res.end('Handled by worker ' + process.pid + '\n')).listen(`+port+`, '127.0.0.1'); }
`), 0o644)
		cmd := exec.Command(nodePath, script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitHTTP(t, "http://127.0.0.1:"+port+"/")
		time.Sleep(300 * time.Millisecond) // both workers up
		node = measure("http://127.0.0.1:" + port + "/")
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	t.Logf("req/s, %d keep-alive clients, %v, load generator in this process: cluster prefork (2 workers) %.0f, one Go process %.0f, Node cluster (2 workers) %.0f",
		conns, dur, prefork, one, node)
}

func freePortDrill(t *testing.T) string {
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := strings.Cut(ln.Addr().String(), ":")
	return port
}

func waitHTTP(t *testing.T, url string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
