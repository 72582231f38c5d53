package benchmarks

// Side-by-side numbers for github.com/nodekit/nodekit/cluster, as real
// processes on loopback: examples/prefork (built from ../examples/prefork)
// with 2 workers, one plain net/http process, and Node's cluster with 2
// workers (node/cluster.js). Names end in /lib=NAME, nodekit first:
//
//	go test -run '^$' -bench 'Cluster' -count 6 | tee cluster.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /lib cluster.txt
//
// BenchmarkClusterReqs/gen=…/lib=… drives GET / for clusterLoad with 50
// keep-alive connections, from wrk (-t2 -c50) when it is on PATH (gen=wrk),
// else from 50 clients in this process (gen=go); it reports req/s, the
// requests per CPU-second the server's processes used (req/cpu-s, from
// /proc: what a request costs, whatever share of a busy machine the
// server got — on a shared machine a server of more processes gets more
// of it, and more req/s) and the errors of the load window (ns/op is
// suppressed: an op is one window).
// BenchmarkClusterReplace/lib=… kill -9s the worker that has been ready
// longest and reports the time from the kill to the first answer from a
// new pid (answer-ms/op, what a client sees) and to the supervisor's ready
// line for the replacement (ready-ms/op). Each kill waits until its victim
// has been ready for clusterStable, past the prefork's MinUptime, so that
// nodekit restarts it at once rather than as a crash. The node rows skip
// when node is not on PATH.
//
// With an iteration count as -benchtime (CI's smoke pass, -benchtime 1x)
// the load window is clusterSmokeLoad, so the pass takes seconds.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/reexec"
)

const (
	clusterWorkers   = 2
	clusterConns     = 50
	clusterLoad      = 5 * time.Second
	clusterSmokeLoad = time.Second // wrk counts whole seconds
	clusterWarmup    = time.Second
	// clusterStable is how long a worker has been ready before it is
	// killed: more than the prefork's MinUptime (the default, 1s).
	clusterStable = 1200 * time.Millisecond
	// clusterSingleEnv makes the test binary the plain Go server
	// (TestClusterGoSingleProcess).
	clusterSingleEnv = "NODEKIT_CLUSTER_SINGLE"
)

// A clusterServer starts one contestant and returns it serving.
type clusterServer struct {
	lib      string
	start    func(b *testing.B) *clusterProc
	replaces bool // it has workers to kill and replace
}

var clusterServers = []clusterServer{
	{"nodekit", startPrefork, true},
	{"go-single", startGoSingle, false},
	{"node", startNodeCluster, true},
}

// A clusterProc is a server process: its primary's address and the ready
// lines it prints ("worker ID (pid PID) ready"), examples/prefork's
// format, which node/cluster.js and the single Go server print too.
type clusterProc struct {
	marker  string            // in the environment of all its processes
	url     string            // http://127.0.0.1:PORT/
	initial []clusterReady    // the first workers' ready lines
	ready   chan clusterReady // the later ready lines, as they come
	out     *lockedBuffer     // everything it printed, for failures
}

type clusterReady struct {
	pid int
	at  time.Time
}

var (
	clusterURLLine   = regexp.MustCompile(`(http://127\.0\.0\.1:\d+/)`)
	clusterReadyLine = regexp.MustCompile(`^worker \d+ \(pid (\d+)\) ready$`)
	clusterBody      = regexp.MustCompile(`^hello from worker \d+ \(pid (\d+)\)\n$`)
)

// startClusterProc starts cmd in its own process group with b's marker
// (so that b fails if any process of it outlives the benchmark), waits
// for its address line and workers ready lines, and stops it when b ends:
// SIGTERM to the primary, then SIGKILL to the group after 10s.
func startClusterProc(b *testing.B, cmd *exec.Cmd, workers int) *clusterProc {
	b.Helper()
	p := &clusterProc{marker: reexec.Marker(b), ready: make(chan clusterReady, 1000), out: new(lockedBuffer)}
	cmd.Env = append(append(os.Environ(), cmd.Env...), p.marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	urlc := make(chan string, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.out, line)
			if m := clusterURLLine.FindStringSubmatch(line); m != nil && p.url == "" {
				p.url = m[1]
				urlc <- m[1]
			}
			if m := clusterReadyLine.FindStringSubmatch(line); m != nil {
				pid, _ := strconv.Atoi(m[1])
				p.ready <- clusterReady{pid, time.Now()}
			}
		}
	}()
	exited := make(chan struct{})
	go func() { <-read; cmd.Wait(); close(exited) }()
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			b.Errorf("%s did not stop within 10s of SIGTERM; killed", cmd.Path)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	select {
	case <-urlc:
	case <-exited:
		b.Fatalf("%s ended before printing its address:\n%s", cmd.Path, p.out)
	case <-time.After(30 * time.Second):
		b.Fatalf("%s printed no address within 30s:\n%s", cmd.Path, p.out)
	}
	for range workers {
		select {
		case r := <-p.ready:
			p.initial = append(p.initial, r)
		case <-time.After(30 * time.Second):
			b.Fatalf("%s: not %d workers ready within 30s:\n%s", cmd.Path, workers, p.out)
		}
	}
	return p
}

// startPrefork builds and starts examples/prefork with clusterWorkers.
func startPrefork(b *testing.B) *clusterProc {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "prefork")
	build := exec.Command("go", "build", "-o", bin, "github.com/nodekit/nodekit/examples/prefork")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build examples/prefork: %v\n%s", err, out)
	}
	return startClusterProc(b, exec.Command(bin, "-port", "0", "-workers", strconv.Itoa(clusterWorkers)), clusterWorkers)
}

// startGoSingle starts this test binary as one plain net/http process.
func startGoSingle(b *testing.B) *clusterProc {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestClusterGoSingleProcess$", "-test.count=1", "-test.timeout=0")
	cmd.Env = []string{clusterSingleEnv + "=1"}
	return startClusterProc(b, cmd, 1)
}

// startNodeCluster starts node/cluster.js with clusterWorkers, or skips b.
func startNodeCluster(b *testing.B) *clusterProc {
	b.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not on PATH")
	}
	return startClusterProc(b, exec.Command(node, "node/cluster.js", "0", strconv.Itoa(clusterWorkers)), clusterWorkers)
}

// TestClusterGoSingleProcess is the plain Go server of the cluster
// benchmarks when startGoSingle runs the test binary: examples/prefork's
// GET / in one process on 127.0.0.1:0, printing the lines the benchmarks
// read. Otherwise it skips.
func TestClusterGoSingleProcess(t *testing.T) {
	if os.Getenv(clusterSingleEnv) == "" {
		t.Skip("the plain Go server of the cluster benchmarks; started by them")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from worker %d (pid %d)\n", 0, os.Getpid())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("primary %d: http://%s/ with 1 workers\n", os.Getpid(), ln.Addr())
	fmt.Printf("worker 0 (pid %d) ready\n", os.Getpid())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		<-sig
		srv.Close()
	}()
	srv.Serve(ln)
	os.Exit(0)
}

// BenchmarkClusterReqs: req/s under 50 keep-alive connections.
func BenchmarkClusterReqs(b *testing.B) {
	gen, wrk := "go", ""
	if path, err := exec.LookPath("wrk"); err == nil {
		gen, wrk = "wrk", path
	}
	window := clusterLoad
	if sseSmoke() {
		window = clusterSmokeLoad
	}
	for _, s := range clusterServers {
		b.Run("gen="+gen+"/lib="+s.lib, func(b *testing.B) {
			p := s.start(b)
			if !sseSmoke() {
				clusterDrive(b, wrk, p.url, clusterWarmup)
			}
			var reqs, errs int64
			var elapsed, cpu time.Duration
			for range b.N {
				cpu0 := clusterCPU(p.marker)
				r := clusterDrive(b, wrk, p.url, window)
				cpu += clusterCPU(p.marker) - cpu0
				reqs += r.reqs
				errs += r.errs
				elapsed += r.elapsed
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(reqs)/elapsed.Seconds(), "req/s")
			if cpu > 0 {
				b.ReportMetric(float64(reqs)/cpu.Seconds(), "req/cpu-s")
			}
			b.ReportMetric(float64(errs)/float64(b.N), "errors/op")
		})
	}
}

// clusterCPU returns the CPU time (user and system) the processes with
// marker in their environment have used so far, from /proc (Linux; 0
// elsewhere), in clock ticks of 10ms, the USER_HZ of Linux.
func clusterCPU(marker string) time.Duration {
	var ticks int64
	for _, pid := range reexec.Procs(marker) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')') // the command may hold spaces and parentheses
		if i < 0 {
			continue
		}
		// state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 12 {
			utime, _ := strconv.ParseInt(f[11], 10, 64)
			stime, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += utime + stime
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// clusterLoadResult is one load window: requests answered 200, errors
// (failed connections or requests, other statuses), and its length.
type clusterLoadResult struct {
	reqs, errs int64
	elapsed    time.Duration
}

// clusterDrive loads url for d with clusterConns keep-alive connections:
// with wrk if its path is given, else from this process.
func clusterDrive(b *testing.B, wrk, url string, d time.Duration) clusterLoadResult {
	b.Helper()
	if wrk != "" {
		return clusterWrk(b, wrk, url, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range clusterConns {
		wg.Go(func() {
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			for ctx.Err() == nil {
				if _, err := clusterGet(ctx, client, url); err == nil {
					ok.Add(1)
				} else if ctx.Err() == nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return clusterLoadResult{ok.Load(), failed.Load(), time.Since(t0)}
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m),`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// clusterWrk runs wrk -t2 -c50 for d (in whole seconds, at least one) and
// parses its totals.
func clusterWrk(b *testing.B, wrk, url string, d time.Duration) clusterLoadResult {
	b.Helper()
	cmd := exec.Command(wrk, "-t2", fmt.Sprintf("-c%d", clusterConns), fmt.Sprintf("-d%ds", max(int(d.Seconds()), 1)), url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	m := wrkRequests.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk printed no total:\n%s", out)
	}
	var r clusterLoadResult
	r.reqs, _ = strconv.ParseInt(string(m[1]), 10, 64)
	r.elapsed, err = time.ParseDuration(string(m[2]) + string(m[3]))
	if err != nil {
		b.Fatalf("wrk's duration %q: %v", m[2], err)
	}
	if m := wrkSocket.FindSubmatch(out); m != nil {
		for _, n := range m[1:] {
			v, _ := strconv.ParseInt(string(n), 10, 64)
			r.errs += v
		}
	}
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		v, _ := strconv.ParseInt(string(m[1]), 10, 64)
		r.errs += v
		r.reqs -= v
	}
	return r
}

// clusterGet fetches url and returns the pid its body names.
func clusterGet(ctx context.Context, client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		return 0, err
	}
	m := clusterBody.FindSubmatch(body.Bytes())
	if resp.StatusCode != http.StatusOK || m == nil {
		return 0, fmt.Errorf("status %d, body %q", resp.StatusCode, body.Bytes())
	}
	return strconv.Atoi(string(m[1]))
}

// BenchmarkClusterReplace: kill -9 a worker, time its replacement.
func BenchmarkClusterReplace(b *testing.B) {
	for _, s := range clusterServers {
		if !s.replaces {
			continue
		}
		b.Run("lib="+s.lib, func(b *testing.B) {
			p := s.start(b)
			live := map[int]time.Time{} // pid → when it was ready
			for _, r := range p.initial {
				live[r.pid] = r.at
			}
			var answer, ready time.Duration
			unanswered := 0
			for range b.N {
				a, r, u := clusterReplace(b, p, live)
				answer += a
				ready += r
				unanswered += u
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(answer.Microseconds())/1e3/float64(b.N), "answer-ms/op")
			b.ReportMetric(float64(ready.Microseconds())/1e3/float64(b.N), "ready-ms/op")
			b.ReportMetric(float64(unanswered)/float64(b.N), "unanswered/op")
		})
	}
}

// clusterReplace kill -9s the worker of live ready longest, once it has
// been ready for clusterStable, and returns the time from the kill to the
// first answer from a pid not in live and to the replacement's ready line
// (whose pid it adds to live), and the number of requests that went
// unanswered. A request starts every millisecond from the kill on, each on
// a new connection and not waiting for the others: a request that hangs
// (Node's primary can hand a connection to the worker being killed) does
// not delay the measurement; once the answer has come, those still pending
// get another second and count as unanswered after it.
func clusterReplace(b *testing.B, p *clusterProc, live map[int]time.Time) (answer, ready time.Duration, unanswered int) {
	b.Helper()
	victim := 0
	for pid, at := range live {
		if victim == 0 || at.Before(live[victim]) {
			victim = pid
		}
	}
	old := make(map[int]bool, len(live))
	for pid := range live {
		old[pid] = pid != victim
	}
	time.Sleep(time.Until(live[victim].Add(clusterStable)))
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type poll struct {
		pid int
		err error
	}
	polls := make(chan poll, 10_000)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	t0 := time.Now()
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		b.Fatalf("kill -9 %d: %v", victim, err)
	}
	delete(live, victim)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	pending := 0
	for answer == 0 {
		select {
		case <-tick.C:
			pending++
			wg.Go(func() {
				pid, err := clusterGet(ctx, client, p.url)
				polls <- poll{pid, err}
			})
			continue
		case r := <-polls:
			pending--
			if r.err == nil && r.pid != victim && !old[r.pid] {
				answer = time.Since(t0)
			}
		case <-ctx.Done():
			b.Fatalf("no answer from a new worker within 10s of kill -9 %d:\n%s", victim, p.out)
		}
	}
	tick.Stop()
	grace := time.After(time.Second)
	for pending > 0 {
		select {
		case <-polls:
			pending--
		case <-grace:
			unanswered, pending = pending, 0
		}
	}
	select {
	case r := <-p.ready:
		live[r.pid] = r.at
		return answer, r.at.Sub(t0), unanswered
	case <-ctx.Done():
		b.Fatalf("no replacement ready within 10s of kill -9 %d:\n%s", victim, p.out)
		return
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}
