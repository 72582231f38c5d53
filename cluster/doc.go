// Package cluster is Node's cluster module with PM2's and Puma's
// reliability: a Primary re-executes its own program as N worker
// processes that share its listening sockets, and keeps them up.
//
//	func main() {
//		if err := cluster.ListenAndServe(ctx, "127.0.0.1:3000", handler); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// In the primary that runs a Primary (a worker per CPU, restarts, graceful
// stop on SIGTERM/SIGINT, rolling restart on SIGHUP); in each worker it
// serves handler on the shared listener and drains when told. Programs
// that need more write the two roles themselves:
//
//	if cluster.IsPrimary() {
//		p := &cluster.Primary{Addrs: []string{":3000"}, Workers: 4}
//		p.Events().On(cluster.Exit, func(ev cluster.Event) { … })
//		return p.Run(ctx)
//	}
//	return cluster.Serve(ctx, &http.Server{Handler: h})
//
// A Go program already uses every core, so a Go prefork buys no throughput
// over one process (measured: within a few percent either way). What it
// buys is isolation and staying up: a crash, a leak or a wedged runtime
// takes one worker, which is replaced in milliseconds, and a new binary
// rolls in without a dropped request. The package is built for that.
//
// # Design
//
// Roles come from the environment (Node's NODE_UNIQUE_ID, PM2's
// NODE_APP_INSTANCE): the primary sets one variable holding the worker's
// ID, slot and settings; IsWorker reads it and Self removes it.
//
// Sockets. The primary opens the listeners and each worker inherits a
// duplicate made with fcntl(F_DUPFD_CLOEXEC) inside RawConn.Control —
// never (*net.TCPListener).File, which leaves the shared open file
// description in blocking mode when the descriptor is taken
// (golang/go#29277), so that a worker's Accept blocks in the kernel and
// its Close or Shutdown hangs. The workers' listeners are ordinary
// non-blocking net.Listeners. The kernel queues connections on the one
// socket and whichever worker accepts first takes them, so a worker that
// exits loses nothing queued; ReusePort (Linux) gives each worker its own
// socket instead, spreading load evenly at the price of dropping the
// queue of a socket that closes.
//
// IPC. Each worker inherits one end of a Unix socketpair (descriptor 3).
// Messages are JSON, framed by a 4-byte length and a kind byte, in both
// directions (Worker.Send, Primary.Broadcast, Process.Send; Message
// events on both sides) and in order. The channel is also the lifeline:
// at EOF the worker knows its primary is gone and exits. On Linux each
// worker also has Pdeathsig SIGKILL, set from a locked OS thread that
// lives as long as Run, for a worker too wedged to notice; so killing the
// primary with SIGKILL leaves no worker behind.
//
// Events. Primary.Events is an events.Emitter: Fork, Online (the worker
// called Self), Listening (it called Ready — readiness is explicit, as
// PM2's wait_ready, and a readiness timeout is a failure, never "assume
// ready"), Message, Disconnect and Exit (code, signal, and the failure the
// primary killed it for). Listeners run on Run's goroutine, so that a
// panic in one comes out of Run — after Run has killed and reaped every
// worker — rather than crashing an internal goroutine.
//
// Restarts. A worker that exits unasked is restarted in its slot: at once
// if it had been ready for MinUptime, otherwise after a delay doubling
// from RestartDelay (100ms) to MaxRestartDelay; more than MaxRestarts
// unstable exits within RestartWindow and the primary gives up, stops the
// others and Run returns ErrCrashLoop (so that the program exits non-zero
// and its own supervisor sees it), PM2's min_uptime and max_restarts. A
// worker killed for a missed readiness or heartbeat deadline counts as
// unstable.
//
// Stopping. SIGTERM and SIGINT stop gracefully: each worker is told over
// IPC (or with SIGTERM), stops accepting, finishes its requests and exits;
// after KillTimeout it is SIGKILLed, with its process group. Workers run
// in their own process group, so the terminal's Ctrl-C reaches only the
// primary, which then stops them in order, and a kill takes their
// children too. Run reaps every worker before it returns: no zombies.
//
// Rolling restart (SIGHUP, Restart) is one slot at a time and surge first:
// start the new worker, wait until it is ready, then retire the old one,
// which stops accepting and answers its next requests with "Connection:
// close" for DrainPeriod (so keep-alive clients reconnect to the others
// instead of hitting a closed connection — measured, this is what takes
// the failed requests to zero), then shuts down; the next slot starts only
// once the old process is gone. Scale (SIGTTIN, SIGTTOU) adds workers at
// once and retires the surplus the same way.
//
// Platforms. Linux has everything. Other Unix systems lack Pdeathsig (the
// IPC EOF alone ends orphaned workers) and ReusePort. On Windows and
// other non-Unix systems the package builds, IsPrimary and IsWorker work,
// and Run and Self return ErrUnsupported: os/exec cannot pass sockets
// there.
package cluster
