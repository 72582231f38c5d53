//go:build unix && !linux

package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"runtime"
	"syscall"
)

// setDeathSignal does nothing: only Linux has Pdeathsig. Elsewhere a
// worker learns that its primary died from the IPC channel's EOF alone.
func setDeathSignal(*syscall.SysProcAttr) {}

// A spawner starts processes directly: without Pdeathsig, the forking
// thread does not matter.
type spawner struct{}

func newSpawner() *spawner                 { return &spawner{} }
func (*spawner) start(cmd *exec.Cmd) error { return cmd.Start() }
func (*spawner) stop()                     {}

const reusePortSupported = false

// listenReusePort is unsupported: outside Linux SO_REUSEPORT does not
// spread connections across processes (BSD and macOS give them all to the
// last socket bound).
func listenReusePort(context.Context, string) (net.Listener, error) {
	return nil, fmt.Errorf("%w: ReusePort on %s", ErrUnsupported, runtime.GOOS)
}

func reservePort(net.Addr) (io.Closer, error) {
	return nil, fmt.Errorf("%w: ReusePort on %s", ErrUnsupported, runtime.GOOS)
}
