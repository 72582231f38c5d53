package sse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A Store keeps each topic's recent events for replay: a Broker appends
// every published event to it and asks it for what a reconnecting client
// missed. MemoryStore is the default; a shared store (Redis Streams, a
// later issue) can back it across processes.
//
// A Store must be safe for concurrent use. The Broker serializes Append
// and After calls for one topic, so an implementation needs no ordering of
// its own beyond that.
type Store interface {
	// Append records ev as the newest event of topic, assigning an ID when
	// ev.ID is empty (IDs are unique within a topic), and returns the
	// event as stored.
	Append(ctx context.Context, topic string, ev Event) (Event, error)

	// After returns the events of topic strictly after lastID, oldest
	// first; ok is false when lastID is not in the window (unknown, or
	// older than the oldest kept) or is empty. When ok is false, evs
	// holds at most the newest event kept (none when the topic has
	// none): the Broker asks with an empty lastID for the ID it tells a
	// new client, and names it in the reset event it sends.
	After(ctx context.Context, topic, lastID string) (evs []Event, ok bool, err error)
}

// Defaults of MemoryStore's limits.
const (
	DefaultMaxEvents     = 10000    // events kept per topic
	DefaultMaxBytes      = 4 << 20  // bytes of ID, Type and Data kept per topic
	DefaultMaxTopics     = 10000    // topics whose window is kept
	DefaultMaxTotalBytes = 64 << 20 // bytes of ID, Type and Data kept, all topics
)

// A MemoryStore is a Store that keeps each topic's window in memory: a
// ring of the newest events bounded by MaxEvents and MaxBytes, like a
// Redis stream trimmed with MAXLEN. The newest event of a topic is always
// kept, even one larger than MaxBytes, so that a client that received it
// resumes after it.
//
// Memory follows the window, not the history: a ring grows as events
// arrive (no slots are reserved up front, and a slot costs 72 bytes beside
// the event's strings), and at most MaxTopics topics keep a window holding
// MaxTotalBytes between them. Appending to one more topic, or past the
// total, drops the windows of the topics appended to least recently, whose
// clients then get a reset event when they reconnect. So a million topic
// names published once cost what MaxTopics small windows cost, not a
// million, and many busy topics cost MaxTotalBytes, not MaxTopics times
// MaxBytes.
//
// The default window, 10,000 events, is sized for bursts: a Broker
// subscriber that falls behind by more than its queue (DefaultQueueSize)
// is disconnected and resumes from this window when it reconnects.
//
// IDs the store assigns are "<epoch>-<n>": epoch is 16 hex digits drawn
// from crypto/rand when the store is first used, so IDs from before a
// restart never name an event after it, and n counts the store's appends
// (across all topics, so a topic that lost its window never reuses an ID).
// IDs given by the publisher are kept as they are.
//
// The zero MemoryStore is ready to use and is safe for concurrent use. The
// limits must not be changed after first use.
type MemoryStore struct {
	MaxEvents int // per topic; 0 means DefaultMaxEvents
	MaxBytes  int // per topic, counting ID, Type and Data; 0 means DefaultMaxBytes
	MaxTopics int // 0 means DefaultMaxTopics
	// MaxTotalBytes bounds the bytes of ID, Type and Data kept across all
	// topics; 0 means DefaultMaxTotalBytes. The topic being appended to
	// keeps at least its newest event whatever the total.
	MaxTotalBytes int

	once   sync.Once
	epoch  string // "<16 hex digits>-"
	mu     sync.Mutex
	topics map[string]*ring
	lru    ring // sentinel of the list of rings, least recently appended first
	seq    uint64
	total  int // bytes of ID, Type and Data kept, all rings
}

// A ring is one topic's window, oldest first from head.
type ring struct {
	topic      string
	buf        []stored
	head, n    int
	bytes      int
	prev, next *ring // in MemoryStore.lru
}

// A stored event carries the store-wide sequence number of its Append,
// which orders a ring and finds a store-assigned ID without a scan.
type stored struct {
	seq uint64
	ev  Event
}

func (m *MemoryStore) init() {
	m.once.Do(func() {
		var b [8]byte
		rand.Read(b[:]) // never fails (crypto/rand's documented guarantee)
		m.epoch = hex.EncodeToString(b[:]) + "-"
		m.lru.prev, m.lru.next = &m.lru, &m.lru
	})
}

func (m *MemoryStore) limits() (maxEvents, maxBytes, maxTopics, maxTotal int) {
	maxEvents, maxBytes, maxTopics, maxTotal = m.MaxEvents, m.MaxBytes, m.MaxTopics, m.MaxTotalBytes
	if maxEvents <= 0 {
		maxEvents = DefaultMaxEvents
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxTopics <= 0 {
		maxTopics = DefaultMaxTopics
	}
	if maxTotal <= 0 {
		maxTotal = DefaultMaxTotalBytes
	}
	return
}

func eventBytes(ev *Event) int { return len(ev.ID) + len(ev.Type) + len(ev.Data) }

// Append records ev as topic's newest event, dropping the oldest events
// beyond the limits, and returns it with its ID. An invalid ID or Type
// (see AppendEvent) is an error wrapping ErrInvalidField, and nothing is
// recorded. It never blocks on I/O and ignores ctx.
func (m *MemoryStore) Append(ctx context.Context, topic string, ev Event) (Event, error) {
	if err := ev.validate(); err != nil {
		return Event{}, err
	}
	m.init()
	maxEvents, maxBytes, maxTopics, maxTotal := m.limits()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	if ev.ID == "" {
		var b [40]byte
		ev.ID = string(strconv.AppendUint(append(b[:0], m.epoch...), m.seq, 10))
	}
	r := m.topics[topic]
	if r == nil {
		if m.topics == nil {
			m.topics = map[string]*ring{}
		}
		if len(m.topics) >= maxTopics {
			m.drop(m.lru.next)
		}
		r = &ring{topic: topic}
		m.topics[topic] = r
	} else {
		r.prev.next, r.next.prev = r.next, r.prev // unlink, to move to the back
	}
	r.prev, r.next = m.lru.prev, &m.lru
	r.prev.next, m.lru.prev = r, r
	before := r.bytes
	r.push(stored{m.seq, ev}, maxEvents, maxBytes)
	m.total += r.bytes - before
	for m.total > maxTotal && m.lru.next != r {
		m.drop(m.lru.next)
	}
	return ev, nil
}

// drop forgets r's window.
func (m *MemoryStore) drop(r *ring) {
	m.total -= r.bytes
	r.prev.next, r.next.prev = r.next, r.prev
	r.prev, r.next = nil, nil
	delete(m.topics, r.topic)
	if len(m.topics) == 0 {
		m.topics = nil // a map never shrinks: start again small
	}
}

// push appends s, then drops the oldest events while the ring holds more
// than maxEvents or (keeping the newest) more than maxBytes.
func (r *ring) push(s stored, maxEvents, maxBytes int) {
	if r.n == len(r.buf) {
		if r.n < maxEvents {
			// Grow to twice the size (at most maxEvents), oldest first.
			nb := make([]stored, min(max(2*r.n, 4), maxEvents))
			r.copyTo(nb)
			r.buf, r.head = nb, 0
		} else {
			r.pop()
		}
	}
	r.buf[(r.head+r.n)%len(r.buf)] = s
	r.n++
	r.bytes += eventBytes(&s.ev)
	for r.n > 1 && r.bytes > maxBytes {
		r.pop()
	}
	// Memory follows the window: a ring that lost most of its events to
	// the byte limit gives back its slots.
	if len(r.buf) > 16 && r.n < len(r.buf)/4 {
		nb := make([]stored, 2*r.n)
		r.copyTo(nb)
		r.buf, r.head = nb, 0
	}
}

func (r *ring) pop() {
	s := &r.buf[r.head]
	r.bytes -= eventBytes(&s.ev)
	*s = stored{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}

func (r *ring) at(i int) *stored { return &r.buf[(r.head+i)%len(r.buf)] }

func (r *ring) copyTo(dst []stored) {
	for i := range r.n {
		dst[i] = *r.at(i)
	}
}

// After returns a copy of topic's events after lastID, oldest first; ok is
// false when lastID is empty or is not in the window, and then evs holds
// topic's newest event if it has one. It ignores ctx.
func (m *MemoryStore) After(ctx context.Context, topic, lastID string) ([]Event, bool, error) {
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.topics[topic]
	if r == nil || r.n == 0 {
		return nil, false, nil
	}
	i := r.find(m.epoch, lastID)
	if i < 0 {
		return []Event{r.at(r.n - 1).ev}, false, nil
	}
	evs := make([]Event, 0, r.n-i-1)
	for j := i + 1; j < r.n; j++ {
		evs = append(evs, r.at(j).ev)
	}
	return evs, true, nil
}

// find returns the index in r of the newest event with ID id, or -1. An ID
// the store assigned is found by binary search on its sequence number;
// others by a scan from the newest (a reconnecting client is usually
// close behind).
func (r *ring) find(epoch, id string) int {
	if id == "" {
		return -1
	}
	if n, ok := strings.CutPrefix(id, epoch); ok {
		if seq, err := strconv.ParseUint(n, 10, 64); err == nil {
			i := sort.Search(r.n, func(i int) bool { return r.at(i).seq >= seq })
			if i < r.n && r.at(i).seq == seq && r.at(i).ev.ID == id {
				return i
			}
		}
	}
	for i := r.n - 1; i >= 0; i-- {
		if r.at(i).ev.ID == id {
			return i
		}
	}
	return -1
}

// clear forgets every window (a Broker's own store, at Shutdown).
func (m *MemoryStore) clear() {
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.topics = nil
	m.total = 0
	m.lru.prev, m.lru.next = &m.lru, &m.lru
}
