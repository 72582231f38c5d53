package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
