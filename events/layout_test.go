package events

import (
	"testing"
	"unsafe"
)

// The objects that every Emit reads fill whole cache lines (see lineSize).
func TestHotObjectsFillCacheLines(t *testing.T) {
	for name, size := range map[string]uintptr{
		"Emitter":     unsafe.Sizeof(Emitter[int]{}),
		"names slots": unsafe.Sizeof(slots[int]{}),
		"entry":       unsafe.Sizeof(entry[int]{}),
		"block1":      unsafe.Sizeof(block1[int]{}),
		"block3":      unsafe.Sizeof(block3[int]{}),
		"blockN":      unsafe.Sizeof(blockN[int]{}),
	} {
		if size%lineSize != 0 {
			t.Errorf("%s is %d bytes, not a multiple of %d", name, size, lineSize)
		}
	}
}
