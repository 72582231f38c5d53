package sse_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/sse"
	"pgregory.net/rapid"
)

// A modelConn is one connection of a model client: what it must receive is
// pre (a reset event, or nothing) then its topic's events from start on.
type modelConn struct {
	f       *fakeWriter
	cancel  context.CancelFunc
	ended   chan error
	pre     []frame
	start   int
	stalled bool
}

// A modelClient is an EventSource: it reconnects with the last ID it got.
type modelClient struct {
	topic  string
	lastID string
	conn   *modelConn
	got    int // events received over all its connections
}

// TestBrokerModel runs random publishes to two topics, subscribers joining,
// leaving, stalling (so that Disconnect forces them off) and reconnecting
// with their last ID, against a plain model: every connection receives a
// prefix of what the model says it must (exactly the events of its topic
// after its Last-Event-ID, in order, once, while the window of 5 holds it;
// else a reset event naming the newest ID, then the live events), and a
// connection that keeps up receives all of it.
func TestBrokerModel(t *testing.T) {
	leaktest.Check(t)
	var slow, resets, replays int // over all runs: the paths were taken
	defer func() {
		t.Logf("%d forced off as slow, %d resets, %d replays", slow, resets, replays)
		if !t.Failed() && (slow == 0 || resets == 0 || replays == 0) {
			t.Errorf("the runs never took a path: %d slow, %d resets, %d replays", slow, resets, replays)
		}
	}()
	rapid.Check(t, func(t *rapid.T) {
		const window = 5
		connected := make(chan struct{}, 1)
		b := &sse.Broker{
			QueueSize: 3,
			Store:     &sse.MemoryStore{MaxEvents: window},
			Heartbeat: -1,
			OnConnect: func(string, *http.Request) { connected <- struct{}{} },
			Logger:    slog.New(slog.DiscardHandler),
		}
		topics := []string{"a", "b"}
		hist := map[string][]frame{}
		clients := make([]*modelClient, rapid.IntRange(1, 4).Draw(t, "clients"))
		for i := range clients {
			clients[i] = &modelClient{topic: rapid.SampledFrom(topics).Draw(t, fmt.Sprint("topic", i))}
		}
		expected := func(c *modelClient) []frame {
			return append(append([]frame{}, c.conn.pre...), hist[c.topic][c.conn.start:]...)
		}
		// finish checks what a connection that ended received.
		finish := func(t *rapid.T, c *modelClient, err error) {
			if err != nil && !errors.Is(err, sse.ErrSlowSubscriber) && !errors.Is(err, sse.ErrClosed) {
				t.Fatalf("Subscribe = %v", err)
			}
			if errors.Is(err, sse.ErrSlowSubscriber) {
				slow++
			}
			got, want := c.conn.f.events(), expected(c)
			if len(got) > len(want) || !cmp.Equal(got, want[:len(got)], cmpopts.EquateEmpty()) {
				t.Fatalf("client of %q received (-want +got):\n%s", c.topic, cmp.Diff(want, got))
			}
			for _, f := range c.conn.f.frames() { // id-only blocks too
				if f.ID != "" {
					c.lastID = f.ID
				}
			}
			c.got += len(got)
			c.conn = nil
		}
		pick := func(t *rapid.T, connected bool) *modelClient {
			var cs []*modelClient
			for _, c := range clients {
				if (c.conn != nil) == connected {
					cs = append(cs, c)
				}
			}
			if len(cs) == 0 {
				t.Skip("no such client")
			}
			return rapid.SampledFrom(cs).Draw(t, "client")
		}
		defer func() {
			b.Close()
			for _, c := range clients {
				if c.conn != nil {
					c.conn.f.unstall()
					c.conn.cancel()
					<-c.conn.ended
				}
			}
		}()
		t.Repeat(map[string]func(*rapid.T){
			"publish": func(t *rapid.T) {
				topic := rapid.SampledFrom(topics).Draw(t, "topic")
				for range rapid.IntRange(1, 8).Draw(t, "burst") {
					ev := sse.Event{Data: fmt.Sprint(len(hist[topic]))}
					if rapid.Bool().Draw(t, "given") {
						ev.ID = fmt.Sprintf("%s-%d", topic, len(hist[topic]))
					}
					hist[topic] = append(hist[topic], publish(t, b, topic, ev)...)
				}
			},
			"connect": func(t *rapid.T) {
				c := pick(t, false)
				h := hist[c.topic]
				conn := &modelConn{start: len(h)}
				if c.lastID != "" {
					i := len(h) - 1
					for i >= 0 && h[i].ID != c.lastID {
						i--
					}
					if i >= 0 && i >= len(h)-window {
						conn.start = i + 1
						replays++
					} else {
						reset := frame{Type: sse.ResetType}
						if len(h) > 0 {
							reset.ID = h[len(h)-1].ID
						}
						conn.pre = []frame{reset}
						resets++
					}
				}
				conn.f, conn.cancel, conn.ended = goSubscribe(b, c.topic, c.lastID)
				<-connected
				c.conn = conn
			},
			"leave": func(t *rapid.T) {
				c := pick(t, true)
				c.conn.f.unstall()
				c.conn.cancel()
				finish(t, c, <-c.conn.ended)
			},
			"stall": func(t *rapid.T) {
				c := pick(t, true)
				c.conn.f.stall()
				c.conn.stalled = true
			},
			"unstall": func(t *rapid.T) {
				c := pick(t, true)
				c.conn.f.unstall()
				c.conn.stalled = false
			},
			"": func(t *rapid.T) {
				// Every connection that is not stalled catches up or was
				// forced off (it may have fallen behind a burst).
				for _, c := range clients {
					if c.conn == nil || c.conn.stalled {
						continue
					}
					want := expected(c)
					deadline := time.Now().Add(10 * time.Second)
					for d := 100 * time.Microsecond; ; d = min(2*d, 10*time.Millisecond) {
						select {
						case err := <-c.conn.ended:
							finish(t, c, err)
						default:
						}
						if c.conn == nil {
							break
						}
						if got := c.conn.f.events(); len(got) >= len(want) {
							if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
								t.Fatalf("client of %q (-want +got):\n%s", c.topic, diff)
							}
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("client of %q has %d of %d events after 10 s", c.topic, len(c.conn.f.events()), len(want))
						}
						time.Sleep(d)
					}
				}
			},
		})
	})
}
