package sse

import "fmt"

// replayChunk is the most a replay encodes before it writes: a replay of
// the whole window costs one chunk of memory while the client reads it,
// not the window's size (a Last-Event-ID is the client's to choose).
const replayChunk = 64 << 10

// A replay is what Subscribe writes before live events: head (an id-only
// block or a reset event), then the events a reconnecting client missed.
type replay struct {
	head []byte
	evs  []Event
}

func (rp *replay) empty() bool { return len(rp.head) == 0 && len(rp.evs) == 0 }

// write writes rp to w in chunks of about replayChunk bytes, each with
// its own write deadline and flush, from a pooled buffer.
func (rp *replay) write(w *Writer) error {
	if len(rp.head) > 0 {
		if err := w.sendRaw(rp.head); err != nil {
			return err
		}
	}
	if len(rp.evs) == 0 {
		return nil
	}
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= maxPooledBuf {
			*bp = buf[:0]
			bufPool.Put(bp)
		}
	}()
	for i, ev := range rp.evs {
		var err error
		if buf, err = AppendEvent(buf, ev); err != nil {
			return fmt.Errorf("sse: store returned %w", err)
		}
		rp.evs[i] = Event{} // written: let the collector have its strings
		if len(buf) >= replayChunk || i == len(rp.evs)-1 {
			if err := w.sendRaw(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}
