// Command prefork is Node's cluster hello server on nodekit's cluster: a
// worker per CPU sharing one port, each restarted when it dies.
//
//	go run ./examples/prefork                  # http://127.0.0.1:3000/
//	go run ./examples/prefork -port 8080 -workers 4
//	go run ./examples/prefork -crash           # watch the crash-loop protection give up
//
// GET / answers "hello from worker 2 (pid 12345)"; GET /slow?ms=N answers
// after N milliseconds (to watch a graceful stop or a rolling restart let
// requests finish). The primary prints each worker's start, readiness and
// exit. Signals to the primary (its pid is printed first):
//
//	kill -HUP  PID   # rolling restart, one worker at a time, no failed request
//	kill -TTIN PID   # one more worker; kill -TTOU PID: one fewer
//	kill -TERM PID   # graceful stop (Ctrl-C too): in-flight requests finish
//	kill -9 WORKER   # the worker is replaced in milliseconds
//
// With -crash every worker exits with an error right after it starts; the
// primary restarts them with growing delays, then gives up and exits with
// status 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/nodekit/nodekit/cluster"
)

func main() {
	port := flag.Int("port", 3000, "port to listen on, on 127.0.0.1")
	workers := flag.Int("workers", runtime.NumCPU(), "number of worker processes")
	crash := flag.Bool("crash", false, "make every worker exit with an error right after it starts")
	flag.Parse()
	log.SetFlags(0)
	if cluster.IsWorker() {
		if err := worker(*crash); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := primary(*port, *workers); err != nil {
		log.Fatal(err)
	}
}

// primary runs the supervisor and prints what happens to the workers.
func primary(port, workers int) error {
	if workers < 1 {
		return fmt.Errorf("-workers %d: need at least one", workers)
	}
	p := &cluster.Primary{
		Workers: workers,
		Addrs:   []string{fmt.Sprintf("127.0.0.1:%d", port)},
	}
	ev := p.Events()
	ev.On(cluster.Fork, func(e cluster.Event) {
		if e.Worker.ID() == 1 {
			fmt.Printf("primary %d: http://%s/ with %d workers (HUP: roll, TTIN/TTOU: scale, TERM/INT: stop)\n",
				os.Getpid(), p.ListenAddrs()[0], workers)
		}
	})
	ev.On(cluster.Listening, func(e cluster.Event) {
		fmt.Printf("worker %d (pid %d) ready\n", e.Worker.ID(), e.Worker.Pid())
	})
	ev.On(cluster.Exit, func(e cluster.Event) {
		how := fmt.Sprintf("code %d", e.Code)
		if e.Signal != nil {
			how = "signal " + e.Signal.String()
		}
		if e.Err != nil {
			how += " (" + e.Err.Error() + ")"
		}
		fmt.Printf("worker %d (pid %d) exited: %s\n", e.Worker.ID(), e.Worker.Pid(), how)
	})
	if err := p.Run(context.Background()); err != nil {
		return err // ErrCrashLoop: exit 1 so that whoever runs us sees it
	}
	fmt.Println("primary: all workers stopped")
	return nil
}

// worker serves the two routes on the shared listener until the primary
// stops it.
func worker(crash bool) error {
	self, err := cluster.Self()
	if err != nil {
		return err
	}
	if crash {
		return fmt.Errorf("worker %d (pid %d): crashing on purpose (-crash)", self.ID(), os.Getpid())
	}
	return cluster.Serve(context.Background(), &http.Server{
		Handler:           handler(self.ID()),
		ReadHeaderTimeout: 10 * time.Second,
	})
}

// maxSlow bounds /slow, so that a request cannot hold a worker forever.
const maxSlow = 60_000

func handler(id int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from worker %d (pid %d)\n", id, os.Getpid())
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > maxSlow {
			http.Error(w, fmt.Sprintf("ms must be an integer from 0 to %d", maxSlow), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, "slept %d ms in worker %d (pid %d)\n", ms, id, os.Getpid())
	})
	return mux
}
