package plan

import (
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
)

// TestWitnessShortcutIsExact: for every pattern text the catalog knows (each
// a realistic filter someone may have deployed), judging it against every
// control gives the same answer with the witness shortcut as with the full
// Equivalent/Covers decision alone.
func TestWitnessShortcutIsExact(t *testing.T) {
	if everyEvent == nil {
		t.Fatal("the every-event pattern does not parse; the over-broad check would be skipped")
	}
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
					want = want || !filterpattern.Covers(f, everyEvent)
				}
				if refutes(fc.parse(text).hits, v.hits) {
					refuted++
				}
				pairs++
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

// TestJudgeTopicAgreesWithDelivers: the planner's topic verdict (which adds
// reasons and Security Hub codes) and inspect.Topic.Delivers (which the
// inspector uses to decide whether to look for a person's alarm) state one
// rule. Every combination of the facts the rule reads must agree.
func TestJudgeTopicAgreesWithDelivers(t *testing.T) {
	const arn = "arn:aws:sns:us-east-1:123456789012:team-alerts"
	keys := map[string]*inspect.TopicKey{
		"no key facts":       nil,
		"key unreadable":     {KeyARN: "k", Error: "AccessDenied"},
		"aws managed key":    {KeyARN: "k", AWSManaged: true},
		"key without grant":  {KeyARN: "k"},
		"key CloudWatch may": {KeyARN: "k", CloudWatchCanUse: true},
	}
	n := 0
	for _, exists := range []bool{false, true} {
		for _, readErr := range []string{"", "AccessDenied"} {
			for _, confirmed := range []int{0, 1} {
				for _, encrypted := range []bool{false, true} {
					for keyName, key := range keys {
						if !encrypted && key != nil {
							continue
						}
						topic := inspect.Topic{ARN: arn, Exists: exists, Error: readErr, ConfirmedSubscriptions: confirmed}
						if encrypted {
							topic.KMSKeyID, topic.KMS = "alias/team", key
						}
						p := newPlanner(Options{Benchmark: catalog.Default(), HomeRegion: "us-east-1"},
							inspect.Snapshot{Account: "123456789012", Partition: "aws", Topics: map[string]inspect.Topic{arn: topic}})
						if got, want := p.judgeTopic(arn).ok, topic.Delivers(); got != want {
							t.Errorf("exists=%v error=%q confirmed=%d encrypted=%v %s: judgeTopic ok = %v, Delivers = %v",
								exists, readErr, confirmed, encrypted, keyName, got, want)
						}
						n++
					}
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d combinations checked", n)
	}
}
