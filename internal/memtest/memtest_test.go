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
	if grown := during - before; grown < 8<<20 {
		t.Fatalf("LiveHeap grew by %d bytes while 8 MiB were live, want at least 8 MiB", grown)
	}
	if after := memtest.LiveHeap(); after-before > 1<<20 {
		t.Fatalf("LiveHeap is %d bytes above the start once the 8 MiB are dead, want < 1 MiB", after-before)
	}
}
