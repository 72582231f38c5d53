// Package chromium finds and runs headless Chromium for the end-to-end tests
// of browser-facing code (sse's EventSource tests, the examples' pages).
//
// A test serves a page on 127.0.0.1 whose script records what happened into
// the DOM (JSON text in a <pre id=...>), runs DumpDOM, and reads the record
// back with Text. Chromium runs with --dump-dom and a virtual time budget:
// it prints the DOM once the page has loaded, no network fetch is pending
// and the budget of virtual time has passed. Timers (an EventSource's
// reconnection delay included) run in virtual time, so a page whose streams
// end finishes in well under a second of real time; a stream that never
// ends holds virtual time still, and only ctx stops Chromium then.
package chromium

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvPath names an environment variable that, when set, is the Chromium
// executable Find returns.
const EnvPath = "NODEKIT_CHROMIUM"

// EnvRequire names an environment variable that, when "1", makes Require
// fail a test instead of skipping it when Chromium is absent. CI sets it so
// that a broken install cannot pass as a skipped test.
const EnvRequire = "NODEKIT_REQUIRE_CHROMIUM"

// ErrNotFound reports that no Chromium executable was found.
var ErrNotFound = errors.New("chromium: no chromium executable found (install Debian's chromium package, or set " + EnvPath + ")")

// names are the executables Find looks for on PATH, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"}

// Flags are the command-line flags DumpDOM passes before its
// --user-data-dir, --virtual-time-budget and --dump-dom: headless, no
// sandbox (CI runs as root in a container), and nothing that reaches the
// network on its own.
var Flags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
}

// Find returns the path of the Chromium executable: $NODEKIT_CHROMIUM when
// set (ok is false when it does not name an executable), else the first of
// chromium, chromium-browser, google-chrome, google-chrome-stable and
// headless_shell found on PATH.
func Find() (path string, ok bool) {
	if p := os.Getenv(EnvPath); p != "" {
		p, err := exec.LookPath(p)
		return p, err == nil
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Require returns Find's path. When Chromium is absent it skips t with a
// message saying how to install it, or fails t when $NODEKIT_REQUIRE_CHROMIUM
// is "1".
func Require(t testing.TB) string {
	t.Helper()
	path, ok := Find()
	if ok {
		return path
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%v; %s=1 requires it", ErrNotFound, EnvRequire)
	} else {
		t.Skipf("skipping the headless browser test: %v", ErrNotFound)
	}
	return ""
}

// DumpDOM loads url in a fresh headless Chromium (Flags, a temporary
// profile, --virtual-time-budget in milliseconds, --dump-dom) and returns
// the DOM it prints, serialized as HTML, after the page has loaded and
// budget of virtual time has passed. The page's connections must end (an
// EventSource closed by the page, or answered 204 on reconnect): an open
// stream holds virtual time still.
//
// ctx bounds the run in real time; when it has no deadline DumpDOM gives it
// one of budget plus 30 seconds. When ctx ends, Chromium and the processes
// it started are killed and DumpDOM returns an error wrapping ctx.Err()
// with the end of Chromium's stderr. The profile directory is removed
// before DumpDOM returns. It returns ErrNotFound when Find finds nothing.
//
// Each call starts a browser (about half a second and 100 MB): load one
// page that does many things rather than many pages.
func DumpDOM(ctx context.Context, url string, budget time.Duration) (string, error) {
	if ctx == nil {
		panic("chromium: nil context")
	}
	if budget <= 0 {
		panic("chromium: budget must be positive")
	}
	path, ok := Find()
	if !ok {
		return "", ErrNotFound
	}
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget+30*time.Second)
		defer cancel()
	}
	profile, err := os.MkdirTemp("", "nodekit-chromium-")
	if err != nil {
		return "", fmt.Errorf("chromium: %w", err)
	}
	defer os.RemoveAll(profile)

	args := append([]string(nil), Flags...)
	args = append(args,
		"--user-data-dir="+profile,
		"--virtual-time-budget="+strconv.FormatInt(budget.Milliseconds(), 10),
		"--dump-dom", url)
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout bytes.Buffer
	stderr := &tailWriter{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	ownGroup(cmd) // Cancel kills Chromium's renderer and GPU processes too
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	killGroup(cmd) // whatever of the group outlived a clean exit
	if ctx.Err() != nil {
		return "", fmt.Errorf("chromium: %s did not finish: %w; stderr ends:\n%s", url, ctx.Err(), stderr)
	}
	if err != nil {
		return "", fmt.Errorf("chromium: %s: %w; stderr ends:\n%s", url, err, stderr)
	}
	return stdout.String(), nil
}

// Text returns the text content of the element whose id attribute is id in
// dom (as DumpDOM returns it), with character references decoded; ok is
// false when there is no such element. It reads up to the next tag, so it
// is meant for an element whose only content is text, such as a <pre> a
// page fills through textContent (whose "<" the serializer escapes).
func Text(dom, id string) (text string, ok bool) {
	_, rest, ok := strings.Cut(dom, ` id="`+id+`"`)
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, ">")
	if !ok {
		return "", false
	}
	text, _, ok = strings.Cut(rest, "<")
	if !ok {
		return "", false
	}
	return html.UnescapeString(text), true
}

// A tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string { return string(w.buf) }
