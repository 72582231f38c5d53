package cluster

import "errors"

// ErrNotWorker is returned by Self (and Serve) in a process that the
// primary did not start as a worker.
var ErrNotWorker = errors.New("cluster: not a worker process")

// ErrUnsupported is returned by Primary.Run and Self on platforms where
// the package cannot pass sockets to child processes (Windows, Plan 9, js).
var ErrUnsupported = errors.New("cluster: unsupported on this platform")

// ErrRunning is returned by Run when the Primary already runs or has run:
// a Primary is used once, as an http.Server is.
var ErrRunning = errors.New("cluster: primary already started")

// ErrNotRunning is returned by Restart, Scale and Broadcast when Run is not
// under way (not yet started, or already returned).
var ErrNotRunning = errors.New("cluster: primary not running")

// ErrClosed is Run's result when Close stopped the primary, and the cause
// of a worker's Context when the primary asked it to stop.
var ErrClosed = errors.New("cluster: closed")

// ErrCrashLoop is Run's result when more than MaxRestarts workers exited
// unstably (before MinUptime, or killed for a failure) within
// RestartWindow: PM2's "errored" state after max_restarts. The error
// wraps it with the count and the last worker's exit.
var ErrCrashLoop = errors.New("cluster: workers crash-looping; giving up")

// ErrReadyTimeout is the Err of the exit event of a worker that did not
// call Ready within ReadyTimeout and was killed. It counts as a failure.
var ErrReadyTimeout = errors.New("cluster: worker not ready in time")

// ErrHeartbeatTimeout is the Err of the exit event of a worker whose
// heartbeat stopped for WorkerTimeout and that was killed (Puma's
// worker_timeout). It counts as a failure.
var ErrHeartbeatTimeout = errors.New("cluster: worker heartbeat timed out")

// ErrWorkerGone is returned when sending to a worker whose process has
// exited or whose IPC channel is closed, and by Process.Send once the
// primary is gone.
var ErrWorkerGone = errors.New("cluster: worker gone")

// ErrPrimaryGone is the cause of a worker's Context when the IPC channel
// to the primary reached EOF: the primary exited. The worker then exits
// shortly after, as Node's cluster workers do on 'disconnect'.
var ErrPrimaryGone = errors.New("cluster: primary gone")

// ErrRestartFailed is returned by Restart when a new worker failed to
// become ready; the old worker of that slot keeps serving and the rolling
// restart stops there.
var ErrRestartFailed = errors.New("cluster: rolling restart failed")

// ErrMessageTooLarge is returned by Send and Broadcast for a message whose
// JSON encoding exceeds MaxMessageSize.
var ErrMessageTooLarge = errors.New("cluster: message too large")
