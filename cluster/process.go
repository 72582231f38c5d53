package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/nodekit/nodekit/events"
)

// A Process is this worker process's side of the cluster: Node's
// cluster.worker and process.send / process.on('message') in a worker.
// There is one per worker process, from Self; its methods are safe for
// concurrent use. It owns two goroutines for the life of the process: one
// reads the IPC channel, one sends the heartbeat.
type Process struct {
	env  workerEnv
	link *link
	lns  []net.Listener
	ev   events.Emitter[json.RawMessage]

	ctx    context.Context
	cancel context.CancelCauseFunc

	mu      sync.Mutex // guards drain and stopped
	drain   time.Duration
	stopped bool
}

// lingerAfterPrimary is how long a worker whose primary is gone has to
// finish before it exits.
const lingerAfterPrimary = 500 * time.Millisecond

// Self returns this worker's Process, connecting to the primary on the
// first call: it takes the inherited IPC channel and listeners, tells the
// primary the worker is online, starts the heartbeat, and makes SIGTERM
// stop the worker gracefully (its Context ends). Later calls return the
// same Process. In a process that is not a worker, Self returns
// ErrNotWorker; on platforms without descriptor passing, ErrUnsupported.
//
// When the IPC channel reaches EOF (the primary is gone), the Context ends
// with ErrPrimaryGone and the process exits with status 1 half a second
// later, as Node's workers exit on 'disconnect'. Self removes the worker
// variable from the environment, so that programs the worker starts are
// not workers.
func Self() (*Process, error) {
	if role() == nil {
		return nil, ErrNotWorker
	}
	return self()
}

var self = sync.OnceValues(func() (*Process, error) {
	if !supported {
		return nil, ErrUnsupported
	}
	env := role()
	if env.ID < 0 {
		return nil, fmt.Errorf("cluster: malformed %s", envWorker)
	}
	os.Unsetenv(envWorker)
	l, err := newLink(inheritedFile(fdIPC, "cluster-ipc"))
	if err != nil {
		return nil, fmt.Errorf("cluster: IPC channel: %w", err)
	}
	p := &Process{env: *env, link: l}
	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	for i := range env.Listeners {
		f := inheritedFile(fdListeners+i, "cluster-listener")
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("cluster: inherited listener %d: %w", i, err)
		}
		p.lns = append(p.lns, ln)
	}
	for _, a := range env.ReusePort {
		ln, err := listenReusePort(context.Background(), a)
		if err != nil {
			return nil, err
		}
		p.lns = append(p.lns, ln)
	}
	sigc := make(chan os.Signal, 1)
	notifyWorker(sigc)
	go func() {
		<-sigc
		p.stop(ErrClosed, 0)
	}()
	go p.read()
	if env.Heartbeat > 0 {
		go p.beat(env.Heartbeat)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.link.write(ctx, kindOnline, nil); err != nil {
		return nil, fmt.Errorf("cluster: IPC channel: %w", err)
	}
	return p, nil
})

// read handles the primary's frames until EOF, then ends the worker.
func (p *Process) read() {
	br := bufio.NewReader(p.link.conn)
	for {
		kind, payload, err := readFrame(br)
		if err != nil {
			p.cancel(ErrPrimaryGone)
			time.Sleep(lingerAfterPrimary)
			os.Exit(1)
		}
		switch kind {
		case kindStop:
			var drain time.Duration
			if string(payload) == "drain" {
				drain = p.env.DrainPeriod
			}
			p.stop(ErrClosed, drain)
		case kindMessage:
			p.emit(payload)
		}
	}
}

// emit runs the message listeners. A panic in one goes on up (and
// crashes the worker); a runtime.Goexit would end only the reading
// goroutine and leave the worker deaf to its primary, so it crashes the
// worker too.
func (p *Process) emit(payload []byte) {
	normal := false
	defer func() {
		if normal {
			return
		}
		if v := recover(); v != nil {
			panic(v) // re-raised with the listener's frames still on the stack
		}
		fmt.Fprintln(os.Stderr, "cluster: a Process message listener called runtime.Goexit")
		os.Exit(2)
	}()
	p.ev.Emit(Message, json.RawMessage(payload))
	normal = true
}

func (p *Process) stop(cause error, drain time.Duration) {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		p.drain = drain
		p.cancel(cause)
	}
	p.mu.Unlock()
}

// beat sends the heartbeat every d until the channel fails.
func (p *Process) beat(d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for range t.C {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		err := p.link.write(ctx, kindHeartbeat, nil)
		cancel()
		if err != nil && p.ctx.Err() != nil && context.Cause(p.ctx) == ErrPrimaryGone {
			return
		}
	}
}

// ID returns the worker's unique number: Node's cluster.worker.id.
func (p *Process) ID() int { return p.env.ID }

// Slot returns the worker's place in the pool, 0 to Workers-1, which a
// replacement inherits: PM2's NODE_APP_INSTANCE.
func (p *Process) Slot() int { return p.env.Slot }

// Listeners returns the listeners the primary shares with this worker, in
// the order of Primary.Addrs: ordinary net.Listeners, non-blocking, whose
// Close ends a blocked Accept. Closing one stops this worker accepting on
// it; the others go on.
func (p *Process) Listeners() []net.Listener { return append([]net.Listener(nil), p.lns...) }

// Ready tells the primary that this worker serves (PM2's
// process.send('ready') with wait_ready): the primary emits Listening, and
// a rolling restart retires the old worker. Until Ready, the primary
// counts the worker as starting and kills it after ReadyTimeout. If ctx
// ends first, Ready returns ctx.Err().
func (p *Process) Ready(ctx context.Context) error {
	mustContext(ctx)
	return p.link.write(ctx, kindReady, nil)
}

// Send encodes v as JSON and sends it to the primary, where it surfaces as
// a Message event: Node's process.send. Messages arrive in the order sent.
// If ctx ends first Send returns ctx.Err(); once the primary is gone, an
// error wrapping ErrWorkerGone.
func (p *Process) Send(ctx context.Context, v any) error {
	mustContext(ctx)
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.link.write(ctx, kindMessage, b)
}

// Events returns the emitter of the primary's messages: Node's
// process.on('message'). Each Message event carries one message's JSON.
// Listeners run on the goroutine that reads the IPC channel, one message
// at a time; a panic in one crashes the worker (the primary restarts it),
// as an uncaught exception in a Node message handler does.
func (p *Process) Events() *events.Emitter[json.RawMessage] { return &p.ev }

// Context returns a context that ends when this worker should stop: the
// primary asked (shutdown, rolling restart, scale down), the worker got
// SIGTERM (context.Cause is ErrClosed), or the primary is gone
// (ErrPrimaryGone). Serve watches it; a worker with its own server does
// the same.
func (p *Process) Context() context.Context { return p.ctx }

// DrainPeriod returns how long this worker should go on answering with
// "Connection: close" after it stops accepting and before it shuts down:
// the primary's DrainPeriod when the worker is being replaced while others
// serve on (rolling restart, scale down), 0 otherwise. It is meaningful
// once Context has ended.
func (p *Process) DrainPeriod() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.drain
}
