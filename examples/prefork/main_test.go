//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/reexec"
)

// The test binary plays the program: role "main" runs main() with the
// arguments given, and the workers it forks do the same.
func TestMain(m *testing.M) {
	reexec.Main(m, map[string]func(){"main": main})
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// program starts the example with args; lines receives its output.
func program(t *testing.T, args ...string) (*exec.Cmd, <-chan string) {
	cmd := reexec.Command("main", args, reexec.Marker(t), "GORACE=atexit_sleep_ms=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	read := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-read // EOF once the primary and its workers are gone
		cmd.Wait()
	})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			t.Log(sc.Text())
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines
}

// expect waits for a line matching re and returns its submatches.
func expect(t *testing.T, lines <-chan string, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the program ended before printing %q", re)
			}
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no line matching %q within 60s", re)
		}
	}
}

// fetch GETs url and returns the body of a 200 answer; wrote, if not nil,
// is closed once the request has been written to the connection.
func fetch(ctx context.Context, url string, wrote chan<- struct{}) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if wrote != nil {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) },
		})
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: reading the body: %w", url, err)
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s = %d %q", url, resp.StatusCode, b)
	}
	return string(b), nil
}

func get(t *testing.T, url string) string {
	t.Helper()
	body, err := fetch(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// wait waits for cmd to exit, at most a minute.
func wait(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("the program did not exit within 60s")
		return nil
	}
}

// The contract: -port and -workers; GET / names the worker and pid;
// /slow?ms=N; SIGHUP rolls the workers; SIGTERM stops gracefully, letting
// a slow request finish, and the program exits 0.
func TestPrefork(t *testing.T) {
	port := freePort(t)
	cmd, lines := program(t, "-port", port, "-workers", "2")
	expect(t, lines, `^primary \d+: http://127\.0\.0\.1:`+port+`/ with 2 workers`)
	pids := map[string]bool{}
	for range 2 {
		pids[expect(t, lines, `^worker \d+ \(pid (\d+)\) ready$`)[1]] = true
	}
	base := "http://127.0.0.1:" + port
	body := get(t, base+"/")
	m := regexp.MustCompile(`^hello from worker \d+ \(pid (\d+)\)\n$`).FindStringSubmatch(body)
	if m == nil || !pids[m[1]] {
		t.Fatalf("GET / = %q, want a hello naming one of %v", body, pids)
	}
	if body := get(t, base+"/slow?ms=50"); !strings.HasPrefix(body, "slept 50 ms in worker") {
		t.Fatalf("GET /slow?ms=50 = %q", body)
	}

	cmd.Process.Signal(syscall.SIGHUP)
	for range 2 {
		if pid := expect(t, lines, `^worker \d+ \(pid (\d+)\) ready$`)[1]; pids[pid] {
			t.Fatalf("after SIGHUP an old worker (%s) reported ready", pid)
		}
		expect(t, lines, `^worker \d+ \(pid \d+\) exited: code 0$`)
	}

	// A request in flight at SIGTERM still gets its answer. "In flight"
	// means a worker's handler has it; the program says nothing when that
	// happens, so the test waits until the request is written and then
	// gives the worker 200 ms to accept and read it (a request still in
	// the kernel's accept queue when the workers close their listeners
	// is dropped, as with any server).
	type result struct {
		body string
		err  error
	}
	slow, wrote := make(chan result, 1), make(chan struct{})
	go func() {
		body, err := fetch(t.Context(), base+"/slow?ms=700", wrote)
		slow <- result{body, err}
	}()
	select {
	case <-wrote:
	case r := <-slow:
		t.Fatalf("the slow request ended before SIGTERM: %q, %v", r.body, r.err)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if r := <-slow; r.err != nil || !strings.HasPrefix(r.body, "slept 700 ms") {
		t.Errorf("the request in flight at SIGTERM: %q, %v", r.body, r.err)
	}
	expect(t, lines, `^primary: all workers stopped$`)
	if err := wait(t, cmd); err != nil {
		t.Fatalf("the program exited with %v after SIGTERM, want 0", err)
	}
}

// -crash: every worker exits at start; the primary gives up and exits 1.
func TestCrash(t *testing.T) {
	cmd, lines := program(t, "-port", freePort(t), "-workers", "2", "-crash")
	expect(t, lines, `crash-looping; giving up`)
	var ee *exec.ExitError
	if err := wait(t, cmd); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	_ = os.Getpid
}
