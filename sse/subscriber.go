package sse

import (
	"context"
	"errors"
	"sync"
)

// A subscriber is one stream's registration in a topic. While idle it is
// this struct and its wake channel: its queue and write buffer come from
// pools when a frame is queued and go back once written. Its handler's
// goroutine waits for wake (and the request's end) only: the broker's stop
// wakes every subscriber, which saves a channel's wait record per idle
// stream.
type subscriber struct {
	wake chan struct{} // capacity 1: something was queued, err set, or the broker stopped

	// Guarded by the topic's mu.
	prev, next *subscriber
	linked     bool

	mu       sync.Mutex // guards the fields below
	queue    *[][]byte  // frames to write, shared and read-only; nil when empty
	err      error      // set when the broker ends the stream (ErrSlowSubscriber)
	lastTick int64      // Broker.tick when a frame was last queued

	fresh freshStack // serve's, for its writing
}

// queuePool holds the frame queues of subscribers that have something to
// send; bufPool the buffers their frames are copied into for one write.
var (
	queuePool = sync.Pool{New: func() any { q := make([][]byte, 0, 16); return &q }}
	bufPool   = sync.Pool{New: func() any { return new([]byte) }}
)

// maxPooledBuf is the largest write buffer put back in bufPool (a big
// replay's buffer is left to the collector).
const maxPooledBuf = 64 << 10

// enqueue queues frame for s, which the caller holds its topic's lock for.
// It returns true when s's queue was full under Disconnect: s is to be
// unlinked, and its goroutine ends the stream with ErrSlowSubscriber.
func (s *subscriber) enqueue(frame []byte, limit int, policy SlowPolicy, tick int64) (slow bool) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return false
	}
	if s.queue == nil {
		s.queue = queuePool.Get().(*[][]byte)
	}
	q := *s.queue
	if len(q) >= limit {
		if policy == Disconnect {
			s.err = ErrSlowSubscriber
			s.dropQueue()
			s.mu.Unlock()
			s.signal()
			return true
		}
		// Drop the front by reslicing (no shift of the whole queue):
		// append moves what is left to a new array when it runs out of
		// room at the back, so each drop costs O(1) amortized.
		q[0] = nil
		q = q[1:]
	}
	*s.queue = append(q, frame)
	first := len(q) == 0
	s.lastTick = tick
	s.mu.Unlock()
	if first {
		s.signal()
	}
	return false
}

// heartbeat queues the shared comment frame when nothing was queued for s
// since tick idleSince and nothing is queued now, so a heartbeat never
// fills a queue. The caller holds s's topic's lock.
func (s *subscriber) heartbeat(tick, idleSince int64) {
	s.mu.Lock()
	if s.err != nil || s.queue != nil || s.lastTick > idleSince {
		s.mu.Unlock()
		return
	}
	s.queue = queuePool.Get().(*[][]byte)
	*s.queue = append(*s.queue, heartbeatFrame)
	s.lastTick = tick
	s.mu.Unlock()
	s.signal()
}

func (s *subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dropQueue returns s's queue to the pool; s.mu is held.
func (s *subscriber) dropQueue() {
	if s.queue != nil {
		putQueue(s.queue)
		s.queue = nil
	}
}

// putQueue returns q to the pool, its frames forgotten.
func putQueue(q *[][]byte) {
	clear(*q)
	*q = (*q)[:0]
	queuePool.Put(q)
}

// release drops whatever is queued for s, when its stream has ended.
func (s *subscriber) release() {
	s.mu.Lock()
	s.dropQueue()
	s.mu.Unlock()
}

// take returns the queued frames (nil if none) and the error the broker
// ended s with.
func (s *subscriber) take() (*[][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q, s.err
}

// write writes the frames of q in one sendRaw (one flush) and returns q to
// the pool.
func write(w *Writer, q *[][]byte) error {
	defer putQueue(q)
	frames := *q
	if len(frames) == 1 {
		return w.sendRaw(frames[0])
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	if cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	for _, f := range frames {
		buf = append(buf, f...)
	}
	err := w.sendRaw(buf)
	if cap(buf) <= maxPooledBuf {
		*bp = buf[:0]
		bufPool.Put(bp)
	}
	return err
}

// errIdle is what busy returns when the stream goes on: s has nothing
// left to write.
var errIdle = errors.New("sse: subscriber idle")

// serve writes rp, then what is queued for s each time it is woken,
// until the client leaves, the broker ends s or stops (stop wakes every
// subscriber), or a write fails.
//
// It waits on the handler's goroutine and writes on others (s.fresh), one
// made each time s is woken and gone once s has nothing left to write:
// net/http's write path would otherwise grow the handler's stack to 8 KiB
// for as long as the stream is open. A burst costs one such goroutine
// (busy keeps writing while frames keep coming), a wake-up no allocation.
func (b *Broker) serve(ctx context.Context, w *Writer, s *subscriber, rp *replay) error {
	err := errIdle
	if !rp.empty() {
		err = s.fresh.run(func() error { return b.busy(ctx, w, s, rp) })
	}
	woken := func() error { return b.busy(ctx, w, s, nil) } // made once
	for err == errIdle {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil
		}
		err = s.fresh.run(woken)
	}
	return err
}

// busy writes rp, or else handles the wake-up serve got, then keeps
// handling wake-ups for as long as they come without waiting. It returns
// errIdle when s is idle (serve waits again), else serve's result.
func (b *Broker) busy(ctx context.Context, w *Writer, s *subscriber, rp *replay) error {
	if rp != nil {
		if err := rp.write(w); err != nil {
			return err
		}
	} else if end, err := b.step(w, s); end {
		return err
	}
	for {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil
		case <-b.done:
		default:
			return errIdle
		}
		if end, err := b.step(w, s); end {
			return err
		}
	}
}

// step handles one wake-up of s: it writes what is queued, or ends the
// stream (end true) when the broker stopped or ended s, or a write failed.
func (b *Broker) step(w *Writer, s *subscriber) (end bool, err error) {
	// A broker that stopped wins over a wake-up that came with it: a
	// select with both ready picks either.
	select {
	case <-b.done:
		// Shutdown writes what was queued; Close drops it.
		if q, _ := s.take(); q != nil && !b.abort.Load() {
			write(w, q) // the stream ends either way
		} else if q != nil {
			putQueue(q)
		}
		return true, ErrClosed
	default:
	}
	q, err := s.take()
	if err != nil { // ended by the broker: what was queued is dropped
		if q != nil {
			putQueue(q)
		}
		return true, err
	}
	if q != nil {
		if err := write(w, q); err != nil {
			return true, err
		}
	}
	return false, nil
}
