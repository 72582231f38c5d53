package sse_test

// The parsing vectors of ../shared/testdata/sse-vectors.json, each observed
// in Chromium's EventSource (format: ../shared/testdata/README.md). The file
// is copied to testdata/sse-vectors.json so that a clean clone of the
// repository runs these tests; TestVectorsCopyIsCurrent notices when the
// shared file moves on.

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/sse"
)

// sseVector is one vector of sse-vectors.json.
type sseVector struct {
	Name        string     `json:"name"`
	Source      string     `json:"source"`
	Chunks      []string   `json:"chunks"`
	ChunksB64   [][]byte   `json:"chunks_b64"`
	Expect      []vecEvent `json:"expect"`
	Retry       *int       `json:"retry"`
	LastEventID string     `json:"last_event_id"`
	Note        string     `json:"note"`
}

// vecEvent is an event as the vectors record it.
type vecEvent struct {
	Type        string `json:"type"`
	Data        string `json:"data"`
	LastEventID string `json:"lastEventId"`
}

// chunks returns the vector's reads as bytes.
func (v *sseVector) chunks() [][]byte {
	if v.ChunksB64 != nil {
		return v.ChunksB64
	}
	out := make([][]byte, len(v.Chunks))
	for i, c := range v.Chunks {
		out[i] = []byte(c)
	}
	return out
}

const vectorsPath = "testdata/sse-vectors.json"

func loadVectors(t testing.TB) []sseVector {
	t.Helper()
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []sseVector }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("%s: %v", vectorsPath, err)
	}
	if len(file.Vectors) == 0 {
		t.Fatalf("%s: no vectors", vectorsPath)
	}
	return file.Vectors
}

// chunkReader returns one chunk per Read (a chunk larger than the caller's
// buffer is returned over several reads).
type chunkReader struct{ chunks [][]byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

// vecResult is everything a vector checks about one decoding.
type vecResult struct {
	Events      []vecEvent
	Retry       *int
	LastEventID string
	Err         error
}

func decodeVector(r io.Reader) vecResult {
	d := sse.NewDecoder(r)
	var res vecResult
	for {
		ev, err := d.Next()
		if err != nil {
			if err != io.EOF {
				res.Err = err
			}
			break
		}
		res.Events = append(res.Events, vecEvent{Type: ev.Type, Data: ev.Data, LastEventID: ev.ID})
		if ev.Retry != 0 {
			res.Err = errRetryInEvent
			break
		}
	}
	if _, err := d.Next(); res.Err == nil && err != io.EOF {
		res.Err = err // io.EOF must be sticky
	}
	if r, ok := d.Retry(); ok {
		ms := int(r / time.Millisecond)
		res.Retry = &ms
	}
	res.LastEventID = d.LastEventID()
	return res
}

var errRetryInEvent = io.ErrShortBuffer // any distinct error: a decoded Event has no Retry

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			want := vecResult{Events: v.Expect, Retry: v.Retry, LastEventID: v.LastEventID}
			if len(want.Events) == 0 {
				want.Events = nil
			}
			chunks := v.chunks()
			feeds := []struct {
				name string
				r    func() io.Reader
			}{
				{"as given", func() io.Reader {
					cs := make([][]byte, len(chunks))
					for i, c := range chunks {
						cs[i] = bytes.Clone(c)
					}
					return &chunkReader{cs}
				}},
				{"one read", func() io.Reader { return &chunkReader{[][]byte{bytes.Join(chunks, nil)}} }},
				{"one byte per read", func() io.Reader {
					return iotest.OneByteReader(bytes.NewReader(bytes.Join(chunks, nil)))
				}},
			}
			for _, f := range feeds {
				got := decodeVector(f.r())
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
					t.Errorf("%s: decoding %q (-want +got):\n%s\nnote: %s", f.name, bytes.Join(chunks, nil), diff, v.Note)
				}
			}
		})
	}
}

// TestVectorsCopyIsCurrent compares testdata/sse-vectors.json with the
// shared file it was copied from, when that file is there (in the
// workspace, not in a clone of the repository).
func TestVectorsCopyIsCurrent(t *testing.T) {
	const shared = "../../shared/testdata/sse-vectors.json"
	want, err := os.ReadFile(shared)
	if err != nil {
		t.Skipf("%s not found (not in the nodekit workspace): the copy in %s is used as is", shared, vectorsPath)
	}
	got, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s: copy it again", vectorsPath, shared)
	}
}
