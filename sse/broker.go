package sse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Broker's settings.
const (
	DefaultQueueSize = 4096             // frames queued per subscriber
	DefaultHeartbeat = 15 * time.Second // comment interval on an idle stream
)

// ResetType is the Type of the event a Broker sends, before live events, to
// a client whose Last-Event-ID it cannot resume from: unknown, older than
// the replay window, or invalid. Its ID is the topic's newest event ID (no
// ID when the topic has no event kept), so the client's next reconnect
// resumes from there; its Data is empty. A client that gets it has missed
// events and should reload its state (fetch a snapshot, then continue).
const ResetType = "reset"

// A SlowPolicy says what a Broker does with a subscriber whose queue is full
// when an event is published: a client that reads slower than events come,
// or not at all. Publish never waits for a subscriber under any policy.
type SlowPolicy int

const (
	// Disconnect ends the laggard's stream: its Subscribe returns
	// ErrSlowSubscriber, dropping what was queued. An EventSource
	// reconnects with the ID of the last event it got and the broker
	// replays what followed, so the client loses nothing while the replay
	// window holds it (else it gets a ResetType event). The default.
	Disconnect SlowPolicy = iota

	// DropOldest drops the oldest queued frame to make room: the client
	// stays connected and skips events, seeing gaps in their IDs. For
	// streams where only the latest value matters (gauges, prices).
	DropOldest
)

// String returns the policy's Go name.
func (p SlowPolicy) String() string {
	switch p {
	case Disconnect:
		return "Disconnect"
	case DropOldest:
		return "DropOldest"
	}
	return fmt.Sprintf("SlowPolicy(%d)", int(p))
}

// A Broker fans events out to the subscribers of named topics, as a Node
// server keeps a set of SSE responses per channel (better-sse's Channel,
// the hand-written res.write loop), with replay from a Store for clients
// that reconnect with Last-Event-ID, which Node leaves to the application.
//
// Publish encodes an event once into a frame shared by every subscriber of
// its topic and appends it to each one's bounded queue without waiting for
// any; each subscriber's handler goroutine (in Subscribe) wakes and a
// goroutine it starts takes all that is queued and writes it with one
// flush, so a burst costs one flush per subscriber, not one per event. See
// SlowPolicy for a queue that overflows, Subscribe for replay, and
// Heartbeat for idle streams.
//
// Memory follows the subscribers: a topic's entry exists while someone is
// subscribed to it or publishing to it (a million topic names published
// once leave nothing in the broker; the Store keeps windows within its own
// bounds), and an idle subscriber is a few small structs (about 650 bytes
// of heap per connection over the cheapest streaming net/http handler, and
// no stack: measured by TestBrokerIdleConnectionCost). Its queue and write
// buffer come from pools when there is something to send and go back once
// it is written, and its handler goroutine only waits: the writing is done
// by a goroutine that lives while there is something to write, so the
// handler's stack stays at 4 KiB where net/http's write path would grow it
// to 8 KiB for the life of the stream. That costs a goroutine switch or
// two per wake-up (a subscriber woken for each event: about a sixth more
// CPU per delivery over loopback; a burst: no change).
//
// The zero Broker is ready to use and is safe for concurrent use. Its
// fields must not be changed after first use. Shutdown or Close ends every
// stream; afterwards Publish and Subscribe return ErrClosed and the broker
// runs no goroutine. A broker with no subscribers runs none either.
type Broker struct {
	// Store keeps each topic's replay window. Nil means a MemoryStore
	// with its defaults, cleared by Shutdown and Close.
	Store Store

	// QueueSize is the number of frames (events and heartbeats) queued
	// per subscriber before OnSlow applies; 0 means DefaultQueueSize.
	// A queue grows with its backlog, 8 bytes a frame (frames are shared
	// by the subscribers of a topic), and is given back once written: the
	// bound costs nothing until a subscriber lags. The default lets a
	// subscriber fall 4096 events behind a burst before it is
	// disconnected, and the default MemoryStore window (10,000 events)
	// lets it resume after that.
	QueueSize int

	// OnSlow is what happens to a subscriber whose queue is full; the zero
	// value is Disconnect.
	OnSlow SlowPolicy

	// Heartbeat is the interval of the comment (":" alone, 2 bytes)
	// written to a stream nothing was written to: it keeps proxies and
	// load balancers from closing idle streams. 0 means
	// DefaultHeartbeat; negative disables. One goroutine per broker,
	// not a timer per subscriber, ticks at a quarter of the interval and
	// queues the one shared comment frame for every stream nothing was
	// queued for during the last four ticks: an idle stream gets a
	// comment every Heartbeat, and no stream is silent for longer. It
	// starts with the first subscriber and exits at the first tick with
	// none, or at Shutdown or Close.
	Heartbeat time.Duration

	// Retry and WriteTimeout are passed to the Upgrader of each stream.
	Retry        time.Duration
	WriteTimeout time.Duration

	// OnConnect, when not nil, is called by Subscribe once the stream is
	// open and registered, before the replay is written. OnDisconnect,
	// when not nil, is called once for each OnConnect that returned, when
	// the stream ends, with the error Subscribe returns (one wrapping
	// ErrClosed if Subscribe is ending by a panic); it is called after
	// the subscriber was removed (Subscribers no longer counts it) and
	// before Shutdown stops waiting for it.
	// Both run on Subscribe's goroutine. A panic or runtime.Goexit in
	// either ends Subscribe the same way, after the broker's bookkeeping
	// is done: the panic propagates to Subscribe's caller (net/http
	// recovers and logs it, and aborts the response). A panic in
	// OnConnect means OnDisconnect is not called.
	OnConnect    func(topic string, r *http.Request)
	OnDisconnect func(topic string, r *http.Request, err error)

	// Logger receives a warning for each subscriber disconnected as slow.
	// Nil means slog.Default().
	Logger *slog.Logger

	once      sync.Once
	store     Store
	ownStore  *MemoryStore // store, when the broker made it
	queueSize int
	heartbeat time.Duration
	done      chan struct{} // closed by Shutdown and Close
	drained   chan struct{} // closed once done and no Subscribe is active
	abort     atomic.Bool   // Close: drop queued frames instead of writing them
	tick      atomic.Int64  // heartbeat ticks so far

	mu      sync.Mutex // guards the fields below
	topics  map[string]*hub
	peak    int  // len(topics) at its largest since the map was made
	subs    int  // registered subscribers, all topics
	active  int  // Subscribe calls in progress
	closed  bool // Shutdown or Close was called
	hbOn    bool // the heartbeat goroutine runs
	hbGroup sync.WaitGroup
}

// A hub is the subscribers of one topic name; it exists while someone
// publishes to it or is subscribed to it.
type hub struct {
	name string
	refs int // guarded by Broker.mu: Publish calls in progress plus subscribers

	mu   sync.Mutex   // serializes Store calls with (un)registering and fan-out
	head *subscriber  // list of registered subscribers
	n    atomic.Int32 // len of the list
}

// frameCap is the capacity a frame for ev starts with, enough for one
// data line.
func frameCap(ev *Event) int {
	return len(ev.ID) + len(ev.Type) + len(ev.Data) + 32
}

var heartbeatFrame = AppendComment(nil, "")

func (b *Broker) init() {
	if b.QueueSize < 0 {
		panic("sse: negative Broker.QueueSize")
	}
	if b.OnSlow != Disconnect && b.OnSlow != DropOldest {
		panic("sse: unknown Broker.OnSlow policy " + b.OnSlow.String())
	}
	b.once.Do(func() {
		b.store = b.Store
		if b.store == nil {
			b.ownStore = &MemoryStore{}
			b.store = b.ownStore
		}
		b.queueSize = b.QueueSize
		if b.queueSize == 0 {
			b.queueSize = DefaultQueueSize
		}
		b.heartbeat = b.Heartbeat
		if b.heartbeat == 0 {
			b.heartbeat = DefaultHeartbeat
		}
		b.done = make(chan struct{})
		b.drained = make(chan struct{})
	})
}

func (b *Broker) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

// Publish appends ev to topic's replay window (the Store assigns an ID when
// ev.ID is empty) and queues it for every subscriber of topic, encoded
// once; it returns the event as stored. It never waits for a subscriber:
// one whose queue is full is dealt with by OnSlow. It may wait for the
// Store (not for the default MemoryStore), and for other Publish and
// Subscribe calls on the same topic, which it is ordered with: events
// reach every subscriber in the order their Publish calls returned.
//
// Publish may be called from any goroutine. It returns an error wrapping
// ErrInvalidField for an ID or Type that would inject fields (CR, LF; NUL
// in ID) and for an ID a client could not send back intact in
// Last-Event-ID (over 256 bytes, not UTF-8, with a control character
// other than tab, or with a leading or trailing space or tab); ErrClosed
// after Shutdown or Close; ctx.Err() when ctx is already done; or the
// Store's error. Then no subscriber gets ev. A panic
// in the Store propagates to Publish's caller, leaving the broker usable.
//
// Cost: with the default MemoryStore, 2 allocations (the ID and the
// frame) and none per subscriber; about 40–55 ns per delivery to 100 or
// 1000 in-process subscribers, written and flushed (BenchmarkPublish).
func (b *Broker) Publish(ctx context.Context, topic string, ev Event) (Event, error) {
	if ctx == nil {
		panic("sse: nil Context")
	}
	b.init()
	if err := ctx.Err(); err != nil {
		return Event{}, err // whatever the Store would do with it
	}
	if err := ev.validate(); err != nil {
		return Event{}, err
	}
	if err := checkPublishedID(ev.ID); err != nil {
		return Event{}, err
	}
	t := b.pin(topic, nil)
	if t == nil {
		return Event{}, ErrClosed
	}
	defer b.unpin(t, nil)
	t.mu.Lock()
	defer t.mu.Unlock()
	stored, err := b.store.Append(ctx, topic, ev)
	if err != nil {
		return Event{}, err
	}
	if t.head == nil {
		return stored, nil
	}
	frame, err := AppendEvent(make([]byte, 0, frameCap(&stored)), stored)
	if err != nil {
		return Event{}, fmt.Errorf("sse: store returned %w", err)
	}
	tick := b.tick.Load()
	for s := t.head; s != nil; {
		next := s.next
		if s.enqueue(frame, b.queueSize, b.OnSlow, tick) {
			t.unlink(s) // too slow: gets no more
		}
		s = next
	}
	return stored, nil
}

// PublishJSON publishes ev with Data set to the JSON encoding of v (which
// has no line breaks, so the event has one data line). An error from
// json.Marshal is returned as it is and nothing is published.
func (b *Broker) PublishJSON(ctx context.Context, topic string, ev Event, v any) (Event, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Event{}, err
	}
	ev.Data = string(data)
	return b.Publish(ctx, topic, ev)
}

// Subscribers returns the number of streams subscribed to topic now.
func (b *Broker) Subscribers(topic string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[topic]; t != nil {
		return int(t.n.Load())
	}
	return 0
}

// pin returns topic name's entry, made if needed, counted as in use until
// unpin; s, when not nil, is a subscriber to count in the broker's total
// (which starts the heartbeat). It returns nil after Shutdown or Close.
func (b *Broker) pin(name string, s *subscriber) *hub {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	t := b.topics[name]
	if t == nil {
		if b.topics == nil {
			b.topics = map[string]*hub{}
		}
		t = &hub{name: name}
		b.topics[name] = t
		b.peak = max(b.peak, len(b.topics))
	}
	t.refs++
	if s != nil {
		b.subs++
		if !b.hbOn && b.heartbeat > 0 {
			b.hbOn = true
			b.hbGroup.Add(1)
			go b.heartbeatLoop()
		}
	}
	return t
}

// unpin undoes pin, forgetting the topic when nothing holds it.
func (b *Broker) unpin(t *hub, s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t.refs--
	if s != nil {
		b.subs--
	}
	if t.refs == 0 {
		delete(b.topics, t.name)
		if len(b.topics) == 0 && b.peak > 64 {
			b.topics, b.peak = nil, 0 // a map never shrinks: start again small
		}
	}
}

// Shutdown ends every stream, each after writing what was already queued
// for it, and waits until every Subscribe call has returned or ctx is done
// (then it returns ctx.Err(); the streams still end). Afterwards Publish
// and Subscribe return ErrClosed. http.Server.Shutdown waits for
// handlers, and so for Subscribe: call Broker.Shutdown first, or have the
// server start it:
//
//	srv.RegisterOnShutdown(func() { b.Shutdown(context.Background()) })
//
// Later calls wait again and return nil.
func (b *Broker) Shutdown(ctx context.Context) error {
	if ctx == nil {
		panic("sse: nil Context")
	}
	b.stop()
	select {
	case <-b.drained:
		return nil
	default:
	}
	select {
	case <-b.drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends every stream now, dropping what was queued, without waiting
// for the Subscribe calls to return (each does as soon as its goroutine
// runs, or when a write in progress fails or times out). Afterwards
// Publish and Subscribe return ErrClosed. It returns nil.
func (b *Broker) Close() error {
	b.abort.Store(true)
	b.stop()
	return nil
}

// stop closes the broker, waits for the heartbeat goroutine to exit and
// clears the default store.
func (b *Broker) stop() {
	b.init()
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.done)
		if b.active == 0 {
			close(b.drained)
		}
		// Subscribers wait for their wake channel only (see serve).
		// One that links after this walk sees done in register.
		for _, t := range b.topics {
			t.mu.Lock()
			for s := t.head; s != nil; s = s.next {
				s.signal()
			}
			t.mu.Unlock()
		}
	}
	b.mu.Unlock()
	b.hbGroup.Wait()
	if b.ownStore != nil {
		b.ownStore.clear()
	}
}

// errAborted is what OnDisconnect gets when Subscribe ends by a panic or
// runtime.Goexit.
var errAborted = fmt.Errorf("%w: subscriber ended by a panic or runtime.Goexit", ErrClosed)

// Subscribe serves r as a stream of topic's events and returns when the
// stream ends. Call it from an HTTP handler; topic is whatever the
// application derives from the request (a path segment, a user ID).
//
// It upgrades w (see Upgrader; an error wrapping ErrFlushUnsupported is
// returned before anything is written), registers the subscriber and,
// when the client sent a Last-Event-ID header (or, for polyfills that
// cannot set headers, a lastEventId query parameter), writes the events
// of topic's window strictly after that ID, then every event published
// after it, each exactly once and in order: the replay is read from the
// Store at the same instant as the subscriber is registered, so no event
// falls between them or lands in both. When the ID cannot be resumed from
// (unknown, older than the window, over 256 bytes, not UTF-8, or with CR,
// LF or NUL), the client gets one event of type ResetType instead of the
// replay. A client that sent no ID is first sent an id-only block naming
// topic's newest event ("id: <newest>" and a blank line), which
// dispatches nothing but sets EventSource.lastEventId: a client forced off
// before its first event then resumes from where it joined. (A client that
// joins a topic with no event kept has no ID until its first event; if it
// is forced off before that, it resumes with live events only.)
//
// Subscribe returns nil when the client goes away (the request's context
// ends), ErrSlowSubscriber when OnSlow disconnected it, ErrClosed when
// the broker gets shut down, an error wrapping ErrClosed when a write
// fails (the client vanished or timed out), or the Store's error. When the
// broker was shut down before the call, it answers as a stream that ends
// at once (the headers, then nothing) and returns ErrClosed: an
// EventSource then reconnects after its retry time, to this server's
// successor, where any status other than 200 (503 included) would stop it
// for good. After the stream has started the handler must not write to w.
//
// Do not call Shutdown from OnConnect or OnDisconnect: it waits for the
// Subscribe call the hook runs in. Call Close there, or Shutdown on
// another goroutine.
//
// A Last-Event-ID is untrusted input: it is looked up only when at most
// 256 bytes of UTF-8 without CR, LF or NUL. Publish refuses IDs that could
// not come back intact, so every event a client got can be resumed from.
func (b *Broker) Subscribe(w http.ResponseWriter, r *http.Request, topic string) (err error) {
	if w == nil || r == nil {
		panic("sse: Subscribe with a nil ResponseWriter or Request")
	}
	b.init()
	u := Upgrader{Retry: b.Retry, WriteTimeout: b.WriteTimeout}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		if _, err := u.Upgrade(w, r); err != nil {
			return err
		}
		return ErrClosed
	}
	b.active++
	b.mu.Unlock()

	var (
		t         *hub
		s         *subscriber
		connected bool // OnConnect returned
		returned  bool // serve returned (no panic, no Goexit)
	)
	defer func() {
		defer b.leave()
		if t != nil {
			b.unregister(t, s)
		}
		if connected && b.OnDisconnect != nil {
			if !returned {
				err = errAborted
			}
			b.OnDisconnect(topic, r, err)
		}
	}()

	sw, err := u.Upgrade(w, r)
	if err != nil {
		returned = true
		return err
	}
	s = &subscriber{wake: make(chan struct{}, 1)}
	if t = b.pin(topic, s); t == nil {
		returned = true
		return ErrClosed
	}
	rp, err := b.register(r, t, s)
	if err != nil {
		returned = true
		return err
	}
	if b.OnConnect != nil {
		b.OnConnect(topic, r)
	}
	connected = true
	err = b.serve(r.Context(), sw, s, &rp)
	returned = true
	if errors.Is(err, ErrSlowSubscriber) {
		b.logger().Warn("sse: slow subscriber disconnected", "topic", topic, "queue", b.queueSize)
	}
	return err
}

// leave counts a Subscribe call as ended.
func (b *Broker) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.active--
	if b.active == 0 && b.closed {
		close(b.drained)
	}
}

// register reads the replay for r's Last-Event-ID and adds s to t, both
// under t's lock, so that the next event published is the first s gets
// live. It returns the replay (or reset event) to write first.
// Holding t's lock across the Store's After and the linking is what makes
// the replay and the live events meet without a gap or an overlap:
// Publish appends and fans out under the same lock.
func (b *Broker) register(r *http.Request, t *hub, s *subscriber) (replay, error) {
	id, present, valid := lastEventID(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	// With no ID (or an invalid one, which lastEventID returns as ""),
	// After returns only the newest event.
	evs, ok, err := b.store.After(r.Context(), t.name, id)
	if err != nil {
		return replay{}, err
	}
	ok = ok && valid
	s.lastTick = b.tick.Load()
	t.link(s)
	select {
	case <-b.done: // stop walked the topic's list before s was on it
		s.signal()
	default:
	}
	if !present {
		// A new client: an id-only block, which dispatches nothing but
		// sets the EventSource's last event ID, so that if it is forced
		// off before its first event it resumes from here, not from now.
		if len(evs) == 0 {
			return replay{}, nil
		}
		newest := Event{ID: evs[len(evs)-1].ID}
		if err := newest.validate(); err != nil {
			return replay{}, fmt.Errorf("sse: store returned %w", err)
		}
		buf := append([]byte("id: "), newest.ID...)
		return replay{head: append(buf, "\n\n"...)}, nil
	}
	if !ok {
		reset := Event{Type: ResetType}
		if len(evs) > 0 {
			reset.ID = evs[len(evs)-1].ID
		}
		head, err := AppendEvent(nil, reset)
		if err != nil {
			return replay{}, fmt.Errorf("sse: store returned %w", err)
		}
		return replay{head: head}, nil
	}
	return replay{evs: evs}, nil
}

// unregister removes s from t (if Publish has not already) and lets go of
// what was queued for it.
func (b *Broker) unregister(t *hub, s *subscriber) {
	t.mu.Lock()
	if s.linked {
		t.unlink(s)
	}
	t.mu.Unlock()
	s.release()
	b.unpin(t, s)
}

func (t *hub) link(s *subscriber) {
	s.next = t.head
	if t.head != nil {
		t.head.prev = s
	}
	t.head = s
	s.linked = true
	t.n.Add(1)
}

func (t *hub) unlink(s *subscriber) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		t.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next, s.linked = nil, nil, false
	t.n.Add(-1)
}
