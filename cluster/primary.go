package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"time"

	"github.com/nodekit/nodekit/events"
)

// Event names of Primary.Events, Node's cluster events.
const (
	Fork       = "fork"       // a worker process was started
	Online     = "online"     // the worker called Self: its IPC channel is up
	Listening  = "listening"  // the worker called Ready (PM2's wait_ready)
	Message    = "message"    // the worker sent a message (Event.Message)
	Disconnect = "disconnect" // the worker's IPC channel closed
	Exit       = "exit"       // the worker exited and was reaped (Event.Code, Signal, Err)
)

// An Event is the payload of Primary.Events: the worker it concerns and,
// for some events, more.
type Event struct {
	Worker  *Worker
	Message []byte    // Message: the JSON the worker sent
	Code    int       // Exit: the exit code, -1 if a signal ended it
	Signal  os.Signal // Exit: the signal that ended it, or nil
	Err     error     // Exit: why the primary killed it (ErrReadyTimeout, ErrHeartbeatTimeout), or nil
}

// A Primary forks and supervises the worker processes: Node's cluster in
// the primary, with PM2's and Puma's reliability. It opens the listeners
// and hands each worker duplicates; restarts workers that exit, with
// backoff and crash-loop protection; stops them gracefully on SIGTERM or
// SIGINT; rolls them one at a time on SIGHUP or Restart; scales on SIGTTIN
// and SIGTTOU or Scale; and kills those that miss their readiness or
// heartbeat deadline.
//
// The zero Primary is ready to use: it re-executes the running program
// with the same arguments once per CPU, with no listener. Set the fields
// before Run; they must not be changed after. A Primary runs once, as an
// http.Server serves once. Its methods are safe for concurrent use, but
// those that wait for Run (Restart, Scale, Shutdown, Close) must not
// be called from an event listener, which runs on Run's goroutine.
type Primary struct {
	// Workers is the number of workers; 0 means runtime.NumCPU() (PM2's
	// instances: max).
	Workers int

	// Addrs are the TCP addresses ("127.0.0.1:3000", ":0") that the
	// primary listens on and shares with every worker, in this order (the
	// worker's Listeners). Addresses with port 0 are resolved once, so
	// every worker shares the same port; ListenAddrs reports them.
	Addrs []string

	// ReusePort makes each worker bind its own SO_REUSEPORT socket to the
	// addresses instead of sharing the primary's (Linux only; elsewhere Run
	// returns ErrUnsupported). The kernel then spreads connections evenly,
	// but a worker that exits drops the connections queued on its socket:
	// prefer the default unless accept imbalance hurts. A port 0 is
	// resolved once by the primary, as without ReusePort. The primary
	// holds each port with a socket bound but not listening (it takes no
	// connection), so that while no worker is bound (all of them replaced
	// at once, or in crash-loop backoff) no other program can take it.
	ReusePort bool

	// Path and Args are the worker's program and arguments; empty means
	// os.Executable() and os.Args[1:]. Env is added to the primary's
	// environment.
	Path string
	Args []string
	Env  []string

	// Stdout and Stderr receive the workers' output; nil means the
	// primary's own os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer

	// ReadyTimeout is how long a new worker has to call Ready (Serve does);
	// 0 means 30s. A worker that misses it is killed and counts as a
	// failure — never assumed ready (PM2's listen_timeout, without its
	// downtime bug).
	ReadyTimeout time.Duration

	// KillTimeout is how long a stopping worker has to exit before it is
	// SIGKILLed; 0 means 10s (PM2's kill_timeout).
	KillTimeout time.Duration

	// DrainPeriod is how long a worker being replaced (rolling restart,
	// scale down) keeps serving with "Connection: close" on every response
	// before it shuts down, so that keep-alive clients move to the other
	// workers without errors; 0 means 1s, negative none. A full stop skips
	// it.
	DrainPeriod time.Duration

	// WorkerTimeout is how long a worker's heartbeat may stay silent before
	// it is killed and counted as a failure (Puma's worker_timeout); 0 means
	// 30s, negative no heartbeat. Workers beat every WorkerTimeout/4.
	WorkerTimeout time.Duration

	// MaxConnAge, if positive, makes Serve answer with "Connection: close"
	// on a keep-alive connection older than this, so that load spreads to
	// a replacement worker under long-lived clients.
	MaxConnAge time.Duration

	// Restart policy. A worker that exits unasked is restarted at once if
	// it ran stable (ready for MinUptime, 0 meaning 1s); the k-th unstable
	// exit in a row of one slot waits RestartDelay·2^(k-1) (0 meaning
	// 100ms), capped at MaxRestartDelay (0 meaning 10s). When unstable exits
	// across all slots exceed MaxRestarts (0 meaning 10) within
	// RestartWindow (0 meaning 1 minute), Run stops the workers and returns
	// ErrCrashLoop: PM2's min_uptime and max_restarts.
	MinUptime       time.Duration
	RestartDelay    time.Duration
	MaxRestartDelay time.Duration
	MaxRestarts     int
	RestartWindow   time.Duration

	// IgnoreSignals keeps Run from handling signals; by default SIGTERM and
	// SIGINT stop gracefully (a second one stops now), SIGHUP restarts,
	// SIGTTIN and SIGTTOU scale by one.
	IgnoreSignals bool

	// Logger receives the lines a user must hear about: restarts, kills,
	// giving up. Nil means slog.Default().
	Logger *slog.Logger

	started atomic.Bool
	ev      events.Emitter[Event]

	mu    sync.Mutex // guards the fields below
	r     *run       // while Run is under way
	addrs []net.Addr
	live  []*Worker
}

// Events returns the emitter of the primary's lifecycle events (Fork,
// Online, Listening, Message, Disconnect, Exit), Node's cluster.on. Its
// listeners run on Run's goroutine, in order; a panic in one is re-raised
// by Run, after every worker has been killed and reaped.
func (p *Primary) Events() *events.Emitter[Event] { return &p.ev }

// ListenAddrs returns the addresses the primary listens on, once Run has opened
// them (before the first Fork event), with port 0 resolved; nil before.
func (p *Primary) ListenAddrs() []net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]net.Addr(nil), p.addrs...)
}

// Live returns the live workers (started and not yet reaped), in fork
// order: Node's cluster.workers. During a rolling restart there is one
// more than the pool's size.
func (p *Primary) Live() []*Worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Worker(nil), p.live...)
}

// running returns the run under way, or nil.
func (p *Primary) running() *run {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.r
}

// do runs f on Run's goroutine and waits for it; if Run is not under way
// or ends first, it returns ErrNotRunning.
func (p *Primary) do(f func(r *run)) error {
	r := p.running()
	if r == nil {
		return ErrNotRunning
	}
	done := make(chan struct{})
	select {
	case r.inbox <- func() { f(r); close(done) }:
	case <-r.done:
		return ErrNotRunning
	}
	select {
	case <-done:
		return nil
	case <-r.done:
		return ErrNotRunning
	}
}

// Restart replaces every worker, one at a time, surge first: Node's
// missing rolling reload, PM2's reload, Puma's phased restart, also
// triggered by SIGHUP. For each slot it starts a new worker, waits until
// it is ready, then retires the old one (no new connections; "Connection:
// close" for DrainPeriod; then shutdown, SIGKILL after KillTimeout) and
// waits until it has exited before the next slot.
//
// Restart returns nil when every slot has a new worker. A new worker that
// fails to become ready counts as a failure, leaves the old one serving
// and ends the rolling restart with an error wrapping ErrRestartFailed. If
// ctx ends first, Restart returns ctx.Err() and the rolling restart stops
// once the slot under way is done, so that every slot keeps a worker. A
// Restart during another waits for that one, then rolls again.
func (p *Primary) Restart(ctx context.Context) error {
	mustContext(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	res := make(chan error, 1)
	var rl *roll
	if err := p.do(func(r *run) { rl = r.requestRoll(res) }); err != nil {
		return err
	}
	r := p.running()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		if r != nil && rl != nil {
			p.do(func(*run) { rl.cancel = true })
		}
		return ctx.Err()
	}
}

// Scale sets the number of workers to n: more are started at once, the
// ones beyond n retire as in a rolling restart. SIGTTIN and SIGTTOU call
// it with one more and one fewer. It returns without waiting for the
// workers. Scale panics if n is negative.
func (p *Primary) Scale(n int) error {
	if n < 0 {
		panic(fmt.Sprintf("cluster: Scale(%d): negative worker count", n))
	}
	return p.do(func(r *run) { r.scale(n) })
}

// Broadcast sends v to every live worker, as Send does: the loop Node's
// programs write over cluster.workers. It returns the errors of the sends
// that failed, joined.
func (p *Primary) Broadcast(ctx context.Context, v any) error {
	mustContext(ctx)
	if err := ctx.Err(); err != nil {
		return err // as Restart: the same answer with or without workers
	}
	ws := p.Live()
	if p.running() == nil {
		return ErrNotRunning
	}
	var errs []error
	for _, w := range ws {
		if err := w.Send(ctx, v); err != nil {
			errs = append(errs, fmt.Errorf("worker %d: %w", w.id, err))
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops the workers gracefully, as SIGTERM does: each stops
// accepting, finishes its requests and exits, or is SIGKILLed after
// KillTimeout. Shutdown returns when Run has returned. If ctx ends first,
// the workers left are SIGKILLed at once and Shutdown returns ctx.Err()
// once they are reaped. Shutdown before Run returns ErrNotRunning (and Run
// afterwards runs normally).
func (p *Primary) Shutdown(ctx context.Context) error {
	mustContext(ctx)
	r := p.running()
	if r == nil {
		return ErrNotRunning
	}
	p.do(func(r *run) { r.stop(nil, false) })
	if ctx.Err() == nil { // an ended ctx: ctx.Err(), not whichever is ready first
		select {
		case <-r.done:
			return nil
		case <-ctx.Done():
		}
	}
	p.do(func(r *run) { r.stop(nil, true) })
	<-r.done
	return ctx.Err()
}

// Close kills every worker at once with SIGKILL and returns when Run has
// reaped them; Run then returns ErrClosed. Close when Run is not under way
// returns ErrNotRunning.
func (p *Primary) Close() error {
	r := p.running()
	if r == nil {
		return ErrNotRunning
	}
	p.do(func(r *run) { r.stop(ErrClosed, true) })
	<-r.done
	return nil
}

func mustContext(ctx context.Context) {
	if ctx == nil {
		panic("cluster: nil Context")
	}
}
