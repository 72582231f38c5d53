package middleware_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/middleware"
	"pgregory.net/rapid"
)

type payload struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

// echoApp decodes a payload with a 100-byte limit and sends it back.
func echoApp() *middleware.App {
	app := newApp(func(c *middleware.Context, _ middleware.Next) error {
		var p payload
		if err := c.DecodeJSON(&p, 100); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	})
	app.Logger = discard()
	return app
}

// Over loopback HTTP: what the client sends wrong is a 400 or 413 with a
// message it can read, never a 500 (issue 9, item 6).
func TestDecodeJSONOverHTTP(t *testing.T) {
	srv := newServer(t, echoApp())
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"ok", `{"name":"Ada","age":36}`, 200, `{"name":"Ada","age":36}`},
		{"malformed", `{"name":"Ada",}`, 400, "malformed JSON at byte 15\n"},
		{"truncated", `{"name":"Ada"`, 400, "malformed JSON: unexpected end of the body\n"},
		{"empty", ``, 400, "empty request body, want JSON\n"},
		{"wrong type", `{"age":"old"}`, 400, "JSON string at age has the wrong type, want a number\n"},
		{"wrong top-level type", `[1,2]`, 400, "JSON array at the top level has the wrong type, want an object\n"},
		{"two values", `{} {}`, 400, "request body must hold a single JSON value\n"},
		{"trailing garbage", `{}x`, 400, "request body must hold a single JSON value\n"},
		{"too large", `{"name":"` + strings.Repeat("a", 200) + `"}`, 413, "request body larger than 100 bytes\n"},
		{"too large after a value", `{}` + strings.Repeat(" ", 200), 413, "request body larger than 100 bytes\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			if _, err := body.ReadFrom(resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || body.String() != tt.wantBody {
				t.Fatalf("POST %q = %d %q, want %d %q", tt.body, resp.StatusCode, body.String(), tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// A huge body is cut off at the limit: the server answers 413 without
// reading it all.
func TestDecodeJSONHugeBody(t *testing.T) {
	srv := newServer(t, echoApp())
	read := 0
	body := readerFunc(func(p []byte) (int, error) {
		if read > 64<<20 {
			return 0, errors.New("the server read 64 MiB of a body with a 100-byte limit")
		}
		for i := range p {
			p[i] = ' '
		}
		read += len(p)
		return len(p), nil
	})
	req, _ := http.NewRequest("POST", srv.URL, body)
	resp, err := srv.Client().Do(req)
	if err != nil {
		// The server may close the connection while the client still
		// sends; it must have answered, though, or closed early.
		if read > 64<<20 {
			t.Fatal(err)
		}
		return
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("POST of an endless body = %d, want 413", resp.StatusCode)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// Whatever the body, DecodeJSON answers 200, 400 or 413, never a 500.
func TestDecodeJSONNeverFailsTheServer(t *testing.T) {
	app := echoApp()
	rapid.Check(t, func(t *rapid.T) {
		var body []byte
		if rapid.Bool().Draw(t, "valid-ish") {
			body, _ = json.Marshal(rapid.MapOfN(rapid.SampledFrom([]string{"name", "age", "x"}),
				rapid.OneOf(rapid.Just[any](nil), rapid.Int().AsAny(), rapid.String().AsAny()), 0, 3).Draw(t, "obj"))
			if cut := rapid.IntRange(0, len(body)).Draw(t, "cut"); rapid.Bool().Draw(t, "truncate") {
				body = body[:cut]
			}
		} else {
			body = rapid.SliceOfN(rapid.Byte(), 0, 150).Draw(t, "bytes")
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("POST", "/", bytes.NewReader(body)))
		if rec.Code != 200 && rec.Code != 400 && rec.Code != 413 {
			t.Fatalf("POST %q = %d %q, want 200, 400 or 413", body, rec.Code, rec.Body.String())
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"Ada","age":36}`, `{"age":"x"}`, `[`, ``, `{} {}`, `null`, `"\ud800"`, `{"name":1e999}`} {
		f.Add([]byte(s))
	}
	app := echoApp()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("POST", "/", bytes.NewReader(body)))
		if rec.Code != 200 && rec.Code != 400 && rec.Code != 413 {
			t.Fatalf("POST %q = %d %q, want 200, 400 or 413", body, rec.Code, rec.Body.String())
		}
	})
}

// JSON encodes before writing: a value encoding/json cannot encode is a 500
// with nothing half-sent, and a good one has the JSON content type.
func TestJSONResponse(t *testing.T) {
	app := newApp(func(c *middleware.Context, _ middleware.Next) error {
		if c.Request.URL.Path == "/bad" {
			return c.JSON(http.StatusOK, map[string]any{"f": func() {}})
		}
		return c.JSON(http.StatusCreated, payload{"Ada", 36})
	})
	app.Logger = discard()
	srv := newServer(t, app)
	resp, body, err := get(t, srv, "/")
	if err != nil || resp.StatusCode != 201 || body != `{"name":"Ada","age":36}` ||
		resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET / = %d %q %q (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
	}
	resp, body, err = get(t, srv, "/bad")
	if err != nil || resp.StatusCode != 500 || body != "Internal Server Error\n" {
		t.Fatalf("GET /bad = %d %q (%v), want a clean 500", resp.StatusCode, body, err)
	}
}

func TestDecodeJSONMisusePanics(t *testing.T) {
	for name, f := range map[string]func(c *middleware.Context){
		"non-pointer":       func(c *middleware.Context) { c.DecodeJSON(payload{}, 0) },
		"nil pointer":       func(c *middleware.Context) { c.DecodeJSON((*payload)(nil), 0) },
		"negative maxBytes": func(c *middleware.Context) { c.DecodeJSON(&payload{}, -1) },
	} {
		t.Run(name, func(t *testing.T) {
			var p any
			app := newApp(func(c *middleware.Context, _ middleware.Next) error {
				defer func() { p = recover() }()
				f(c)
				return nil
			})
			app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader("{}")))
			if s, _ := p.(string); !strings.HasPrefix(s, "middleware: DecodeJSON: ") {
				t.Fatalf("panicked with %v, want a middleware: DecodeJSON: message", p)
			}
		})
	}
}
