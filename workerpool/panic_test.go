package workerpool_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/nodekit/nodekit/workerpool"
)

// A Submit task's panic crashes the program with its value and stack, as a
// panic in a goroutine started with the go statement does: it has nobody to
// return to. The test runs itself in a child process and checks how the
// child died (singleflight's pattern).
func TestSubmitPanicCrashes(t *testing.T) {
	if os.Getenv("WORKERPOOL_CRASH_CHILD") == "1" {
		p := &workerpool.Pool{Size: 1}
		p.Submit(context.Background(), func(context.Context) { panicInTask() })
		p.Shutdown(context.Background())
		os.Exit(0) // the panic did not crash the program
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSubmitPanicCrashes$", "-test.v")
	cmd.Env = append(os.Environ(), "WORKERPOOL_CRASH_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("the child ended with %v, want exit status 2 (an unrecovered panic); output:\n%s", err, out.String())
	}
	for _, want := range []string{"panic: kaboom from a task", "workerpool_test.panicInTask", "panic_test.go"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the crash output lacks %q:\n%s", want, out.String())
		}
	}
}

//go:noinline
func panicInTask() { panic("kaboom from a task") }

// A typed task's or a Group task's panic is returned from Wait as a
// *PanicError with the stack, and the worker goes on.
func TestPanicsReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		task := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { panic("kaboom") })
		_, err := task.Wait(t.Context())
		var pe *workerpool.PanicError
		if !errors.As(err, &pe) || pe.Value != "kaboom" || !bytes.Contains(pe.Stack, []byte("panic_test.go")) {
			t.Fatalf("Wait() error = %v, want a *PanicError with value and stack", err)
		}
		g, _ := workerpool.NewGroup(t.Context(), p)
		g.Go(func(context.Context) error { panic("in group") })
		if err := g.Wait(); !errors.As(err, &pe) || pe.Value != "in group" {
			t.Fatalf("Group Wait() = %v, want its *PanicError", err)
		}
		next := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { return 1, nil })
		if v, err := next.Wait(t.Context()); v != 1 || err != nil {
			t.Fatalf("the next task: Wait() = %v, %v; want 1, nil", v, err)
		}
		p.Shutdown(t.Context())
		if s := p.Stats(); s.Failed != 2 || s.Completed != 1 {
			t.Fatalf("Stats = %+v, want 2 failed, 1 completed", s)
		}
	})
}
