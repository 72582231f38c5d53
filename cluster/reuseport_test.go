//go:build unix

package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/leaktest"
)

// With ReusePort each worker binds its own SO_REUSEPORT socket and the
// primary holds none; fresh connections reach both workers; kill -9 one
// and the other keeps serving, both its kept-alive connections and new
// ones, before the replacement (which binds a socket of its own) is ready.
// Off Linux, Run refuses ReusePort with ErrUnsupported.
func TestReusePort(t *testing.T) {
	leaktest.Check(t)
	p := newPrimary(t, "http", 2)
	p.ReusePort = true
	p.MinUptime = time.Millisecond
	if runtime.GOOS != "linux" {
		err := p.Run(t.Context())
		if !errors.Is(err, cluster.ErrUnsupported) {
			t.Fatalf("Run() with ReusePort on %s = %v, want ErrUnsupported", runtime.GOOS, err)
		}
		t.Skipf("ReusePort is Linux only: Run() = %v", err)
	}
	rec := record(p)
	start(t, p)
	a := rec.next(t, cluster.Listening, 30*time.Second).Worker
	b := rec.next(t, cluster.Listening, 30*time.Second).Worker
	port := p.ListenAddrs()[0].(*net.TCPAddr).Port

	// One listening socket per worker, none in the primary (its socket
	// that resolved the port is closed), none anywhere else.
	socks := listenSockets(t, port, os.Getpid(), a.Pid(), b.Pid())
	if len(socks[a.Pid()]) != 1 || len(socks[b.Pid()]) != 1 || len(socks[os.Getpid()]) != 0 ||
		socks[a.Pid()][0] == socks[b.Pid()][0] || len(socks[0]) != 0 {
		t.Fatalf("listening sockets on port %d by pid (0: held by no pid given): %v; want one each for workers %d and %d, distinct, none in the primary %d",
			port, socks, a.Pid(), b.Pid(), os.Getpid())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	url := baseURL(p) + "/"
	if seen := spread(t, ctx, fresh, url, a.Pid(), b.Pid()); len(seen) != 2 {
		t.Fatalf("fresh connections reached pids %v, want both %d and %d", seen, a.Pid(), b.Pid())
	}

	// A kept-alive connection on b, to check it outlives a's death.
	keptTr := &http.Transport{MaxConnsPerHost: 1}
	defer keptTr.CloseIdleConnections()
	kept := &http.Client{Transport: keptTr}
	for i := 0; ; i++ {
		if pid := pidOf(t, ctx, kept, url); pid == b.Pid() {
			break
		}
		if i == 200 {
			t.Fatalf("200 fresh connections never reached worker %d (pid %d)", b.ID(), b.Pid())
		}
		keptTr.CloseIdleConnections()
	}

	if err := syscall.Kill(a.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ev := rec.next(t, cluster.Exit, 10*time.Second); ev.Worker != a {
		t.Fatalf("exit event for worker %d, want %d", ev.Worker.ID(), a.ID())
	}
	// a is reaped, so its socket is closed: every fresh connection now
	// goes to b, or to the replacement once it has bound its socket.
	for i := range 50 {
		if _, err := get(ctx, fresh, url); err != nil {
			t.Fatalf("fresh request %d after worker %d died: %v", i, a.ID(), err)
		}
	}
	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	if pid := pidOf(t, httptrace.WithClientTrace(ctx, trace), kept, url); pid != b.Pid() || !reused {
		t.Errorf("kept-alive request after worker %d died: pid %d on a reused connection %v; want pid %d, reused",
			a.ID(), pid, reused, b.Pid())
	}

	repl := rec.next(t, cluster.Listening, 30*time.Second).Worker
	if repl.Slot() != a.Slot() {
		t.Errorf("replacement in slot %d, want %d", repl.Slot(), a.Slot())
	}
	socks = listenSockets(t, port, repl.Pid(), b.Pid())
	if len(socks[repl.Pid()]) != 1 || len(socks[b.Pid()]) != 1 || len(socks[0]) != 0 {
		t.Errorf("listening sockets on port %d after the replacement: %v; want one each for pids %d and %d", port, socks, repl.Pid(), b.Pid())
	}
	if seen := spread(t, ctx, fresh, url, repl.Pid(), b.Pid()); len(seen) != 2 {
		t.Errorf("fresh connections after the replacement reached pids %v, want both %d and %d", seen, repl.Pid(), b.Pid())
	}
}

var workerBody = regexp.MustCompile(`^worker \d+ pid (\d+)\n$`)

// pidOf fetches url with client and returns the pid the http role names.
func pidOf(t *testing.T, ctx context.Context, client *http.Client, url string) int {
	t.Helper()
	body, err := get(ctx, client, url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	m := workerBody.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s = %q", url, body)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// spread sends up to 500 requests with client until it has seen every pid
// in want answer, and returns the pids it saw, failing t on a pid outside
// want.
func spread(t *testing.T, ctx context.Context, client *http.Client, url string, want ...int) map[int]bool {
	t.Helper()
	seen := map[int]bool{}
	for i := 0; i < 500 && len(seen) < len(want); i++ {
		pid := pidOf(t, ctx, client, url)
		found := false
		for _, w := range want {
			found = found || pid == w
		}
		if !found {
			t.Fatalf("answer from pid %d, want one of %v", pid, want)
		}
		seen[pid] = true
	}
	return seen
}

// listenSockets returns the inodes of the TCP sockets listening on
// 127.0.0.1:port (Linux's /proc/net/tcp) by the pids among pids whose
// descriptors hold them (a shared socket under each); key 0 gathers those
// none of pids holds.
func listenSockets(t *testing.T, port int, pids ...int) map[int][]string {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	listening := map[string]bool{}
	// 127.0.0.1 as the kernel prints it, on little- and big-endian machines.
	local := map[string]bool{fmt.Sprintf("0100007F:%04X", port): true, fmt.Sprintf("7F000001:%04X", port): true}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if len(f) > 9 && local[f[1]] && f[3] == "0A" {
			listening[f[9]] = true
		}
	}
	held := map[int][]string{}
	owned := map[string]bool{}
	for _, pid := range pids {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			link, err := os.Readlink(fd)
			inode, ok := strings.CutPrefix(link, "socket:[")
			if err != nil || !ok {
				continue
			}
			inode = strings.TrimSuffix(inode, "]")
			if listening[inode] {
				owned[inode] = true
				held[pid] = append(held[pid], inode)
			}
		}
	}
	for inode := range listening {
		if !owned[inode] {
			held[0] = append(held[0], inode)
		}
	}
	return held
}
