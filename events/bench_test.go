package events_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nodekit/nodekit/events"
)

var sink int

func benchEmitter(listeners int) *events.Emitter[int] {
	var e events.Emitter[int]
	for range listeners {
		e.On("tick", func(v int) { sink += v })
	}
	return &e
}

func BenchmarkEmit(b *testing.B) {
	for _, n := range []int{0, 1, 10} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			e := benchEmitter(n)
			b.ReportAllocs()
			for b.Loop() {
				e.Emit("tick", 1)
			}
		})
	}
}

func BenchmarkEmitParallel(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			var e events.Emitter[int]
			for range n {
				e.On("tick", func(v int) {})
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e.Emit("tick", 1)
				}
			})
		})
	}
}

// BenchmarkEmitFewNames emits the last of as many names as the slots of
// names hold: the longest scan.
func BenchmarkEmitFewNames(b *testing.B) {
	var e events.Emitter[int]
	for i := range 8 {
		e.On(fmt.Sprint("event-", i), func(v int) { sink += v })
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Emit("event-7", 1)
	}
}

func BenchmarkEmitManyNames(b *testing.B) {
	var e events.Emitter[int]
	for i := range 1000 {
		e.On(fmt.Sprint("event-", i), func(v int) { sink += v })
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Emit("event-500", 1)
	}
}

func BenchmarkOnOff(b *testing.B) {
	var e events.Emitter[int]
	e.On("tick", func(int) {})
	fn := func(int) {}
	b.ReportAllocs()
	for b.Loop() {
		e.Off(e.On("tick", fn))
	}
}

func BenchmarkOnOffNewName(b *testing.B) {
	var e events.Emitter[int]
	for i := range 1000 {
		e.On(fmt.Sprint("event-", i), func(int) {})
	}
	fn := func(int) {}
	b.ReportAllocs()
	for b.Loop() {
		e.Off(e.On("reply", fn))
	}
}

func BenchmarkOnceEmit(b *testing.B) {
	var e events.Emitter[int]
	fn := func(int) {}
	b.ReportAllocs()
	for b.Loop() {
		e.Once("tick", fn)
		e.Emit("tick", 1)
	}
}

// BenchmarkOnSequence measures one value through an On sequence to a loop
// one value behind: Emit, buffer, yield.
func BenchmarkOnSequence(b *testing.B) {
	var e events.Emitter[int]
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	seq := events.On(ctx, &e, "tick")
	e.Emit("tick", 0)
	b.ReportAllocs()
	for v := range seq {
		if !b.Loop() {
			break
		}
		e.Emit("tick", v+1)
	}
}

// BenchmarkOnceChan measures registering a wait, emitting, and receiving.
func BenchmarkOnceChan(b *testing.B) {
	var e events.Emitter[int]
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		ch := events.OnceChan(ctx, &e, "tick")
		e.Emit("tick", 1)
		<-ch
	}
}
