package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nodekit/nodekit/stream"
)

// batchSize is how many lines the masking transform takes at a time: one
// hand-off between goroutines per batch instead of per line.
const batchSize = 256

// A demo is one run of the three passes over the files in dir.
type demo struct {
	dir     string
	size    int64 // bytes of log to generate
	workers int
	out     io.Writer
}

// A pass is what one pass measured.
type pass struct {
	in, out int64 // bytes read and written
	lines   int
	elapsed time.Duration
	peak    uint64 // heap bytes above the pass's start, at most
}

func (d demo) run(ctx context.Context) error {
	log, gz := filepath.Join(d.dir, "big.log"), filepath.Join(d.dir, "big.log.gz")

	p, err := measure(func(p *pass) error { return d.generate(ctx, log, p) })
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Fprintf(d.out, "generate  %s, %d lines, %s, peak heap %s\n",
		mib(p.out), p.lines, rate(p.out, p.elapsed), mib(int64(p.peak)))
	generated := p.lines

	p, err = measure(func(p *pass) error { return d.compress(ctx, log, gz, p) })
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	fmt.Fprintf(d.out, "gzip      %s -> %s, %d workers, %s, peak heap %s\n",
		mib(p.in), mib(p.out), d.workers, rate(p.in, p.elapsed), mib(int64(p.peak)))

	p, err = measure(func(p *pass) error { return d.check(gz, p) })
	if err != nil {
		return fmt.Errorf("gunzip: %w", err)
	}
	fmt.Fprintf(d.out, "gunzip    %s -> %d lines checked, %s, peak heap %s\n",
		mib(p.in), p.lines, rate(p.out, p.elapsed), mib(int64(p.peak)))
	if p.lines != generated {
		return fmt.Errorf("gunzip: %d lines, want the %d generated", p.lines, generated)
	}
	return nil
}

// generate writes at least d.size bytes of log lines to path:
// fs.createWriteStream fed by a generator, which stops when ctx ends.
func (d demo) generate(ctx context.Context, path string, p *pass) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 64<<10)
	lines := stream.Generate(func(yield func([]byte) bool) error {
		buf := make([]byte, 0, 128)
		for i := 0; p.out < d.size; i++ {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			buf = append(appendLogLine(buf[:0], i), '\n')
			p.out += int64(len(buf))
			p.lines++
			if !yield(buf) {
				return nil
			}
		}
		return nil
	})
	// WriteTo copies each chunk into w before asking for the next, so the
	// generator may reuse its buffer.
	if _, err := stream.WriteTo(lines, w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// compress reads src line by line, masks the addresses on d.workers
// goroutines (in order), and writes the lines gzipped to dst: the pipeline
// of createReadStream, a Transform and createGzip into createWriteStream.
func (d demo) compress(ctx context.Context, src, dst string, p *pass) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	counted := &countingWriter{w: out}
	zw := gzip.NewWriter(counted)

	read := &countingReader{r: in}
	batches := stream.Batch(stream.Lines(read), batchSize)
	masked := stream.MapConcurrent(ctx, batches, d.workers, maskBatch)
	if _, err := stream.WriteTo(masked, zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	p.in, p.out = read.n, counted.n
	return out.Close()
}

// check reads dst through gunzip and checks that every line is a masked log
// line: createReadStream, createGunzip and readline.
func (d demo) check(dst string, p *pass) error {
	f, err := os.Open(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	read := &countingReader{r: f}
	zr, err := gzip.NewReader(read)
	if err != nil {
		return err
	}
	err = stream.ForEach(stream.Lines(zr), func(line string) error {
		if !isMasked(line) {
			return fmt.Errorf("line %d is not masked: %q", p.lines+1, line)
		}
		p.lines++
		p.out += int64(len(line)) + 1
		return nil
	})
	p.in = read.n
	return err
}

// maskBatch masks the lines of one batch and joins them, each with its
// newline, into one chunk for the gzip writer.
func maskBatch(_ context.Context, lines []string) ([]byte, error) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	chunk := make([]byte, 0, size)
	for _, l := range lines {
		chunk = append(maskLine(chunk, l), '\n')
	}
	return chunk, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
