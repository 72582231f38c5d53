package events

import (
	"maps"
	"testing"

	"pgregory.net/rapid"
)

// TestNamesMatchesMap checks the hash trie against a map, with hashes drawn
// from a tiny pool so that keys share prefixes and whole 64-bit hashes,
// reaching the collision lists below the last level.
func TestNamesMatchesMap(t *testing.T) {
	hashes := []uint64{0, 1, 32, 1 << 59, 1<<60 | 7, ^uint64(0), ^uint64(0) >> 4}
	rapid.Check(t, func(t *rapid.T) {
		hashOf := map[string]uint64{}
		key := rapid.Custom(func(t *rapid.T) string {
			k := rapid.SampledFrom([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}).Draw(t, "key")
			if _, ok := hashOf[k]; !ok {
				hashOf[k] = rapid.SampledFrom(hashes).Draw(t, "hash")
			}
			return k
		})
		var trie *names[int]
		model := map[string]int{}
		t.Repeat(map[string]func(*rapid.T){
			"put": func(t *rapid.T) {
				k, v := key.Draw(t, "k"), rapid.Int().Draw(t, "v")
				old, oldModel := trie, maps.Clone(model)
				trie = trie.put(hashOf[k], k, v)
				model[k] = v
				unchanged(t, old, oldModel)
			},
			"delete": func(t *rapid.T) {
				k := key.Draw(t, "k")
				old, oldModel := trie, maps.Clone(model)
				trie = trie.delete(hashOf[k], k)
				if _, ok := model[k]; !ok && trie != old {
					t.Fatalf("delete(%q) of an absent key copied the trie", k)
				}
				delete(model, k)
				unchanged(t, old, oldModel)
			},
			"": func(t *rapid.T) {
				for k, h := range hashOf {
					v, ok := trie.get(h, k)
					if mv, mok := model[k]; ok != mok || v != mv {
						t.Fatalf("get(%q) = %d, %v; model has %d, %v", k, v, ok, mv, mok)
					}
				}
				all := map[string]int{}
				trie.each(func(k string, v int) { all[k] = v })
				if !maps.Equal(all, model) {
					t.Fatalf("each() = %v, model %v", all, model)
				}
				if len(model) == 0 && trie != nil {
					t.Fatal("an empty trie is not nil")
				}
				checkCanonical(t, trie, 0, true)
			},
		})
	})
}

// unchanged fails t unless trie still holds exactly model: writers must copy,
// never modify, the nodes that readers may hold.
func unchanged(t *rapid.T, trie *names[int], model map[string]int) {
	all := map[string]int{}
	trie.each(func(k string, v int) { all[k] = v })
	if !maps.Equal(all, model) {
		t.Fatalf("an older trie changed: holds %v, held %v", all, model)
	}
}

// checkCanonical fails t if a node other than the root is empty or is a
// subtrie holding a single entry, which delete must have pulled up.
func checkCanonical(t *rapid.T, n *names[int], depth int, root bool) {
	if n == nil {
		return
	}
	if len(n.slots) == 0 {
		t.Fatalf("empty node at depth %d", depth)
	}
	if !root && len(n.slots) == 1 && n.slots[0].sub == nil {
		t.Fatalf("subtrie with a single entry at depth %d", depth)
	}
	for _, s := range n.slots {
		if s.sub != nil {
			checkCanonical(t, s.sub, depth+1, false)
		}
	}
}

// Puts never modify the trie they are applied to: readers holding it see it
// unchanged.
func TestNamesPersistent(t *testing.T) {
	var t0 *names[int]
	t1 := t0.put(hashName("a"), "a", 1)
	t2 := t1.put(hashName("b"), "b", 2)
	t3 := t2.put(hashName("a"), "a", 3)
	t4 := t3.delete(hashName("b"), "b")
	for _, c := range []struct {
		trie *names[int]
		key  string
		v    int
		ok   bool
	}{
		{t1, "a", 1, true}, {t1, "b", 0, false},
		{t2, "a", 1, true}, {t2, "b", 2, true},
		{t3, "a", 3, true}, {t3, "b", 2, true},
		{t4, "a", 3, true}, {t4, "b", 0, false},
	} {
		if v, ok := c.trie.get(hashName(c.key), c.key); v != c.v || ok != c.ok {
			t.Errorf("get(%q) = %d, %v; want %d, %v", c.key, v, ok, c.v, c.ok)
		}
	}
}
