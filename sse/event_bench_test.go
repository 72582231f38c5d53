package sse_test

import (
	"strings"
	"testing"

	"github.com/nodekit/nodekit/sse"
)

// BenchmarkAppendEvent: a 32-byte data event with an ID and a type,
// encoded into a reused buffer.
func BenchmarkAppendEvent(b *testing.B) {
	ev := sse.Event{ID: "1234", Type: "tick", Data: "0123456789abcdef0123456789abcdef"}
	buf := make([]byte, 0, 128)
	benchAppendEvent(b, ev, buf)
}

// BenchmarkAppendEventMultiline: a 1 KiB data of 16 lines.
func BenchmarkAppendEventMultiline(b *testing.B) {
	line := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"
	data := ""
	for range 16 {
		data += line
	}
	ev := sse.Event{ID: "1234", Type: "tick", Data: data}
	benchAppendEvent(b, ev, nil)
}

// BenchmarkAppendEventCRLines: 1 KiB of data split by CRs, with one LF at
// the end: a line search that looked for the next LF anew at every CR
// would scan the rest of the data 512 times.
func BenchmarkAppendEventCRLines(b *testing.B) {
	data := strings.Repeat("a\r", 511) + "a\n"
	ev := sse.Event{ID: "1234", Type: "tick", Data: data}
	benchAppendEvent(b, ev, nil)
}

// benchAppendEvent encodes ev into buf, reused, once per iteration.
func benchAppendEvent(b *testing.B, ev sse.Event, buf []byte) {
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = sse.AppendEvent(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
