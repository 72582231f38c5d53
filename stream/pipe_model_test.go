package stream_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/stream"
)

// pipeModel is the plain model of a Pipe: a queue of at most hwm values, a
// closed flag with its error, and a reader that reads, stops, or finishes.
type pipeModel struct {
	hwm      int
	q        []int
	closed   bool
	closeErr error
	started  bool  // the reader has asked for a value
	stopped  bool  // the reader stopped before the end
	finished bool  // the reader got to the end (all values, then the end or the error)
	outcome  error // the Pipe's Err once Done
	ctxEnded bool  // the reader's context has ended (seen at its next read)
}

// pipeMachine drives a Pipe and its model with the same actions.
type pipeMachine struct {
	m       pipeModel
	p       *stream.Pipe[int]
	rctx    context.Context
	rcancel context.CancelFunc
	next    func() (int, error, bool)
	stop    func()
	n       int // the next value to write
}

var errWriter = errors.New("writer failed")

func (pm *pipeMachine) startReader() {
	if pm.next == nil {
		pm.next, pm.stop = iter.Pull2(iter.Seq2[int, error](pm.p.Stream(pm.rctx)))
	}
}

func (pm *pipeMachine) actions(t *rapid.T) map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"Write": func(t *rapid.T) {
			v := pm.n
			pm.n++
			var want error
			full := false
			switch m := &pm.m; {
			case m.stopped:
				want = stream.ErrStopped
			case m.closed:
				want = stream.ErrClosed
			case len(m.q) < m.hwm:
				m.q = append(m.q, v)
			default:
				full = true // blocks until ctx ends
				want = context.DeadlineExceeded
			}
			ctx := context.Background()
			if full {
				// A full Pipe cannot take v while the reader is
				// suspended between reads: the outcome does not depend
				// on the timeout. (An ended ctx is seen first, so only
				// the full case gets one.)
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Millisecond)
				defer cancel()
			}
			if err := pm.p.Write(ctx, v); err != want {
				t.Fatalf("Write(%d) = %v, want %v (model %+v)", v, err, want, pm.m)
			}
		},
		"WriteEndedContext": func(t *rapid.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := pm.p.Write(ctx, -1); err != context.Canceled {
				t.Fatalf("Write with an ended context = %v, want context.Canceled", err)
			}
		},
		"Close": func(t *rapid.T) {
			withErr := rapid.Bool().Draw(t, "withErr")
			var err error
			if withErr {
				err = pm.p.CloseWithError(errWriter)
			} else {
				err = pm.p.Close()
			}
			var want error
			if pm.m.closed {
				want = stream.ErrClosed
			} else {
				pm.m.closed = true
				if withErr {
					pm.m.closeErr = errWriter
				}
			}
			if err != want {
				t.Fatalf("Close (with error %v) = %v, want %v", withErr, err, want)
			}
		},
		"Read": func(t *rapid.T) {
			m := &pm.m
			if !m.stopped && !m.finished && !m.ctxEnded && len(m.q) == 0 && !m.closed {
				t.Skip("the read would wait for a Write")
			}
			pm.startReader()
			m.started = true
			v, err, ok := pm.next()
			var wantV int
			var wantErr error
			wantOK := true
			switch {
			case m.stopped || m.finished:
				wantOK = false
			case m.ctxEnded:
				wantErr = context.Canceled
				m.stopped, m.q, m.outcome = true, nil, context.Canceled
			case len(m.q) > 0:
				wantV, m.q = m.q[0], m.q[1:]
			default: // closed and empty
				m.finished, m.outcome = true, m.closeErr
				if wantErr = m.closeErr; wantErr == nil {
					wantOK = false
				}
			}
			if v != wantV || err != wantErr || ok != wantOK {
				t.Fatalf("read = %d, %v, %v; want %d, %v, %v", v, err, ok, wantV, wantErr, wantOK)
			}
		},
		"Break": func(t *rapid.T) {
			m := &pm.m
			if !m.started {
				t.Skip("no reader yet")
			}
			pm.stop()
			if !m.stopped && !m.finished {
				m.stopped, m.q, m.outcome = true, nil, stream.ErrStopped
			}
		},
		"CancelReader": func(t *rapid.T) {
			pm.rcancel()
			pm.m.ctxEnded = true
		},
		"RangeAgain": func(t *rapid.T) {
			if !pm.m.started {
				t.Skip("no reader yet")
			}
			var got []error
			for _, err := range pm.p.Stream(context.Background()) {
				got = append(got, err)
			}
			if !slices.Equal(got, []error{stream.ErrConsumed}) {
				t.Fatalf("second range = %v, want [ErrConsumed]", got)
			}
		},
		"": func(t *rapid.T) { // the invariant: Done and Err follow the model
			m := &pm.m
			ended := m.stopped || m.finished
			select {
			case <-pm.p.Done():
				if !ended {
					t.Fatalf("Done is closed, the model has not ended: %+v", *m)
				}
				if err := pm.p.Err(); err != m.outcome {
					t.Fatalf("Err() = %v, want %v", err, m.outcome)
				}
			default:
				if ended {
					t.Fatalf("Done is open, the model has ended: %+v", *m)
				}
				if err := pm.p.Err(); err != nil {
					t.Fatalf("Err() = %v before Done, want nil", err)
				}
			}
		},
	}
}

// TestPipeModel checks a Pipe against the queue model under random
// sequences of writes (into room, into a full Pipe, with an ended
// context), closes, reads, breaks, a reader's context ending and second
// ranges. The reader is the Pipe's Stream under iter.Pull, one read per
// action.
func TestPipeModel(t *testing.T) {
	leaktest.Check(t)
	rapid.Check(t, func(rt *rapid.T) {
		{
			hwm := rapid.IntRange(0, 4).Draw(rt, "hwm")
			rctx, rcancel := context.WithCancel(context.Background())
			pm := &pipeMachine{m: pipeModel{hwm: hwm}, p: stream.NewPipe[int](hwm), rctx: rctx, rcancel: rcancel}
			if hwm == 0 && rapid.Bool().Draw(rt, "zeroPipe") {
				pm.p = new(stream.Pipe[int]) // the zero Pipe is NewPipe(0)
			}
			defer func() {
				rcancel()
				if pm.stop != nil {
					pm.stop()
				}
			}()
			rt.Repeat(pm.actions(rt))
		}
	})
}
