package sse_test

// The Decoder on a realistic stream: JSON events of about 100 bytes with an
// incrementing id, a custom type on one in four and a heartbeat comment
// every ten, read from a reader returning 32 KiB at a time (a loopback
// socket's typical read). Each op is one event, so ns/op and allocs/op are
// per event; events/s is reported too.
//
//	go test -run '^$' -bench Decoder -benchmem -count 6 ./sse/

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/sse"
)

// repeatReader returns the bytes of a stream over and over, at most max
// bytes per Read.
type repeatReader struct {
	data []byte
	off  int
	max  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	p = p[:min(len(p), r.max)]
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

// realisticStream returns n events as a server sends them.
func realisticStream(n int) string {
	var b strings.Builder
	for i := range n {
		if i%10 == 0 {
			b.WriteString(": heartbeat\n\n")
		}
		fmt.Fprintf(&b, "id: %d\n", 1000000+i)
		if i%4 == 0 {
			b.WriteString("event: update\n")
		}
		fmt.Fprintf(&b, "data: {\"user\":\"u%d\",\"text\":\"hello world, this is message %d\",\"ts\":%d}\n\n", i%97, i, 1700000000+i)
	}
	return b.String()
}

func BenchmarkDecoder(b *testing.B) {
	for _, bc := range []struct {
		name   string
		stream string
	}{
		{"realistic", realisticStream(1000)},
		{"data-only", strings.Repeat("data: {\"a\":1,\"b\":\"some text of a typical size for a message\"}\n\n", 100)},
		{"multiline-crlf", strings.Repeat("id: 7\r\nevent: log\r\ndata: line one\r\ndata: line two\r\ndata: line three\r\n\r\n", 100)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := sse.NewDecoder(&repeatReader{data: []byte(bc.stream), max: 32 << 10})
			events := strings.Count(bc.stream, "data:")
			b.SetBytes(int64(len(bc.stream) / events))
			b.ReportAllocs()
			for b.Loop() {
				ev, err := d.Next()
				if err != nil || ev.Data == "" {
					b.Fatalf("Next() = %+v, %v", ev, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkDecoderInvalidUTF8 measures the slow path: every event's data
// has ill-formed sequences to replace.
func BenchmarkDecoderInvalidUTF8(b *testing.B) {
	stream := strings.Repeat("data: caf\xC3 \xE2\x82 na\xEFve \xFF text of a typical size for a message\n\n", 100)
	d := sse.NewDecoder(&repeatReader{data: []byte(stream), max: 32 << 10})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

var _ io.Reader = (*repeatReader)(nil)
