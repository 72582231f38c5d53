// Command threadpool is Node's threadpool demo on a workerpool.Pool: six
// PBKDF2 hashes (SHA-512, 1e6 iterations, 64 bytes) queued at once, each
// completion printed from the event loop with the time since the start,
// like console.timeLog.
//
//	go run ./examples/threadpool                        # 4 workers: two waves
//	UV_THREADPOOL_SIZE=6 go run ./examples/threadpool   # one wave, given 6 cores
//
// With the default size of 4, four hashes finish together and the last two
// about one hash-time later, as in Node. On a machine with fewer cores than
// workers, the hashes of a wave share the cores and the wave takes longer.
package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nodekit/nodekit/timers"
	"github.com/nodekit/nodekit/workerpool"
)

func main() {
	if err := run(os.Stdout, &workerpool.Pool{}, pbkdf2Hash(1_000_000)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// pbkdf2Hash returns the demo's work: a PBKDF2 key of the same password and
// salt with the given number of SHA-512 rounds.
func pbkdf2Hash(iterations int) func() ([]byte, error) {
	return func() ([]byte, error) {
		return pbkdf2.Key(sha512.New, "secret", []byte("salt"), iterations, 64)
	}
}

// run calls hash six times on p, printing the timeline to out from an event
// loop, and shuts p down.
func run(out io.Writer, p *workerpool.Pool, hash func() ([]byte, error)) error {
	defer p.Close() // on an early return, stop the hashes still queued or running
	var loop timers.Loop
	start := time.Now()
	fmt.Fprintf(out, "pool size %d\n", p.Stats().Size)
	for i := range 6 {
		task := workerpool.Go(context.Background(), p, func(context.Context) ([]byte, error) {
			return hash()
		})
		task.OnDone(&loop, func(_ []byte, err error) {
			if err != nil {
				fmt.Fprintf(out, "pbkdf2: %v hash %d failed: %v\n", time.Since(start).Round(time.Millisecond), i, err)
				return
			}
			fmt.Fprintf(out, "pbkdf2: %v hash done %d\n", time.Since(start).Round(time.Millisecond), i)
		})
	}
	if err := loop.Run(context.Background()); err != nil {
		return err
	}
	// Every hash has ended (the loop ran all six completions), so this
	// returns at once; it reports whether the pool drained.
	return p.Shutdown(context.Background())
}
