package middleware

import (
	"net/http/httptest"
	"testing"
)

// One request that sets thousands of values and hooks does not make its
// pooled Context hold them for good: memory follows the backlog.
func TestContextDropsGrownSlices(t *testing.T) {
	key := NewKey[int]("k")
	c := &Context{}
	c.reset(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for i := range 1000 {
		(&Key[int]{}).Set(c, i)
		c.OnCommit(func(*Context) {})
	}
	key.Set(c, 1)
	c.clear()
	if cap(c.values) > keepCap || cap(c.hooks) > keepCap {
		t.Fatalf("after clear: cap(values) = %d, cap(hooks) = %d; want at most %d", cap(c.values), cap(c.hooks), keepCap)
	}
	c.reset(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for range 10 {
		key.Set(c, 2)
		c.OnCommit(func(*Context) {})
	}
	c.clear()
	if cap(c.values) == 0 || cap(c.hooks) == 0 {
		t.Fatal("after clear: small slices were dropped, want their capacity kept")
	}
}
