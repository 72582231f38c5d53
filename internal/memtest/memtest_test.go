package memtest_test

import (
	"runtime"
	"testing"

	"github.com/nodekit/nodekit/internal/memtest"
)

func TestLiveHeapSeesAnAllocation(t *testing.T) {
	before := memtest.LiveHeap()
	b := make([]byte, 8<<20)
	during := memtest.LiveHeap()
	runtime.KeepAlive(b)
	// Other objects of the test binary may die between the two readings
	// (one run saw 16 bytes fewer), so allow a little under 8 MiB.
	if grown := during - before; grown < 8<<20-64<<10 {
		t.Fatalf("LiveHeap grew by %d bytes while 8 MiB were live, want at least 8 MiB - 64 KiB", grown)
	}
	if after := memtest.LiveHeap(); after-before > 1<<20 {
		t.Fatalf("LiveHeap is %d bytes above the start once the 8 MiB are dead, want < 1 MiB", after-before)
	}
}
