package timers_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/nodetest"
	"github.com/nodekit/nodekit/timers"
	"pgregory.net/rapid"
)

// quantum scales the scripts' durations for Node: orders that 50ms apart
// decide do not depend on the jitter of a busy machine.
const quantum = 50 * time.Millisecond

// TestDifferentialNode runs random scripts of timeouts, intervals,
// immediates, ticks, microtasks, clears and refreshes in Node
// (testdata/script.js, on real time) and on a Loop (on synctest's fake
// clock), and requires the same order of callbacks. Scripts whose order
// Node leaves to timing are skipped: two timers due at the same instant
// (Node arms each at the current millisecond, so "the same instant" depends
// on how fast it ran) and durations under a millisecond (Node's
// setTimeout(0) against setImmediate at the top level). Unref is left out:
// Node's one loop keeps running for the other scripts.
func TestDifferentialNode(t *testing.T) {
	node := nodetest.Path(t)
	n := 150
	if testing.Short() {
		n = 40
	}
	type nodeScript struct{ Main, Later []action }
	var scripts []nodeScript
	var want [][]string
	for seed := 0; len(scripts) < n; seed++ {
		main := rapid.SliceOfN(genNodeAction, 1, 10).Example(seed)
		later := rapid.SliceOfN(genNodeAction, 0, 30).Example(seed + 1_000_000)
		m := &model{}
		trace := (&script{s: m, main: main, later: later}).start()
		if m.ties {
			continue
		}
		var got []string
		synctest.Test(t, func(t *testing.T) {
			got = (&script{s: newReal(t), main: main, later: later}).start()
		})
		scripts = append(scripts, nodeScript{main, later})
		want = append(want, names(got))
		if diff := cmp.Diff(names(trace), names(got)); diff != "" {
			t.Fatalf("seed %d: the Loop differs from the model (-model +loop):\n%s", seed, diff)
		}
	}
	input, err := json.Marshal(map[string]any{"quantum": quantum.Milliseconds(), "scripts": scripts})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "testdata/script.js")
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/script.js: %v\n%s", err, stderr.String())
	}
	traces := strings.Split(strings.TrimSuffix(string(out), "--\n"), "--\n")
	if len(traces) != len(scripts) {
		t.Fatalf("node printed %d traces, want %d", len(traces), len(scripts))
	}
	for i, tr := range traces {
		var nodeTrace []string
		if tr != "" {
			nodeTrace = strings.Split(strings.TrimSuffix(tr, "\n"), "\n")
		}
		if diff := cmp.Diff(nodeTrace, want[i]); diff != "" {
			script, _ := json.Marshal(scripts[i])
			t.Errorf("script %d: the Loop differs from Node (-node +loop):\n%s\nnode %q\nloop %q\nscript: %s", i, diff, nodeTrace, want[i], script)
		}
	}
}

// genNodeAction draws actions whose order Node decides by its phases alone.
var genNodeAction = rapid.Custom(func(t *rapid.T) action {
	a := genAction.Draw(t, "action")
	if a.Kind == "unref" || a.Kind == "close" {
		a.Kind = "none"
	}
	a.D = rapid.SampledFrom([]int{1, 2, 3, 5, 8}).Draw(t, "multiple")
	return a
})

// names strips the times from a trace.
func names(trace []string) []string {
	var out []string
	for _, line := range trace {
		_, name, _ := strings.Cut(line, " ")
		out = append(out, name)
	}
	return out
}

// TestPhaseOrderMatchesNode checks TestPhaseOrder's expected trace against
// Node itself.
func TestPhaseOrderMatchesNode(t *testing.T) {
	node := nodetest.Path(t)
	out, err := exec.CommandContext(t.Context(), node, "testdata/order.js").Output()
	if err != nil {
		t.Fatalf("node testdata/order.js: %v", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(orderJSOutput), strings.TrimSpace(string(out))); diff != "" {
		t.Fatalf("Node's order differs from the one TestPhaseOrder expects (-go +node):\n%s", diff)
	}
}

// fractionalCases are setTimeout durations in milliseconds whose order
// Node decides by its whole-millisecond lists alone: a 1.8ms timeout is in
// the 1ms list, so it runs after a 1ms one set before it; durations below
// 1ms (zero and negative ones too) and above TIMEOUT_MAX are 1ms.
var fractionalCases = [][]float64{
	{1, 1.8, 1.1, 1},
	{0, 0.5, 1.9, 1, -5},
	{50.9, 50, 25.99, 50.5, 25},
	{1 << 31, 1, 1.5},
	{2.9, 40, 2, 20.2, 2.1},
}

// TestFractionalDelaysMatchNode runs fractionalCases in Node
// (testdata/fractional.js) and on a Loop, and requires the same order.
func TestFractionalDelaysMatchNode(t *testing.T) {
	node := nodetest.Path(t)
	var want []string
	for _, durations := range fractionalCases {
		synctest.Test(t, func(t *testing.T) {
			l := timers.Loop{Logger: slog.New(slog.DiscardHandler)} // the overflow warning
			var order []string
			for k, ms := range durations {
				l.SetTimeout(func() { order = append(order, strconv.Itoa(k)) }, time.Duration(ms*float64(time.Millisecond)))
			}
			if err := l.Run(t.Context()); err != nil {
				t.Fatalf("Run() = %v", err)
			}
			want = append(want, strings.Join(order, ","))
		})
	}
	input, err := json.Marshal(fractionalCases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "testdata/fractional.js")
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/fractional.js: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("order of each case's timeouts (-node +loop):\n%s\ncases (ms): %v", diff, fractionalCases)
	}
}
