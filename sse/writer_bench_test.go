package sse_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nodekit/nodekit/sse"
)

// discardWriter is a ResponseWriter that counts and discards what it is
// given and can flush, as net/http's can; with deadlines it also takes
// write deadlines.
type discardWriter struct {
	h         http.Header
	status    int
	n         int64
	flushes   int
	deadlines int
}

func (d *discardWriter) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discardWriter) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
func (d *discardWriter) Flush()                      { d.flushes++ }

// deadlineWriter is a discardWriter that also takes write deadlines.
type deadlineWriter struct{ discardWriter }

func (d *deadlineWriter) SetWriteDeadline(time.Time) error { d.deadlines++; return nil }

// BenchmarkWriterSend: one 32-byte event with an ID and a type written and
// flushed, through the ResponseController, with and without deadlines.
func BenchmarkWriterSend(b *testing.B) {
	ev := sse.Event{ID: "1234", Type: "tick", Data: "0123456789abcdef0123456789abcdef"}
	// A request whose context can end, as a server's does.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	for _, bb := range []struct {
		name string
		w    http.ResponseWriter
	}{
		{"NoDeadline", &discardWriter{}},
		{"Deadline", &deadlineWriter{}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			w, err := sse.Upgrade(bb.w, r)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := w.Send(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
