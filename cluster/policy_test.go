package cluster

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The restart policy against a plain model: the model keeps the whole
// history and recomputes from it; the policy keeps only a streak per slot
// and the unstable exits inside the window.
func TestPolicyModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := time.Duration(rapid.IntRange(1, 200).Draw(t, "base")) * time.Millisecond
		capd := base * time.Duration(rapid.IntRange(1, 64).Draw(t, "capFactor"))
		p := &policy{
			base:        base,
			max:         capd,
			maxRestarts: rapid.IntRange(1, 12).Draw(t, "maxRestarts"),
			window:      time.Duration(rapid.IntRange(1, 5000).Draw(t, "window")) * time.Millisecond,
		}
		nslots := rapid.IntRange(1, 4).Draw(t, "slots")
		hist := make([]slotHistory, nslots)
		type exit struct {
			slot   int
			at     time.Time
			stable bool
		}
		var model []exit
		now := time.Unix(1000, 0)
		t.Repeat(map[string]func(*rapid.T){
			"exit": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(0, 3000).Draw(t, "gap")) * time.Millisecond)
				s := rapid.IntRange(0, nslots-1).Draw(t, "slot")
				stable := rapid.Bool().Draw(t, "stable")
				model = append(model, exit{s, now, stable})

				// Model: the streak is the unstable exits of s since its
				// last stable one; giving up counts every slot's unstable
				// exits less than window old.
				var wantDelay time.Duration
				if !stable {
					streak := 0
					for i := len(model) - 1; i >= 0; i-- {
						if model[i].slot != s {
							continue
						}
						if model[i].stable {
							break
						}
						streak++
					}
					wantDelay = base
					for range streak - 1 {
						wantDelay = min(2*wantDelay, capd)
					}
					wantDelay = min(wantDelay, capd)
				}
				inWindow := 0
				for _, e := range model {
					if !e.stable && now.Sub(e.at) < p.window {
						inWindow++
					}
				}
				wantGiveUp := !stable && inWindow > p.maxRestarts

				delay, giveUp := p.exit(&hist[s], now, stable)
				if giveUp != wantGiveUp {
					t.Fatalf("exit(slot %d, stable %v) gave up = %v, want %v (%d unstable in window, max %d)",
						s, stable, giveUp, wantGiveUp, inWindow, p.maxRestarts)
				}
				if giveUp {
					// The primary exits; model its next run from scratch.
					p.unstable, model = nil, nil
					clear(hist)
					return
				}
				if delay != wantDelay {
					t.Fatalf("exit(slot %d, stable %v) delay = %v, want %v", s, stable, delay, wantDelay)
				}
				if len(p.unstable) > p.maxRestarts+1 {
					t.Fatalf("the policy keeps %d exits, more than maxRestarts+1", len(p.unstable))
				}
			},
		})
	})
}

// The delays of one slot's unstable exits in a row: 100ms doubling to the
// cap; a stable exit resets them.
func TestPolicyBackoff(t *testing.T) {
	p := &policy{base: 100 * time.Millisecond, max: time.Second, maxRestarts: 100, window: time.Minute}
	var s slotHistory
	now := time.Unix(0, 0)
	var got []time.Duration
	for range 6 {
		d, _ := p.exit(&s, now, false)
		got = append(got, d)
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays = %v, want %v ms", got, want)
		}
	}
	if d, _ := p.exit(&s, now, true); d != 0 {
		t.Fatalf("a stable exit's delay = %v, want 0", d)
	}
	if d, _ := p.exit(&s, now, false); d != 100*time.Millisecond {
		t.Fatalf("after a stable exit the delay = %v, want 100ms again", d)
	}
}
