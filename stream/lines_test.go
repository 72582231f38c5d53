package stream_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/internal/nodetest"
	"github.com/nodekit/nodekit/stream"
)

// chunkReader returns its chunks one per Read, as a pipe or a socket
// would; an empty chunk is a Read that returns 0, nil.
type chunkReader struct{ chunks [][]byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func chunked(parts ...string) io.Reader {
	r := &chunkReader{}
	for _, p := range parts {
		r.chunks = append(r.chunks, []byte(p))
	}
	return r
}

// refLines is the reference line splitter: byte by byte, LF, CR and CRLF
// end a line, a last line needs no line end, a line longer than max is an
// error after the lines before it.
func refLines(data []byte, max int) ([]string, error) {
	var out []string
	var cur []byte
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\r', '\n':
			out = append(out, string(cur))
			cur = cur[:0]
			if c == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
		default:
			if cur = append(cur, c); len(cur) > max {
				return out, stream.ErrLineTooLong
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out, nil
}

func TestLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"empty", nil, nil},
		{"empty read", []string{""}, nil},
		{"no final newline", []string{"a"}, []string{"a"}},
		{"LF", []string{"a\nb\n"}, []string{"a", "b"}},
		{"lone LF", []string{"\n"}, []string{""}},
		{"CR", []string{"a\rb\rc"}, []string{"a", "b", "c"}},
		{"CRLF", []string{"a\r\n\r\n"}, []string{"a", ""}},
		{"LF CR is two", []string{"a\n\r"}, []string{"a", ""}},
		{"CR CR", []string{"\r\r"}, []string{"", ""}},
		{"CR then LF in the next read", []string{"a\r", "\nb"}, []string{"a", "b"}},
		{"CR, empty reads, LF", []string{"a\r", "", "", "\nb"}, []string{"a", "b"}},
		{"CR then CRLF in the next read", []string{"x\r", "\r\n"}, []string{"x", ""}},
		{"CR at the end", []string{"a\r"}, []string{"a"}},
		{"line across reads", []string{"a", "", "b\n"}, []string{"ab"}},
		{"BOM kept", []string{"\ufeffab\n"}, []string{"\ufeffab"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stream.Collect(stream.Lines(chunked(tc.chunks...)))
			if diff := cmp.Diff(tc.want, got); diff != "" || err != nil {
				t.Errorf("Lines(%q) = %q, %v; want %q, nil (-want +got):\n%s", tc.chunks, got, err, tc.want, diff)
			}
		})
	}
}

// Lines agrees with Node's readline over random inputs cut into random
// reads; LF, CR, CRLF and a CR and LF split between two reads are all
// frequent.
func TestLinesAgainstNode(t *testing.T) {
	node := nodetest.Path(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "\r", "\n", "\r\n", "é", "日本"}
	var cases [][][]byte
	for range 400 {
		var data []byte
		for range rng.IntN(40) {
			data = append(data, alphabet[rng.IntN(len(alphabet))]...)
		}
		// No empty chunks: Node's readline takes an empty chunk between a
		// CR and an LF as the end of the CR's pairing (its kSawReturnAt is
		// reset by any write that does not start with LF), which makes
		// them two line ends; Node's own sources (fs, net) never push
		// one, and a Go Reader should not return 0, nil. Lines pairs them
		// across any number of empty reads (TestLines).
		chunks := [][]byte{} // JSON [], not null
		for len(data) > 0 {
			n := min(len(data), 1+rng.IntN(5))
			chunks = append(chunks, data[:n])
			data = data[n:]
		}
		cases = append(cases, chunks)
	}
	in, err := json.Marshal(cases) // []byte as base64
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "testdata/readline.js")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var fromNode [][]string
	if err := json.Unmarshal(out, &fromNode); err != nil {
		t.Fatalf("node's output: %v", err)
	}
	if len(fromNode) != len(cases) {
		t.Fatalf("node answered %d cases of %d", len(fromNode), len(cases))
	}
	for i, chunks := range cases {
		var want []string
		for _, l := range fromNode[i] {
			b, _ := base64.StdEncoding.DecodeString(l)
			want = append(want, string(b))
		}
		r := &chunkReader{}
		for _, c := range chunks {
			r.chunks = append(r.chunks, append([]byte(nil), c...))
		}
		got, err := stream.Collect(stream.Lines(r))
		if diff := cmp.Diff(want, got); diff != "" || err != nil {
			t.Errorf("Lines(%q) = %q, %v; Node's readline: %q (-node +go):\n%s", chunks, got, err, want, diff)
		}
	}
}

// A line longer than the limit ends the stream with ErrLineTooLong after
// the lines before it; a line of exactly the limit is fine, also across
// the growth of the buffer.
func TestLinesTooLong(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	got, err := stream.Collect(stream.LinesMax(strings.NewReader("a\n"+long+"\nb\n"), 100_000))
	if diff := cmp.Diff([]string{"a", long, "b"}, got); diff != "" || err != nil {
		t.Errorf("a line of exactly the limit: (-want +got):\n%s\nerr = %v", diff, err)
	}
	got, err = stream.Collect(stream.LinesMax(strings.NewReader("a\n"+long+"y\nb\n"), 100_000))
	if !errors.Is(err, stream.ErrLineTooLong) || !slices.Equal(got, []string{"a"}) {
		t.Errorf("a line one byte over the limit: %d lines, %v; want [a], ErrLineTooLong", len(got), err)
	}
	if err != nil && !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %q does not name line 2", err)
	}
	// The default limit: 1 MiB is fine, 1 MiB + 1 is not; the input never
	// ends, so the limit is what stops it.
	got, err = stream.Collect(stream.Lines(io.MultiReader(strings.NewReader(strings.Repeat("z", stream.MaxLineLength)+"\n"), zeros{})))
	if !errors.Is(err, stream.ErrLineTooLong) || len(got) != 1 || len(got[0]) != stream.MaxLineLength {
		t.Errorf("Lines over a 1 MiB line then endless bytes: %d lines, %v; want 1, ErrLineTooLong", len(got), err)
	}
}

// zeros is an endless reader of 'z'.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

// A read error ends the stream after the complete lines; the bytes of the
// Read that returned it come first; an io.EOF returned with the last bytes
// is the end.
func TestLinesReadErrors(t *testing.T) {
	errRead := errors.New("read failed")
	got, err := stream.Collect(stream.Lines(io.MultiReader(strings.NewReader("a\nb\npartial"), iotest.ErrReader(errRead))))
	if !slices.Equal(got, []string{"a", "b"}) || err != errRead {
		t.Errorf("Lines before a read error = %q, %v; want [a b], %v", got, err, errRead)
	}
	got, err = stream.Collect(stream.Lines(iotest.DataErrReader(strings.NewReader("a\r\nb"))))
	if !slices.Equal(got, []string{"a", "b"}) || err != nil {
		t.Errorf("Lines with EOF on the last Read = %q, %v; want [a b], nil", got, err)
	}
	got, err = stream.Collect(stream.Lines(iotest.OneByteReader(strings.NewReader("a\r\nb\r\rc"))))
	if !slices.Equal(got, []string{"a", "b", "", "c"}) || err != nil {
		t.Errorf("Lines one byte per Read = %q, %v", got, err)
	}
	got, err = stream.Collect(stream.Lines(emptyReads{}))
	if len(got) != 0 || err != io.ErrNoProgress {
		t.Errorf("Lines over a reader that returns nothing = %q, %v; want none, io.ErrNoProgress", got, err)
	}
}

type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }

// Lines can be ranged once: the second range yields ErrConsumed (the
// first may have read ahead of the line it stopped at).
func TestLinesOneShot(t *testing.T) {
	s := stream.Lines(strings.NewReader("a\nb\nc\n"))
	for range s {
		break
	}
	got, err := stream.Collect(s)
	if len(got) != 0 || err != stream.ErrConsumed {
		t.Errorf("second range = %q, %v; want none, ErrConsumed", got, err)
	}
}

// FuzzLines checks Lines against refLines for any bytes cut into any
// reads, with a small limit so that long lines are frequent.
func FuzzLines(f *testing.F) {
	for _, seed := range []string{
		"", "a", "a\n", "\n", "\r", "\r\n", "a\r\nb", "a\rb\nc\r\n", "\r\r\n\n", "x\r\r\n",
		"no final newline", "\n\n\n", strings.Repeat("long", 40) + "\nshort\n",
	} {
		f.Add([]byte(seed), uint64(0), uint8(16))
		f.Add([]byte(seed), uint64(0x0102030405060708), uint8(200))
	}
	f.Fuzz(func(t *testing.T, data []byte, cuts uint64, max uint8) {
		limit := int(max) + 1
		want, wantErr := refLines(data, limit)
		// Cut data into reads of 1..8 bytes, as cuts says.
		r := &chunkReader{}
		rest := data
		for c := cuts; len(rest) > 0; c = c>>3 | c<<61 {
			n := min(len(rest), int(c&7)+1)
			r.chunks = append(r.chunks, append([]byte(nil), rest[:n]...))
			rest = rest[n:]
		}
		got, err := stream.Collect(stream.LinesMax(r, limit))
		if diff := cmp.Diff(want, got); diff != "" || !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Fatalf("LinesMax(%q, %d) = %q, %v; want %q, %v (-want +got):\n%s", data, limit, got, err, want, wantErr, diff)
		}
		// One Read for everything, with the default limit.
		want, _ = refLines(data, stream.MaxLineLength)
		got, err = stream.Collect(stream.Lines(bytes.NewReader(data)))
		if diff := cmp.Diff(want, got); diff != "" || err != nil {
			t.Fatalf("Lines(%q) = %q, %v; want %q (-want +got):\n%s", data, got, err, want, diff)
		}
	})
}
