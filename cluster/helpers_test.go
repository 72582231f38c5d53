//go:build unix

package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/reexec"
)

// recorder collects a Primary's events on channels, by name.
type recorder struct {
	mu  sync.Mutex
	log []string
	chs map[string]chan cluster.Event
}

func record(p *cluster.Primary) *recorder {
	rec := &recorder{chs: map[string]chan cluster.Event{}}
	for _, name := range []string{cluster.Fork, cluster.Online, cluster.Listening, cluster.Message, cluster.Disconnect, cluster.Exit} {
		ch := make(chan cluster.Event, 1024)
		rec.chs[name] = ch
		p.Events().On(name, func(ev cluster.Event) {
			rec.mu.Lock()
			rec.log = append(rec.log, fmt.Sprintf("%s %d", name, ev.Worker.ID()))
			rec.mu.Unlock()
			ch <- ev
		})
	}
	return rec
}

// next waits for the next event called name.
func (rec *recorder) next(t *testing.T, name string, timeout time.Duration) cluster.Event {
	t.Helper()
	select {
	case ev := <-rec.chs[name]:
		return ev
	case <-time.After(timeout):
		t.Fatalf("no %q event within %v; events so far: %q", name, timeout, rec.events())
		return cluster.Event{}
	}
}

func (rec *recorder) events() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.log...)
}

// newPrimary returns a Primary whose workers play role, marked so that the
// test fails if any of them outlives it.
func newPrimary(t *testing.T, role string, workers int) *cluster.Primary {
	return &cluster.Primary{
		Workers: workers,
		Addrs:   []string{"127.0.0.1:0"},
		// The race detector sleeps a second at exit by default; workers
		// that exit promptly should be measured as such.
		Env:           []string{reexec.EnvRole + "=" + role, reexec.Marker(t), "GORACE=atexit_sleep_ms=0"},
		IgnoreSignals: true,
		ReadyTimeout:  20 * time.Second, // generous: the machine is busy
		KillTimeout:   5 * time.Second,
	}
}

// start runs p in the background; the cleanup closes it and checks Run's
// result unless the test took it from the returned channel.
func start(t *testing.T, p *cluster.Primary) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- p.Run(context.Background())
	}()
	t.Cleanup(func() {
		p.Close()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30s of Close")
		}
	})
	return done
}

// wait waits for Run's result.
func wait(t *testing.T, done <-chan error, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %v", timeout)
		return nil
	}
}

// get fetches url with client and returns the body.
func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

func baseURL(p *cluster.Primary) string { return "http://" + p.ListenAddrs()[0].String() }

// alive reports whether pid is a live process.
func alive(pid int) bool { return reexec.Alive(pid) }

// waitDead waits until pid is gone and returns how long that took.
func waitDead(t *testing.T, pid int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for alive(pid) {
		if time.Since(start) > timeout {
			t.Fatalf("pid %d still alive after %v", pid, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

var errStatus = errors.New("bad status")

func hasLine(s, prefix string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

var _ = os.Getpid
