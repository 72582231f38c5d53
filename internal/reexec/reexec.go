// Package reexec runs a test binary's own code in child processes, in the
// way of x/sync's singleflight tests: TestMain hands the process to a role
// named in the environment, and tests start children in a role. It also
// finds the processes a test left behind, by a marker in their
// environment, so that tests can prove every child was reaped.
package reexec

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// EnvRole names the role a re-executed test binary plays.
const EnvRole = "NODEKIT_REEXEC_ROLE"

// EnvMarker carries a test's marker to its children (and theirs).
const EnvMarker = "NODEKIT_REEXEC_MARKER"

// Main runs the role named by $EnvRole, if any, and exits with status 0
// when it returns; otherwise it runs the tests. Call it from TestMain.
func Main(m *testing.M, roles map[string]func()) {
	if name, ok := os.LookupEnv(EnvRole); ok {
		role, ok := roles[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "reexec: unknown role %q\n", name)
			os.Exit(2)
		}
		role()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Role returns the current role, or "".
func Role() string { return os.Getenv(EnvRole) }

// Command returns a command that runs the test binary in role with args
// (which the role reads from os.Args[1:]), in the environment of this
// process plus env.
func Command(role string, args []string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), env...), EnvRole+"="+role)
	return cmd
}

var seq atomic.Int64

// Marker returns an environment entry (KEY=VALUE) unique to t, to give to
// every child t starts, and makes t fail at its end if a process with it
// in its environment is still alive (waiting up to 5s for stragglers), or
// if this process has a zombie child. Linux only: elsewhere the check is
// skipped.
func Marker(t testing.TB) string {
	t.Helper()
	m := fmt.Sprintf("%s=%s-%d-%d", EnvMarker, strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid(), seq.Add(1))
	t.Cleanup(func() {
		t.Helper()
		if err := WaitGone(m, 5*time.Second); err != nil {
			t.Error(err)
		}
	})
	return m
}

// WaitGone waits until no process has marker in its environment and this
// process has no zombie child, or returns an error naming them after
// timeout.
func WaitGone(marker string, timeout time.Duration) error {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		live, zombies := Procs(marker), Zombies(os.Getpid())
		if len(live) == 0 && len(zombies) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for _, pid := range live {
				syscallKill(pid)
			}
			return fmt.Errorf("reexec: processes left behind: %v; zombie children: %v", live, zombies)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Procs returns the processes, other than zombies, whose environment
// holds marker (KEY=VALUE).
func Procs(marker string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == marker {
				if pid, err := strconv.Atoi(filepath.Base(d)); err == nil && state(pid) != 'Z' {
					pids = append(pids, pid)
				}
				break
			}
		}
	}
	return pids
}

// Zombies returns the zombie children of ppid.
func Zombies(ppid int) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		st, pp := stat(pid)
		if st == 'Z' && pp == ppid {
			pids = append(pids, pid)
		}
	}
	return pids
}

func state(pid int) byte {
	st, _ := stat(pid)
	return st
}

// stat returns the state and parent of pid from /proc/PID/stat.
func stat(pid int) (state byte, ppid int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces
	if i < 0 || i+2 >= len(s) {
		return 0, 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 2 {
		return 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid
}

// Alive reports whether pid is a live (not zombie) process.
func Alive(pid int) bool {
	st := state(pid)
	return st != 0 && st != 'Z'
}
