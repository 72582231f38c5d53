package cluster

import (
	"context"
	"net"
	"os/exec"
	"runtime"
	"syscall"
)

// setDeathSignal makes the kernel SIGKILL a worker when the thread that
// forked it dies: Pdeathsig, the backstop for a worker too wedged to see
// its IPC channel close. The thread is the spawner's, which is locked and
// lives until Run has reaped every worker.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

// A spawner starts processes from one locked OS thread, so that Pdeathsig
// fires when the primary dies, not when the Go runtime retires whichever
// thread happened to run exec.Cmd.Start.
type spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

type spawnReq struct {
	cmd *exec.Cmd
	res chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		runtime.LockOSThread()
		// Never unlocked: when this goroutine returns, its thread exits
		// rather than running other goroutines. By then every worker has
		// been reaped.
		for r := range s.reqs {
			r.res <- r.cmd.Start()
		}
	}()
	return s
}

func (s *spawner) start(cmd *exec.Cmd) error {
	res := make(chan error, 1)
	s.reqs <- spawnReq{cmd, res}
	return <-res
}

func (s *spawner) stop() {
	close(s.reqs)
	<-s.done
}

const reusePortSupported = true

// listenReusePort listens on addr with SO_REUSEPORT, so that several
// processes' sockets share the port and the kernel spreads connections.
func listenReusePort(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(ctx, "tcp", addr)
}
