//go:build unix

package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/reexec"
)

// The three-line cluster: a worker per CPU on one port, restarted when
// they die, stopped gracefully on SIGTERM or Ctrl-C, rolled on SIGHUP.
func ExampleListenAndServe() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Handled by worker %d\n", os.Getpid())
	})
	if err := cluster.ListenAndServe(context.Background(), "127.0.0.1:3000", h); err != nil {
		log.Fatal(err)
	}
}

// The two roles written out, with Node's cluster.on('exit') and
// worker.send / process.on('message').
func ExamplePrimary() {
	if cluster.IsWorker() {
		self, err := cluster.Self()
		if err != nil {
			log.Fatal(err)
		}
		self.Events().On(cluster.Message, func(m json.RawMessage) { log.Printf("from the primary: %s", m) })
		if err := cluster.Serve(context.Background(), &http.Server{Handler: http.NotFoundHandler()}); err != nil {
			log.Fatal(err)
		}
		return
	}
	p := &cluster.Primary{Workers: 4, Addrs: []string{"127.0.0.1:3000"}}
	p.Events().On(cluster.Exit, func(ev cluster.Event) {
		log.Printf("worker %d (pid %d) died: code %d, signal %v", ev.Worker.ID(), ev.Worker.Pid(), ev.Code, ev.Signal)
	})
	p.Events().On(cluster.Listening, func(ev cluster.Event) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := ev.Worker.Send(ctx, map[string]string{"hello": "worker"}); err != nil {
			log.Print(err)
		}
	})
	if err := p.Run(context.Background()); err != nil {
		log.Fatal(err) // ErrCrashLoop: exit non-zero, for the init system to see
	}
}

// A real run, one worker (this test binary, re-executed in the "echo"
// role, which says hello and answers each message): the events in order.
func ExamplePrimary_Events() {
	p := &cluster.Primary{Workers: 1, IgnoreSignals: true,
		Env: []string{reexec.EnvRole + "=echo", "GORACE=atexit_sleep_ms=0"}}
	ev := p.Events()
	for _, name := range []string{cluster.Fork, cluster.Online, cluster.Listening, cluster.Disconnect} {
		ev.On(name, func(e cluster.Event) { fmt.Println(name, e.Worker.ID()) })
	}
	ev.On(cluster.Message, func(e cluster.Event) {
		fmt.Printf("message %d %s\n", e.Worker.ID(), e.Message)
		go func() { // not on Run's goroutine: Shutdown waits for it
			if err := p.Shutdown(context.Background()); err != nil {
				log.Print(err)
			}
		}()
	})
	ev.On(cluster.Exit, func(e cluster.Event) { fmt.Println("exit", e.Worker.ID(), "code", e.Code) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fmt.Println("Run:", p.Run(ctx))
	// Output:
	// fork 1
	// online 1
	// message 1 {"hello":1}
	// listening 1
	// disconnect 1
	// exit 1 code 0
	// Run: <nil>
}
