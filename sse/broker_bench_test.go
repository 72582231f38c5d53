package sse_test

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"testing"

	"github.com/nodekit/nodekit/sse"
)

// BenchmarkPublish publishes 32-byte events to a topic with 1, 100 and 1000
// in-process subscribers (fake ResponseWriters that count bytes) and, every
// 128 events, waits until every subscriber has written the latest: ns/op is
// per event delivered to all of them, allocs/op include the subscribers'
// side and the MemoryStore's.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(strconv.Itoa(n)+"subscribers", func(b *testing.B) {
			connected := make(chan struct{}, n)
			br := &sse.Broker{Heartbeat: -1, OnConnect: func(string, *http.Request) { connected <- struct{}{} }}
			defer br.Close()
			fs := make([]*fakeWriter, n)
			for i := range fs {
				f, cancel, _ := goSubscribe(br, "t", "")
				defer cancel()
				f.mu.Lock()
				f.keep = false
				f.mu.Unlock()
				fs[i] = f
				<-connected
			}
			ctx := context.Background()
			ev := sse.Event{Data: "0123456789abcdef0123456789abcdef"}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if i%128 != 0 {
					if _, err := br.Publish(ctx, "t", ev); err != nil {
						b.Fatal(err)
					}
					continue
				}
				mark := "mark" + strconv.Itoa(i)
				if _, err := br.Publish(ctx, "t", sse.Event{Data: mark}); err != nil {
					b.Fatal(err)
				}
				for _, f := range fs {
					for !f.lastWrote("data: " + mark + "\n\n") {
						runtime.Gosched()
					}
				}
			}
			if got := br.Subscribers("t"); got != n {
				b.Fatalf("%d subscribers left of %d: some were too slow", got, n)
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkPublishNoSubscribers is the cost of Publish to a topic nobody
// follows: the Store's append and the topic's entry.
func BenchmarkPublishNoSubscribers(b *testing.B) {
	br := &sse.Broker{}
	defer br.Close()
	ctx := context.Background()
	ev := sse.Event{Data: "0123456789abcdef0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := br.Publish(ctx, "t", ev); err != nil {
			b.Fatal(err)
		}
	}
}
