package cluster

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"time"
)

// A Worker is the primary's handle on one worker process: Node's
// cluster.Worker (worker.id, worker.process.pid, worker.send). Handles are
// given in events and by Primary.Live; a handle stays valid after its
// process exits (Send then returns ErrWorkerGone). Its methods are safe for
// concurrent use.
type Worker struct {
	id, slot, pid int
	link          *link
	gone          chan struct{} // closed once the process is reaped

	// Owned by Run's goroutine.
	cmd                         *exec.Cmd
	started, readyAt, lastSeen  time.Time
	online, ready, disconnected bool
	retiring, killed, exited    bool
	failure                     error     // why the primary killed it, if it did
	killAt                      time.Time // retiring: when SIGKILL follows
	exitCode                    int
	exitSignal                  os.Signal
}

// ID returns the worker's unique number, counted from 1 in fork order and
// never reused: Node's worker.id.
func (w *Worker) ID() int { return w.id }

// Slot returns the worker's place in the pool, from 0 to Workers-1, which
// its replacement inherits: PM2's NODE_APP_INSTANCE.
func (w *Worker) Slot() int { return w.slot }

// Pid returns the worker's process ID: Node's worker.process.pid.
func (w *Worker) Pid() int { return w.pid }

// Send encodes v as JSON and sends it to the worker, where it surfaces as
// a "message" event of Process.Events: Node's worker.send. Messages to one
// worker arrive in the order sent. Send blocks while the channel's buffer
// is full; if ctx ends first it returns ctx.Err() (a message cut short
// then breaks the channel, and the worker sees the primary as gone).
// Sending to a worker that has exited returns an error wrapping
// ErrWorkerGone; one larger than MaxMessageSize, ErrMessageTooLarge.
func (w *Worker) Send(ctx context.Context, v any) error {
	mustContext(ctx)
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.sendRaw(ctx, b)
}

func (w *Worker) sendRaw(ctx context.Context, b []byte) error {
	select {
	case <-w.gone:
		return ErrWorkerGone
	default:
	}
	return w.link.write(ctx, kindMessage, b)
}

// Exited reports whether the worker's process has exited and been reaped.
func (w *Worker) Exited() bool {
	select {
	case <-w.gone:
		return true
	default:
		return false
	}
}
