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
//   - panics captured with their stack (*PanicError), never lost and never
//     crashing a worker;
//   - a graceful or hard Close after which no goroutine of the pool remains;
//   - Group, errgroup on the pool's bound; Stats to size a pool by; Resize;
//     the SlowIO class, libuv's cap of slow work at half the workers.
package workerpool
