package workerpool

import (
	"errors"
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

// sizeFromEnv returns the size UV_THREADPOOL_SIZE asks for and a warning
// when it cannot be used (see parseSize).
func sizeFromEnv() (size int, warning string) {
	v, _ := os.LookupEnv(EnvSize)
	return parseSize(v)
}

// parseSize reads a UV_THREADPOOL_SIZE value: a whole number, clamped to
// [1, MaxSize] (however many digits it has); blank means DefaultSize. Anything else gives DefaultSize and
// a warning (libuv would turn "abc" into one thread).
func parseSize(v string) (size int, warning string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultSize, ""
	}
	n, err := strconv.Atoi(v)
	if errors.Is(err, strconv.ErrRange) { // a whole number beyond int
		if strings.HasPrefix(v, "-") {
			return 1, ""
		}
		return MaxSize, ""
	}
	if err != nil {
		return DefaultSize, fmt.Sprintf("workerpool: ignoring %s=%q: not a whole number; using %d", EnvSize, v, DefaultSize)
	}
	return clampSize(n), ""
}

func clampSize(n int) int { return min(max(n, 1), MaxSize) }
