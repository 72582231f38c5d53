package stream_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nodekit/nodekit/stream"
)

// Sequential stages are push iterators: no goroutine, no allocation per
// value. The error of any stage ends the stream and comes out of the sink.
func ExampleMap() {
	nums := stream.Map(stream.Of("1", "2", "3", "x", "5"), strconv.Atoi)
	squares := stream.Map(nums, func(n int) (int, error) { return n * n, nil })
	got, err := stream.Collect(squares)
	fmt.Println(got, err)
	// Output: [1 4 9] strconv.Atoi: parsing "x": invalid syntax
}

// MapConcurrent is readable.map(fn, {concurrency}): the calls overlap,
// the results keep the order of the source.
func ExampleMapConcurrent() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slowUpper := func(ctx context.Context, s string) (string, error) {
		select { // the first word is the slowest
		case <-time.After(time.Duration(5-len(s)) * 10 * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return strings.ToUpper(s), nil
	}
	words := stream.Of("a", "bb", "ccc", "dddd")
	for w, err := range stream.MapConcurrent(ctx, words, 4, slowUpper) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(w)
	}
	// Output:
	// A
	// BB
	// CCC
	// DDDD
}

// A Pipe is the writable side of a Stream: Write blocks while
// highWaterMark values wait (Node's write() === false, then 'drain').
func ExamplePipe() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := stream.NewPipe[string](2)
	go func() {
		for _, ev := range []string{"open", "data", "data", "end"} {
			if err := p.Write(ctx, ev); err != nil {
				p.CloseWithError(err) // the reader learns why the values stopped
				return
			}
		}
		p.Close()
	}()
	for ev, err := range p.Stream(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev)
	}
	<-p.Done()
	fmt.Println("finished:", p.Err())
	// Output:
	// open
	// data
	// data
	// end
	// finished: <nil>
}

// Pipeline is stream.pipeline: each stage on its own goroutine, Pipes
// between them, the first error stops them all and is returned once every
// stage has returned.
func ExamplePipeline() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	input := "GET /\nGET /about\nPOST /login\nGET /\n"
	lines := stream.NewPipe[string](16)
	counts := map[string]int{}
	err := stream.Pipeline(ctx,
		func(ctx context.Context) error {
			return lines.Feed(ctx, stream.Lines(strings.NewReader(input)))
		},
		func(ctx context.Context) error {
			paths := stream.Map(lines.Stream(ctx), func(l string) (string, error) {
				_, path, ok := strings.Cut(l, " ")
				if !ok {
					return "", fmt.Errorf("bad request line %q", l)
				}
				return path, nil
			})
			return stream.ForEach(paths, func(p string) error {
				counts[p]++
				return nil
			})
		},
	)
	fmt.Println(counts, err)
	// Output: map[/:2 /about:1 /login:1] <nil>
}

// Lines splits as Node's readline does: LF, CR and CRLF, no final newline
// needed.
func ExampleLines() {
	for line, err := range stream.Lines(strings.NewReader("one\r\ntwo\rthree\nfour")) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q\n", line)
	}
	// Output:
	// "one"
	// "two"
	// "three"
	// "four"
}

// Reader and WriteTo bridge a Stream of bytes to io: here the chunks go
// through gzip and back.
func ExampleReader() {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := stream.WriteTo(stream.Chunks(strings.NewReader("hello\nstreams\n"), 4), zw); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}

	r := stream.Reader(stream.Chunks(&zipped, 8))
	defer r.Close()
	zr, err := gzip.NewReader(r)
	if err != nil {
		log.Fatal(err)
	}
	got, err := stream.Collect(stream.Lines(zr))
	fmt.Println(got, err)
	// Output: [hello streams] <nil>
}

// Batch and MapConcurrent together amortise the cost of a concurrent
// stage over many values.
func ExampleBatch() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum := func(_ context.Context, b []int) (int, error) {
		t := 0
		for _, v := range b {
			t += v
		}
		return t, nil
	}
	sums, err := stream.Collect(stream.MapConcurrent(ctx, stream.Batch(stream.Of(1, 2, 3, 4, 5, 6, 7), 3), 2, sum))
	fmt.Println(sums, err)
	// Output: [6 15 7] <nil>
}

// WriteTo is readable.pipe(writable) for bytes: every chunk goes to the
// io.Writer, and the first error of either side comes back.
func ExampleWriteTo() {
	chunks := stream.Map(stream.Of("a", "b", "c"), func(s string) ([]byte, error) {
		return []byte(s + "\n"), nil
	})
	n, err := stream.WriteTo(chunks, os.Stdout)
	fmt.Println(n, err)
	// Output:
	// a
	// b
	// c
	// 6 <nil>
}
