//go:build linux

package cluster_test

import (
	"net"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
)

// With ReusePort the primary holds its port with a socket bound but not
// listening: while no worker is alive (here: between crash-looping
// workers) another program cannot take the port, and once Run has
// returned the port is free again.
func TestReusePortGuardsThePort(t *testing.T) {
	p := newPrimary(t, "crash", 1)
	p.ReusePort = true
	p.RestartDelay = 500 * time.Millisecond // the window with no worker
	rec := record(p)
	done := start(t, p)
	rec.next(t, cluster.Exit, 30*time.Second) // the worker is gone; its replacement waits
	addr := p.ListenAddrs()[0].String()
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("another program could listen on %s while no worker held it", addr)
	}
	p.Close()
	wait(t, done, 10*time.Second) // ErrClosed or ErrCrashLoop: either ends Run
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("after Run, listening on %s: %v; want the port free", addr, err)
	}
	ln.Close()
}
