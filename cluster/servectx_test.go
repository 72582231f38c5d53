//go:build unix

package cluster_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/nodekit/nodekit/cluster"
)

// Exit codes of the "servectx" worker: what its Serve returned once the
// ctx it was given ended while serving.
const (
	serveCtxErr   = 3 // context.Canceled, as Run returns
	serveCtxNil   = 4
	serveCtxOther = 5
)

func init() { drillRoles["servectx"] = workerServeCtx }

// workerServeCtx serves with a ctx that GET /stop cancels, and exits with
// a code saying what Serve returned.
func workerServeCtx() {
	ctx, cancel := context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stop", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "stopping")
		cancel()
	})
	switch err := cluster.Serve(ctx, &http.Server{Handler: mux}); {
	case errors.Is(err, context.Canceled):
		os.Exit(serveCtxErr)
	case err == nil:
		os.Exit(serveCtxNil)
	default:
		os.Exit(serveCtxOther)
	}
}

// Serve's ctx has one meaning (REVIEW.md item 4): ended before the call or
// while serving, Serve returns ctx.Err(), as Run does; nil is for a stop
// the primary asked for (TestReviewHandlerExits).
func TestServeContextEndsWhileServing(t *testing.T) {
	p := newPrimary(t, "servectx", 1)
	rec, done, ctx, client := serveOne(t, p)
	if body, err := get(ctx, client, baseURL(p)+"/stop"); err != nil || body != "stopping" {
		t.Fatalf("GET /stop = %q, %v", body, err)
	}
	if ev := rec.next(t, cluster.Exit, 10*time.Second); ev.Code != serveCtxErr {
		t.Errorf("the worker exited with code %d, want %d (Serve returned context.Canceled)", ev.Code, serveCtxErr)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done, 10*time.Second); err != nil {
		t.Fatalf("Run() = %v", err)
	}
}

// serveOne starts p, waits for its first worker to listen, and returns
// the recorder, Run's result, a 10 s context and an HTTP client of its own
// (closed with the test).
func serveOne(t *testing.T, p *cluster.Primary) (*recorder, <-chan error, context.Context, *http.Client) {
	t.Helper()
	rec := record(p)
	done := start(t, p)
	rec.next(t, cluster.Listening, 30*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	return rec, done, ctx, client
}
