package sse_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/internal/nodetest"
	"github.com/nodekit/nodekit/sse"
)

// decResult is everything one decoding gives: the events, the error that
// ended it (nil for io.EOF), the last event ID and the retry in effect.
type decResult struct {
	Events      []sse.Event
	Err         error
	LastEventID string
	Retry       time.Duration
	RetrySet    bool
}

// decodeWith decodes all of r with a Decoder limited to max bytes (0: the
// default).
func decodeWith(r io.Reader, max int) decResult {
	d := sse.NewDecoder(r)
	d.MaxEventSize = max
	var res decResult
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			res.Err = err
			break
		}
		res.Events = append(res.Events, ev)
	}
	res.LastEventID = d.LastEventID()
	res.Retry, res.RetrySet = d.Retry()
	return res
}

// sameErr compares errors by the sentinel they wrap, so that results of
// different decodings of the same input compare equal.
var sameErr = cmp.Comparer(func(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return errors.Is(a, sse.ErrTooLarge) == errors.Is(b, sse.ErrTooLarge) && a.Error() == b.Error()
})

// feeds returns readers giving in as one read, one byte per read, and in
// random pieces of 1 to 17 bytes chosen by seed.
func feeds(in []byte, seed uint64) map[string]io.Reader {
	rng := rand.New(rand.NewPCG(seed, 1))
	var chunks [][]byte
	for rest := in; len(rest) > 0; {
		n := min(1+rng.IntN(17), len(rest))
		chunks = append(chunks, bytes.Clone(rest[:n]))
		rest = rest[n:]
	}
	return map[string]io.Reader{
		"one read":          &chunkReader{[][]byte{bytes.Clone(in)}},
		"one byte per read": iotest.OneByteReader(bytes.NewReader(in)),
		"random pieces":     &chunkReader{chunks},
	}
}

// whatwgUTF8 decodes b with the UTF-8 decoder of the WHATWG Encoding
// standard, written step by step from the standard's algorithm: the
// reference the Decoder's replacement is checked against (and which
// TestUTF8MatchesNode checks against Node's TextDecoder).
func whatwgUTF8(b []byte) string {
	var sb strings.Builder
	var cp rune
	needed, seen := 0, 0
	lower, upper := byte(0x80), byte(0xBF)
	for i := 0; ; {
		if i == len(b) {
			if needed != 0 {
				sb.WriteRune(utf8.RuneError)
			}
			return sb.String()
		}
		c := b[i]
		if needed == 0 {
			switch {
			case c <= 0x7F:
				sb.WriteByte(c)
			case 0xC2 <= c && c <= 0xDF:
				needed, cp = 1, rune(c&0x1F)
			case 0xE0 <= c && c <= 0xEF:
				if c == 0xE0 {
					lower = 0xA0
				}
				if c == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(c&0xF)
			case 0xF0 <= c && c <= 0xF4:
				if c == 0xF0 {
					lower = 0x90
				}
				if c == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(c&0x7)
			default:
				sb.WriteRune(utf8.RuneError)
			}
			i++
			continue
		}
		if c < lower || c > upper {
			cp, needed, seen = 0, 0, 0
			lower, upper = 0x80, 0xBF
			sb.WriteRune(utf8.RuneError)
			continue // c is read again ("prepend byte to stream")
		}
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(c&0x3F)
		seen++
		i++
		if seen == needed {
			sb.WriteRune(cp)
			cp, needed, seen = 0, 0, 0
		}
	}
}

// fataler is the part of testing.TB that *rapid.T has too.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// dataOf decodes one event whose data line carries raw and returns its
// Data.
func dataOf(t fataler, raw []byte) string {
	t.Helper()
	in := append(append([]byte("data: "), raw...), "\n\n"...)
	ev, err := sse.NewDecoder(bytes.NewReader(in)).Next()
	if err != nil {
		t.Fatalf("Next() on %q: %v", in, err)
	}
	return ev.Data
}

func TestDecoderUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\xE2\x82", "\uFFFD"},                 // truncated 3-byte sequence: one, not two
		{"\xE2\x82a", "\uFFFDa"},               // the byte that breaks it is read afresh
		{"\xFF\xFF", "\uFFFD\uFFFD"},           // one per invalid byte, not one per run
		{"\xC0\xAF", "\uFFFD\uFFFD"},           // overlong lead byte
		{"\xE0\x80\xAF", "\uFFFD\uFFFD\uFFFD"}, // E0 needs A0–BF next
		{"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate
		{"\xF0\x9F\x98", "\uFFFD"},             // truncated 4-byte sequence
		{"\xF0\x9F\x98\xE2\x82\xAC", "\uFFFD€"},
		{"\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"}, // past U+10FFFF
		{"\xF5\x80", "\uFFFD\uFFFD"},
		{"a\x80b", "a\uFFFDb"},
		{"\xEF\xBF\xBD", "\uFFFD"}, // a real U+FFFD
		{"h\xC3\xA9", "hé"},
	}
	for _, tt := range tests {
		if got := dataOf(t, []byte(tt.in)); got != tt.want {
			t.Errorf("Data for %q = %+q, want %+q", tt.in, got, tt.want)
		}
		if ref := whatwgUTF8([]byte(tt.in)); ref != tt.want {
			t.Errorf("whatwgUTF8(%q) = %+q, want %+q (the reference is wrong)", tt.in, ref, tt.want)
		}
	}
}

// utf8Bytes draws byte strings rich in lead and continuation bytes.
func utf8Bytes() *rapid.Generator[[]byte] {
	interesting := []byte{0x00, 'a', 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
		0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF}
	return rapid.SliceOfN(rapid.OneOf(rapid.SampledFrom(interesting), rapid.Byte()), 0, 24).
		Filter(func(b []byte) bool { return bytes.IndexAny(b, "\r\n") < 0 })
}

func TestDecoderUTF8Property(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		raw := utf8Bytes().Draw(t, "raw")
		if got, want := dataOf(t, raw), whatwgUTF8(raw); got != want {
			t.Fatalf("Data for %q = %+q, want %+q", raw, got, want)
		}
	})
}

// TestUTF8MatchesNode checks the reference decoder, and so the Decoder,
// against Node's TextDecoder (the Encoding standard's decoder, as in
// browsers) on thousands of byte strings.
func TestUTF8MatchesNode(t *testing.T) {
	node := nodetest.Path(t)
	rng := rand.New(rand.NewPCG(11, 12))
	inputs := make([]string, 3000)
	for i := range inputs {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			if rng.IntN(3) == 0 {
				b[j] = byte(rng.IntN(0x80))
			} else {
				b[j] = byte(0x80 + rng.IntN(0x80))
			}
			if b[j] == '\r' || b[j] == '\n' {
				b[j] = 'x'
			}
		}
		inputs[i] = base64.StdEncoding.EncodeToString(b)
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "-e", `
		let s = ''; process.stdin.on('data', c => s += c).on('end', () => {
			const dec = new TextDecoder('utf-8');
			const out = JSON.parse(s).map(b => dec.decode(Buffer.from(b, 'base64')));
			process.stdout.write(JSON.stringify(out));
		});`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("node output: %v", err)
	}
	if len(want) != len(inputs) {
		t.Fatalf("node decoded %d strings, want %d", len(want), len(inputs))
	}
	for i, s := range inputs {
		raw, _ := base64.StdEncoding.DecodeString(s)
		if ref := whatwgUTF8(raw); ref != want[i] {
			t.Errorf("whatwgUTF8(%q) = %+q, Node's TextDecoder %+q", raw, ref, want[i])
		}
		if got := dataOf(t, raw); got != want[i] {
			t.Errorf("Data for %q = %+q, Node's TextDecoder %+q", raw, got, want[i])
		}
	}
}

func TestDecoderTooLarge(t *testing.T) {
	const max = 8
	tests := []struct {
		name   string
		in     string
		events []string // Data of the events returned before the end
		large  bool     // the end is ErrTooLarge, else io.EOF
	}{
		{"line of max bytes", "data:abc\n\n", []string{"abc"}, false},
		{"line over max", "data:abcd\n\n", nil, true},
		{"line over max after an event", "data:a\n\ndata:abcd\n\n", []string{"a"}, true},
		{"unterminated line over max", "data:a\n\n:123456789", []string{"a"}, true},
		{"unterminated line of max bytes", "data:a\n\n:1234567", []string{"a"}, false},
		{"CRLF not counted", "data:abc\r\n\r\n", []string{"abc"}, false},
		{"data of max bytes", "data:abc\ndata:abc\ndata:\n\n", []string{"abc\nabc\n"}, false},
		{"data over max", "data:abc\ndata:abc\ndata:a\n\n", nil, true},
		{"data bound is per event", "data:abc\ndata:abc\n\ndata:abc\ndata:abc\n\n", []string{"abc\nabc", "abc\nabc"}, false},
		{"many comments are fine", strings.Repeat(":comment\n", 100) + "data:x\n\n", []string{"x"}, false},
		{"many blank lines are fine", strings.Repeat("\n", 100) + "data:x\n\n", []string{"x"}, false},
	}
	for _, tt := range tests {
		for name, r := range feeds([]byte(tt.in), 1) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				d := sse.NewDecoder(r)
				d.MaxEventSize = max
				var got []string
				var err error
				for {
					var ev sse.Event
					if ev, err = d.Next(); err != nil {
						break
					}
					got = append(got, ev.Data)
				}
				if diff := cmp.Diff(tt.events, got); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if tt.large != errors.Is(err, sse.ErrTooLarge) || !tt.large && err != io.EOF {
					t.Fatalf("Next() = %v, want ErrTooLarge: %v", err, tt.large)
				}
				if _, again := d.Next(); again != err {
					t.Errorf("Next() after %v = %v, want the same error (sticky)", err, again)
				}
			})
		}
	}
}

// TestDecoderDefaultLimit checks the 1 MiB default: a data line of exactly
// DefaultMaxEventSize bytes goes through, one byte more does not.
func TestDecoderDefaultLimit(t *testing.T) {
	for _, n := range []int{sse.DefaultMaxEventSize - len("data:"), sse.DefaultMaxEventSize - len("data:") + 1} {
		in := "data:" + strings.Repeat("x", n) + "\n\n"
		ev, err := sse.NewDecoder(strings.NewReader(in)).Next()
		if tooLarge := len(in)-2 > sse.DefaultMaxEventSize; tooLarge != errors.Is(err, sse.ErrTooLarge) ||
			!tooLarge && len(ev.Data) != n {
			t.Errorf("line of %d bytes: Next() = %d bytes of data, %v", len(in)-2, len(ev.Data), err)
		}
	}
}

// TestDecoderBoundedMemory feeds an endless line: the decoder stops with
// ErrTooLarge after reading about MaxEventSize bytes instead of growing.
func TestDecoderBoundedMemory(t *testing.T) {
	counter := &countingReader{r: endless('x')}
	d := sse.NewDecoder(counter)
	d.MaxEventSize = 100 << 10
	if _, err := d.Next(); !errors.Is(err, sse.ErrTooLarge) {
		t.Fatalf("Next() on an endless line = %v, want ErrTooLarge", err)
	}
	if counter.n > 2*d.MaxEventSize {
		t.Errorf("read %d bytes before giving up, want at most %d", counter.n, 2*d.MaxEventSize)
	}
}

type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom))
	d := sse.NewDecoder(r)
	if ev, err := d.Next(); err != nil || ev.Data != "a" {
		t.Fatalf("Next() = %+v, %v; want a, nil", ev, err)
	}
	for range 2 {
		if _, err := d.Next(); err != boom {
			t.Fatalf("Next() = %v, want the reader's error as is, every time", err)
		}
	}
}

func TestDecoderNoProgress(t *testing.T) {
	d := sse.NewDecoder(readerFunc(func([]byte) (int, error) { return 0, nil }))
	if _, err := d.Next(); err != io.ErrNoProgress {
		t.Fatalf("Next() on a reader returning 0, nil forever = %v, want io.ErrNoProgress", err)
	}
}

func TestDecoderBadReadCount(t *testing.T) {
	d := sse.NewDecoder(readerFunc(func(p []byte) (int, error) { return len(p) + 1, nil }))
	if _, err := d.Next(); err == nil || err == io.EOF {
		t.Fatalf("Next() on a reader claiming more than it was given = %v, want an error", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestDecoderMisuse(t *testing.T) {
	wantPanic(t, "sse: nil Reader", func() { sse.NewDecoder(nil) })
	d := sse.NewDecoder(strings.NewReader("data: x\n\n"))
	d.MaxEventSize = -1
	wantPanic(t, "sse: negative Decoder.MaxEventSize", func() { d.Next() })
}

// wantPanic fails t unless f panics with the message want.
func wantPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if got := recover(); fmt.Sprint(got) != want {
			t.Errorf("panic %v, want %q", got, want)
		}
	}()
	f()
}

// TestDecoderDispatchesAtOnce checks that Next returns an event as soon as
// its blank line arrives, without waiting for more bytes, also when the
// blank line ends with a CR that an LF might still follow.
func TestDecoderDispatchesAtOnce(t *testing.T) {
	for _, in := range []string{"data: x\n\n", "data: x\r\r", "data: x\r\n\r\n", "\xEF\xBB\xBFdata: x\n\n"} {
		synctest.Test(t, func(t *testing.T) {
			pr, pw := io.Pipe()
			go pw.Write([]byte(in))
			d := sse.NewDecoder(pr)
			// If Next waited for more, every goroutine of the bubble would
			// be blocked and synctest would fail the test.
			if ev, err := d.Next(); err != nil || ev.Data != "x" {
				t.Errorf("Next() on %q = %+v, %v; want x", in, ev, err)
			}
			pw.Close()
			if _, err := d.Next(); err != io.EOF {
				t.Errorf("Next() at the end = %v, want io.EOF", err)
			}
		})
	}
}

func TestDecoderAll(t *testing.T) {
	in := "data: a\n\ndata: b\n\ndata: c\n\n"
	d := sse.NewDecoder(strings.NewReader(in))
	var got []string
	for ev, err := range d.All() {
		if err != nil {
			t.Fatalf("All() yielded %v", err)
		}
		got = append(got, ev.Data)
		if ev.Data == "a" {
			break
		}
	}
	for ev, err := range d.All() { // goes on after the break
		if err != nil {
			t.Fatalf("All() yielded %v", err)
		}
		got = append(got, ev.Data)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	d = sse.NewDecoder(strings.NewReader("data: a\n\ndata: bbbbbbbbbbbb\n\n"))
	d.MaxEventSize = 8
	var errs []error
	got = got[:0]
	for ev, err := range d.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, ev.Data)
	}
	if len(got) != 1 || len(errs) != 1 || !errors.Is(errs[0], sse.ErrTooLarge) {
		t.Errorf("All() = %q, %v; want [a], [ErrTooLarge] last", got, errs)
	}
}

// TestDecoderEventsStayValid checks that the strings of an event do not
// share the decoder's buffer: they are unchanged after many more reads.
func TestDecoderEventsStayValid(t *testing.T) {
	var in strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&in, "id: %d\nevent: type%d\ndata: payload %d\n\n", i, i%3, i)
	}
	d := sse.NewDecoder(strings.NewReader(in.String()))
	var kept []sse.Event
	for ev, err := range d.All() {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, ev)
	}
	if len(kept) != 2000 {
		t.Fatalf("got %d events, want 2000", len(kept))
	}
	for i, ev := range kept {
		want := sse.Event{ID: fmt.Sprint(i), Type: fmt.Sprintf("type%d", i%3), Data: fmt.Sprintf("payload %d", i)}
		if ev != want {
			t.Fatalf("event %d = %+v, want %+v", i, ev, want)
		}
	}
}

func TestDecoderRetry(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"retry: 0\n", 0, true},
		{"retry: 1500\n", 1500 * time.Millisecond, true},
		{"retry: 9223372036854\n", 9223372036854 * time.Millisecond, true},
		{"retry: 9223372036855\n", math.MaxInt64, true},                         // past time.Duration: saturates
		{"retry: 18446744073709551615\n", math.MaxInt64, true},                  // the largest uint64
		{"retry: 5\nretry: 18446744073709551616\n", 5 * time.Millisecond, true}, // past uint64: ignored
		{"retry: 5\nretry: 99999999999999999999999\n", 5 * time.Millisecond, true},
		{"retry: 5\nretry\n", 0, false},
		{"retry: 5\nretry: 6", 5 * time.Millisecond, true}, // an unterminated line is not processed
		{"retry: 5\r", 5 * time.Millisecond, true},
		{"retry: ٣\n", 0, false}, // ASCII digits only
	}
	for _, tt := range tests {
		d := sse.NewDecoder(strings.NewReader(tt.in))
		if _, err := d.Next(); err != io.EOF {
			t.Fatalf("Next() on %q = %v, want io.EOF", tt.in, err)
		}
		if got, ok := d.Retry(); got != tt.want || ok != tt.ok {
			t.Errorf("Retry() after %q = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestDecoderBOM covers the byte order mark beyond the vectors: Chromium
// looks for it only in the first three bytes, when no line ends among them,
// and takes the byte after it as part of the first line.
func TestDecoderBOM(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"BOM then CRLF: the CR starts the first line", "\xEF\xBB\xBF\r\ndata: x\n\n", []string{"x"}},
		{"BOM then CR CR: the first line is a lone CR", "\xEF\xBB\xBF\r\rdata: x\n\n", []string{"x"}},
		{"BOM then CR then data: one unknown field", "\xEF\xBB\xBF\rdata: x\n\ndata: y\n\n", []string{"y"}},
		{"half a BOM is part of the line", "\xEF\xBBdata: x\n\ndata: y\n\n", []string{"y"}},
		{"half a BOM then LF is a line", "\xEF\xBB\ndata: x\n\n", []string{"x"}},
		{"two BOMs: the second is not stripped", "\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", []string{"y"}},
		{"only a BOM", "\xEF\xBB\xBF", nil},
		{"BOM then blank lines", "\xEF\xBB\xBFdata: x\n\n", []string{"x"}},
		{"short stream", "\n", nil},
	}
	for _, tt := range tests {
		for name, r := range feeds([]byte(tt.in), 2) {
			res := decodeWith(r, 0)
			var got []string
			for _, ev := range res.Events {
				got = append(got, ev.Data)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || res.Err != nil {
				t.Errorf("%s, %s: %v, events (-want +got):\n%s", tt.name, name, res.Err, diff)
			}
		}
	}
}

// TestDecoderLastEventIDAtDispatch checks that an id takes effect at the
// blank line ending its block: an id in an event still open at the end is
// not the last event ID, and an event carries the ID in effect when it is
// dispatched.
func TestDecoderLastEventIDAtDispatch(t *testing.T) {
	d := sse.NewDecoder(strings.NewReader("id: 1\ndata: a\n\nid: 2\ndata: b\n"))
	ev, err := d.Next()
	if err != nil || ev.ID != "1" {
		t.Fatalf("Next() = %+v, %v; want ID 1", ev, err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("Next() = %v, want io.EOF", err)
	}
	if got := d.LastEventID(); got != "1" {
		t.Errorf("LastEventID() = %q, want %q (id 2 never reached a blank line)", got, "1")
	}
}

// TestDecoderMatchesReference decodes random streams built from the
// grammar's pieces and compares with the reference parser (written
// straight from the spec and the two Chromium behaviours), under every
// feeding.
func TestDecoderMatchesReference(t *testing.T) {
	names := []string{"data", "event", "id", "retry", "", "Data", "foo", "data ", "\xEF\xBB\xBFdata"}
	seps := []string{":", ": ", ":  ", ""}
	values := []string{"x", " ", "ä", "1", "0", "\x00", ":", "\xE2\x82", "\xFF", "\xF0\x9F\x98", "\xEF\xBB\xBF", "€"}
	ends := []string{"\n", "\r", "\r\n", "\n\n", "\r\r", "\r\n\r\n", ""}
	line := rapid.Custom(func(t *rapid.T) string {
		return rapid.SampledFrom(names).Draw(t, "name") + rapid.SampledFrom(seps).Draw(t, "sep") +
			strings.Join(rapid.SliceOfN(rapid.SampledFrom(values), 0, 4).Draw(t, "value"), "") +
			rapid.SampledFrom(ends).Draw(t, "end")
	})
	rapid.Check(t, func(t *rapid.T) {
		in := []byte(strings.Join(rapid.SliceOfN(line, 0, 16).Draw(t, "lines"), ""))
		want := referenceDecode(in)
		for name, r := range feeds(in, rapid.Uint64().Draw(t, "seed")) {
			if diff := cmp.Diff(want, decodeWith(r, 0), sameErr); diff != "" {
				t.Fatalf("%s: decoding %q (-reference +got):\n%s", name, in, diff)
			}
		}
	})
}

// referenceDecode parses a whole stream the plain way: split into lines,
// then interpret each (WHATWG HTML §9.2.6), with Chromium's byte after the
// BOM and empty retry. It has no size limits.
func referenceDecode(in []byte) decResult {
	var res decResult
	literal := false
	if len(in) >= 3 && string(in[:3]) == "\xEF\xBB\xBF" {
		in, literal = in[3:], true
	}
	var lines [][]byte
	start := 0
	for i := 0; i < len(in); i++ {
		if literal {
			literal = false
			continue
		}
		if in[i] == '\r' || in[i] == '\n' {
			lines = append(lines, in[start:i])
			if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	var data []string
	hasData := false
	typ, idBuf := "", ""
	for _, line := range lines {
		if len(line) == 0 {
			res.LastEventID = idBuf
			if hasData {
				ev := sse.Event{ID: idBuf, Type: whatwgUTF8([]byte(typ)), Data: whatwgUTF8([]byte(strings.Join(data, "\n")))}
				if ev.Type == "" {
					ev.Type = "message"
				}
				res.Events = append(res.Events, ev)
			}
			data, hasData, typ = nil, false, ""
			continue
		}
		name, value, found := strings.Cut(string(line), ":")
		if found && strings.HasPrefix(value, " ") {
			value = value[1:]
		}
		switch name {
		case "data":
			data, hasData = append(data, value), true
		case "event":
			typ = value
		case "id":
			if !strings.Contains(value, "\x00") {
				idBuf = whatwgUTF8([]byte(value))
			}
		case "retry":
			if value == "" {
				res.Retry, res.RetrySet = 0, false
			} else if ms, err := strconv.ParseUint(value, 10, 64); err == nil && strings.Trim(value, "0123456789") == "" {
				res.Retry, res.RetrySet = time.Duration(min(ms, math.MaxInt64/uint64(time.Millisecond)))*time.Millisecond, true
				if ms > math.MaxInt64/uint64(time.Millisecond) {
					res.Retry = math.MaxInt64
				}
			}
		}
	}
	return res
}

// TestDecoderMemoryFollowsTheStream decodes one event of 900 KiB, then
// small ones: the decoder gives back what the large event grew, instead of
// holding it for the life of the connection.
func TestDecoderMemoryFollowsTheStream(t *testing.T) {
	small := strings.Repeat("data: small\n\n", 40)
	d := sse.NewDecoder(io.MultiReader(
		strings.NewReader(small),
		strings.NewReader("data: "), io.LimitReader(endless('x'), 900<<10), strings.NewReader("\n\n"),
		strings.NewReader(small),
	))
	next := func() int {
		ev, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		return len(ev.Data)
	}
	for range 40 {
		next()
	}
	before := memtest.LiveHeap()
	if n := next(); n != 900<<10 {
		t.Fatalf("large event of %d bytes, want %d", n, 900<<10)
	}
	grown := memtest.LiveHeap()
	for range 40 {
		if n := next(); n != len("small") { // the shrinking kept the bytes read ahead
			t.Fatalf("event of %d bytes after the large one, want %d", n, len("small"))
		}
	}
	after := memtest.LiveHeap()
	if grown-before < 1<<20 {
		t.Logf("heap grew by only %d bytes during the large event", grown-before)
	}
	if after-before > 64<<10 {
		t.Errorf("heap %d bytes above where it was before the large event (%d at its peak), want under 64 KiB", after-before, grown-before)
	}
	runtime.KeepAlive(d)
}

// TestDecoderLargeEventsMatchReference mixes events far larger than the
// first buffer (so the buffers grow and shrink) with small ones, under
// every feeding.
func TestDecoderLargeEventsMatchReference(t *testing.T) {
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "id: big%d\ndata: %s\r\ndata: %s\r\n\r\n", i, strings.Repeat("é", 40<<10), strings.Repeat("x", (i+1)*30<<10))
		for j := range 20 {
			fmt.Fprintf(&b, ": %s\ndata: small %d\n\n", strings.Repeat("c", j*100), j)
		}
	}
	in := []byte(b.String())
	want := referenceDecode(in)
	if len(want.Events) != 63 {
		t.Fatalf("reference gives %d events, want 63", len(want.Events))
	}
	for name, r := range feeds(in, 3) {
		if diff := cmp.Diff(want, decodeWith(r, 0), sameErr); diff != "" {
			t.Errorf("%s: (-reference +got):\n%s", name, diff)
		}
	}
}
