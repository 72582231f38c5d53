package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// A run is the state of one Run, owned by Run's goroutine: everything
// else reaches it through inbox, whose functions run there.
type run struct {
	p      *Primary
	cfg    config
	log    *slog.Logger
	lns    []net.Listener
	guards []io.Closer // ReusePort: sockets holding the ports, not listening
	inbox  chan func()
	done   chan struct{} // closed when Run returns

	sp      *spawner
	slots   []*slot
	live    []*Worker
	pending int // goroutines (readers, waiters) yet to post their last function
	nextID  int
	policy  policy

	stopping bool
	hard     bool  // workers were SIGKILLed
	result   error // Run's result once stopping
	quiet    bool  // tearing down after a panic: no events, no restarts

	roll, nextRoll *roll
}

// A slot is one place in the pool: its current worker and restart state.
type slot struct {
	worker    *Worker
	hist      slotHistory
	pending   bool      // a replacement is due at restartAt
	restartAt time.Time //
}

// A roll is a rolling restart: the workers still to replace, the new one
// being started and the old one retiring.
type roll struct {
	olds     []*Worker
	nw, old  *Worker
	waiters  []chan error
	cancel   bool
	startErr error
}

// config is the Primary's settings with the defaults filled in.
type config struct {
	workers                                         int
	path                                            string
	args, env                                       []string
	readyTimeout, killTimeout, drain, workerTimeout time.Duration
	maxConnAge                                      time.Duration
	reuseAddrs                                      []string
}

func (p *Primary) config() config {
	or := func(d, def time.Duration) time.Duration {
		if d == 0 {
			return def
		}
		return d
	}
	c := config{
		workers:       p.Workers,
		path:          p.Path,
		args:          p.Args,
		env:           p.Env,
		readyTimeout:  or(p.ReadyTimeout, 30*time.Second),
		killTimeout:   or(p.KillTimeout, 10*time.Second),
		drain:         max(or(p.DrainPeriod, time.Second), 0),
		workerTimeout: max(or(p.WorkerTimeout, 30*time.Second), 0),
		maxConnAge:    max(p.MaxConnAge, 0),
	}
	if c.workers == 0 {
		c.workers = runtime.NumCPU()
	}
	if p.Path == "" && p.Args == nil {
		c.args = os.Args[1:]
	}
	return c
}

// Run starts the workers and supervises them until it stops, and then
// returns once every worker has exited and been reaped, its listeners
// closed and its goroutines gone: Node's cluster.fork loop with PM2's
// supervision. It returns
//
//   - nil after a graceful stop by SIGTERM, SIGINT or Shutdown;
//   - ErrClosed after Close or a second SIGTERM/SIGINT (workers SIGKILLed);
//   - ctx.Err() when ctx ended (the workers stop gracefully first);
//   - an error wrapping ErrCrashLoop when the restart policy gave up;
//   - ErrRunning if the Primary was run before, ErrUnsupported on
//     platforms without file-descriptor passing, or the error that kept it
//     from listening or starting the first workers.
//
// A panic in an event listener propagates out of Run after every worker
// has been killed and reaped (so does a runtime.Goexit).
//
// Run panics if Workers, the timeouts or MaxRestarts are negative.
func (p *Primary) Run(ctx context.Context) (err error) {
	mustContext(ctx)
	p.validate()
	if !p.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	if err := ctx.Err(); err != nil {
		return err // the same answer every time: nothing started
	}
	if !supported {
		return fmt.Errorf("%w (%s)", ErrUnsupported, runtime.GOOS)
	}
	if p.ReusePort && !reusePortSupported {
		_, err := listenReusePort(ctx, "") // the platform's error
		return err
	}
	cfg := p.config()
	r := &run{
		p:     p,
		cfg:   cfg,
		log:   p.Logger,
		inbox: make(chan func(), 64),
		done:  make(chan struct{}),
		policy: policy{
			base:        orDur(p.RestartDelay, 100*time.Millisecond),
			max:         orDur(p.MaxRestartDelay, 10*time.Second),
			maxRestarts: orInt(p.MaxRestarts, 10),
			window:      orDur(p.RestartWindow, time.Minute),
		},
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if err := r.listen(ctx); err != nil {
		return err
	}
	r.sp = newSpawner()
	p.mu.Lock()
	p.r = r
	p.mu.Unlock()

	normal := false
	defer func() {
		if !normal { // a listener panicked or called runtime.Goexit
			r.teardown()
		}
		r.sp.stop()
		r.closeListeners()
		p.mu.Lock()
		p.r = nil
		p.mu.Unlock()
		close(r.done)
	}()
	err = r.loop(ctx)
	normal = true
	return err
}

func orDur(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// validate panics on a misconfigured Primary, at the call to Run.
func (p *Primary) validate() {
	switch {
	case p.Workers < 0:
		panic("cluster: negative Primary.Workers")
	case p.MaxRestarts < 0:
		panic("cluster: negative Primary.MaxRestarts")
	case p.ReadyTimeout < 0 || p.KillTimeout < 0 || p.MinUptime < 0 ||
		p.RestartDelay < 0 || p.MaxRestartDelay < 0 || p.RestartWindow < 0:
		panic("cluster: negative Primary timeout or delay")
	}
}

// listen opens the shared listeners (or, with ReusePort, resolves the
// addresses the workers will bind).
func (r *run) listen(ctx context.Context) error {
	var addrs []net.Addr
	for _, a := range r.p.Addrs {
		if r.p.ReusePort {
			// Resolve the port with a first SO_REUSEPORT listener, then
			// hold the port with a socket bound but not listening (a
			// listening one would take a share of the connections), made
			// before the listener closes so the port is never free.
			ln, err := listenReusePort(ctx, a)
			if err != nil {
				r.closeListeners()
				return err
			}
			guard, err := reservePort(ln.Addr())
			ln.Close()
			if err != nil {
				r.closeListeners()
				return err
			}
			r.guards = append(r.guards, guard)
			addrs = append(addrs, ln.Addr())
			r.cfg.reuseAddrs = append(r.cfg.reuseAddrs, ln.Addr().String())
			continue
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			r.closeListeners()
			return err
		}
		r.lns = append(r.lns, ln)
		addrs = append(addrs, ln.Addr())
	}
	r.p.mu.Lock()
	r.p.addrs = addrs
	r.p.mu.Unlock()
	return nil
}

// closeListeners closes the shared listeners and the ReusePort guards.
func (r *run) closeListeners() {
	for _, ln := range r.lns {
		ln.Close()
	}
	for _, g := range r.guards {
		g.Close()
	}
}

// loop is Run's event loop.
func (r *run) loop(ctx context.Context) error {
	sigc := make(chan os.Signal, 4)
	if !r.p.IgnoreSignals {
		notifyPrimary(sigc)
		defer signalStop(sigc)
	}
	for range r.cfg.workers {
		r.slots = append(r.slots, &slot{pending: true})
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	ctxDone := ctx.Done()
	for {
		r.tick(time.Now())
		if r.stopping && len(r.live) == 0 && r.pending == 0 {
			return r.result
		}
		if next := r.nextDeadline(); next.IsZero() {
			timer.Reset(time.Hour)
		} else {
			timer.Reset(max(time.Until(next), 0))
		}
		select {
		case f := <-r.inbox:
			f()
		case <-timer.C:
		case sig := <-sigc:
			r.signal(sig)
		case <-ctxDone:
			ctxDone = nil
			r.stop(ctx.Err(), false)
		}
	}
}

// teardown kills every worker and waits for the goroutines, after a
// panic or Goexit left loop; it runs the posted functions quietly. It ends
// the rolling restarts first, so that no exit it reaps starts a worker
// and their Restart callers hear of it.
func (r *run) teardown() {
	r.quiet = true
	r.stopping = true
	r.endRoll(ErrClosed, r.roll)
	r.endRoll(ErrClosed, r.nextRoll)
	r.roll, r.nextRoll = nil, nil
	for _, w := range r.live {
		r.kill(w, nil)
	}
	for r.pending > 0 {
		f := <-r.inbox
		f()
	}
}

func (r *run) signal(sig os.Signal) {
	switch sig {
	case sigReload:
		r.requestRoll(nil)
	case sigMore:
		r.scale(len(r.slots) + 1)
	case sigFewer:
		r.scale(max(len(r.slots)-1, 1))
	default: // SIGTERM, SIGINT
		if r.stopping {
			r.stop(ErrClosed, true)
		} else {
			r.stop(nil, false)
		}
	}
}

// stop begins stopping: with result as Run's result (the first one set
// wins), gracefully, or at once when hard.
func (r *run) stop(result error, hard bool) {
	if !r.stopping {
		r.stopping = true
		r.result = result
		for _, s := range r.slots {
			s.pending = false
		}
		r.endRoll(ErrClosed, r.roll)
		r.endRoll(ErrClosed, r.nextRoll)
		r.roll, r.nextRoll = nil, nil
		for _, w := range r.live {
			r.retire(w, false)
		}
	}
	if hard && !r.hard {
		r.hard = true
		if errors.Is(result, ErrClosed) && r.result == nil {
			r.result = ErrClosed
		}
		for _, w := range r.live {
			r.kill(w, nil)
		}
	}
}

// emit emits an event unless tearing down.
func (r *run) emit(name string, ev Event) {
	if !r.quiet {
		r.p.ev.Emit(name, ev)
	}
}

// setLive publishes the live workers for Primary.Live.
func (r *run) setLive(ws []*Worker) {
	r.p.mu.Lock()
	r.live = ws
	r.p.live = append([]*Worker(nil), ws...)
	r.p.mu.Unlock()
}

// spawn starts a worker for slot s.
func (r *run) spawn(s int) (*Worker, error) {
	parent, child, err := socketpair()
	if err != nil {
		return nil, err
	}
	files := []*os.File{child}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, ln := range r.lns {
		f, err := dupListener(ln)
		if err != nil {
			parent.Close()
			return nil, err
		}
		files = append(files, f)
	}
	r.nextID++
	env, _ := json.Marshal(workerEnv{
		ID:          r.nextID,
		Slot:        s,
		Listeners:   len(r.lns),
		ReusePort:   r.cfg.reuseAddrs,
		Heartbeat:   r.cfg.workerTimeout / 4,
		DrainPeriod: r.cfg.drain,
		KillTimeout: r.cfg.killTimeout,
		MaxConnAge:  r.cfg.maxConnAge,
	})
	path := r.cfg.path
	if path == "" {
		if path, err = os.Executable(); err != nil {
			parent.Close()
			return nil, err
		}
	}
	cmd := exec.Command(path, r.cfg.args...)
	cmd.Env = append(append(os.Environ(), r.cfg.env...), envWorker+"="+string(env))
	cmd.Stdout, cmd.Stderr = r.p.Stdout, r.p.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.WaitDelay = time.Second // output copying, if Stdout is not a file
	cmd.ExtraFiles = files
	prepare(cmd)
	if err := r.sp.start(cmd); err != nil {
		parent.Close()
		return nil, err
	}
	now := time.Now()
	w := &Worker{id: r.nextID, slot: s, pid: cmd.Process.Pid, gone: make(chan struct{}), cmd: cmd,
		started: now, lastSeen: now}
	l, err := newLink(parent)
	if err != nil { // cannot happen with a socketpair; kill the orphan
		kill(w.pid)
		cmd.Wait()
		return nil, err
	}
	w.link = l
	r.setLive(append(r.live[:len(r.live):len(r.live)], w))
	r.pending += 2
	go r.read(w)
	go r.wait(w)
	r.emit(Fork, Event{Worker: w})
	return w, nil
}

// read forwards w's frames to the loop until its channel closes.
func (r *run) read(w *Worker) {
	br := bufio.NewReader(w.link.conn)
	for {
		kind, payload, err := readFrame(br)
		if err != nil {
			r.inbox <- func() { r.pending--; r.disconnected(w) }
			return
		}
		r.inbox <- func() { r.frame(w, kind, payload) }
	}
}

// wait reaps w and tells the loop.
func (r *run) wait(w *Worker) {
	w.cmd.Wait()
	r.inbox <- func() { r.pending--; r.exited(w) }
}

func (r *run) frame(w *Worker, kind byte, payload []byte) {
	w.lastSeen = time.Now()
	switch kind {
	case kindOnline:
		if !w.online {
			w.online = true
			r.emit(Online, Event{Worker: w})
		}
	case kindReady:
		if !w.ready && !w.killed {
			w.ready = true
			w.readyAt = w.lastSeen
			r.rollReady(w)
			r.emit(Listening, Event{Worker: w})
		}
	case kindMessage:
		r.emit(Message, Event{Worker: w, Message: payload})
	}
}

func (r *run) disconnected(w *Worker) {
	w.link.conn.Close()
	if !w.disconnected {
		w.disconnected = true
		r.emit(Disconnect, Event{Worker: w})
	}
}

func (r *run) exited(w *Worker) {
	now := time.Now()
	w.exited = true
	w.exitCode, w.exitSignal = exitStatus(w.cmd.ProcessState)
	close(w.gone)
	w.link.conn.Close() // ends read, if the worker's children hold its end
	live := make([]*Worker, 0, len(r.live))
	for _, x := range r.live {
		if x != w {
			live = append(live, x)
		}
	}
	r.setLive(live)

	if w.slot < len(r.slots) && r.slots[w.slot].worker == w {
		s := r.slots[w.slot]
		s.worker = nil
		if !r.stopping && !w.retiring && !r.quiet {
			stable := w.ready && w.failure == nil && now.Sub(w.readyAt) >= orDur(r.p.MinUptime, time.Second)
			delay, giveUp := r.policy.exit(&s.hist, now, stable)
			if giveUp {
				r.log.Error("cluster: workers crash-looping; giving up",
					"unstable_exits", r.policy.failures(), "window", r.policy.window)
				r.stop(fmt.Errorf("%w: %d unstable exits within %v; the last: worker %d %s",
					ErrCrashLoop, r.policy.failures(), r.policy.window, w.id, describeExit(w)), false)
			} else {
				r.log.Warn("cluster: worker exited; restarting",
					"worker", w.id, "pid", w.pid, "exit", describeExit(w), "delay", delay)
				s.pending = true
				s.restartAt = now.Add(delay)
			}
		}
	}
	if !w.disconnected {
		w.disconnected = true
		r.emit(Disconnect, Event{Worker: w})
	}
	r.emit(Exit, Event{Worker: w, Code: w.exitCode, Signal: w.exitSignal, Err: w.failure})
	if r.roll != nil { // after the Exit event, so that the next Fork follows it
		r.rollExited(w, now)
	}
}

func describeExit(w *Worker) string {
	s := fmt.Sprintf("code %d", w.exitCode)
	if w.exitSignal != nil {
		s = "signal " + w.exitSignal.String()
	}
	if w.failure != nil {
		s += " (" + w.failure.Error() + ")"
	}
	return s
}

// retire asks w to stop (draining first if drain) and sets its kill
// deadline.
func (r *run) retire(w *Worker, drain bool) {
	if w.retiring || w.exited {
		return
	}
	w.retiring = true
	w.killAt = time.Now().Add(r.cfg.killTimeout)
	if drain {
		w.killAt = w.killAt.Add(r.cfg.drain)
	}
	payload := []byte(nil)
	if drain {
		payload = []byte("drain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := w.link.write(ctx, kindStop, payload); err != nil {
		terminate(w.pid)
	}
}

// kill SIGKILLs w's process group; failure, if not nil, is why.
func (r *run) kill(w *Worker, failure error) {
	if w.killed || w.exited {
		return
	}
	w.killed = true
	if w.failure == nil {
		w.failure = failure
	}
	kill(w.pid)
}

// tick acts on the deadlines that have passed.
func (r *run) tick(now time.Time) {
	if r.quiet {
		return
	}
	for i, s := range r.slots {
		if r.stopping || s.worker != nil || !s.pending || now.Before(s.restartAt) {
			continue
		}
		s.pending = false
		w, err := r.spawn(i)
		if err != nil {
			r.log.Error("cluster: cannot start worker", "slot", i, "err", err)
			if _, giveUp := r.policy.exit(&s.hist, now, false); giveUp || r.nextID <= len(r.slots) && len(r.live) == 0 {
				r.stop(fmt.Errorf("cluster: starting worker: %w", err), false)
				return
			}
			s.pending = true
			s.restartAt = now.Add(r.policy.base)
			continue
		}
		s.worker = w
	}
	for _, w := range r.live {
		switch {
		case w.killed || w.exited:
		case w.retiring:
			if !now.Before(w.killAt) {
				r.log.Warn("cluster: worker did not stop in time; killing", "worker", w.id, "pid", w.pid)
				r.kill(w, nil)
			}
		case !w.ready:
			if now.Sub(w.started) >= r.cfg.readyTimeout {
				r.log.Warn("cluster: worker not ready in time; killing", "worker", w.id, "pid", w.pid)
				r.kill(w, ErrReadyTimeout)
			}
		case r.cfg.workerTimeout > 0:
			if now.Sub(w.lastSeen) >= r.cfg.workerTimeout {
				r.log.Warn("cluster: worker heartbeat timed out; killing", "worker", w.id, "pid", w.pid)
				r.kill(w, ErrHeartbeatTimeout)
			}
		}
	}
}

// nextDeadline returns the earliest deadline tick must see, or zero.
func (r *run) nextDeadline() time.Time {
	var next time.Time
	at := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if r.quiet {
		return next
	}
	for _, s := range r.slots {
		if !r.stopping && s.worker == nil && s.pending {
			at(s.restartAt)
		}
	}
	for _, w := range r.live {
		switch {
		case w.killed || w.exited:
		case w.retiring:
			at(w.killAt)
		case !w.ready:
			at(w.started.Add(r.cfg.readyTimeout))
		case r.cfg.workerTimeout > 0:
			at(w.lastSeen.Add(r.cfg.workerTimeout))
		}
	}
	return next
}

// scale sets the pool's size to n.
func (r *run) scale(n int) {
	if r.stopping {
		return
	}
	for len(r.slots) < n {
		r.slots = append(r.slots, &slot{pending: true})
	}
	for len(r.slots) > n {
		s := r.slots[len(r.slots)-1]
		r.slots = r.slots[:len(r.slots)-1]
		if s.worker != nil {
			r.retire(s.worker, true)
		}
	}
}

// requestRoll starts a rolling restart, or queues one after the one
// under way; res, if not nil, receives its result.
func (r *run) requestRoll(res chan error) *roll {
	if r.stopping {
		if res != nil {
			res <- ErrClosed
		}
		return nil
	}
	var waiters []chan error
	if res != nil {
		waiters = append(waiters, res)
	}
	if r.roll != nil {
		if r.nextRoll == nil {
			r.nextRoll = &roll{}
		}
		r.nextRoll.waiters = append(r.nextRoll.waiters, waiters...)
		return r.nextRoll
	}
	r.roll = &roll{waiters: waiters}
	r.startRoll()
	return r.roll
}

// startRoll takes the current workers as those to replace and begins.
func (r *run) startRoll() {
	for _, s := range r.slots {
		if s.worker != nil {
			r.roll.olds = append(r.roll.olds, s.worker)
		}
	}
	r.rollNext()
}

// rollNext starts the replacement of the next old worker, or ends the
// roll.
func (r *run) rollNext() {
	rl := r.roll
	for len(rl.olds) > 0 && !rl.cancel {
		old := rl.olds[0]
		rl.olds = rl.olds[1:]
		if old.exited || old.retiring || old.slot >= len(r.slots) || r.slots[old.slot].worker != old {
			continue // it crashed and was replaced, or retired: nothing to roll
		}
		nw, err := r.spawn(old.slot)
		if err != nil {
			r.finishRoll(fmt.Errorf("%w: starting worker: %v", ErrRestartFailed, err))
			return
		}
		rl.nw, rl.old = nw, old
		return
	}
	var err error
	if rl.cancel {
		err = context.Canceled
	}
	r.finishRoll(err)
}

// finishRoll ends the roll under way with err and starts the queued one.
func (r *run) finishRoll(err error) {
	r.endRoll(err, r.roll)
	r.roll, r.nextRoll = r.nextRoll, nil
	if r.roll != nil {
		r.startRoll()
	}
}

func (r *run) endRoll(err error, rl *roll) {
	if rl == nil {
		return
	}
	for _, c := range rl.waiters {
		c <- err
	}
	rl.waiters = nil
}

// rollReady: the new worker is ready; it takes the slot and the old one
// retires.
func (r *run) rollReady(w *Worker) {
	rl := r.roll
	if rl == nil || rl.nw != w {
		return
	}
	rl.nw = nil
	if w.slot >= len(r.slots) { // scaled down meanwhile
		r.retire(w, false)
	} else if s := r.slots[w.slot]; s.worker == rl.old || s.worker == nil {
		s.worker = w
		s.pending = false
	} else {
		r.retire(w, false) // the slot was refilled after a crash
	}
	if rl.old.exited {
		rl.old = nil
		r.rollNext()
		return
	}
	r.retire(rl.old, true)
}

// rollExited follows the roll when one of its workers exits.
func (r *run) rollExited(w *Worker, now time.Time) {
	rl := r.roll
	switch w {
	case rl.nw: // the new worker died before it was ready
		rl.nw = nil
		giveUp := false
		if w.slot < len(r.slots) {
			_, giveUp = r.policy.exit(&r.slots[w.slot].hist, now, false)
		}
		cause := describeExit(w)
		r.finishRoll(fmt.Errorf("%w: new worker %d (slot %d) %s", ErrRestartFailed, w.id, w.slot, cause))
		if giveUp {
			r.stop(fmt.Errorf("%w: %d unstable exits within %v", ErrCrashLoop, r.policy.failures(), r.policy.window), false)
		}
	case rl.old:
		if rl.nw == nil { // replaced: on to the next
			rl.old = nil
			r.rollNext()
		}
	}
}
