// Package workerpool is libuv's threadpool for Go: a Pool runs tasks on a
// fixed number of goroutines — 4 for the zero Pool, libuv's default, or
// $UV_THREADPOOL_SIZE, or Size — fed from one FIFO queue, and a task starts
// only when a worker is free.
//
//	var p workerpool.Pool // 4 workers (or $UV_THREADPOOL_SIZE), unbounded queue
//	defer p.Close()
//	t := workerpool.Go(ctx, &p, func(ctx context.Context) ([]byte, error) {
//		return pbkdf2.Key(sha512.New, pass, salt, 1e6, 64)
//	})
//	key, err := t.Wait(ctx)
//
// On top of libuv's model it gives what Go users of ants, pond and
// errgroup ask for:
//
//   - typed results (Go, Task) and fire-and-forget tasks (Submit, which
//     allocates nothing with context.Background);
//   - one meaning of a context (below); TrySubmit and TryGo fail fast with
//     ErrQueueFull;
//   - Cancel for a task not yet started (libuv's uv_cancel, ErrCanceled);
//   - completions on an event loop: Task.OnDone posts the result to anything
//     with Post(func()) error, such as a *timers.Loop, like libuv's
//     after_work_cb, and holds the loop open meanwhile;
//   - every way out of a task accounted for: a return, a panic (below), a
//     runtime.Goexit (the task ends with ErrGoexit and its worker is
//     replaced);
//   - net/http.Server's two stops: Shutdown(ctx) drains the queue, Close
//     stops now; after either no goroutine of the pool remains;
//   - Group, errgroup on the pool's bound; Stats to size a pool by; Resize;
//     the SlowIO class, libuv's cap of slow work at half the workers.
//
// Misuse — a nil context, function, pool or OnDone target, a negative Size
// or QueueSize, an unknown Option — panics at the call, with the package
// name as the message's prefix, where libuv's uv_queue_work returns
// UV_EINVAL; never later on a worker. A misconfigured Pool panics the same
// way at every use.
//
// # Contexts
//
// Every way to queue a task (Submit, TrySubmit, Go, TryGo, Group.Go) takes
// the task's context, with one rule:
//
//   - a context that has ended refuses the task at the call, every time: it
//     is not queued (Submit and TryGo return ctx.Err(), Go's Task ends with
//     it); so does one that ends while a submission waits for room in a
//     bounded queue (QueueSize);
//   - a task whose context ends while it is queued never runs: when a worker
//     reaches it, it ends with ErrCanceled wrapping the context's error and
//     counts as cancelled in Stats, without taking the worker (until then it
//     stays in the queue and holds its place in a bounded one);
//   - a task runs with its context, values and all, also cancelled when the
//     pool stops hard (Close, or a Shutdown whose context ends), with
//     ErrClosed as its context.Cause.
//
// For Group.Go the context is the Group's. With context.Background() or
// context.TODO() a task needs nothing more: it runs with the pool's own
// context and Submit allocates nothing. Any other context is kept with its
// task: for Submit a 24-byte allocation per task (about 40.7 bytes per
// queued task instead of 16.7), for Go nothing more than the Task; and deriving the
// context the task runs with costs five allocations (about 250 bytes,
// garbage once the task ends) when it starts.
//
// # Panics
//
// A panic in a task is never swallowed. Go and Group tasks have a caller
// waiting for their result, so the panic becomes that result: Wait returns
// a *PanicError carrying the value and the stack, and the worker goes on.
// A Submit task has nobody to return to, so its panic is not recovered: it
// crashes the program with its own stack, as a panic in a goroutine started
// with the go statement does, and as Node exits on an uncaught exception.
// This is errgroup's answer (since its 2025 revert); conc's, re-raising the
// first panic from the pool's wait or shutdown, was considered and not
// taken: the crash would come late, perhaps never (a pool that runs for the
// life of the program), with the program running on whatever state the
// panic left broken meanwhile, and a panic re-raised far from where it
// happened is harder to read. Logging it, as this package used to, keeps
// the program running on broken state. A task that wants to survive its
// own panics recovers them itself, or is queued with Go.
package workerpool
