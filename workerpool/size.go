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
// when nodekit's answer differs from libuv's (see parseSize).
func sizeFromEnv() (size int, warning string) {
	return parseSize(os.LookupEnv(EnvSize))
}

// parseSize reads a UV_THREADPOOL_SIZE value v, set or not:
//
//   - unset: DefaultSize;
//   - a whole number (ASCII digits with an optional sign, spaces around
//     allowed, however many digits): that number clamped to [1, MaxSize],
//     as libuv clamps it; a negative one gives 1, with a warning, where
//     libuv stores it unsigned and so runs MaxSize threads;
//   - anything else, the empty string included: DefaultSize, with a warning.
//
// libuv parses the value with C's atoi, which reads a leading number and
// ignores the rest, and gives 0 (so one thread) when there is none: "8x"
// runs 8 threads, "" and "abc" run 1. nodekit does not guess at a value that
// is not a number: one thread for a typo would be the worst answer for a
// pool whose point is parallelism. Every warning says what libuv would have
// run, so that a Node user sees where the two differ.
func parseSize(v string, set bool) (size int, warning string) {
	if !set {
		return DefaultSize, ""
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if errors.Is(err, strconv.ErrRange) { // a whole number beyond int
		n, err = MaxSize, nil
		if strings.HasPrefix(strings.TrimSpace(v), "-") {
			n = -1
		}
	}
	switch {
	case err != nil:
		return DefaultSize, fmt.Sprintf("workerpool: ignoring %s=%q, not a whole number: using %d workers where libuv would use %d", EnvSize, v, DefaultSize, atoiSize(v))
	case n < 0:
		return 1, fmt.Sprintf("workerpool: %s=%q is negative: using 1 worker where libuv would use %d", EnvSize, v, atoiSize(v))
	}
	return clampSize(n), ""
}

// atoiSize is the number of threads libuv runs for a UV_THREADPOOL_SIZE of
// v: C's atoi (leading white space, an optional sign, the digits that
// follow; 0 if there are none), stored in an unsigned int, 0 taken as 1 and
// clamped to MaxSize. A number too large for a C int is taken as
// MaxSize: what C's atoi makes of one is undefined.
func atoiSize(v string) int {
	s := strings.TrimLeft(v, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	n := 0
	for i := 0; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		n = min(10*n+int(s[i]-'0'), MaxSize+1)
	}
	switch {
	case n == 0:
		return 1
	case neg: // a negative int stored unsigned is huge
		return MaxSize
	}
	return min(n, MaxSize)
}

func clampSize(n int) int { return min(max(n, 1), MaxSize) }
