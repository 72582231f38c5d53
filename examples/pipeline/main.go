// Command pipeline is Node's streams-piping demo on nodekit's stream package:
//
//	pipeline(fs.createReadStream('big.log'), zlib.createGzip(),
//	  fs.createWriteStream('big.log.gz'), (err) => console.log(err ? 'failed' : 'done'))
//
// It writes a generated access log of the size asked for, reads it back line
// by line, masks the client addresses in a concurrent transform (in order,
// as Node's readable.map with concurrency), gzips the result to disk, and
// then reads the gzipped file through gunzip to check every line. Each pass
// prints its throughput and the most heap it held: memory stays flat however
// big the file, since every stage holds only a bounded number of lines.
//
//	go run ./examples/pipeline                # a 64 MiB log
//	go run ./examples/pipeline -size 1GiB     # the same memory
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
)

func main() {
	size := flag.String("size", "64MiB", "size of the generated log (B, KiB, MiB, GiB; KB, MB, GB)")
	dir := flag.String("dir", "", "directory for big.log and big.log.gz (default: a new temporary directory, removed at the end)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "concurrency of the masking transform")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *size, *dir, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "failed:", err)
		os.Exit(1)
	}
}

// run parses the size, makes the working directory if none was given, and
// runs the three passes, printing a line for each and "done" at the end.
func run(ctx context.Context, out io.Writer, size, dir string, workers int) error {
	n, err := parseSize(size)
	if err != nil {
		return err
	}
	if workers < 1 {
		return fmt.Errorf("-workers %d: want at least 1", workers)
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "nodekit-pipeline-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	d := demo{dir: dir, size: n, workers: workers, out: out}
	if err := d.run(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "done")
	return nil
}
