package main

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// heapMetric is the runtime's count of bytes in heap objects, live or not
// yet collected: what the heap holds, not the RSS.
const heapMetric = "/memory/classes/heap/objects:bytes"

// measure runs fn, timing it and sampling the heap every millisecond on
// another goroutine, which has exited when measure returns. The pass's peak
// is the most heap seen above what was in use when it began (after a GC).
func measure(fn func(*pass) error) (pass, error) {
	runtime.GC()
	base := heapBytes()
	var p pass
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, heapBytes())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	start := time.Now()
	err := fn(&p)
	p.elapsed = time.Since(start)
	close(done)
	wg.Wait()
	peak = max(peak, heapBytes())
	if peak > base {
		p.peak = peak - base
	}
	return p, err
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// rate formats n bytes over d as MB/s.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "- MB/s"
	}
	return fmt.Sprintf("%.0f MB/s", float64(n)/1e6/d.Seconds())
}

// units are the suffixes parseSize accepts, longest first so that "MiB" is
// not read as "B".
var units = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// parseSize reads a size such as "64MiB", "1GiB", "10MB" or "4096".
func parseSize(s string) (int64, error) {
	num, factor := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("-size %q: want a whole number with an optional unit (KiB, MiB, GiB, KB, MB, GB)", s)
	case n <= 0:
		return 0, fmt.Errorf("-size %q: want a positive size", s)
	case n > (1<<62)/factor:
		return 0, errors.New("-size " + strconv.Quote(s) + ": too large")
	}
	return n * factor, nil
}
