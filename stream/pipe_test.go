package stream_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/stream"
)

// Four writers and one reader: every value whose Write returned nil is
// read exactly once, and in the order of each writer's Writes.
func TestPipeConcurrentWriters(t *testing.T) {
	leaktest.Check(t)
	for _, hwm := range []int{0, 1, 16} {
		p := stream.NewPipe[int](hwm)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 1000 {
					if err := p.Write(t.Context(), w*10000+i); err != nil {
						t.Errorf("Write = %v", err)
						return
					}
				}
			})
		}
		go func() {
			wg.Wait()
			p.Close()
		}()
		got, err := collect(t, p.Stream(t.Context()))
		if err != nil || len(got) != 4000 {
			t.Fatalf("hwm %d: read %d values, %v; want 4000, nil", hwm, len(got), err)
		}
		last := map[int]int{0: -1, 1: -1, 2: -1, 3: -1}
		for _, v := range got {
			w, i := v/10000, v%10000
			if i <= last[w] {
				t.Fatalf("hwm %d: writer %d's value %d after %d", hwm, w, i, last[w])
			}
			last[w] = i
		}
		<-p.Done()
		if err := p.Err(); err != nil {
			t.Errorf("Err() = %v after the end was read, want nil", err)
		}
	}
}

// A Write blocked on a full Pipe returns ErrStopped when the reader
// stops, and ErrClosed when the Pipe is closed; the ctx of a blocked
// Write ends it with ctx.Err() and leaves the Pipe as it was.
func TestPipeBlockedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := stream.NewPipe[int](1)
		p.Write(t.Context(), 1)
		errc := make(chan error)
		go func() { errc <- p.Write(context.Background(), 2) }()
		synctest.Wait()
		for range p.Stream(t.Context()) {
			break // took 1; the blocked Write may have put 2 in; either way it returns
		}
		if err := <-errc; err != nil && err != stream.ErrStopped {
			t.Errorf("blocked Write when the reader stopped = %v, want nil or ErrStopped", err)
		}
		if err := p.Write(t.Context(), 3); err != stream.ErrStopped {
			t.Errorf("Write after the reader stopped = %v, want ErrStopped", err)
		}

		p = stream.NewPipe[int](1)
		p.Write(t.Context(), 1)
		go func() { errc <- p.Write(context.Background(), 2) }()
		synctest.Wait()
		p.Close()
		if err := <-errc; err != stream.ErrClosed {
			t.Errorf("blocked Write when the Pipe closed = %v, want ErrClosed", err)
		}

		ctx, cancel := context.WithCancel(t.Context())
		p = stream.NewPipe[int](1)
		p.Write(t.Context(), 1)
		go func() { errc <- p.Write(ctx, 2) }()
		synctest.Wait()
		cancel()
		if err := <-errc; err != context.Canceled {
			t.Errorf("blocked Write whose ctx ended = %v, want context.Canceled", err)
		}
		p.Close()
		if got, err := stream.Collect(p.Stream(t.Context())); !slices.Equal(got, []int{1}) || err != nil {
			t.Errorf("read %v, %v; want [1], nil (the canceled Write left nothing)", got, err)
		}
	})
}

// CloseWithError: the reader gets the values written before, then the
// error; Done and Err report it.
func TestPipeCloseWithError(t *testing.T) {
	errW := errors.New("writer failed")
	p := stream.NewPipe[string](4)
	p.Write(t.Context(), "a")
	p.Write(t.Context(), "b")
	if err := p.CloseWithError(errW); err != nil {
		t.Fatalf("CloseWithError = %v", err)
	}
	if err := p.Close(); err != stream.ErrClosed {
		t.Errorf("Close after CloseWithError = %v, want ErrClosed", err)
	}
	got, err := collect(t, p.Stream(t.Context()))
	if !slices.Equal(got, []string{"a", "b"}) || err != errW {
		t.Fatalf("read %q, %v; want [a b], %v", got, err, errW)
	}
	<-p.Done()
	if p.Err() != errW {
		t.Errorf("Err() = %v, want %v", p.Err(), errW)
	}
}

// A reader that panics or calls runtime.Goexit in its loop stops the Pipe
// as a break does: Writes get ErrStopped, Done is closed.
func TestPipeReaderPanicAndGoexit(t *testing.T) {
	leaktest.Check(t)
	for _, exit := range []bool{false, true} {
		p := stream.NewPipe[int](2)
		p.Write(t.Context(), 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() { recover() }()
			for range p.Stream(context.Background()) {
				if exit {
					runtime.Goexit()
				}
				panic("reader boom")
			}
		}()
		<-done
		<-p.Done()
		if err := p.Write(t.Context(), 2); err != stream.ErrStopped || p.Err() != stream.ErrStopped {
			t.Errorf("exit=%v: Write = %v, Err = %v; want ErrStopped twice", exit, err, p.Err())
		}
	}
}

// Closed means closed: once the reader has stopped, the Pipe holds none of
// the values that were waiting.
func TestPipeStopDropsValues(t *testing.T) {
	const n, size = 64, 1 << 20
	p := stream.NewPipe[[]byte](n)
	before := memtest.LiveHeap()
	for range n {
		p.Write(t.Context(), make([]byte, size))
	}
	if grown := memtest.LiveHeap() - before; grown < n*size {
		t.Fatalf("the heap grew by %d bytes with %d MiB waiting", grown, n)
	}
	for range p.Stream(t.Context()) {
		break
	}
	if grown := memtest.LiveHeap() - before; grown > 4*size {
		t.Fatalf("the heap is %d bytes above the start after the reader stopped, want < 4 MiB", grown)
	}
	runtime.KeepAlive(p)
}

// Feed writes a stream into a Pipe and closes it with the outcome; when the
// reader stops first it returns ErrStopped.
func TestPipeFeed(t *testing.T) {
	leaktest.Check(t)
	p := stream.NewPipe[int](2)
	go p.Feed(t.Context(), count(100))
	if got, err := stream.Collect(p.Stream(t.Context())); len(got) != 100 || err != nil {
		t.Fatalf("read %d values, %v; want 100, nil", len(got), err)
	}

	p = stream.NewPipe[int](2)
	src := stream.Generate(func(yield func(int) bool) error {
		yield(1)
		return errSource
	})
	go p.Feed(t.Context(), src)
	if got, err := stream.Collect(p.Stream(t.Context())); !slices.Equal(got, []int{1}) || err != errSource {
		t.Fatalf("read %v, %v; want [1], %v", got, err, errSource)
	}

	p = stream.NewPipe[int](2)
	errc := make(chan error, 1)
	var produced atomic.Int64
	go func() { errc <- p.Feed(t.Context(), stream.Tap(count(1000), func(int) { produced.Add(1) })) }()
	for v := range p.Stream(t.Context()) {
		if v == 3 {
			break
		}
	}
	if err := <-errc; err != stream.ErrStopped {
		t.Fatalf("Feed after the reader stopped = %v, want ErrStopped", err)
	}
	if n := produced.Load(); n > 4+2+1 {
		t.Errorf("Feed took %d values from its source for a reader that read 4 from a Pipe of 2", n)
	}

	// A source that panics closes the Pipe, so the reader does not wait.
	p = stream.NewPipe[int](2)
	go func() {
		defer func() { recover() }()
		p.Feed(t.Context(), stream.Map(count(10), func(x int) (int, error) {
			if x == 2 {
				panic("feed boom")
			}
			return x, nil
		}))
	}()
	_, err := stream.Collect(p.Stream(t.Context()))
	var pe *stream.PanicError
	if !errors.As(err, &pe) || pe.Value != "feed boom" {
		t.Fatalf("read after the source panicked: err = %v, want a *PanicError", err)
	}

	// So does one that calls runtime.Goexit.
	p = stream.NewPipe[int](2)
	go p.Feed(t.Context(), stream.Map(count(10), func(x int) (int, error) {
		if x == 2 {
			runtime.Goexit()
		}
		return x, nil
	}))
	if got, err := stream.Collect(p.Stream(t.Context())); !slices.Equal(got, []int{0, 1}) || err != stream.ErrGoexit {
		t.Fatalf("read after the source called runtime.Goexit = %v, %v; want [0 1], ErrGoexit", got, err)
	}
}
