package engine

import (
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// notConverged is the error text of an action that was applied but that
// the plan computed after apply still wants: the change did not stick, or
// something undid it.
const notConverged = "applied, but still needed when the account was observed again"

// entry is one action line of a report: the action, its status (a
// report.Status* constant) and error text.
type entry struct {
	action plan.Action
	status string
	err    string
}

// actionKey identifies an action across two plans: the same change to the
// same resource (for Subscribe, the same endpoint), as report.Record does.
type actionKey struct {
	kind     plan.Kind
	region   string
	target   string
	endpoint string
}

func keyOf(a plan.Action) actionKey {
	k := actionKey{kind: a.Kind, region: a.Region, target: a.Target}
	if a.Subscription != nil {
		k.endpoint = strings.ToLower(a.Subscription.Protocol) + ":" + a.Subscription.Endpoint
	}
	return k
}

// merge returns the action lines a report shows after an apply: every
// outcome of the run, in order, then each action the re-computed plan
// (still) wants, as planned.
//
// A still-wanted action the run shows as failed or skipped is not listed
// again: that line already says it is outstanding. One the run applied but
// the new plan wants again becomes planned, with notConverged as its
// error, because that is exactly what a reader must see.
func merge(run []apply.Outcome, still []plan.Action) []entry {
	out := make([]entry, 0, len(run)+len(still))
	at := make(map[actionKey]int, len(run))
	for _, o := range run {
		e := entry{action: o.Action, status: string(o.Status)}
		if o.Err != nil {
			e.err = o.Err.Error()
		}
		at[keyOf(o.Action)] = len(out)
		out = append(out, e)
	}
	for _, a := range still {
		i, done := at[keyOf(a)]
		switch {
		case !done:
			out = append(out, entry{action: a, status: report.StatusPlanned})
		case out[i].status == report.StatusApplied:
			out[i].status, out[i].err = report.StatusPlanned, notConverged
		}
	}
	return out
}

// assemble builds the report of a run: the verdicts of verdict, and the
// given action lines.
func assemble(mode string, verdict plan.Plan, lines []entry) report.Report {
	r := report.New(mode, plan.Plan{
		Account: verdict.Account, Benchmark: verdict.Benchmark, HomeRegion: verdict.HomeRegion,
		Controls: verdict.Controls, Regions: verdict.Regions, Warnings: verdict.Warnings,
	})
	for _, l := range lines {
		r.Record(l.action, l.status, l.err)
	}
	return r
}
