//go:build unix

package cluster_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
)

// Workers that exit at start: restarted with growing delays per slot, and
// after MaxRestarts unstable exits Run gives up with ErrCrashLoop, having
// reaped everything.
func TestCrashLoop(t *testing.T) {
	p := newPrimary(t, "crash", 1)
	p.RestartDelay = 20 * time.Millisecond
	p.MaxRestarts = 4
	rec := record(p)
	done := start(t, p)
	err := wait(t, done, 60*time.Second)
	if !errors.Is(err, cluster.ErrCrashLoop) {
		t.Fatalf("Run() = %v, want ErrCrashLoop", err)
	}
	t.Logf("Run() = %v", err)
	for range 5 {
		rec.next(t, cluster.Fork, time.Second)
	}
	for range 5 {
		if ev := rec.next(t, cluster.Exit, time.Second); ev.Code != 3 {
			t.Errorf("exit code %d, want 3", ev.Code)
		}
	}
	select {
	case ev := <-rec.chs[cluster.Fork]:
		t.Errorf("a sixth worker (%d) was started", ev.Worker.ID())
	default:
	}
}

// The delays between the forks of a crash-looping slot grow: 0 (first
// start), then about 20, 40, 80 ms.
func TestCrashLoopDelaysGrow(t *testing.T) {
	p := newPrimary(t, "crash", 1)
	p.RestartDelay = 50 * time.Millisecond
	p.MaxRestarts = 3
	var stamps []time.Time
	p.Events().On(cluster.Fork, func(cluster.Event) { stamps = append(stamps, time.Now()) })
	var exits []time.Time
	p.Events().On(cluster.Exit, func(cluster.Event) { exits = append(exits, time.Now()) })
	done := start(t, p)
	if err := wait(t, done, 60*time.Second); !errors.Is(err, cluster.ErrCrashLoop) {
		t.Fatalf("Run() = %v, want ErrCrashLoop", err)
	}
	if len(stamps) != 4 || len(exits) != 4 {
		t.Fatalf("%d forks and %d exits, want 4 of each", len(stamps), len(exits))
	}
	var gaps []time.Duration
	for i := 1; i < len(stamps); i++ {
		gaps = append(gaps, stamps[i].Sub(exits[i-1]))
	}
	t.Logf("delays from exit to the next fork: %v", gaps)
	for i, want := range []time.Duration{50, 100, 200} {
		if gaps[i] < want*time.Millisecond {
			t.Errorf("delay %d = %v, want at least %v", i, gaps[i], want*time.Millisecond)
		}
	}
}

// A worker that never calls Ready is killed after ReadyTimeout; the exit
// carries ErrReadyTimeout and counts as a failure (here: the one that makes
// the primary give up).
func TestReadyTimeout(t *testing.T) {
	p := newPrimary(t, "noready", 1)
	p.ReadyTimeout = 300 * time.Millisecond
	p.MaxRestarts = 1
	p.RestartDelay = time.Millisecond
	rec := record(p)
	done := start(t, p)
	for range 2 {
		ev := rec.next(t, cluster.Exit, 30*time.Second)
		if !errors.Is(ev.Err, cluster.ErrReadyTimeout) || ev.Signal != syscall.SIGKILL {
			t.Fatalf("exit: err %v signal %v; want ErrReadyTimeout, SIGKILL", ev.Err, ev.Signal)
		}
	}
	if err := wait(t, done, 30*time.Second); !errors.Is(err, cluster.ErrCrashLoop) {
		t.Fatalf("Run() = %v, want ErrCrashLoop", err)
	}
	select {
	case ev := <-rec.chs[cluster.Listening]:
		t.Errorf("worker %d reported ready", ev.Worker.ID())
	default:
	}
}

// A worker whose heartbeat stops (SIGSTOP) is killed after WorkerTimeout,
// counted as a failure, and replaced.
func TestHeartbeatTimeout(t *testing.T) {
	p := newPrimary(t, "http", 1)
	p.WorkerTimeout = 600 * time.Millisecond
	p.RestartDelay = time.Millisecond
	rec := record(p)
	start(t, p)
	w := rec.next(t, cluster.Listening, 30*time.Second).Worker
	time.Sleep(2 * p.WorkerTimeout) // it beats meanwhile: not killed
	if w.Exited() {
		t.Fatal("a beating worker was killed")
	}
	stopped := time.Now()
	if err := syscall.Kill(w.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ev := rec.next(t, cluster.Exit, 30*time.Second)
	t.Logf("killed %v after SIGSTOP (WorkerTimeout %v)", time.Since(stopped), p.WorkerTimeout)
	if ev.Worker != w || !errors.Is(ev.Err, cluster.ErrHeartbeatTimeout) || ev.Signal != syscall.SIGKILL {
		t.Fatalf("exit: worker %d err %v signal %v; want %d, ErrHeartbeatTimeout, SIGKILL", ev.Worker.ID(), ev.Err, ev.Signal, w.ID())
	}
	rec.next(t, cluster.Listening, 30*time.Second) // replaced
}
