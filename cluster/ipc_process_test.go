//go:build unix

package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/cluster"
)

type echo struct {
	Hello int `json:"hello"`
	Echo  int `json:"echo"`
	ID    int `json:"id"`
}

func decode(t *testing.T, ev cluster.Event) echo {
	t.Helper()
	var m echo
	if err := json.Unmarshal(ev.Message, &m); err != nil {
		t.Fatalf("message %q: %v", ev.Message, err)
	}
	return m
}

// Worker → primary and primary → worker messages, in order; Broadcast
// reaches every worker; sending to a dead worker fails with ErrWorkerGone.
func TestIPC(t *testing.T) {
	p := newPrimary(t, "echo", 2)
	p.Addrs = nil // a worker pool with no listener
	rec := record(p)
	start(t, p)
	var ws []*cluster.Worker
	hellos := map[int]bool{}
	for range 2 {
		ws = append(ws, rec.next(t, cluster.Listening, 30*time.Second).Worker)
	}
	for range 2 {
		m := decode(t, rec.next(t, cluster.Message, 10*time.Second))
		hellos[m.Hello] = true
	}
	if !hellos[ws[0].ID()] || !hellos[ws[1].ID()] {
		t.Fatalf("hellos from %v, want workers %d and %d", hellos, ws[0].ID(), ws[1].ID())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// Round trips and order: 200 messages to one worker come back in order.
	for i := range 200 {
		if err := ws[0].Send(ctx, map[string]int{"n": i}); err != nil {
			t.Fatalf("Send(%d) = %v", i, err)
		}
	}
	var got []int
	for range 200 {
		m := decode(t, rec.next(t, cluster.Message, 10*time.Second))
		if m.ID != ws[0].ID() {
			t.Fatalf("echo from worker %d, want %d", m.ID, ws[0].ID())
		}
		got = append(got, m.Echo)
	}
	want := make([]int, 200)
	for i := range want {
		want[i] = i
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("echo order (-want +got):\n%s", diff)
	}

	// Broadcast: each worker answers once.
	if err := p.Broadcast(ctx, map[string]int{"n": 1000}); err != nil {
		t.Fatalf("Broadcast() = %v", err)
	}
	from := map[int]bool{}
	for range 2 {
		m := decode(t, rec.next(t, cluster.Message, 10*time.Second))
		if m.Echo != 1000 {
			t.Fatalf("broadcast echo %+v", m)
		}
		from[m.ID] = true
	}
	if len(from) != 2 {
		t.Fatalf("broadcast answered by %v, want both workers", from)
	}

	// A message that cannot be encoded fails at the call.
	if err := ws[0].Send(ctx, func() {}); err == nil {
		t.Error("Send(func) = nil, want a JSON error")
	}
	// A dead worker: ErrWorkerGone.
	if err := p.Scale(1); err != nil {
		t.Fatal(err)
	}
	gone := rec.next(t, cluster.Exit, 30*time.Second).Worker
	if err := gone.Send(ctx, map[string]int{"n": 1}); !errors.Is(err, cluster.ErrWorkerGone) {
		t.Fatalf("Send to an exited worker = %v, want ErrWorkerGone", err)
	}
}
