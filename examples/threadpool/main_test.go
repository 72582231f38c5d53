package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/workerpool"
)

func TestTimeline(t *testing.T) {
	for _, size := range []int{4, 6} {
		var out strings.Builder
		if err := run(&out, 1000, &workerpool.Pool{Size: size}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 7 || lines[0] != "pool size "+string(rune('0'+size)) {
			t.Fatalf("size %d: output %q", size, lines)
		}
		seen := map[string]bool{}
		for _, l := range lines[1:] {
			m := regexp.MustCompile(`^pbkdf2: \S+ hash done (\d)$`).FindStringSubmatch(l)
			if m == nil || seen[m[1]] {
				t.Fatalf("size %d: unexpected line %q in %q", size, l, lines)
			}
			seen[m[1]] = true
		}
	}
}

// With the environment variable, as Node users set it.
func TestSizeFromEnvironment(t *testing.T) {
	t.Setenv("UV_THREADPOOL_SIZE", "6")
	var out strings.Builder
	if err := run(&out, 1000, &workerpool.Pool{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "pool size 6\n") {
		t.Fatalf("output %q, want a pool of 6", out.String())
	}
}
