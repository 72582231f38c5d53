package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/internal/nodetest"
)

// check fails t unless lines is Node's order for every line but the one
// Node leaves to timing, the top-level "timeout", which must be there once.
func check(t *testing.T, who string, lines []string) {
	t.Helper()
	want := []string{"sync", "nextTick", "microtask", "immediate",
		"I/O callback", "immediate in I/O", "timeout in I/O"}
	got := slices.DeleteFunc(slices.Clone(lines), func(s string) bool { return s == "timeout" })
	if diff := cmp.Diff(want, got); diff != "" || len(lines) != len(want)+1 {
		t.Fatalf("%s order %q (-want +got, without \"timeout\"):\n%s", who, lines, diff)
	}
}

func TestOrder(t *testing.T) {
	for range 20 {
		var out strings.Builder
		if err := run(t.Context(), &out); err != nil {
			t.Fatal(err)
		}
		check(t, "Go", strings.Split(strings.TrimSpace(out.String()), "\n"))
	}
}

// TestNodeOrder runs the Node program this example answers.
func TestNodeOrder(t *testing.T) {
	node := nodetest.Path(t)
	out, err := exec.CommandContext(t.Context(), node, "testdata/eventloop.js").Output()
	if err != nil {
		t.Fatalf("node testdata/eventloop.js: %v", err)
	}
	check(t, "Node", strings.Split(strings.TrimSpace(string(out)), "\n"))
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(fds)
}

// When ctx ends before the file is read, run returns ctx's error, and the
// read's late steps find the loop closed: the file is closed and no
// goroutine is left behind.
func TestEndedContextLeavesNothingOpen(t *testing.T) {
	leaktest.Check(t)
	// A whole run first, so that what the runtime opens once (its poller's
	// descriptors, at the first file opened) is open before the count.
	if err := run(t.Context(), io.Discard); err != nil {
		t.Fatal(err)
	}
	before := openFiles(t)
	for range 20 {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var out strings.Builder
		if err := run(ctx, &out); err != context.Canceled {
			t.Fatalf("run(ended ctx) = %v, want context.Canceled", err)
		}
		if got := strings.TrimSpace(out.String()); got != "sync" {
			t.Fatalf("run(ended ctx) printed %q, want only the main script's \"sync\"", got)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for openFiles(t) > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d files open, %d before: the reads left files open", openFiles(t), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
