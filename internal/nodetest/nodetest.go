// Package nodetest finds Node.js for the tests that use it as an oracle.
package nodetest

import (
	"os/exec"
	"testing"
)

// Path returns the path of the node executable, or skips t with a message
// when node is not on the PATH.
func Path(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found on PATH: skipping the comparison with Node")
	}
	return node
}
