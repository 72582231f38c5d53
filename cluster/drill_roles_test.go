//go:build drill && linux

package cluster_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// singleProcess serves the http role's GET / in one plain Go process.
func singleProcess() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "worker %d pid %d\n", 0, os.Getpid())
	})
	if err := http.ListenAndServe(os.Getenv("DRILL_ADDR"), h); err != nil {
		os.Exit(1)
	}
}

func init() { drillRoles["single"] = singleProcess }
