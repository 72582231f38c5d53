package benchmarks

import (
	"net/http"
	"sync"
)

// sseHub is the stdlib anchor of the SSE benchmarks, the ~60-line hub the
// issue measured: each event is encoded once; every subscriber has a
// bounded queue of encoded frames, and its handler writes everything queued
// then flushes once. The publisher waits while a subscriber's queue is full,
// so nothing is lost and a slow subscriber slows the publisher (there is no
// slow-consumer policy, no replay, no IDs, no heartbeat: only the delivery
// path, as a floor to compare with).
type sseHub struct {
	queueSize int
	closed    chan struct{} // closed by close: every handler returns

	mu   sync.Mutex // guards subs; held while a frame is queued to all
	subs map[*sseHubSub]struct{}
}

// An sseHubSub is one subscriber: its queue, and gone, closed when its
// handler returns so that a publisher waiting on the queue moves on.
type sseHubSub struct {
	queue chan []byte
	gone  chan struct{}
}

func newSSEHub(queueSize int) *sseHub {
	return &sseHub{queueSize: queueSize, closed: make(chan struct{}), subs: map[*sseHubSub]struct{}{}}
}

// publish encodes data as one event and queues it for every subscriber.
func (h *sseHub) publish(data string) {
	frame := make([]byte, 0, len("data: \n\n")+len(data))
	frame = append(frame, "data: "...)
	frame = append(frame, data...)
	frame = append(frame, "\n\n"...)
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.queue <- frame:
		case <-s.gone:
		}
	}
}

// ServeHTTP streams the events published from now on until the client
// leaves or the hub closes.
func (h *sseHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	s := &sseHubSub{queue: make(chan []byte, h.queueSize), gone: make(chan struct{})}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	defer func() {
		close(s.gone)
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
	}()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		case frame := <-s.queue:
			if _, err := w.Write(frame); err != nil {
				return
			}
			for n := len(s.queue); n > 0; n-- {
				if _, err := w.Write(<-s.queue); err != nil {
					return
				}
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}

// close ends every stream.
func (h *sseHub) close() { close(h.closed) }
