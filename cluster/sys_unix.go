//go:build unix

package cluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

const supported = true

// dupListener returns a duplicate of ln's socket, made with
// F_DUPFD_CLOEXEC inside RawConn.Control, for a worker to inherit. Unlike
// (*net.TCPListener).File (golang/go#29277), nothing here switches the
// shared open file description to blocking mode: os.NewFile sees a
// non-blocking descriptor and leaves it so, and its Fd (which os/exec
// calls) only restores blocking mode on descriptors os itself made
// non-blocking.
func dupListener(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("cluster: listener %T has no file descriptor", ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd uintptr
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		nfd, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if errno != 0 {
		return nil, os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", errno)
	}
	return os.NewFile(nfd, "cluster-listener"), nil
}

// socketpair returns the two ends of a new IPC channel, close-on-exec and
// non-blocking (the worker's end is inherited through ExtraFiles, which
// clears close-on-exec in the child only).
func socketpair() (parent, child *os.File, err error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(fds[0])
			syscall.Close(fds[1])
			return nil, nil, os.NewSyscallError("setnonblock", err)
		}
	}
	return os.NewFile(uintptr(fds[0]), "cluster-ipc"), os.NewFile(uintptr(fds[1]), "cluster-ipc"), nil
}

// prepare sets the process attributes of a worker: its own process group,
// so that the terminal's Ctrl-C (SIGINT to the foreground group) reaches
// only the primary, which then stops the workers gracefully, and so that
// a hard kill takes the worker's own children too; on Linux, the death
// signal (see sys_linux.go).
func prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// kill sends SIGKILL to the worker's process group, so that its children
// go too.
func kill(pid int) {
	if syscall.Kill(-pid, syscall.SIGKILL) != nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// terminate sends SIGTERM to the worker alone.
func terminate(pid int) { syscall.Kill(pid, syscall.SIGTERM) }

// exitStatus returns the exit code (-1 when killed) and the signal that
// ended a worker, or nil.
func exitStatus(ps *os.ProcessState) (int, os.Signal) {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal()
	}
	return ps.ExitCode(), nil
}

// The primary's signals: SIGTERM and SIGINT stop gracefully (a second one
// stops now), SIGHUP rolls the workers, SIGTTIN and SIGTTOU add and remove
// one (Unicorn's and Puma's signals).
var (
	sigStop   = []os.Signal{syscall.SIGTERM, syscall.SIGINT}
	sigReload = os.Signal(syscall.SIGHUP)
	sigMore   = os.Signal(syscall.SIGTTIN)
	sigFewer  = os.Signal(syscall.SIGTTOU)
)

func notifyPrimary(c chan<- os.Signal) {
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU)
}

// notifyWorker delivers SIGTERM, the signal that stops a worker
// gracefully when it does not come through the IPC channel.
func notifyWorker(c chan<- os.Signal) { signal.Notify(c, syscall.SIGTERM) }

// inheritedFile returns the worker's inherited descriptor fd.
func inheritedFile(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }

func signalStop(c chan<- os.Signal) { signal.Stop(c) }
