package middleware_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/middleware"
	"pgregory.net/rapid"
)

// A spec is what one random layer does.
type spec struct {
	Calls      int  // times it calls next: 0, 1 or 2
	FailBefore bool // returns its own error before calling next
	FailAfter  bool // returns its own error after next, replacing downstream's
	Swallow    bool // drops downstream's error
}

var genSpec = rapid.Custom(func(t *rapid.T) spec {
	return spec{
		Calls:      rapid.IntRange(0, 2).Draw(t, "calls"),
		FailBefore: rapid.Float64Range(0, 1).Draw(t, "p") < 0.15,
		FailAfter:  rapid.Float64Range(0, 1).Draw(t, "q") < 0.15,
		Swallow:    rapid.Bool().Draw(t, "swallow"),
	}
})

// layerErr is the error layer i returns of its own accord.
type layerErr struct{ i int }

func (e layerErr) Error() string { return fmt.Sprintf("layer %d failed", e.i) }

// real builds layer i of spec s, recording its steps in tr.
func realLayer(i int, s spec, tr *trace) middleware.Middleware[int] {
	return func(_ int, next middleware.Next) error { return behave(i, s, tr, next) }
}

// model runs the specs from layer i the plain recursive way, koa's way: a
// layer's first next runs the rest, a second one fails.
func model(specs []spec, i int, outer func() error, tr *trace) error {
	if i == len(specs) {
		return outer()
	}
	calls := 0
	return behave(i, specs[i], tr, func() error {
		if calls++; calls > 1 {
			return middleware.ErrNextCalledMultipleTimes
		}
		return model(specs, i+1, outer, tr)
	})
}

// behave is what layer i of spec s does, given its next: it records its
// steps in tr and returns its error.
func behave(i int, s spec, tr *trace, next func() error) error {
	tr.add(fmt.Sprintf(">%d", i))
	if s.FailBefore {
		return layerErr{i}
	}
	var err error
	for range s.Calls {
		err = next()
		tr.add(fmt.Sprintf("next%d=%v", i, err))
		if s.Swallow {
			err = nil
		}
	}
	tr.add(fmt.Sprintf("<%d", i))
	if s.FailAfter {
		return layerErr{i}
	}
	return err
}

// nest composes layers, splitting them at random into nested compositions,
// which must not change anything.
func nest(t *rapid.T, layers []middleware.Middleware[int], label string) middleware.Middleware[int] {
	if len(layers) < 2 || !rapid.Bool().Draw(t, label+"-nest") {
		return middleware.Compose(layers...)
	}
	cut := rapid.IntRange(1, len(layers)-1).Draw(t, label+"-cut")
	return middleware.Compose(nest(t, layers[:cut], label+"L"), nest(t, layers[cut:], label+"R"))
}

func TestComposeMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		specs := rapid.SliceOfN(genSpec, 0, 8).Draw(t, "specs")
		outerFails := rapid.Bool().Draw(t, "outerFails")
		outerErr := errors.New("outer")
		var got, want trace
		outer := func(tr *trace) func() error {
			return func() error {
				tr.add("outer")
				if outerFails {
					return outerErr
				}
				return nil
			}
		}
		layers := make([]middleware.Middleware[int], len(specs))
		for i, s := range specs {
			layers[i] = realLayer(i, s, &got)
		}
		h := nest(t, layers, "root")
		wantErr := model(specs, 0, outer(&want), &want)
		for run := range 3 { // the pooled state is reused between runs
			got = nil
			err := h(0, outer(&got))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("run %d: trace (-model +real):\n%s", run, diff)
			}
			if !errors.Is(err, wantErr) && err != wantErr {
				t.Fatalf("run %d: composed() = %v, model says %v", run, err, wantErr)
			}
		}
	})
}
