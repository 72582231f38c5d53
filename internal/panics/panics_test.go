package panics_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/nodekit/nodekit/internal/panics"
)

func recovered(v any) (err error) {
	defer func() { err = panics.New(recover()) }()
	panic(v)
}

func TestNew(t *testing.T) {
	err := recovered("kaboom")
	var pe *panics.Error
	if !errors.As(err, &pe) || pe.Value != "kaboom" {
		t.Fatalf("recovered(%q) = %v, want a *panics.Error with that value", "kaboom", err)
	}
	if got := pe.Error(); got != "panic: kaboom" {
		t.Errorf("Error() = %q, want %q", got, "panic: kaboom")
	}
	if !strings.Contains(string(pe.Stack), "recovered") {
		t.Errorf("Stack does not show the panicking function:\n%s", pe.Stack)
	}
	if pe.Unwrap() != nil {
		t.Errorf("Unwrap() = %v for a string value, want nil", pe.Unwrap())
	}
}

func TestUnwrapErrorValue(t *testing.T) {
	if err := recovered(io.EOF); !errors.Is(err, io.EOF) {
		t.Fatalf("recovered(io.EOF) = %v, want it to wrap io.EOF", err)
	}
}
