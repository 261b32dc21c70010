package catalog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/catalog/catalogtest"
)

func loadFixtures(t *testing.T) []catalogtest.Fixture {
	t.Helper()
	fs, err := catalogtest.Load(catalogtest.Dir())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestFixtures evaluates every fixture against the pattern each benchmark
// writes under each profile, and against the accepted variants the
// fixtures' rules name.
func TestFixtures(t *testing.T) {
	fs := loadFixtures(t)
	for _, id := range allIDs {
		b := lookup(t, id)
		for _, p := range catalog.Profiles() {
			t.Run(id+"/"+string(p), func(t *testing.T) {
				results := catalogtest.Evaluate(b, p, fs)
				positives, negatives := map[string]int{}, map[string]int{}
				for _, r := range results {
					if !r.OK() {
						what := "written pattern"
						if r.Variant != "" {
							what = "variant " + r.Variant
						}
						t.Errorf("%s %s (%s): match = %v, want %v (err %v) %s\npattern %s", r.Control, r.Fixture, what, r.Got, r.Want, r.Err, r.Why, r.Pattern)
					}
					if r.Variant == "" && r.Want {
						positives[r.Key]++
					}
					if r.Variant == "" && !r.Want {
						negatives[r.Key]++
					}
				}
				for _, c := range b.Controls {
					if positives[c.Key] < 2 || negatives[c.Key] < 1 {
						t.Errorf("%s: %d fixtures that must match and %d that must not; want at least 2 and 1",
							c.ID, positives[c.Key], negatives[c.Key])
					}
				}
			})
		}
	}
}

// TestFixturesCoverEveryEvent: each event a control exists to catch has a
// fixture that the written pattern must match, so dropping an event name
// from a pattern fails TestFixtures.
func TestFixturesCoverEveryEvent(t *testing.T) {
	fs := loadFixtures(t)
	type ev struct{ Source, Name string }
	events := map[string][]ev{}
	for _, f := range fs {
		var rec struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
		}
		if err := json.Unmarshal(f.Event, &rec); err != nil {
			t.Fatalf("%s/%s: %v", f.Key, f.Name, err)
		}
		var fields map[string]any
		if err := json.Unmarshal(f.Event, &fields); err != nil {
			t.Fatal(err)
		}
		// The fields every CloudTrail record carries (CloudTrail record contents).
		for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
			"sourceIPAddress", "userAgent", "eventID", "eventType", "recipientAccountId"} {
			if v, ok := fields[k]; !ok || v == "" {
				t.Errorf("%s/%s lacks %s", f.Key, f.Name, k)
			}
		}
		if id, ok := fields["userIdentity"].(map[string]any); !ok || id["type"] == nil {
			t.Errorf("%s/%s lacks userIdentity.type", f.Key, f.Name)
		}
		if f.Kind == catalogtest.KindMatch {
			events[f.Key] = append(events[f.Key], ev{rec.EventSource, rec.EventName})
		}
	}
	for _, id := range allIDs {
		for _, c := range lookup(t, id).Controls {
			for _, e := range c.Events {
				if !slices.Contains(events[c.Key], ev{e.Source, e.Name}) {
					t.Errorf("%s %s: no match fixture for %s %s", id, c.ID, e.Source, e.Name)
				}
			}
		}
	}
}

// TestFixtureRulesAreUsed: a rule that never applies is stale.
func TestFixtureRulesAreUsed(t *testing.T) {
	fs := loadFixtures(t)
	used := map[string]bool{}
	ruleID := func(f catalogtest.Fixture, r catalogtest.Rule) string {
		return f.Key + "/" + r.Fixture + "/" + r.Variant + "/" + strings.Join(r.Benchmarks, ",") + "/" + r.Why
	}
	for _, id := range allIDs {
		b := lookup(t, id)
		for _, p := range catalog.Profiles() {
			for _, r := range catalogtest.Evaluate(b, p, fs) {
				for _, f := range fs {
					if f.Key != r.Key || f.Name != r.Fixture {
						continue
					}
					for _, rule := range f.Rules {
						if rule.Why == r.Why && (rule.Variant == "") == (r.Variant == "") {
							used[ruleID(f, rule)] = true
						}
					}
				}
			}
		}
	}
	n := 0
	for _, f := range fs {
		for _, rule := range f.Rules {
			n++
			if !used[ruleID(f, rule)] {
				t.Errorf("%s: rule for %s (variant %q) never applies", f.Key, rule.Fixture, rule.Variant)
			}
		}
	}
	if n == 0 {
		t.Error("no fixture rules loaded")
	}
}

func TestEveryKeyHasFixtures(t *testing.T) {
	fs := loadFixtures(t)
	kinds := map[string]map[string]int{}
	for _, f := range fs {
		if kinds[f.Key] == nil {
			kinds[f.Key] = map[string]int{}
		}
		kinds[f.Key][f.Kind]++
	}
	for _, k := range keys {
		if kinds[k][catalogtest.KindMatch] < 2 || kinds[k][catalogtest.KindNearMiss] < 2 {
			t.Errorf("%s: %d match and %d near-miss fixtures; want at least 2 of each", k, kinds[k][catalogtest.KindMatch], kinds[k][catalogtest.KindNearMiss])
		}
	}
	if len(kinds) != len(keys) {
		t.Errorf("fixture keys = %d, want %d", len(kinds), len(keys))
	}
}
