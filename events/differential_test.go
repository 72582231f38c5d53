package events_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/nodetest"
)

// TestDifferentialNode runs random scenarios in Node (testdata/scenario.js)
// and against the Emitter, and requires the same trace from both: call order,
// return values, once-semantics, panics and unhandled errors, listener counts,
// event names, max-listeners warnings, and the 'newListener' and
// 'removeListener' announcements, RemoveAll's teardown among them.
func TestDifferentialNode(t *testing.T) {
	node := nodetest.Path(t)
	n := 400
	if testing.Short() {
		n = 100
	}
	scenarios := make([][]step, n)
	for i := range scenarios {
		scenarios[i] = genScenario.Example(i)
	}
	input, err := json.Marshal(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "--no-warnings", "testdata/scenario.js")
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/scenario.js: %v\n%s", err, stderr.String())
	}
	nodeTraces := strings.Split(strings.TrimSuffix(string(out), "--\n"), "--\n")
	if len(nodeTraces) != n {
		t.Fatalf("node printed %d traces, want %d", len(nodeTraces), n)
	}
	skipped := 0
	for i, steps := range scenarios {
		if nodeTraces[i] == "skip\n" { // see testdata/scenario.js
			skipped++
			continue
		}
		r := &runner{s: newReal()}
		for _, st := range steps {
			r.run(st)
		}
		want := strings.Split(strings.TrimSuffix(nodeTraces[i], "\n"), "\n")
		if nodeTraces[i] == "" {
			want = nil
		}
		if diff := cmp.Diff(want, r.finish()); diff != "" {
			script, _ := json.MarshalIndent(steps, "", " ")
			t.Errorf("scenario %d: trace differs from Node (-node +go):\n%s\nscenario:\n%s", i, diff, script)
		}
	}
	t.Logf("%d of %d scenarios compared (Node threw a TypeError in the others)", n-skipped, n)
	if skipped > n/10 {
		t.Errorf("Node threw in %d of %d scenarios; the comparison covers too little", skipped, n)
	}
}
