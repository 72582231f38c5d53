package stream_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/stream"
)

// writeLog writes a generated log of about size bytes to a new file in
// dir, with LF, CRLF and CR line ends and lines of many lengths (some
// longer than Lines' 32 KiB buffer), and returns its path and lines.
func writeLog(t *testing.T, dir string, size int) (string, []string) {
	t.Helper()
	var buf bytes.Buffer
	var lines []string
	ends := []string{"\n", "\r\n", "\r"}
	for i := 0; buf.Len() < size; i++ {
		line := fmt.Sprintf("%08d level=info msg=%q", i, strings.Repeat("é", i%97))
		if i%1000 == 999 {
			line += strings.Repeat("-", 40_000) // across Lines' buffer
		}
		lines = append(lines, line)
		buf.WriteString(line + ends[i%3])
	}
	path := filepath.Join(dir, "app.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, lines
}

// Chunks over a real file: every chunk but the last has the size, the
// chunks put together are the file, and no chunk changes after it was
// handed out (each is its own slice, of capacity its length).
func TestChunksFile(t *testing.T) {
	path, _ := writeLog(t, t.TempDir(), 3<<20+12345)
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 64 << 10
	var kept [][]byte
	var copies [][]byte
	for c, err := range stream.Chunks(f, size) {
		if err != nil {
			t.Fatal(err)
		}
		if cap(c) != len(c) {
			t.Fatalf("chunk %d: cap %d > len %d: an append by the consumer would write into the Stream's memory", len(kept), cap(c), len(c))
		}
		kept = append(kept, c)
		copies = append(copies, bytes.Clone(c))
	}
	for i, c := range kept {
		if !bytes.Equal(c, copies[i]) {
			t.Fatalf("chunk %d changed after it was handed out", i)
		}
		if i < len(kept)-1 && len(c) != size {
			t.Fatalf("chunk %d has %d bytes, want %d", i, len(c), size)
		}
	}
	if got := bytes.Join(kept, nil); !bytes.Equal(got, want) {
		t.Fatalf("the chunks put together differ from the file (%d bytes, want %d)", len(got), len(want))
	}
}

// A read error ends Chunks after a chunk of the bytes before it; a second
// range yields ErrConsumed.
func TestChunksErrors(t *testing.T) {
	errRead := errors.New("read failed")
	got, err := stream.Collect(stream.Chunks(io.MultiReader(strings.NewReader("abcdefg"), iotest.ErrReader(errRead)), 3))
	if diff := cmp.Diff([][]byte{[]byte("abc"), []byte("def"), []byte("g")}, got); diff != "" || err != errRead {
		t.Errorf("Chunks before a read error: %v (-want +got):\n%s", err, diff)
	}
	s := stream.Chunks(strings.NewReader("abc"), 1)
	for range s {
		break
	}
	if _, err := stream.Collect(s); err != stream.ErrConsumed {
		t.Errorf("second range of Chunks = %v, want ErrConsumed", err)
	}
	got, err = stream.Collect(stream.Chunks(strings.NewReader(""), 8))
	if len(got) != 0 || err != nil {
		t.Errorf("Chunks of nothing = %q, %v; want none, nil", got, err)
	}
}

// The seed's createReadStream → gzip → createWriteStream, and back, with
// real files: Chunks → WriteTo a gzip.Writer on a file; then the file →
// Chunks → Reader → gzip.NewReader → Lines gives the lines back.
func TestGzipRoundTripFiles(t *testing.T) {
	leaktest.Check(t)
	dir := t.TempDir()
	path, lines := writeLog(t, dir, 4<<20)

	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, "app.log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	n, err := stream.WriteTo(stream.Chunks(in, 16<<10), zw)
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if st, _ := in.Stat(); n != st.Size() {
		t.Fatalf("WriteTo wrote %d bytes, the file has %d", n, st.Size())
	}

	gz, err := os.Open(filepath.Join(dir, "app.log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	r := stream.Reader(stream.Chunks(gz, 4096))
	defer r.Close()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := stream.Collect(stream.Lines(zr))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) || !slices.Equal(got, lines) {
		t.Fatalf("read back %d lines, want %d (first difference at %d)", len(got), len(lines), firstDiff(got, lines))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// io.Writer → Stream: a gzip.Writer writes into a Pipe through NewWriter
// on one goroutine, the Pipe's Stream is written to a file on another, in
// one Pipeline; the file decompresses to the input.
func TestNewWriterGzipPipeline(t *testing.T) {
	leaktest.Check(t)
	dir := t.TempDir()
	path, lines := writeLog(t, dir, 2<<20)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "out.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p := stream.NewPipe[[]byte](8)
	err = stream.Pipeline(t.Context(),
		func(ctx context.Context) error {
			w := stream.NewWriter(ctx, p)
			zw := gzip.NewWriter(w)
			if _, err := io.Copy(zw, bytes.NewReader(src)); err != nil {
				p.CloseWithError(err)
				return err
			}
			if err := zw.Close(); err != nil {
				p.CloseWithError(err)
				return err
			}
			return w.Close()
		},
		func(ctx context.Context) error {
			_, err := stream.WriteTo(p.Stream(ctx), out)
			return err
		},
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bufio.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	got, err := stream.Collect(stream.Lines(zr))
	if err != nil || !slices.Equal(got, lines) {
		t.Fatalf("read back %d lines, %v; want %d lines (first difference at %d)", len(got), err, len(lines), firstDiff(got, lines))
	}
}

// NewWriter copies each Write: the caller may reuse its buffer at once.
func TestNewWriterCopies(t *testing.T) {
	p := stream.NewPipe[[]byte](4)
	w := stream.NewWriter(t.Context(), p)
	buf := []byte("first")
	w.Write(buf)
	copy(buf, "XXXXX")
	w.Write(buf)
	if n, err := w.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) = %d, %v; want 0, nil", n, err)
	}
	w.Close()
	if n, err := w.Write(buf); n != 0 || err != stream.ErrClosed {
		t.Errorf("Write after Close = %d, %v; want 0, ErrClosed", n, err)
	}
	got, err := stream.Collect(p.Stream(t.Context()))
	if diff := cmp.Diff([][]byte{[]byte("first"), []byte("XXXXX")}, got); diff != "" || err != nil {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}

// Reader: bytes across chunk boundaries with small reads, the stream's
// error after its bytes, ErrClosed after Close, and Close stops the
// stream's source.
func TestReader(t *testing.T) {
	leaktest.Check(t)
	chunks := stream.Of([]byte("hel"), nil, []byte("lo, "), []byte("world"))
	if err := iotest.TestReader(stream.Reader(chunks), []byte("hello, world")); err != nil {
		t.Errorf("iotest.TestReader: %v", err)
	}

	errSrc := errors.New("chunks failed")
	r := stream.Reader(stream.Generate(func(yield func([]byte) bool) error {
		yield([]byte("ab"))
		return errSrc
	}))
	got, err := io.ReadAll(r)
	if string(got) != "ab" || err != errSrc {
		t.Errorf("ReadAll = %q, %v; want %q, %v", got, err, "ab", errSrc)
	}
	if _, err := r.Read(make([]byte, 1)); err != errSrc {
		t.Errorf("Read after the error = %v, want it again", err)
	}

	stopped := false
	r = stream.Reader(stream.Generate(func(yield func([]byte) bool) error {
		defer func() { stopped = true }()
		for yield([]byte("x")) {
		}
		return nil
	}))
	r.Read(make([]byte, 1))
	if err := r.Close(); err != nil || !stopped {
		t.Errorf("Close = %v, source stopped = %v; want nil, true", err, stopped)
	}
	if _, err := r.Read(make([]byte, 1)); err != stream.ErrClosed {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != stream.ErrClosed {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// failWriter takes n bytes, then fails; short writes n bytes and says
// nothing.
type failWriter struct {
	n     int
	short bool
}

var errWrite = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	if w.short {
		return n, nil
	}
	return n, errWrite
}

// WriteTo stops the stream at the writer's error (io.ErrShortWrite for a
// silent short write) and counts what was written.
func TestWriteToErrors(t *testing.T) {
	for _, short := range []bool{false, true} {
		taken := 0
		s := stream.Tap(stream.Of([]byte("abc"), []byte("def"), []byte("ghi")), func([]byte) { taken++ })
		n, err := stream.WriteTo(s, &failWriter{n: 4, short: short})
		want := errWrite
		if short {
			want = io.ErrShortWrite
		}
		if n != 4 || err != want || taken != 2 {
			t.Errorf("short=%v: WriteTo = %d, %v after %d chunks; want 4, %v after 2", short, n, err, taken, want)
		}
	}
	n, err := stream.WriteTo(stream.Generate(func(yield func([]byte) bool) error {
		yield([]byte("ab"))
		return errSource
	}), io.Discard)
	if n != 2 || err != errSource {
		t.Errorf("WriteTo of a failing stream = %d, %v; want 2, %v", n, err, errSource)
	}
}

// A panic in the stream under a Reader comes out of Read, on the reading
// goroutine (iter.Pull's rule).
func TestReaderPanic(t *testing.T) {
	r := stream.Reader(stream.Map(stream.Of("a", "b"), func(s string) ([]byte, error) {
		if s == "b" {
			panic("reader source boom")
		}
		return []byte(s), nil
	}))
	defer r.Close()
	buf := make([]byte, 8)
	if n, err := r.Read(buf); n != 1 || err != nil {
		t.Fatalf("first Read = %d, %v", n, err)
	}
	defer func() {
		if v := recover(); v != "reader source boom" {
			t.Errorf("Read recovered %v, want the source's panic", v)
		}
	}()
	r.Read(buf)
	t.Error("Read returned after the source panicked")
}
