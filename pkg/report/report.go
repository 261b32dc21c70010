// Package report renders a plan, and what applying it did, for machines
// (one JSON document, the CLI's --output json contract of issue #3) and for
// people (a plain-text table).
//
// A Report starts as a plan with every action "planned" (New); apply
// outcomes are recorded onto it (Record). The package imports no AWS code:
// apply outcomes arrive as an Outcome of plain data (status, error text,
// retryable, error class), which the engine converts from apply's.
package report

import (
	"slices"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// Status is what became of an action.
type Status string

// Action statuses.
const (
	StatusPlanned Status = "planned" // computed, not (yet) applied
	StatusApplied Status = "applied" // applied successfully
	StatusFailed  Status = "failed"  // applying it failed; Error says why
	StatusSkipped Status = "skipped" // not attempted (e.g. a prerequisite failed)
)

// Outcome is what became of one action, as Record takes it.
type Outcome struct {
	Status Status
	// Error is the error text; "" when the action was applied or planned.
	Error string
	// Retryable is true when a later run can be expected to succeed
	// without anyone changing anything (apply.Outcome.Retryable).
	Retryable bool
	// ErrorClass is apply's class of the error (apply.Class: "throttled",
	// "denied", "not-found", ...); "" without an error.
	ErrorClass string
}

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
	// TopicARN is the topic Watchkeeper's alarms notify, from the plan
	// (plan.Plan.TopicARN); "" when no log group could be targeted. It is
	// not part of the JSON document.
	TopicARN string `json:"-"`
	// Organization is the organization coverage (plan.Plan.Organization);
	// nil unless it was asked for.
	Organization *plan.Organization `json:"organization,omitempty"`
}

// Action is one planned action and what became of it.
type Action struct {
	Action   string   `json:"action"` // the plan.Kind, e.g. "PutMetricFilter"
	Region   string   `json:"region"`
	Target   string   `json:"target"`
	Status   Status   `json:"status"`
	Reason   string   `json:"reason"`
	Error    string   `json:"error"`
	Controls []string `json:"controls"`
	// Detail distinguishes actions on one target for people
	// ("protocol:endpoint" of a Subscribe); empty otherwise.
	Detail string `json:"detail,omitempty"`
	// Retryable and ErrorClass classify Error (see Outcome); they are
	// omitted when there is no error.
	Retryable  bool   `json:"retryable,omitempty"`
	ErrorClass string `json:"errorClass,omitempty"`
	// Endpoint is the endpoint a Subscribe action subscribes, as data;
	// nil for other kinds.
	Endpoint *plan.Endpoint `json:"endpoint,omitempty"`
}

// New returns the report of plan p for a run in the given mode, with every
// action planned.
func New(mode string, p plan.Plan) Report {
	r := Report{
		Account:    p.Account,
		Benchmark:  p.Benchmark,
		HomeRegion: p.HomeRegion,
		Mode:       mode,
		TopicARN:   p.TopicARN,
		Actions:    make([]Action, 0, len(p.Actions)),
	}
	if o := p.Organization; o != nil {
		c := *o
		c.Accounts = slices.Clone(o.Accounts)
		r.Organization = &c
	}
	r.setVerdicts(p)
	for _, a := range p.Actions {
		r.Actions = append(r.Actions, fromPlan(a, Outcome{Status: StatusPlanned}))
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
		c.Problems = slices.Clone(c.Problems)
		if c.Chain != nil {
			chain := *c.Chain
			c.Chain = &chain
		}
		r.Controls = append(r.Controls, c)
	}
	r.Regions = make([]plan.RegionResult, 0, len(p.Regions))
	for _, g := range p.Regions {
		g.Reasons = nonNil(g.Reasons)
		r.Regions = append(r.Regions, g)
	}
	r.Warnings = nonNil(p.Warnings)
}

// Record sets the outcome of action a, matched by plan.Action.Identity.
// An action that is not in the report is appended, so nothing apply did
// goes unreported.
func (r *Report) Record(a plan.Action, o Outcome) {
	line := fromPlan(a, o)
	id := a.Key()
	for i := range r.Actions {
		if r.Actions[i].identity() == id {
			r.Actions[i].Status, r.Actions[i].Error = line.Status, line.Error
			r.Actions[i].Retryable, r.Actions[i].ErrorClass = line.Retryable, line.ErrorClass
			return
		}
	}
	r.Actions = append(r.Actions, line)
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

func fromPlan(a plan.Action, o Outcome) Action {
	out := Action{
		Action:     string(a.Kind),
		Region:     a.Region,
		Target:     a.Target,
		Status:     o.Status,
		Reason:     a.Reason,
		Error:      o.Error,
		Controls:   nonNil(a.Controls),
		Retryable:  o.Retryable,
		ErrorClass: o.ErrorClass,
	}
	if s := a.Subscription; s != nil {
		out.Detail = s.Protocol + ":" + s.Endpoint
		out.Endpoint = &plan.Endpoint{Protocol: s.Protocol, Endpoint: s.Endpoint}
	}
	return out
}

// identity is plan.Action.Identity of the action this line reports. It is
// derived from exported fields only, so it survives a JSON round trip.
func (a Action) identity() string {
	p := plan.Action{Kind: plan.Kind(a.Action), Region: a.Region, Target: a.Target}
	if e := a.Endpoint; e != nil {
		p.Subscription = &plan.SubscriptionSpec{Protocol: e.Protocol, Endpoint: e.Endpoint}
	}
	return p.Key()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
