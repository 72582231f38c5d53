//go:build !unix

package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
)

// On platforms without Unix file-descriptor inheritance (Windows, Plan 9,
// js/wasm), Run and Self return ErrUnsupported: os/exec cannot hand a
// socket to a child (ExtraFiles is Unix-only) and there is no socketpair.
const supported = false

const reusePortSupported = false

func unsupported() error { return fmt.Errorf("%w (%s)", ErrUnsupported, runtime.GOOS) }

func dupListener(net.Listener) (*os.File, error)                    { return nil, unsupported() }
func socketpair() (parent, child *os.File, err error)               { return nil, nil, unsupported() }
func prepare(*exec.Cmd)                                             {}
func kill(pid int)                                                  { killProcess(pid) }
func terminate(pid int)                                             { killProcess(pid) }
func exitStatus(ps *os.ProcessState) (int, os.Signal)               { return ps.ExitCode(), nil }
func notifyPrimary(c chan<- os.Signal)                              { signal.Notify(c, os.Interrupt) }
func notifyWorker(chan<- os.Signal)                                 {}
func inheritedFile(fd int, name string) *os.File                    { return os.NewFile(uintptr(fd), name) }
func listenReusePort(context.Context, string) (net.Listener, error) { return nil, unsupported() }
func reservePort(net.Addr) (io.Closer, error)                       { return nil, unsupported() }

func killProcess(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

var (
	sigStop   = []os.Signal{os.Interrupt}
	sigReload os.Signal
	sigMore   os.Signal
	sigFewer  os.Signal
)

type spawner struct{}

func newSpawner() *spawner                 { return &spawner{} }
func (*spawner) start(cmd *exec.Cmd) error { return cmd.Start() }
func (*spawner) stop()                     {}

func signalStop(c chan<- os.Signal) { signal.Stop(c) }
