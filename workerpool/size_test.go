package workerpool

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestParseSize pins what nodekit and libuv make of UV_THREADPOOL_SIZE.
func TestParseSize(t *testing.T) {
	tests := []struct {
		v     string
		set   bool
		want  int
		libuv int // in the warning; 0: no warning
	}{
		{"", false, DefaultSize, 0},
		{"6", true, 6, 0},
		{" 8\n", true, 8, 0},
		{"+8", true, 8, 0},
		{"0", true, 1, 0},
		{"5000", true, MaxSize, 0},
		{"99999999999999999999", true, MaxSize, 0},
		{"", true, DefaultSize, 1},
		{"  ", true, DefaultSize, 1},
		{"8x", true, DefaultSize, 8},
		{"abc", true, DefaultSize, 1},
		{"4.5", true, DefaultSize, 4},
		{"0x10", true, DefaultSize, 1},
		{"-3", true, 1, MaxSize},
		{"-99999999999999999999", true, 1, MaxSize},
	}
	for _, tt := range tests {
		size, warning := parseSize(tt.v, tt.set)
		if size != tt.want {
			t.Errorf("parseSize(%q, %v) = %d, want %d", tt.v, tt.set, size, tt.want)
		}
		switch {
		case tt.libuv == 0 && warning != "":
			t.Errorf("parseSize(%q, %v) warns %q, want no warning", tt.v, tt.set, warning)
		case tt.libuv != 0 && !strings.Contains(warning, "libuv would use "+strconv.Itoa(tt.libuv)):
			t.Errorf("parseSize(%q, %v) warns %q, want it to say libuv would use %d", tt.v, tt.set, warning, tt.libuv)
		}
	}
}

// FuzzParseSize checks the UV_THREADPOOL_SIZE parser: every value gives a
// size in [1, MaxSize]; a whole number that is not negative gives itself
// clamped and no warning; a negative one gives 1 and a warning; anything
// else gives DefaultSize and a warning. Every warning names the variable
// and says what libuv would run.
func FuzzParseSize(f *testing.F) {
	for _, seed := range []string{"", " ", "4", " 6\n", "0", "-3", "1024", "1025", "99999999999999999999", "abc", "4.5", "+8", "0x10", "8x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		size, warning := parseSize(v, true)
		if size < 1 || size > MaxSize {
			t.Fatalf("parseSize(%q) = %d, outside [1, %d]", v, size, MaxSize)
		}
		trimmed := strings.TrimSpace(v)
		n, err := strconv.Atoi(trimmed)
		if errors.Is(err, strconv.ErrRange) {
			n, err = MaxSize, nil
			if strings.HasPrefix(trimmed, "-") {
				n = -1
			}
		}
		switch {
		case err == nil && n >= 0:
			if want := min(max(n, 1), MaxSize); size != want || warning != "" {
				t.Fatalf("parseSize(%q) = %d, %q; want %d and no warning", v, size, warning, want)
			}
			return
		case err == nil:
			if size != 1 {
				t.Fatalf("parseSize(%q) = %d, want 1 for a negative number", v, size)
			}
		default:
			if size != DefaultSize {
				t.Fatalf("parseSize(%q) = %d, want %d", v, size, DefaultSize)
			}
		}
		if want := "libuv would use " + strconv.Itoa(atoiSize(v)); !strings.Contains(warning, EnvSize) || !strings.Contains(warning, want) {
			t.Fatalf("parseSize(%q) warns %q, want it to name %s and say %q", v, warning, EnvSize, want)
		}
	})
}
