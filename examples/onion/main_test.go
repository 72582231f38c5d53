package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOnion(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out strings.Builder // run serializes its writes; read once it returned
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", &out, func(a string) { addrc <- a }) }()
	addr := <-addrc

	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Hello World" {
		t.Fatalf("GET / = %d %q", resp.StatusCode, body)
	}
	if rt := resp.Header.Get("X-Response-Time"); !regexp.MustCompile(`^\d+\.\d{3}ms$`).MatchString(rt) {
		t.Fatalf("X-Response-Time = %q", rt)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run() = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 || !regexp.MustCompile(`^GET / - \d+\.\d{3}ms$`).MatchString(lines[5]) {
		t.Fatalf("output = %q, want the onion then the log line", lines)
	}
	want := []string{"A before", "B before", "handler", "B after", "A after"}
	if diff := cmp.Diff(want, lines[:5]); diff != "" {
		t.Fatalf("onion order (-want +got):\n%s", diff)
	}
}
