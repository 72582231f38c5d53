// Package workerpool is libuv's threadpool for Go: a Pool runs tasks on a
// fixed number of goroutines (Size, else $UV_THREADPOOL_SIZE, else 4) fed
// from one FIFO queue, and a task starts only when a worker is free.
//
//	var p workerpool.Pool                       // 4 workers, unbounded queue
//	t := workerpool.Go(ctx, &p, func(ctx context.Context) ([]byte, error) {
//		return pbkdf2.Key(sha512.New, pass, salt, 1e6, 64)
//	})
//	key, err := t.Wait(ctx)
//
// On top of libuv's model it gives what Go users of ants, pond and
// errgroup ask for:
//
//   - typed results (Go, Task) and fire-and-forget tasks (Submit, which
//     allocates nothing);
//   - context everywhere: a submission waiting for room in a bounded queue
//     (QueueSize) gives up with its context; a task whose context ended
//     before it started does not run; a hard Close cancels running tasks'
//     contexts; TrySubmit fails fast with ErrQueueFull;
//   - Cancel for a task not yet started (libuv's uv_cancel, ErrCanceled);
//   - completions on an event loop: Task.OnDone posts the result to anything
//     with Post(func()), such as a *timers.Loop, like libuv's after_work_cb,
//     and holds the loop open meanwhile;
//   - panics never swallowed: a typed task's or a Group task's panic is
//     returned from Wait as a *PanicError with its stack; a Submit task's
//     crashes the program (see below);
//   - a graceful or hard Close after which no goroutine of the pool remains;
//   - Group, errgroup on the pool's bound; Stats to size a pool by; Resize;
//     the SlowIO class, libuv's cap of slow work at half the workers.
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
// own panics recovers them itself, or is submitted with Go.
package workerpool
