//go:build unix

package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/leaktest"
)

// Keep-alive clients stay on the worker they first reached: after a kill -9
// they all end up on the survivor, and the replacement gets nothing from
// them. With MaxConnAge, Serve answers "Connection: close" on connections
// older than that, so the clients reconnect and the replacement gets
// traffic, with no failed request; without it (the control) no connection
// is ever closed.
func TestMaxConnAge(t *testing.T) {
	const maxAge = 200 * time.Millisecond
	t.Run("maxage=200ms", func(t *testing.T) {
		s := keepAliveAfterKill(t, maxAge)
		// Every client reconnects in turn, to either worker; wait until one
		// lands on the replacement.
		s.waitFor(t, "a new connection after settling answered by the replacement", func() bool {
			for _, r := range s.afterSettle() {
				if r.newConn && r.pid == s.repl.Pid() {
					return true
				}
			}
			return false
		})
		closes, after := 0, s.afterSettle()
		byPid := map[int]int{}
		for _, r := range after {
			if r.newConn {
				byPid[r.pid]++
			}
		}
		t.Logf("after settling: %d requests, new connections by pid %v", len(after), byPid)
		for _, r := range after {
			if r.err != nil {
				t.Errorf("client %d: request failed: %v", r.client, r.err)
			}
			if r.close {
				closes++
				if r.age < maxAge {
					t.Errorf("client %d: Connection: close on a connection %v old, younger than MaxConnAge %v", r.client, r.age, maxAge)
				}
			}
		}
		if closes == 0 {
			t.Error("no response said Connection: close")
		}
	})
	t.Run("maxage=0", func(t *testing.T) {
		s := keepAliveAfterKill(t, 0)
		s.waitFor(t, "every client 20 requests past settling", func() bool {
			n := s.countAfterSettle()
			for _, c := range n {
				if c < 20 {
					return false
				}
			}
			return len(n) == kaClients
		})
		for _, r := range s.afterSettle() {
			if r.err != nil || r.close || r.newConn {
				t.Errorf("client %d: without MaxConnAge: err %v, Connection: close %v, new connection %v; want a kept connection",
					r.client, r.err, r.close, r.newConn)
			}
		}
	})
}

// kaClients is the number of keep-alive clients of keepAliveAfterKill.
const kaClients = 8

// A kaResult is one request of a keep-alive client.
type kaResult struct {
	client     int
	start      time.Time     // when the request began
	pid        int           // the worker that answered
	newConn    bool          // the request dialled a new connection
	close      bool          // the response said "Connection: close"
	age        time.Duration // the connection's age, from before its dial, when the response was read
	err        error
	afterReady bool // the request began after the replacement was ready
}

// A kaScene is a Primary with two workers, one of them killed and
// replaced under kaClients keep-alive clients, each on one connection at
// a time.
type kaScene struct {
	repl *cluster.Worker

	mu      sync.Mutex
	results []kaResult
	settled map[int]int // client → the index in results of its first success begun after repl was ready
}

// keepAliveAfterKill starts the scene and returns it settled: every client
// has had a request that began after the replacement was ready succeed.
// The clients keep going until the test ends.
func keepAliveAfterKill(t *testing.T, maxAge time.Duration) *kaScene {
	leaktest.Check(t)
	p := newPrimary(t, "http", 2)
	p.MaxConnAge = maxAge
	p.MinUptime = time.Millisecond
	rec := record(p)
	start(t, p)
	victim := rec.next(t, cluster.Listening, 30*time.Second).Worker
	rec.next(t, cluster.Listening, 30*time.Second)

	s := &kaScene{settled: map[int]int{}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() }) // before the Primary's Close
	readyc := make(chan struct{})
	url := baseURL(p) + "/"
	for i := range kaClients {
		wg.Go(func() { s.client(ctx, i, url, readyc) })
	}
	s.waitFor(t, "every client answered", func() bool { return len(s.countOK()) == kaClients })

	if err := syscall.Kill(victim.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ev := rec.next(t, cluster.Exit, 10*time.Second); ev.Worker != victim {
		t.Fatalf("exit event for worker %d, want %d", ev.Worker.ID(), victim.ID())
	}
	s.repl = rec.next(t, cluster.Listening, 30*time.Second).Worker
	close(readyc)
	s.waitFor(t, "every client settled", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.settled) == kaClients
	})
	s.mu.Lock()
	on := map[int]int{}
	for _, i := range s.settled {
		on[s.results[i].pid]++
	}
	s.mu.Unlock()
	t.Logf("MaxConnAge %v: settled after kill -9 of pid %d: clients by pid %v (replacement pid %d)", maxAge, victim.Pid(), on, s.repl.Pid())
	return s
}

// client sends requests on one kept-alive connection at a time until ctx
// ends, recording each.
func (s *kaScene) client(ctx context.Context, id int, url string, readyc <-chan struct{}) {
	tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var born time.Time
	for ctx.Err() == nil {
		r := kaResult{client: id, start: time.Now()}
		select {
		case <-readyc:
			r.afterReady = true
		default:
		}
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", url, nil)
		if err != nil {
			panic(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			r.close = resp.Close
			var body string
			body, err = readBody(resp)
			if m := workerBody.FindStringSubmatch(body); err == nil && m != nil {
				r.pid, _ = strconv.Atoi(m[1])
			} else if err == nil {
				err = fmt.Errorf("body %q", body)
			}
		}
		if ctx.Err() != nil {
			return // cut short by the test's end
		}
		if !reused {
			born = r.start
			r.newConn = true
		}
		r.age = time.Since(born)
		r.err = err
		s.add(r)
	}
}

// readBody reads and closes resp's body, an error unless the status is 200.
func readBody(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

func (s *kaScene) add(r kaResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.settled[r.client]; !ok && r.afterReady && r.err == nil {
		s.settled[r.client] = len(s.results)
	}
	s.results = append(s.results, r)
}

// waitFor polls cond until it holds, failing t after 30s.
func (s *kaScene) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.mu.Lock()
			n := len(s.results)
			s.mu.Unlock()
			t.Fatalf("waited 30s for %s; %d requests made", what, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// afterSettle returns each client's results after its settling one.
func (s *kaScene) afterSettle() []kaResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []kaResult
	for i, r := range s.results {
		if at, ok := s.settled[r.client]; ok && i > at {
			rs = append(rs, r)
		}
	}
	return rs
}

// countAfterSettle counts afterSettle's results by client.
func (s *kaScene) countAfterSettle() map[int]int {
	n := map[int]int{}
	for _, r := range s.afterSettle() {
		n[r.client]++
	}
	return n
}

// countOK counts the successes by client.
func (s *kaScene) countOK() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := map[int]int{}
	for _, r := range s.results {
		if r.err == nil {
			n[r.client]++
		}
	}
	return n
}
