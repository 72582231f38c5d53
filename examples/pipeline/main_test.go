package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/internal/leaktest"
)

var passLine = regexp.MustCompile(`^(generate|gzip|gunzip) .*, peak heap ([0-9.]+) MiB$`)

// TestRun runs the demo on a log big enough to cross every buffer many times
// and checks its report: three passes, the lines all checked, "done", and a
// peak heap per pass well below the size of the file (memory stays flat: a
// stage that kept what went through would hold the whole log).
func TestRun(t *testing.T) {
	leaktest.Check(t)
	const size = 16 << 20
	var out strings.Builder
	dir := t.TempDir()
	if err := run(t.Context(), &out, strconv.Itoa(size), dir, 4); err != nil {
		t.Fatalf("run() = %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[3] != "done" {
		t.Fatalf("output %q, want three passes and done", lines)
	}
	for _, l := range lines[:3] {
		m := passLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		if peak, _ := strconv.ParseFloat(m[2], 64); peak > size/2/(1<<20) {
			t.Errorf("%s: peak heap %.1f MiB for a %d MiB log, want under half of it", m[1], peak, size>>20)
		}
	}
	for _, name := range []string{"big.log", "big.log.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A run whose context has ended stops with its error and leaves no
// goroutine behind.
func TestRunCanceled(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out strings.Builder
	err := run(ctx, &out, "1MiB", t.TempDir(), 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run(canceled ctx) = %v, want context.Canceled\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "done") {
		t.Fatalf("a canceled run printed done:\n%s", out.String())
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct{ size string }{{"abc"}, {"0"}, {"-5MiB"}, {"12XB"}, {"9999999999GiB"}} {
		if err := run(t.Context(), new(strings.Builder), tc.size, t.TempDir(), 1); err == nil {
			t.Errorf("run(size %q) = nil, want an error", tc.size)
		}
	}
	if err := run(t.Context(), new(strings.Builder), "1KiB", t.TempDir(), 0); err == nil {
		t.Error("run(workers 0) = nil, want an error")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "64MiB": 64 << 20, "1GiB": 1 << 30, "10MB": 10e6, "3 KiB": 3 << 10, "2GB": 2e9, "7B": 7,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, nil", in, got, err, want)
		}
	}
}

func TestMaskLine(t *testing.T) {
	lastOctet := regexp.MustCompile(`( ip=\d+\.\d+\.\d+\.)\d+ `)
	for i := range 1000 {
		line := string(appendLogLine(nil, i))
		masked := string(maskLine(nil, line))
		if want := lastOctet.ReplaceAllString(line, "${1}x "); masked != want || want == line {
			t.Fatalf("maskLine(%q) = %q, want %q", line, masked, want)
		}
		if isMasked(line) || !isMasked(masked) {
			t.Fatalf("isMasked(%q) = %v, isMasked(%q) = %v; want false, true", line, isMasked(line), masked, isMasked(masked))
		}
	}
	if got := string(maskLine(nil, "no address here")); got != "no address here" {
		t.Errorf("maskLine(no address) = %q, want it unchanged", got)
	}
}
