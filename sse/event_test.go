package sse_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/nodekit/nodekit/sse"
)

func TestAppendEvent(t *testing.T) {
	for _, tt := range []struct {
		name string
		ev   sse.Event
		want string
	}{
		{"data only", sse.Event{Data: "hello"}, "data: hello\n\n"},
		{"empty data", sse.Event{}, "data:\n\n"},
		{"all fields", sse.Event{ID: "7", Type: "tick", Data: "x", Retry: 1500 * time.Millisecond},
			"id: 7\nevent: tick\nretry: 1500\ndata: x\n\n"},
		{"LF", sse.Event{Data: "a\nb"}, "data: a\ndata: b\n\n"},
		{"CR", sse.Event{Data: "a\rb"}, "data: a\ndata: b\n\n"},
		{"CRLF", sse.Event{Data: "a\r\nb"}, "data: a\ndata: b\n\n"},
		{"LFCR is two breaks", sse.Event{Data: "a\n\rb"}, "data: a\ndata:\ndata: b\n\n"},
		{"blank line in data", sse.Event{Data: "a\n\nb"}, "data: a\ndata:\ndata: b\n\n"},
		{"trailing LF", sse.Event{Data: "a\n"}, "data: a\ndata:\n\n"},
		{"only LF", sse.Event{Data: "\n"}, "data:\ndata:\n\n"},
		{"trailing CR", sse.Event{Data: "a\r"}, "data: a\ndata:\n\n"},
		{"trailing CRLF", sse.Event{Data: "a\r\n"}, "data: a\ndata:\n\n"},
		{"only CR", sse.Event{Data: "\r"}, "data:\ndata:\n\n"},
		{"only CRLF", sse.Event{Data: "\r\n"}, "data:\ndata:\n\n"},
		{"CR CRLF is two breaks", sse.Event{Data: "a\r\r\nb"}, "data: a\ndata:\ndata: b\n\n"},
		{"CRLF LF", sse.Event{Data: "a\r\n\nb"}, "data: a\ndata:\ndata: b\n\n"},
		{"CRs before a far LF", sse.Event{Data: "a\rb\rc" + strings.Repeat("d", 40) + "\ne\r\nf"},
			"data: a\ndata: b\ndata: c" + strings.Repeat("d", 40) + "\ndata: e\ndata: f\n\n"},
		{"field injection in data", sse.Event{Data: "x\nid: 666\nevent: evil\n\ndata: y"},
			"data: x\ndata: id: 666\ndata: event: evil\ndata:\ndata: data: y\n\n"},
		{"leading space kept", sse.Event{Data: " a\n  b"}, "data:  a\ndata:   b\n\n"},
		{"colon data", sse.Event{Data: ": not a comment"}, "data: : not a comment\n\n"},
		{"NUL in data", sse.Event{Data: "a\x00b"}, "data: a\x00b\n\n"},
		{"sub-millisecond retry", sse.Event{Retry: time.Microsecond, Data: "x"}, "retry: 0\ndata: x\n\n"},
		{"negative retry omitted", sse.Event{Retry: -time.Second, Data: "x"}, "data: x\n\n"},
		{"id with spaces", sse.Event{ID: " a b ", Data: "x"}, "id:  a b \ndata: x\n\n"},
		{"NUL in type allowed", sse.Event{Type: "a\x00b"}, "event: a\x00b\ndata:\n\n"},
		{"unicode", sse.Event{ID: "é", Type: "ü", Data: "日本\n語"}, "id: é\nevent: ü\ndata: 日本\ndata: 語\n\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("kept")
			got, err := sse.AppendEvent(prefix, tt.ev)
			if err != nil {
				t.Fatalf("AppendEvent(%+v) error %v", tt.ev, err)
			}
			if diff := cmp.Diff("kept"+tt.want, string(got)); diff != "" {
				t.Errorf("AppendEvent(%+v) (-want +got):\n%s", tt.ev, diff)
			}
		})
	}
}

func TestAppendEventInvalid(t *testing.T) {
	for _, ev := range []sse.Event{
		{ID: "a\nb"},
		{ID: "a\rb"},
		{ID: "a\r\n"},
		{ID: "a\x00b"},
		{Type: "a\nb"},
		{Type: "\r"},
		{Type: "x\r\nid: 1", Data: "fine"},
	} {
		dst := make([]byte, 3, 64)
		copy(dst, "abc")
		got, err := sse.AppendEvent(dst, ev)
		if !errors.Is(err, sse.ErrInvalidField) {
			t.Errorf("AppendEvent(%q) error = %v, want ErrInvalidField", ev, err)
		}
		if string(got) != "abc" || string(dst[:cap(dst)][3:6]) != "\x00\x00\x00" {
			t.Errorf("AppendEvent(%q) = %q and wrote past dst; want dst unchanged", ev, got)
		}
	}
}

func TestAppendComment(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"", ":\n"},
		{"ping", ": ping\n"},
		{"a\nb", ": a\n: b\n"},
		{"a\rb\r\nc", ": a\n: b\n: c\n"},
		{"\n", ":\n:\n"},
		{"\ndata: evil\n", ":\n: data: evil\n:\n"},
		{"a\r", ": a\n:\n"},
		{"\r\n\r", ":\n:\n:\n"},
	} {
		if got := string(sse.AppendComment([]byte("x"), tt.text)); got != "x"+tt.want {
			t.Errorf("AppendComment(%q) = %q, want %q", tt.text, got, "x"+tt.want)
		}
	}
}

// TestAppendEventAllocs: with a buffer already grown, encoding allocates
// nothing.
func TestAppendEventAllocs(t *testing.T) {
	ev := sse.Event{ID: "42", Type: "tick", Data: "0123456789abcdef\n0123456789abcdef", Retry: time.Second}
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = sse.AppendEvent(buf[:0], ev)
		if err != nil {
			t.Fatal(err)
		}
		buf = sse.AppendComment(buf, "hb")
	})
	if allocs != 0 {
		t.Errorf("AppendEvent+AppendComment into a grown buffer: %v allocs, want 0", allocs)
	}
}

// FuzzAppendEvent: whatever the fields, a valid event encodes as field
// lines only — at most one id, event and retry line, then data lines —
// ending in the one blank line that dispatches it; an invalid one is
// refused with dst unchanged. (Decoding the encoding back is
// FuzzRoundTrip's.)
func FuzzAppendEvent(f *testing.F) {
	f.Add("1", "tick", "hello", int64(0))
	f.Add("", "", "", int64(-1))
	f.Add("a\nb", "t", "x", int64(5))
	f.Add("id", "t\r", "x", int64(5))
	f.Add("id\x00", "t", "x", int64(5))
	f.Add("", "", "a\r\n\r\nb\n\nid: 3\n\rretry: 1", int64(1e9))
	f.Add("", "", "\n\n\n", int64(0))
	f.Add(" ", " ", " : ", int64(999999))
	f.Fuzz(func(t *testing.T, id, typ, data string, retry int64) {
		ev := sse.Event{ID: id, Type: typ, Data: data, Retry: time.Duration(retry)}
		out, err := sse.AppendEvent([]byte("prefix"), ev)
		invalid := strings.ContainsAny(id, "\r\n\x00") || strings.ContainsAny(typ, "\r\n")
		if invalid {
			if !errors.Is(err, sse.ErrInvalidField) || string(out) != "prefix" {
				t.Fatalf("AppendEvent(%q) = %q, %v; want dst unchanged, ErrInvalidField", ev, out, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("AppendEvent(%q) error %v", ev, err)
		}
		s, ok := strings.CutPrefix(string(out), "prefix")
		if !ok {
			t.Fatalf("AppendEvent(%q) = %q, changed dst", ev, out)
		}
		if strings.Contains(s, "\r") {
			t.Fatalf("AppendEvent(%q) = %q contains CR", ev, s)
		}
		body, ok := strings.CutSuffix(s, "\n\n")
		if !ok {
			t.Fatalf("AppendEvent(%q) = %q, does not end with a blank line", ev, s)
		}
		seen := map[string]int{}
		var dataLines []string
		for i, line := range strings.Split(body, "\n") {
			if line == "" {
				t.Fatalf("AppendEvent(%q) = %q: blank line %d dispatches early", ev, s, i)
			}
			switch {
			case strings.HasPrefix(line, "data:"):
				dataLines = append(dataLines, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
				continue
			case strings.HasPrefix(line, "id: "):
				seen["id"]++
			case strings.HasPrefix(line, "event: "):
				seen["event"]++
			case strings.HasPrefix(line, "retry: "):
				seen["retry"]++
			default:
				t.Fatalf("AppendEvent(%q) = %q: line %q is not a field the writer writes", ev, s, line)
			}
			if len(dataLines) > 0 {
				t.Fatalf("AppendEvent(%q) = %q: field line %q after the data", ev, s, line)
			}
		}
		for field, n := range seen {
			if n > 1 {
				t.Fatalf("AppendEvent(%q) = %q: %d %s lines", ev, s, n, field)
			}
		}
		if (seen["id"] == 1) != (id != "") || (seen["event"] == 1) != (typ != "") || (seen["retry"] == 1) != (retry > 0) {
			t.Fatalf("AppendEvent(%q) = %q: fields %v do not match the event", ev, s, seen)
		}
		// Data lines joined by LF are Data with its line breaks normalized.
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(data)
		if got := strings.Join(dataLines, "\n"); got != want {
			t.Fatalf("AppendEvent(%q): data lines give %q, want %q", ev, got, want)
		}
		if ref, _ := referenceEvent(ev); s != ref {
			t.Fatalf("AppendEvent(%q) = %q, reference %q", ev, s, ref)
		}
	})
}

// TestAppendEventMatchesReference: for random events rich in CR, LF, CRLF
// and NUL, at lengths that cross the word and vector sizes of the line
// search, AppendEvent and AppendComment write exactly what referenceEvent
// and referenceComment do, and refuse what they refuse with dst unchanged.
func TestAppendEventMatchesReference(t *testing.T) {
	pieces := []string{"\r", "\n", "\r\n", "\n\r", "\x00", " ", ":", "a", "é", "id: 1",
		"abcdefghijklmnopqrstuvwxyz0123456789"}
	text := rapid.Custom(func(t *rapid.T) string {
		return strings.Join(rapid.SliceOfN(rapid.SampledFrom(pieces), 0, 48).Draw(t, "pieces"), "")
	})
	field := rapid.OneOf(rapid.Just(""), rapid.StringMatching(`[a-z0-9 ]{1,40}`), text)
	rapid.Check(t, func(t *rapid.T) {
		ev := sse.Event{
			ID:    field.Draw(t, "id"),
			Type:  field.Draw(t, "type"),
			Data:  text.Draw(t, "data"),
			Retry: time.Duration(rapid.Int64Range(-2e6, 2e12).Draw(t, "retry")),
		}
		got, err := sse.AppendEvent([]byte("kept"), ev)
		want, ok := referenceEvent(ev)
		if !ok {
			if !errors.Is(err, sse.ErrInvalidField) || string(got) != "kept" {
				t.Fatalf("AppendEvent(%q) = %q, %v; want dst unchanged, ErrInvalidField", ev, got, err)
			}
		} else if err != nil {
			t.Fatalf("AppendEvent(%q) error %v", ev, err)
		} else if diff := cmp.Diff("kept"+want, string(got)); diff != "" {
			t.Fatalf("AppendEvent(%q) (-reference +got):\n%s", ev, diff)
		}
		if got, want := string(sse.AppendComment([]byte("kept"), ev.Data)), "kept"+referenceComment(ev.Data); got != want {
			t.Fatalf("AppendComment(%q) = %q, reference %q", ev.Data, got, want)
		}
	})
}

// referenceEvent encodes ev as the specification reads, plainly: refuse
// an ID with CR, LF or NUL and a Type with CR or LF, write the fields
// that are set, then one data line per line of Data and a blank line.
func referenceEvent(ev sse.Event) (string, bool) {
	if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Type, "\r\n") {
		return "", false
	}
	var b strings.Builder
	if ev.ID != "" {
		b.WriteString("id: " + ev.ID + "\n")
	}
	if ev.Type != "" {
		b.WriteString("event: " + ev.Type + "\n")
	}
	if ev.Retry > 0 {
		fmt.Fprintf(&b, "retry: %d\n", ev.Retry/time.Millisecond)
	}
	for _, line := range referenceLines(ev.Data) {
		b.WriteString(referenceField("data:", line))
	}
	b.WriteString("\n")
	return b.String(), true
}

// referenceComment encodes text as comment lines, one per line of text.
func referenceComment(text string) string {
	var b strings.Builder
	for _, line := range referenceLines(text) {
		b.WriteString(referenceField(":", line))
	}
	return b.String()
}

// referenceField is one line: the prefix, then a space and the value
// unless the value is empty.
func referenceField(prefix, value string) string {
	if value == "" {
		return prefix + "\n"
	}
	return prefix + " " + value + "\n"
}

// referenceLines splits s a byte at a time on CRLF, CR and LF, as a
// stream parser reads line ends; s without a break is one line.
func referenceLines(s string) []string {
	var lines []string
	var line []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			fallthrough
		case '\n':
			lines = append(lines, string(line))
			line = line[:0]
		default:
			line = append(line, s[i])
		}
	}
	return append(lines, string(line))
}
