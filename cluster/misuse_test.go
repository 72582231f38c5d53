//go:build unix

package cluster_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/cluster"
)

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		s, _ := v.(string)
		if !strings.HasPrefix(s, "cluster: ") {
			t.Errorf("%s: panic %v, want one starting with \"cluster: \"", name, v)
		}
	}()
	f()
}

func TestMisuse(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "Run(nil)", func() { new(cluster.Primary).Run(nilCtx) })
	mustPanic(t, "negative Workers", func() { (&cluster.Primary{Workers: -1}).Run(t.Context()) })
	mustPanic(t, "negative KillTimeout", func() { (&cluster.Primary{KillTimeout: -1}).Run(t.Context()) })
	mustPanic(t, "negative MaxRestarts", func() { (&cluster.Primary{MaxRestarts: -1}).Run(t.Context()) })
	mustPanic(t, "Scale(-1)", func() { new(cluster.Primary).Scale(-1) })
	mustPanic(t, "Restart(nil)", func() { new(cluster.Primary).Restart(nilCtx) })
	mustPanic(t, "Serve(nil server)", func() { cluster.Serve(t.Context(), nil) })
	mustPanic(t, "Serve(nil ctx)", func() { cluster.Serve(nilCtx, &http.Server{}) })
	mustPanic(t, "Broadcast(nil)", func() { new(cluster.Primary).Broadcast(nilCtx, 1) })
}

// Before Run, the methods that need it say so; the test process is the
// primary.
func TestNotRunning(t *testing.T) {
	var p cluster.Primary
	ctx := t.Context()
	for name, err := range map[string]error{
		"Restart":   p.Restart(ctx),
		"Scale":     p.Scale(2),
		"Shutdown":  p.Shutdown(ctx),
		"Close":     p.Close(),
		"Broadcast": p.Broadcast(ctx, "x"),
	} {
		if !errors.Is(err, cluster.ErrNotRunning) {
			t.Errorf("%s before Run = %v, want ErrNotRunning", name, err)
		}
	}
	if len(p.Live()) != 0 || p.ListenAddrs() != nil {
		t.Error("a Primary that never ran has workers or addresses")
	}
	if !cluster.IsPrimary() || cluster.IsWorker() {
		t.Error("the test process is not the primary")
	}
	if _, err := cluster.Self(); !errors.Is(err, cluster.ErrNotWorker) {
		t.Errorf("Self() in the primary = %v, want ErrNotWorker", err)
	}
	if err := cluster.Serve(ctx, &http.Server{}); !errors.Is(err, cluster.ErrNotWorker) {
		t.Errorf("Serve in the primary = %v, want ErrNotWorker", err)
	}
}

// A listen error comes back from Run at once.
func TestListenError(t *testing.T) {
	p := &cluster.Primary{Addrs: []string{"256.0.0.1:1"}, IgnoreSignals: true}
	if err := p.Run(t.Context()); err == nil {
		t.Fatal("Run() with a bad address = nil")
	}
}

// Run with an already-ended context starts nothing it does not stop.
func TestRunEndedContext(t *testing.T) {
	p := newPrimary(t, "http", 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run(ended ctx) = %v, want context.Canceled", err)
	}
}
