package sse_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/sse"
)

// addVectorSeeds adds every vector's stream to the corpus (the files in
// testdata/fuzz/FuzzDecoder hold what fuzzing found).
func addVectorSeeds(f *testing.F, add func(in []byte)) {
	if _, err := os.Stat(vectorsPath); err != nil {
		f.Fatal(err)
	}
	for _, v := range loadVectors(f) {
		add(bytes.Join(v.chunks(), nil))
	}
}

// FuzzDecoder checks, for any input, that the Decoder never panics, agrees
// with the reference parser, gives the same result however the input is
// split into reads, and keeps its limits: with MaxEventSize 32 no event's
// data exceeds 32 bytes as received, and the events before an
// ErrTooLarge are those the reference parser gives first.
func FuzzDecoder(f *testing.F) {
	addVectorSeeds(f, func(in []byte) { f.Add(in, uint64(1)) })
	f.Add([]byte("\xEF\xBB\xBF\r\ndata: \xE2\x82\r\n\r\n"), uint64(2))
	f.Add([]byte("data: "+strings.Repeat("x", 40)+"\n\n"), uint64(3))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		if len(in) > 1<<16 {
			return
		}
		want := referenceDecode(in)
		for _, ev := range want.Events {
			checkEvent(t, ev)
		}
		for name, r := range feeds(in, seed) {
			if diff := cmp.Diff(want, decodeWith(r, 0), sameErr); diff != "" {
				t.Fatalf("%s: decoding %q (-reference +got):\n%s", name, in, diff)
			}
		}
		const small = 32
		var first decResult
		i := 0
		for name, r := range feeds(in, seed) {
			got := decodeWith(r, small)
			if i == 0 {
				first = got
				if got.Err != nil && !errors.Is(got.Err, sse.ErrTooLarge) {
					t.Fatalf("MaxEventSize %d: %v", small, got.Err)
				}
				if len(got.Events) > len(want.Events) ||
					!cmp.Equal(got.Events, want.Events[:len(got.Events)], cmpEmptyNil) {
					t.Fatalf("MaxEventSize %d: events %+v are not the first events of %+v", small, got.Events, want.Events)
				}
				if got.Err == nil && len(got.Events) != len(want.Events) {
					t.Fatalf("MaxEventSize %d: %d events and no error, want %d", small, len(got.Events), len(want.Events))
				}
				for _, ev := range got.Events {
					if len(ev.Data) > 3*small { // each invalid byte may become a 3-byte U+FFFD
						t.Fatalf("MaxEventSize %d: event data of %d bytes", small, len(ev.Data))
					}
				}
			} else if diff := cmp.Diff(first, got, sameErr); diff != "" {
				t.Fatalf("MaxEventSize %d, %s: differs from another split (-first +got):\n%s", small, name, diff)
			}
			i++
		}
	})
}

var cmpEmptyNil = cmp.Comparer(func(a, b []sse.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
})

// checkEvent fails t for an event no EventSource can dispatch.
func checkEvent(t *testing.T, ev sse.Event) {
	t.Helper()
	if ev.Type == "" || strings.ContainsAny(ev.Type, "\r\n") || strings.ContainsAny(ev.ID, "\r\n\x00") ||
		!utf8.ValidString(ev.Type) || !utf8.ValidString(ev.ID) || !utf8.ValidString(ev.Data) || ev.Retry != 0 {
		t.Fatalf("impossible event %+q", ev)
	}
}

// FuzzRoundTrip checks that any event AppendEvent accepts comes out of a
// Decoder as itself: the same Data (line ends normalised to LF, as
// AppendEvent writes them), Type ("message" when empty), ID (kept by the
// next event that has none, as lastEventId persists) and retry.
func FuzzRoundTrip(f *testing.F) {
	f.Add("1", "update", "hello", int64(1500), "two")
	f.Add("", "", "", int64(0), "")
	f.Add(" a", " b", "a\r\nb\rc\n\nd\r", int64(-1), "\r\n")
	f.Add("ä\xFF", ":x", "\xE2\x82 \xEF\xBB\xBF", int64(1), "data: x\n\n")
	f.Fuzz(func(t *testing.T, id, typ, data string, retryMs int64, next string) {
		ev := sse.Event{ID: id, Type: typ, Data: data, Retry: time.Duration(min(max(retryMs, -1), 1<<40)) * time.Millisecond}
		wire, err := sse.AppendEvent(nil, ev)
		if err != nil {
			if !errors.Is(err, sse.ErrInvalidField) || !strings.ContainsAny(typ, "\r\n") && !strings.ContainsAny(id, "\r\n\x00") {
				t.Fatalf("AppendEvent(%+q) = %v", ev, err)
			}
			return
		}
		wire, err = sse.AppendEvent(wire, sse.Event{Data: next})
		if err != nil {
			t.Fatalf("AppendEvent(Data %q) = %v", next, err)
		}
		res := decodeWith(bytes.NewReader(wire), 0)
		if res.Err != nil {
			t.Fatalf("decoding %q: %v", wire, res.Err)
		}
		wantType := whatwgUTF8([]byte(typ))
		if wantType == "" {
			wantType = "message"
		}
		wantID := whatwgUTF8([]byte(id))
		want := []sse.Event{
			{ID: wantID, Type: wantType, Data: whatwgUTF8([]byte(normaliseEOL(data)))},
			{ID: wantID, Type: "message", Data: whatwgUTF8([]byte(normaliseEOL(next)))},
		}
		if diff := cmp.Diff(want, res.Events); diff != "" {
			t.Fatalf("decoding %q (-want +got):\n%s", wire, diff)
		}
		if res.LastEventID != wantID {
			t.Errorf("LastEventID() = %q, want %q", res.LastEventID, wantID)
		}
		if wantRetry := ev.Retry.Truncate(1e6); res.RetrySet != (ev.Retry >= 1e6) || res.RetrySet && res.Retry != wantRetry {
			t.Errorf("Retry() = %v, %v; want %v", res.Retry, res.RetrySet, wantRetry)
		}
	})
}

// normaliseEOL turns CRLF and CR into LF.
func normaliseEOL(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
