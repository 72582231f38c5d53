package cluster

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

// envWorker is the environment variable through which the primary tells a
// worker its identity and settings (JSON, see workerEnv). Its presence
// makes a process a worker.
const envWorker = "NODEKIT_CLUSTER_WORKER"

// workerEnv is what a worker learns from its primary at start.
type workerEnv struct {
	ID          int           `json:"id"`
	Slot        int           `json:"slot"`
	Listeners   int           `json:"listeners"`        // inherited at fds 4, 5, …
	ReusePort   []string      `json:"reuseport"`        // addresses to bind with SO_REUSEPORT instead
	Heartbeat   time.Duration `json:"heartbeat"`        // 0: none
	DrainPeriod time.Duration `json:"drain"`            // Connection: close period before Shutdown
	MaxConnAge  time.Duration `json:"maxage,omitempty"` // 0: none
	KillTimeout time.Duration `json:"kill"`             // the primary SIGKILLs after it
}

// The worker's file descriptors: the IPC socket, then the listeners.
const (
	fdIPC       = 3
	fdListeners = 4
)

// role reads the environment once: nothing is read until a role function
// is first called.
var role = sync.OnceValue(func() *workerEnv {
	s, ok := os.LookupEnv(envWorker)
	if !ok {
		return nil
	}
	var env workerEnv
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		return &workerEnv{ID: -1}
	}
	return &env
})

// IsPrimary reports whether this process was not started by a Primary as
// one of its workers: Node's cluster.isPrimary. A program calls it first
// and either runs a Primary or serves as a worker.
func IsPrimary() bool { return role() == nil }

// IsWorker reports whether a Primary started this process as a worker:
// Node's cluster.isWorker. It is the opposite of IsPrimary.
func IsWorker() bool { return role() != nil }
