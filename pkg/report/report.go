// Package report renders a plan, and what applying it did, for machines
// (one JSON document, the CLI's --output json contract of issue #3) and for
// people (a plain-text table).
//
// A Report starts as a plan with every action "planned" (New); apply
// outcomes are recorded onto it (Record); after an apply the verdicts of a
// fresh plan replace the old ones (Reassess). The package imports no AWS
// code: apply outcomes arrive as plain status and error text.
package report

import (
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// Action statuses.
const (
	StatusPlanned = "planned" // computed, not (yet) applied
	StatusApplied = "applied" // applied successfully
	StatusFailed  = "failed"  // applying it failed; Error says why
	StatusSkipped = "skipped" // not attempted (e.g. a prerequisite failed)
)

// Report is what one run observed, decided and did.
type Report struct {
	Account    string `json:"account"`
	Benchmark  string `json:"benchmark"`
	HomeRegion string `json:"homeRegion"`
	// Mode is the run's mode: "audit", "plan", "apply" or "report".
	Mode      string               `json:"mode"`
	Compliant bool                 `json:"compliant"`
	Controls  []plan.ControlResult `json:"controls"`
	Regions   []plan.RegionResult  `json:"regions"`
	Actions   []Action             `json:"actions"`
	Warnings  []string             `json:"warnings"`
}

// Action is one planned action and what became of it.
type Action struct {
	Action   string   `json:"action"` // the plan.Kind, e.g. "PutMetricFilter"
	Region   string   `json:"region"`
	Target   string   `json:"target"`
	Status   string   `json:"status"` // StatusPlanned, StatusApplied, StatusFailed or StatusSkipped
	Reason   string   `json:"reason"`
	Error    string   `json:"error"`
	Controls []string `json:"controls"`
	// Detail distinguishes actions on one target (the endpoint of a
	// Subscribe); empty otherwise.
	Detail string `json:"detail,omitempty"`
}

// New returns the report of plan p for a run in the given mode, with every
// action planned.
func New(mode string, p plan.Plan) Report {
	r := Report{
		Account:    p.Account,
		Benchmark:  p.Benchmark,
		HomeRegion: p.HomeRegion,
		Mode:       mode,
		Actions:    make([]Action, 0, len(p.Actions)),
	}
	r.setVerdicts(p)
	for _, a := range p.Actions {
		r.Actions = append(r.Actions, fromPlan(a, StatusPlanned, ""))
	}
	return r
}

// setVerdicts copies the control and region verdicts, warnings and
// compliance of p, with every list non-nil so the JSON never says null.
func (r *Report) setVerdicts(p plan.Plan) {
	r.Compliant = p.Compliant()
	r.Controls = make([]plan.ControlResult, 0, len(p.Controls))
	for _, c := range p.Controls {
		c.Reasons = nonNil(c.Reasons)
		c.Codes = slices.Clone(c.Codes)
		r.Controls = append(r.Controls, c)
	}
	r.Regions = make([]plan.RegionResult, 0, len(p.Regions))
	for _, g := range p.Regions {
		g.Reasons = nonNil(g.Reasons)
		r.Regions = append(r.Regions, g)
	}
	r.Warnings = nonNil(p.Warnings)
}

// Record sets the outcome of action a: status is one of the Status
// constants (apply's own status names are accepted as they are) and
// errText the error, if any. An action that is not in the report is
// appended, so nothing apply did goes unreported.
func (r *Report) Record(a plan.Action, status, errText string) {
	k := fromPlan(a, "", "").key()
	for i := range r.Actions {
		if r.Actions[i].key() == k {
			r.Actions[i].Status, r.Actions[i].Error = status, errText
			return
		}
	}
	r.Actions = append(r.Actions, fromPlan(a, status, errText))
}

// Reassess replaces the verdicts (controls, regions, compliance, warnings)
// with those of after, a plan computed from a fresh observation once the
// actions were applied. Recorded actions are kept: they say what was done.
func (r *Report) Reassess(after plan.Plan) {
	r.setVerdicts(after)
}

// Pending returns the actions that still need doing: planned, failed or
// skipped. A run that leaves none pending and is compliant is done.
func (r Report) Pending() []Action {
	var out []Action
	for _, a := range r.Actions {
		if a.Status != StatusApplied {
			out = append(out, a)
		}
	}
	return out
}

func fromPlan(a plan.Action, status, errText string) Action {
	out := Action{
		Action:   string(a.Kind),
		Region:   a.Region,
		Target:   a.Target,
		Status:   status,
		Reason:   a.Reason,
		Error:    errText,
		Controls: nonNil(a.Controls),
	}
	if a.Subscription != nil {
		out.Detail = a.Subscription.Protocol + ":" + a.Subscription.Endpoint
	}
	return out
}

// key identifies an action: plans never hold two actions with the same
// kind, region, target and (for Subscribe) endpoint. It is derived from
// exported fields only, so it survives a JSON round trip.
func (a Action) key() string {
	return strings.Join([]string{a.Action, a.Region, a.Target, a.Detail}, "\x00")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
