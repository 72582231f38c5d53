package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/nodetest"
)

const want = `Task finished: { id: 1, result: 'COMPILE' }
This runs only for the first completion
Task finished: { id: 2, result: 'TEST' }
`

func TestTaskBus(t *testing.T) {
	var out strings.Builder
	run(&out, time.Millisecond)
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Fatalf("output (-want +got):\n%s", diff)
	}
}

// TestTaskBusMatchesNode runs the Node program this example answers and
// requires the same output.
func TestTaskBusMatchesNode(t *testing.T) {
	node := nodetest.Path(t)
	out, err := exec.CommandContext(t.Context(), node, "testdata/taskbus.js").Output()
	if err != nil {
		t.Fatalf("node testdata/taskbus.js: %v", err)
	}
	var got strings.Builder
	run(&got, time.Millisecond)
	if diff := cmp.Diff(string(out), got.String()); diff != "" {
		t.Fatalf("Go output differs from Node's (-node +go):\n%s", diff)
	}
}
