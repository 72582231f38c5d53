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
	Keep       bool // keeps its next in the shared slots, for later calls
	Poke       int  // after its own nexts, calls the kept next of layer Poke (-1: none)
}

func genSpec(n int) *rapid.Generator[spec] {
	return rapid.Custom(func(t *rapid.T) spec {
		return spec{
			Calls:      rapid.IntRange(0, 2).Draw(t, "calls"),
			FailBefore: rapid.Float64Range(0, 1).Draw(t, "p") < 0.15,
			FailAfter:  rapid.Float64Range(0, 1).Draw(t, "q") < 0.15,
			Swallow:    rapid.Bool().Draw(t, "swallow"),
			Keep:       rapid.Bool().Draw(t, "keep"),
			Poke:       rapid.IntRange(-1, n-1).Draw(t, "poke"),
		}
	})
}

// layerErr is the error layer i returns of its own accord.
type layerErr struct{ i int }

func (e layerErr) Error() string { return fmt.Sprintf("layer %d failed", e.i) }

// realLayer builds layer i of spec s, recording its steps in tr and keeping
// its next in kept.
func realLayer(i int, s spec, tr *trace, kept []func() error) middleware.Middleware[int] {
	return func(_ int, next middleware.Next) error { return behave(i, s, tr, next.Call, kept) }
}

// A modelNext is the model's next: the plain recursive way, koa's way (a
// layer's first next runs the rest, a second one fails), plus nodekit's
// rule that a next whose layer has returned runs nothing.
type modelNext struct {
	calls    int
	returned bool
}

// model runs the specs from layer i, keeping nexts in kept.
func model(specs []spec, i int, outer func() error, tr *trace, kept []func() error) error {
	if i == len(specs) {
		return outer()
	}
	st := &modelNext{}
	next := func() error {
		if st.returned {
			return middleware.ErrNextAfterReturn
		}
		if st.calls++; st.calls > 1 {
			return middleware.ErrNextCalledMultipleTimes
		}
		return model(specs, i+1, outer, tr, kept)
	}
	err := behave(i, specs[i], tr, next, kept)
	st.returned = true
	return err
}

// behave is what layer i of spec s does, given its next: it records its
// steps in tr and returns its error.
func behave(i int, s spec, tr *trace, next func() error, kept []func() error) error {
	tr.add(fmt.Sprintf(">%d", i))
	if s.Keep {
		kept[i] = next
	}
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
	if s.Poke >= 0 && kept[s.Poke] != nil {
		tr.add(fmt.Sprintf("poke%d=%v", s.Poke, kept[s.Poke]()))
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

// The real composition and the model agree on the order of steps, each
// next's result and the final error, over several calls that reuse the
// pooled state and share the nexts the layers kept: a next kept from an
// earlier call, or called after its layer returned, runs nothing.
func TestComposeMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 8).Draw(t, "n")
		specs := rapid.SliceOfN(genSpec(n), n, n).Draw(t, "specs")
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
		realKept, modelKept := make([]func() error, n), make([]func() error, n)
		layers := make([]middleware.Middleware[int], n)
		for i, s := range specs {
			layers[i] = realLayer(i, s, &got, realKept)
		}
		h := nest(t, layers, "root")
		for run := range 3 { // the pooled state is reused between runs
			got, want = nil, nil
			wantErr := model(specs, 0, outer(&want), &want, modelKept)
			err := h(0, middleware.NextFunc(outer(&got)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("run %d: trace (-model +real):\n%s", run, diff)
			}
			if !errors.Is(err, wantErr) && err != wantErr {
				t.Fatalf("run %d: composed() = %v, model says %v", run, err, wantErr)
			}
		}
	})
}
