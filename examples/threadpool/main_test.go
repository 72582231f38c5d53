package main

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/nodekit/nodekit/workerpool"
)

// TestTimeline runs the real hashes (with fewer rounds) and checks the
// printed timeline: the size, then each of the six hashes done once.
func TestTimeline(t *testing.T) {
	for _, size := range []int{4, 6} {
		var out strings.Builder
		if err := run(&out, &workerpool.Pool{Size: size}, pbkdf2Hash(1000)); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 7 || lines[0] != fmt.Sprintf("pool size %d", size) {
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

// TestWaves replaces the hash with one the test releases, and checks the
// demo's point: at size 4 the six hashes run as four, then two; at size 6
// all at once.
func TestWaves(t *testing.T) {
	for size, waves := range map[int][]int{4: {4, 2}, 6: {6}} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				running := 0
				release := make(chan struct{})
				hash := func() ([]byte, error) {
					mu.Lock()
					running++
					mu.Unlock()
					<-release
					mu.Lock()
					running--
					mu.Unlock()
					return nil, nil
				}
				var out strings.Builder
				done := make(chan error)
				go func() { done <- run(&out, &workerpool.Pool{Size: size}, hash) }()
				printed := 1 // "pool size"
				for _, wave := range waves {
					synctest.Wait()
					mu.Lock()
					if running != wave {
						t.Errorf("%d hashes running, want a wave of %d", running, wave)
					}
					mu.Unlock()
					for range wave {
						release <- struct{}{}
					}
					synctest.Wait()
					printed += wave
					if n := strings.Count(out.String(), "\n"); n != printed {
						t.Errorf("after a wave of %d: %d lines printed, want %d:\n%s", wave, n, printed, out.String())
					}
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// With the environment variable, as Node users set it.
func TestSizeFromEnvironment(t *testing.T) {
	t.Setenv("UV_THREADPOOL_SIZE", "6")
	var out strings.Builder
	if err := run(&out, &workerpool.Pool{}, pbkdf2Hash(1000)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "pool size 6\n") {
		t.Fatalf("output %q, want a pool of 6", out.String())
	}
}
