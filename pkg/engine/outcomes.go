package engine

import (
	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// notConverged is the error text of an action that was applied but that
// the plan computed after apply still wants: the change did not stick, or
// something undid it.
const notConverged = "applied, but still needed when the account was observed again"

// entry is one action line of a report: the action and what became of it.
type entry struct {
	action  plan.Action
	outcome report.Outcome
}

// outcome converts apply's typed outcome to the report's (which imports
// no AWS code): the same status, error text, retryability and class.
func outcome(o apply.Outcome) report.Outcome {
	out := report.Outcome{Status: report.Status(o.Status), Retryable: o.Retryable, ErrorClass: string(o.Class)}
	if o.Err != nil {
		out.Error = o.Err.Error()
	}
	return out
}

// merge returns the action lines a report shows after an apply: every
// outcome of the run, in order, then each action the re-computed plan
// (still) wants, as planned. Actions of the two plans are matched by
// plan.Action.Identity.
//
// A still-wanted action the run shows as failed or skipped is not listed
// again: that line already says it is outstanding. One the run applied but
// the new plan wants again becomes planned, with notConverged as its
// error, because that is exactly what a reader must see.
func merge(run []apply.Outcome, still []plan.Action) []entry {
	out := make([]entry, 0, len(run)+len(still))
	at := make(map[string]int, len(run))
	for _, o := range run {
		at[o.Action.Key()] = len(out)
		out = append(out, entry{action: o.Action, outcome: outcome(o)})
	}
	for _, a := range still {
		i, done := at[a.Key()]
		switch {
		case !done:
			out = append(out, entry{action: a, outcome: report.Outcome{Status: report.StatusPlanned}})
		case out[i].outcome.Status == report.StatusApplied:
			out[i].outcome = report.Outcome{Status: report.StatusPlanned, Error: notConverged}
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
		TopicARN: verdict.TopicARN, LogGroup: verdict.LogGroup, Organization: verdict.Organization,
	})
	for _, l := range lines {
		r.Record(l.action, l.outcome)
	}
	return r
}
