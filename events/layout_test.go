package events

import (
	"testing"
	"unsafe"
)

// The objects that every Emit reads fill whole cache lines (see lineSize).
func TestHotObjectsFillCacheLines(t *testing.T) {
	for name, size := range map[string]uintptr{
		"names node": unsafe.Sizeof(names[*entry[int]]{}),
		"entry":      unsafe.Sizeof(entry[int]{}),
		"block1":     unsafe.Sizeof(block1[int]{}),
		"block4":     unsafe.Sizeof(block4[int]{}),
	} {
		if size%lineSize != 0 {
			t.Errorf("%s is %d bytes, not a multiple of %d", name, size, lineSize)
		}
	}
}
