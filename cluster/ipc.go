package cluster

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// MaxMessageSize is the largest JSON message Send, Broadcast and
// Process.Send accept, and the largest frame a reader takes: a peer that
// announces a longer one is treated as broken and disconnected.
const MaxMessageSize = 16 << 20

// Frame kinds. A frame is a 4-byte big-endian length n, then n bytes: the
// kind and the payload.
const (
	kindOnline    byte = 'o' // worker → primary: Self was called
	kindReady     byte = 'r' // worker → primary: Ready
	kindHeartbeat byte = 'h' // worker → primary: alive
	kindMessage   byte = 'm' // both ways: a JSON message
	kindStop      byte = 's' // primary → worker: stop; payload "drain" or ""
)

// A link is one end of the IPC socketpair: frames written whole under a
// mutex, with the context's deadline.
type link struct {
	conn *net.UnixConn
	wmu  sync.Mutex
}

// newLink wraps f, one end of the socketpair, and closes f.
func newLink(f *os.File) (*link, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("cluster: IPC descriptor is a %T, not a unix socket", c)
	}
	return &link{conn: uc}, nil
}

// write sends one frame. If ctx ends first it returns ctx.Err(); a frame
// cut short by ctx leaves the stream unusable, so the link is closed then.
func (l *link) write(ctx context.Context, kind byte, payload []byte) error {
	if len(payload) > MaxMessageSize {
		return ErrMessageTooLarge
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	buf := make([]byte, 5+len(payload))
	binary.BigEndian.PutUint32(buf, uint32(1+len(payload)))
	buf[4] = kind
	copy(buf[5:], payload)

	l.wmu.Lock()
	defer l.wmu.Unlock()
	dl, _ := ctx.Deadline()
	l.conn.SetWriteDeadline(dl)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		l.conn.SetWriteDeadline(time.Unix(1, 0))
		close(fired)
	})
	n, err := l.conn.Write(buf)
	if !stop() {
		<-fired // so that it cannot reach the next write
	}
	if err == nil {
		return nil
	}
	if n > 0 {
		l.conn.Close() // a partial frame: the stream is out of step
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		<-ctx.Done() // the only deadlines are ctx's: it is ending
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%w: %v", ErrWorkerGone, err)
	}
	return err
}

// readFrame reads one frame. A length of 0 or above MaxMessageSize+1 is a
// protocol error.
func readFrame(r *bufio.Reader) (kind byte, payload []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxMessageSize+1 {
		return 0, nil, fmt.Errorf("cluster: bad IPC frame length %d", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return buf[0], buf[1:], nil
}
