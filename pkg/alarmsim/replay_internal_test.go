package alarmsim

import "testing"

// fullReplay is replayEvent without the shortcut: it evaluates every age of
// the event across the evaluation range.
func fullReplay(quiet Datapoint, n, m int, treat string, start State) replay {
	size := evaluationRange(n)
	window := make([]Datapoint, size)
	fill := func() {
		for i := range window {
			window[i] = quiet
		}
	}
	fill()
	r := replay{before: Evaluate(window, n, m, treat, start)}
	state := r.before
	for age := 1; age <= size; age++ {
		fill()
		window[size-age] = Breaching
		next := Evaluate(window, n, m, treat, state)
		if r.tripAge == 0 && next == StateAlarm && state != StateAlarm {
			r.tripAge = age
		}
		state = next
	}
	fill()
	r.after = Evaluate(window, n, m, treat, state)
	return r
}

// TestReplayShortcutExact proves that evaluating only ages 1, M, N, N+1 and
// the end of the range gives what evaluating every age gives.
func TestReplayShortcutExact(t *testing.T) {
	for n := 1; n <= 12; n++ {
		for m := 1; m <= n; m++ {
			for _, treat := range []string{treatMissing, treatIgnore, treatBreaching, treatNotBreaching} {
				for _, quiet := range []Datapoint{Missing, NotBreaching, Breaching} {
					for _, start := range []State{StateOK, StateAlarm, StateInsufficientData} {
						got, want := replayEvent(quiet, n, m, treat, start), fullReplay(quiet, n, m, treat, start)
						if got != want {
							t.Errorf("replayEvent(%s, %d of %d, %s, %s) = %+v, want %+v", quiet, m, n, treat, start, got, want)
						}
					}
				}
			}
		}
	}
}
