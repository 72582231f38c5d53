package chromium_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/chromium"
	"github.com/nodekit/nodekit/internal/leaktest"
)

// serve serves h on 127.0.0.1 until t ends and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve() = %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func TestDumpDOM(t *testing.T) {
	chromium.Require(t)
	leaktest.Check(t)
	t.Setenv("TMPDIR", t.TempDir())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><pre id="out"></pre><script>
setTimeout(() => { document.getElementById("out").textContent = "<a & b> " + navigator.userAgent.includes("Headless"); }, 5000);
</script>`)
	})
	url := serve(t, mux)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	dom, err := chromium.DumpDOM(ctx, url+"/", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The 5 s timer runs in virtual time: the dump comes well before it
	// would in real time, and shows the timer's work.
	if got, ok := chromium.Text(dom, "out"); !ok || got != "<a & b> true" {
		t.Fatalf("Text(dom, %q) = %q, %v; want %q, true\ndom:\n%s", "out", got, ok, "<a & b> true", dom)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("DumpDOM took %v of real time for 5 s of virtual time", d)
	}
	checkCleanedUp(t)
}

// TestDumpDOMTimeout proves that a page that never finishes (a stream that
// stays open) ends with ctx, with Chromium killed and its profile removed.
func TestDumpDOMTimeout(t *testing.T) {
	chromium.Require(t)
	leaktest.Check(t)
	t.Setenv("TMPDIR", t.TempDir())
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><pre id="out"></pre><script>new EventSource("/events");</script>`)
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	url := serve(t, mux)
	t.Cleanup(func() { close(release) }) // before serve's cleanup: runs first
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	dom, err := chromium.DumpDOM(ctx, url+"/", 10*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DumpDOM(a page whose stream never ends) = %q, %v; want an error wrapping %v", dom, err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > 3*time.Second+3*time.Second {
		t.Errorf("DumpDOM returned %v after the start, past its 3 s deadline and the 2 s WaitDelay", d)
	}
	checkCleanedUp(t)
}

// checkCleanedUp fails t when a Chromium profile is left in $TMPDIR or,
// on Linux, when a live process still names one in its command line.
func checkCleanedUp(t *testing.T) {
	t.Helper()
	dir := os.Getenv("TMPDIR")
	left, err := filepath.Glob(filepath.Join(dir, "nodekit-chromium-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("profiles left behind: %q", left)
	}
	if runtime.GOOS != "linux" {
		return
	}
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), dir) {
			t.Errorf("process %s still runs: %q", filepath.Dir(f), strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

func TestText(t *testing.T) {
	dom := `<html><head></head><body><pre id="a">[{"x":"&lt;/pre&gt; &amp; &quot;"}]</pre><p id="ab">no</p><pre id="empty"></pre></body></html>`
	tests := []struct {
		id, want string
		ok       bool
	}{
		{"a", `[{"x":"</pre> & ""}]`, true},
		{"ab", "no", true},
		{"empty", "", true},
		{"missing", "", false},
	}
	for _, tt := range tests {
		if got, ok := chromium.Text(dom, tt.id); got != tt.want || ok != tt.ok {
			t.Errorf("Text(dom, %q) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFind(t *testing.T) {
	t.Setenv(chromium.EnvPath, filepath.Join(t.TempDir(), "no-such-chromium"))
	if path, ok := chromium.Find(); ok {
		t.Fatalf("Find() with %s naming no file = %q, true; want false", chromium.EnvPath, path)
	}
	if _, err := chromium.DumpDOM(t.Context(), "http://127.0.0.1:1/", time.Second); !errors.Is(err, chromium.ErrNotFound) {
		t.Fatalf("DumpDOM() without chromium = %v, want %v", err, chromium.ErrNotFound)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(chromium.EnvPath, self)
	if path, ok := chromium.Find(); !ok || path != self {
		t.Fatalf("Find() with %s=%q = %q, %v; want it, true", chromium.EnvPath, self, path, ok)
	}
}

// recorder is a testing.TB that records how Require ended the test.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestRequire(t *testing.T) {
	t.Setenv(chromium.EnvPath, filepath.Join(t.TempDir(), "no-such-chromium"))
	for _, require := range []string{"", "0", "1"} {
		t.Setenv(chromium.EnvRequire, require)
		r := &recorder{TB: t}
		chromium.Require(r)
		if want := require == "1"; r.failed != want || r.skipped == want {
			t.Errorf("Require() without chromium, %s=%q: failed %v, skipped %v; want failed %v", chromium.EnvRequire, require, r.failed, r.skipped, want)
		}
	}
}

func TestDumpDOMMisuse(t *testing.T) {
	for name, f := range map[string]func(){
		"nil context": func() { chromium.DumpDOM(nil, "http://127.0.0.1:1/", time.Second) },
		"zero budget": func() { chromium.DumpDOM(context.Background(), "http://127.0.0.1:1/", 0) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p, ok := recover().(string); !ok || !strings.HasPrefix(p, "chromium: ") {
					t.Fatalf("panic = %v, want one with the %q prefix", p, "chromium: ")
				}
			}()
			f()
		})
	}
}
