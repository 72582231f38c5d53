//go:build unix

package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFrames(t *testing.T) {
	a, b, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	la, err := newLink(a)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := newLink(b)
	if err != nil {
		t.Fatal(err)
	}
	defer la.conn.Close()
	defer lb.conn.Close()
	ctx := t.Context()
	msgs := []string{`{"a":1}`, `"x"`, strings.Repeat("y", 100000)}
	go func() {
		for _, m := range msgs {
			if err := la.write(ctx, kindMessage, []byte(m)); err != nil {
				t.Error(err)
			}
		}
		la.write(ctx, kindReady, nil)
	}()
	br := bufio.NewReader(lb.conn)
	for _, m := range msgs {
		k, p, err := readFrame(br)
		if err != nil || k != kindMessage || string(p) != m {
			t.Fatalf("readFrame() = %c, %.20q, %v; want m, %.20q", k, p, err, m)
		}
	}
	if k, p, err := readFrame(br); k != kindReady || len(p) != 0 || err != nil {
		t.Fatalf("readFrame() = %c, %q, %v; want r", k, p, err)
	}
	if err := la.write(ctx, kindMessage, make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("write(too large) = %v, want ErrMessageTooLarge", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := la.write(canceled, kindMessage, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("write(ended ctx) = %v, want context.Canceled", err)
	}
}

// A write blocked on a full buffer returns when ctx ends.
func TestFrameWriteBlockedCtx(t *testing.T) {
	a, b, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	la, err := newLink(a)
	if err != nil {
		t.Fatal(err)
	}
	defer la.conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	big := make([]byte, 1<<20)
	var werr error
	for range 64 {
		if werr = la.write(ctx, kindMessage, big); werr != nil {
			break
		}
	}
	if !errors.Is(werr, context.DeadlineExceeded) {
		t.Fatalf("write to a peer that never reads = %v, want DeadlineExceeded", werr)
	}
}

func TestReadFrameBad(t *testing.T) {
	for _, in := range [][]byte{
		{0, 0, 0, 0},             // empty frame
		{0xff, 0xff, 0xff, 0xff}, // too long
		{0, 0, 0, 5, 'm', '1'},   // cut short
	} {
		if _, _, err := readFrame(bufio.NewReader(bytes.NewReader(in))); err == nil {
			t.Errorf("readFrame(%v) = nil error", in)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'm', '{', '}'})
	f.Add([]byte{0, 0, 0, 1, 'h'})
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReader(bytes.NewReader(in))
		for {
			k, p, err := readFrame(br)
			if err != nil {
				return
			}
			if len(p) > MaxMessageSize {
				t.Fatalf("frame of %d bytes accepted", len(p))
			}
			_ = k
		}
	})
}

// The listener duplicate keeps the shared socket non-blocking: a Close of
// the original still ends a blocked Accept (the golang/go#29277 wedge).
func TestDupListenerStaysNonBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := dupListener(ln)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Fd() // os/exec calls it; it must not switch the socket to blocking
	dup, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := dup.Accept()
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	dup.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept() = %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a blocked Accept: the socket went blocking")
	}
	_ = os.Getpid
}
