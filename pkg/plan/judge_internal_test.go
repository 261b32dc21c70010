package plan

import (
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// TestWitnessShortcutIsExact: for every pattern text the catalog knows (each
// a realistic filter someone may have deployed), judging it against every
// control gives the same answer with the witness shortcut as with the full
// Equivalent/Covers decision alone.
func TestWitnessShortcutIsExact(t *testing.T) {
	b := catalog.Default()
	fc := newFilterCache()
	var texts []string
	for _, c := range b.Controls {
		texts = append(texts, c.PatternFor(catalog.ProfileBenchmark), c.PatternFor(catalog.ProfileSecurityHub))
		for _, v := range c.Accepted {
			texts = append(texts, v.Pattern)
		}
	}
	texts = append(texts, `{ $.eventName = * }`, `{ $.eventSource = kms.amazonaws.com }`, `{ $.errorCode = * }`)
	pairs, refuted := 0, 0
	for _, c := range b.Controls {
		m := fc.matcher(c, catalog.ProfileBenchmark)
		for _, text := range texts {
			got, _, _ := m.satisfies(text)
			f := filterpattern.MustParse(text)
			want := false
			for _, v := range m.variants {
				if filterpattern.Equivalent(f, v.p) {
					want = true
				} else if filterpattern.Covers(f, v.p) || (v.shaped != nil && filterpattern.Covers(f, v.shaped)) {
					want = true
				}
				if refutes(fc.parse(text).hits, v.hits) {
					refuted++
				}
				pairs++
			}
			if _, broad := fc.routineHit(text, f); broad {
				want = false
			}
			if got != want {
				t.Errorf("control %s, pattern %s: satisfies = %t, full decision = %t", c.ID, text, got, want)
			}
		}
	}
	// Measured, not timed: the share of (filter, variant) pairs the
	// witnesses settle without an exact decision.
	t.Logf("witnesses refute %d of %d (filter, variant) pairs (%.0f%%)", refuted, pairs, 100*float64(refuted)/float64(pairs))
	if refuted*10 < pairs*8 {
		t.Errorf("witnesses refute only %d of %d pairs; the shortcut no longer pays", refuted, pairs)
	}
}
