//go:build unix

package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
	"github.com/nodekit/nodekit/internal/reexec"
)

// The tests run real processes: the test process is the primary, and its
// workers are the test binary re-executed in a role (singleflight's
// pattern), chosen by the Env of the Primary under test.
func TestMain(m *testing.M) {
	roles := map[string]func(){
		"http":    workerHTTP,
		"crash":   func() { os.Exit(3) },
		"noready": workerNoReady,
		"echo":    workerEcho,
		"primary": primaryProcess,
		"stubborn": func() {
			self, err := cluster.Self()
			if err != nil || self.Ready(context.Background()) != nil {
				os.Exit(1)
			}
			select {} // ignores the stop
		},
	}
	for name, f := range drillRoles {
		roles[name] = f
	}
	reexec.Main(m, roles)
}

// drillRoles are the roles the drill-tagged tests add.
var drillRoles = map[string]func(){}

// workerHTTP serves GET / (names the worker), /slow?ms=N, /spin (starts a
// goroutine that never yields: a wedged worker) with cluster.Serve.
func workerHTTP() {
	self, err := cluster.Self()
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "worker %d pid %d\n", self.ID(), os.Getpid())
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(w, "slept %d ms in pid %d\n", ms, os.Getpid())
	})
	mux.HandleFunc("GET /spin", func(w http.ResponseWriter, r *http.Request) {
		go func() {
			for i := 0; ; i++ {
				_ = i * i
			}
		}()
		fmt.Fprintln(w, "spinning")
	})
	if err := cluster.Serve(context.Background(), &http.Server{Handler: mux}); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// workerNoReady connects but never calls Ready.
func workerNoReady() {
	self, err := cluster.Self()
	if err != nil {
		os.Exit(1)
	}
	<-self.Context().Done()
}

// workerEcho answers every message {"n": N} with {"echo": N, "id": ID},
// after sending {"hello": ID}.
func workerEcho() {
	self, err := cluster.Self()
	if err != nil {
		os.Exit(1)
	}
	ctx := context.Background()
	self.Events().On(cluster.Message, func(m json.RawMessage) {
		var in struct{ N int }
		if err := json.Unmarshal(m, &in); err != nil {
			os.Exit(4)
		}
		if err := self.Send(ctx, map[string]int{"echo": in.N, "id": self.ID()}); err != nil {
			os.Exit(5)
		}
	})
	if err := self.Send(ctx, map[string]int{"hello": self.ID()}); err != nil {
		os.Exit(5)
	}
	if err := self.Ready(ctx); err != nil {
		os.Exit(1)
	}
	<-self.Context().Done()
}

// primaryProcess is a primary in its own process (to be SIGKILLed): it
// runs http workers on 127.0.0.1:0 and prints "port P" and then "pid N"
// for each worker ready.
func primaryProcess() {
	if cluster.IsWorker() {
		workerHTTP()
		return
	}
	p := &cluster.Primary{Workers: 2, Addrs: []string{"127.0.0.1:0"}}
	p.Events().On(cluster.Fork, func(ev cluster.Event) {
		if ev.Worker.ID() == 1 {
			fmt.Printf("addr %s\n", p.ListenAddrs()[0])
		}
	})
	p.Events().On(cluster.Listening, func(ev cluster.Event) { fmt.Printf("pid %d\n", ev.Worker.Pid()) })
	if err := p.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "primary:", err)
		os.Exit(1)
	}
}
