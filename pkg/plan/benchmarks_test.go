package plan_test

import (
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// sqsOptions subscribes a queue, which AWS confirms without a person, so a
// fresh account can become compliant in one apply.
func sqsOptions(b catalog.Benchmark, p catalog.Profile) plan.Options {
	o := options()
	o.Benchmark, o.Profile = b, p
	o.Subscriptions = []plan.Endpoint{{Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:alerts"}}
	return o
}

// TestEveryBenchmarkConverges: for every benchmark in the catalog and every
// profile, setting monitoring up from scratch makes the account compliant
// with a single apply, and the next plan is empty. This is where the
// catalog's patterns, the filter-pattern engine and the planner must agree
// (a pattern Watchkeeper writes must satisfy its own control).
func TestEveryBenchmarkConverges(t *testing.T) {
	for _, id := range catalog.IDs() {
		b, err := catalog.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, prof := range catalog.Profiles() {
			t.Run(id+"/"+string(prof), func(t *testing.T) {
				s := emptyAccount()
				addTrail(&s, "main")
				o := sqsOptions(b, prof)
				first := plan.Compute(o, s)
				if got, want := len(first.Actions), 2*len(b.Controls)+2; got != want {
					t.Errorf("setup plan has %d actions, want %d (a filter and an alarm per control, the topic and one subscription)", got, want)
				}
				after := applyActions(t, s, first.Actions)
				again := plan.Compute(o, after)
				if len(again.Actions) != 0 || !again.Compliant() {
					t.Fatalf("after apply: actions %q, compliant %t", actionLines(again), again.Compliant())
				}
			})
		}
	}
}

// TestBenchmarkUpgrade: filters Watchkeeper wrote for an older benchmark
// are recognised or rewritten under a newer one, never duplicated, and a
// second apply converges.
func TestBenchmarkUpgrade(t *testing.T) {
	ids := catalog.IDs()
	for _, from := range ids {
		to := catalog.DefaultBenchmark
		t.Run(from+"->"+to, func(t *testing.T) {
			bf, _ := catalog.Lookup(from)
			bt, _ := catalog.Lookup(to)
			s := emptyAccount()
			addTrail(&s, "main")
			old := sqsOptions(bf, catalog.ProfileBenchmark)
			s = applyActions(t, s, plan.Compute(old, s).Actions)

			o := sqsOptions(bt, catalog.ProfileBenchmark)
			p := plan.Compute(o, s)
			for _, a := range p.Actions {
				if a.Kind == plan.CreateTopic || a.Kind == plan.Subscribe {
					t.Errorf("upgrade plans %s %s: the topic and subscription already exist", a.Kind, a.Target)
				}
			}
			s = applyActions(t, s, p.Actions)
			again := plan.Compute(o, s)
			if len(again.Actions) != 0 || !again.Compliant() {
				t.Fatalf("after upgrade apply: actions %q, compliant %t", actionLines(again), again.Compliant())
			}
			keys := map[string]bool{}
			for _, c := range append(bf.Controls, bt.Controls...) {
				keys[c.Key] = true
			}
			if n := len(s.LogGroups[mainLG].Filters); n != len(keys) {
				t.Errorf("log group holds %d filters after upgrade, want %d (one per control key)", n, len(keys))
			}
		})
	}
}
