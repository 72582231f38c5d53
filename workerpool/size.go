package workerpool

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultSize is the pool size when neither Pool.Size nor
// UV_THREADPOOL_SIZE says otherwise: libuv's default.
const DefaultSize = 4

// MaxSize is the largest pool size, libuv's MAX_THREADPOOL_SIZE (128 before
// libuv 1.30). Larger sizes are clamped to it.
const MaxSize = 1024

// EnvSize is the environment variable read for the size of a pool whose Size
// is 0, as libuv reads it.
const EnvSize = "UV_THREADPOOL_SIZE"

// sizeFromEnv returns the size UV_THREADPOOL_SIZE asks for, clamped to
// [1, MaxSize], and a warning when the value is not a whole number (libuv
// turns "abc" into one thread; nodekit keeps DefaultSize and says so).
func sizeFromEnv() (size int, warning string) {
	v, ok := os.LookupEnv(EnvSize)
	if !ok || strings.TrimSpace(v) == "" {
		return DefaultSize, ""
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return DefaultSize, fmt.Sprintf("workerpool: ignoring %s=%q: not a whole number; using %d", EnvSize, v, DefaultSize)
	}
	return clampSize(n), ""
}

func clampSize(n int) int { return min(max(n, 1), MaxSize) }
