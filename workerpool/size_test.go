package workerpool

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseSize checks the UV_THREADPOOL_SIZE parser: every value gives a
// size in [1, MaxSize]; a whole number gives itself clamped and no warning;
// so does one too long for an int; anything else that is not blank gives DefaultSize and a warning naming
// the variable.
func FuzzParseSize(f *testing.F) {
	for _, seed := range []string{"", " ", "4", " 6\n", "0", "-3", "1024", "1025", "99999999999999999999", "abc", "4.5", "+8", "0x10"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		size, warning := parseSize(v)
		if size < 1 || size > MaxSize {
			t.Fatalf("parseSize(%q) = %d, outside [1, %d]", v, size, MaxSize)
		}
		trimmed := strings.TrimSpace(v)
		n, err := strconv.Atoi(trimmed)
		if errors.Is(err, strconv.ErrRange) {
			n, err = MaxSize, nil
			if strings.HasPrefix(trimmed, "-") {
				n = 1
			}
		}
		switch {
		case trimmed == "":
			if size != DefaultSize || warning != "" {
				t.Fatalf("parseSize(%q) = %d, %q; want %d and no warning", v, size, warning, DefaultSize)
			}
		case err == nil:
			if want := min(max(n, 1), MaxSize); size != want || warning != "" {
				t.Fatalf("parseSize(%q) = %d, %q; want %d and no warning", v, size, warning, want)
			}
		default:
			if size != DefaultSize || !strings.Contains(warning, EnvSize) {
				t.Fatalf("parseSize(%q) = %d, %q; want %d and a warning", v, size, warning, DefaultSize)
			}
		}
	})
}
