package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
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

// reservePort binds, without listening, an SO_REUSEPORT socket to addr,
// the address of a listener the primary opened with listenReusePort: in
// the workers' reuseport group it takes no connection (only listening
// sockets do), and it keeps the port from other programs while no worker
// holds it (all replaced at once, or in crash-loop backoff).
func reservePort(addr net.Addr) (io.Closer, error) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("cluster: ReusePort: %v is not a TCP address", addr)
	}
	family, v6only := syscall.AF_INET, false
	var sa syscall.Sockaddr
	if ip4 := ta.IP.To4(); ip4 != nil {
		sa = &syscall.SockaddrInet4{Port: ta.Port, Addr: [4]byte(ip4)}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: ta.Port, Addr: [16]byte(ta.IP.To16())}
		v6only = !ta.IP.IsUnspecified() // as net.Listen: a wildcard is dual-stack
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	opt := func(level, name int, on bool) error {
		v := 0
		if on {
			v = 1
		}
		return os.NewSyscallError("setsockopt", syscall.SetsockoptInt(fd, level, name, v))
	}
	// SO_REUSEPORT only: with SO_REUSEADDR too, Linux would let any
	// program with SO_REUSEADDR (net.Listen sets it) bind beside a socket
	// that is not listening.
	err = opt(syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, true)
	if err == nil && family == syscall.AF_INET6 {
		err = opt(syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, v6only)
	}
	if err == nil {
		err = os.NewSyscallError("bind", syscall.Bind(fd, sa))
	}
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("cluster: ReusePort: reserving %v: %w", addr, err)
	}
	return os.NewFile(uintptr(fd), "reserved "+addr.String()), nil
}
