package sse_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/sse"
	"pgregory.net/rapid"
)

func appendAll(t testing.TB, s sse.Store, topic string, evs ...sse.Event) []sse.Event {
	t.Helper()
	var out []sse.Event
	for _, ev := range evs {
		got, err := s.Append(context.Background(), topic, ev)
		if err != nil {
			t.Fatalf("Append(%q, %+v) = %v", topic, ev, err)
		}
		out = append(out, got)
	}
	return out
}

func TestMemoryStoreIDs(t *testing.T) {
	var s1, s2 sse.MemoryStore
	a := appendAll(t, &s1, "t", sse.Event{Data: "1"}, sse.Event{Data: "2", ID: "mine"}, sse.Event{Data: "3"})
	b := appendAll(t, &s2, "t", sse.Event{Data: "1"})
	re := regexp.MustCompile(`^[0-9a-f]{16}-[0-9]+$`)
	for _, id := range []string{a[0].ID, a[2].ID, b[0].ID} {
		if !re.MatchString(id) {
			t.Errorf("generated ID %q does not match %v", id, re)
		}
	}
	if a[1].ID != "mine" {
		t.Errorf("publisher-given ID stored as %q, want %q", a[1].ID, "mine")
	}
	if a[0].ID == b[0].ID {
		t.Errorf("two stores (two process lifetimes) both generated %q", a[0].ID)
	}
	if a[0].ID == a[2].ID {
		t.Errorf("one store generated %q twice", a[0].ID)
	}
}

func TestMemoryStoreInvalid(t *testing.T) {
	var s sse.MemoryStore
	for _, ev := range []sse.Event{{ID: "a\nb"}, {ID: "a\x00"}, {Type: "x\ry"}} {
		if _, err := s.Append(context.Background(), "t", ev); !errors.Is(err, sse.ErrInvalidField) {
			t.Errorf("Append(%+v) = %v, want ErrInvalidField", ev, err)
		}
	}
	if evs, ok, _ := s.After(context.Background(), "t", "x"); ok || len(evs) != 0 {
		t.Errorf("after invalid appends, After = %v, %v; want nothing stored", evs, ok)
	}
}

func TestMemoryStoreAfter(t *testing.T) {
	s := &sse.MemoryStore{MaxEvents: 3}
	ctx := context.Background()
	if evs, ok, err := s.After(ctx, "none", "x"); ok || evs != nil || err != nil {
		t.Errorf("After on an unknown topic = %v, %v, %v; want nil, false, nil", evs, ok, err)
	}
	all := appendAll(t, s, "t",
		sse.Event{Data: "1"}, sse.Event{Data: "2", ID: "two"}, sse.Event{Data: "3"}, sse.Event{Data: "4"}, sse.Event{Data: "5"})
	appendAll(t, s, "other", sse.Event{Data: "x"})
	for _, tt := range []struct {
		name   string
		lastID string
		want   []sse.Event
		ok     bool
	}{
		{"newest", all[4].ID, []sse.Event{}, true},
		{"oldest kept", all[2].ID, all[3:], true},
		{"middle", all[3].ID, all[4:], true},
		{"too old", all[1].ID, all[4:], false},
		{"evicted generated", all[0].ID, all[4:], false},
		{"unknown", "nope", all[4:], false},
		{"empty", "", all[4:], false},
		{"other epoch", "0123456789abcdef-4", all[4:], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, ok, err := s.After(ctx, "t", tt.lastID)
			if err != nil || ok != tt.ok {
				t.Fatalf("After(%q) ok, err = %v, %v; want %v, nil", tt.lastID, ok, err, tt.ok)
			}
			if diff := cmp.Diff(tt.want, evs); diff != "" {
				t.Errorf("After(%q) (-want +got):\n%s", tt.lastID, diff)
			}
		})
	}
}

func TestMemoryStoreMaxBytes(t *testing.T) {
	s := &sse.MemoryStore{MaxBytes: 10}
	ctx := context.Background()
	evs := appendAll(t, s, "t",
		sse.Event{ID: "a", Data: "1234"}, sse.Event{ID: "b", Data: "1234"}, sse.Event{ID: "c", Data: "12"})
	// a(5)+b(5)+c(3) = 13 > 10: a goes.
	if got, ok, _ := s.After(ctx, "t", "b"); !ok || !cmp.Equal(got, evs[2:]) {
		t.Errorf("After(b) = %v, %v; want %v, true", got, ok, evs[2:])
	}
	if _, ok, _ := s.After(ctx, "t", "a"); ok {
		t.Errorf("After(a) ok after a was trimmed by MaxBytes")
	}
	big := appendAll(t, s, "t", sse.Event{ID: "big", Data: strings.Repeat("x", 100)})
	if got, ok, _ := s.After(ctx, "t", "big"); !ok || len(got) != 0 {
		t.Errorf("the newest event, larger than MaxBytes, is not kept: After(big) = %v, %v", got, ok)
	}
	if got, _, _ := s.After(ctx, "t", "c"); !cmp.Equal(got, big) {
		t.Errorf("After(c) = %v, want only the newest %v", got, big)
	}
}

func TestMemoryStoreMaxTopics(t *testing.T) {
	s := &sse.MemoryStore{MaxTopics: 2}
	ctx := context.Background()
	appendAll(t, s, "a", sse.Event{ID: "a1"})
	appendAll(t, s, "b", sse.Event{ID: "b1"})
	appendAll(t, s, "a", sse.Event{ID: "a2"}) // a is now the most recent
	appendAll(t, s, "c", sse.Event{ID: "c1"}) // drops b's window
	for _, tt := range []struct {
		topic, id string
		ok        bool
	}{{"a", "a1", true}, {"b", "b1", false}, {"c", "c1", true}} {
		if _, ok, _ := s.After(ctx, tt.topic, tt.id); ok != tt.ok {
			t.Errorf("After(%q, %q) ok = %v, want %v", tt.topic, tt.id, ok, tt.ok)
		}
	}
}

func TestMemoryStoreMaxTotalBytes(t *testing.T) {
	s := &sse.MemoryStore{MaxTotalBytes: 10}
	ctx := context.Background()
	appendAll(t, s, "a", sse.Event{ID: "a1", Data: "12"})   // 4
	appendAll(t, s, "b", sse.Event{ID: "b1", Data: "12"})   // 8
	appendAll(t, s, "a", sse.Event{ID: "a2", Data: "12"})   // 12: b, appended to least recently, goes
	appendAll(t, s, "c", sse.Event{ID: "c1", Data: "1234"}) // 18: a goes, c is kept alone
	for _, tt := range []struct {
		topic, id string
		ok        bool
	}{{"a", "a1", false}, {"b", "b1", false}, {"c", "c1", true}} {
		if _, ok, _ := s.After(ctx, tt.topic, tt.id); ok != tt.ok {
			t.Errorf("After(%q, %q) ok = %v, want %v", tt.topic, tt.id, ok, tt.ok)
		}
	}
	appendAll(t, s, "c", sse.Event{ID: "c2", Data: strings.Repeat("x", 100)})
	if got, ok, _ := s.After(ctx, "c", "c2"); !ok || len(got) != 0 {
		t.Errorf("the topic appended to keeps its newest event past MaxTotalBytes: After(c2) = %v, %v", got, ok)
	}
}

// TestMemoryStoreModel checks the ring against a plain slice: After from
// any ID ever appended returns exactly the events after it while it is
// among the newest MaxEvents (and within MaxBytes), else the newest; the
// topics appended to least recently lose their windows beyond MaxTopics
// and MaxTotalBytes.
func TestMemoryStoreModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxEvents := rapid.IntRange(1, 9).Draw(t, "maxEvents")
		maxBytes := rapid.IntRange(1, 40).Draw(t, "maxBytes")
		maxTotal := rapid.IntRange(1, 80).Draw(t, "maxTotal")
		s := &sse.MemoryStore{MaxEvents: maxEvents, MaxBytes: maxBytes, MaxTopics: 2, MaxTotalBytes: maxTotal}
		// window returns the part of hist the store keeps, and its bytes:
		// the newest maxEvents, then the oldest dropped while over
		// maxBytes, keeping at least one.
		window := func(hist []sse.Event) ([]sse.Event, int) {
			w := hist[max(0, len(hist)-maxEvents):]
			bytes := 0
			for _, ev := range w {
				bytes += len(ev.ID) + len(ev.Data)
			}
			for len(w) > 1 && bytes > maxBytes {
				bytes -= len(w[0].ID) + len(w[0].Data)
				w = w[1:]
			}
			return w, bytes
		}
		model := map[string][]sse.Event{}
		var order []string // topics, least recently appended first
		topics := []string{"a", "b", "c"}
		ctx := context.Background()
		t.Repeat(map[string]func(*rapid.T){
			"append": func(t *rapid.T) {
				topic := rapid.SampledFrom(topics).Draw(t, "topic")
				ev := sse.Event{Data: rapid.StringMatching(`[a-z]{0,8}`).Draw(t, "data")}
				if rapid.Bool().Draw(t, "given") {
					ev.ID = fmt.Sprintf("g%d", len(model[topic]))
				}
				got, err := s.Append(ctx, topic, ev)
				if err != nil {
					t.Fatal(err)
				}
				if ev.ID != "" && got.ID != ev.ID {
					t.Fatalf("given ID %q stored as %q", ev.ID, got.ID)
				}
				for i, o := range order {
					if o == topic {
						order = append(order[:i:i], order[i+1:]...)
						break
					}
				}
				if _, ok := model[topic]; !ok && len(order) == 2 {
					delete(model, order[0])
					order = order[1:]
				}
				order = append(order, topic)
				model[topic] = append(model[topic], got)
				for {
					total := 0
					for _, hist := range model {
						_, n := window(hist)
						total += n
					}
					if total <= maxTotal || order[0] == topic {
						break
					}
					delete(model, order[0])
					order = order[1:]
				}
			},
			"after": func(t *rapid.T) {
				topic := rapid.SampledFrom(topics).Draw(t, "topic")
				hist := model[topic]
				if len(hist) == 0 {
					return
				}
				i := rapid.IntRange(0, len(hist)-1).Draw(t, "i")
				w, _ := window(hist)
				inWindow := i >= len(hist)-len(w)
				got, ok, err := s.After(ctx, topic, hist[i].ID)
				if err != nil || ok != inWindow {
					t.Fatalf("After(%q, #%d of %d) ok, err = %v, %v; want %v", topic, i, len(hist), ok, err, inWindow)
				}
				want := hist[i+1:]
				if !ok {
					want = hist[len(hist)-1:]
				}
				if diff := cmp.Diff(want, got, cmpEmpty); diff != "" {
					t.Fatalf("After(%q, #%d) (-want +got):\n%s", topic, i, diff)
				}
			},
		})
	})
}

var cmpEmpty = cmp.Comparer(func(a, b []sse.Event) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return cmp.Equal(a, b)
})

// TestMemoryStoreMemory: a million events through one topic keep only the
// window; a million topics published once keep only MaxTopics windows.
func TestMemoryStoreMemory(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled() {
		n = 200_000 // a million takes 6 s under -race
	}
	ctx := context.Background()
	t.Run("OneTopic", func(t *testing.T) {
		s := &sse.MemoryStore{}
		before := memtest.LiveHeap()
		for i := range n {
			if _, err := s.Append(ctx, "t", sse.Event{Data: "0123456789abcdef0123456789abcdef"}); err != nil {
				t.Fatal(i, err)
			}
		}
		kept := memtest.LiveHeap() - before
		t.Logf("%d events through one topic: %d B kept", n, kept)
		// The window: DefaultMaxEvents events of ~60 B strings (a 32 B Data
		// and a ~25 B ID) plus 72 B slots, and at most as many slots again
		// while the ring grows.
		if limit := int64(sse.DefaultMaxEvents * (60 + 2*72) * 5 / 4); kept > limit {
			t.Errorf("%d events through one topic keep %d B, want at most %d (the window)", n, kept, limit)
		}
		runtime.KeepAlive(s)
	})
	t.Run("ManyTopics", func(t *testing.T) {
		s := &sse.MemoryStore{MaxTopics: 1000}
		before := memtest.LiveHeap()
		for i := range n {
			if _, err := s.Append(ctx, fmt.Sprint("topic-", i), sse.Event{Data: "x"}); err != nil {
				t.Fatal(i, err)
			}
		}
		kept := memtest.LiveHeap() - before
		t.Logf("%d topics published once: %d B kept (%d per kept topic)", n, kept, kept/1000)
		if kept > 1<<20 {
			t.Errorf("%d topics published once keep %d B, want at most 1 MiB (1000 small windows)", n, kept)
		}
		runtime.KeepAlive(s)
	})
}
