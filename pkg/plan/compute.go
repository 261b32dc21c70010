package plan

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// ManagedByTag is the tag key (with value ManagedByValue) on every resource
// Watchkeeper creates where the service supports tags.
const (
	ManagedByTag   = "ManagedBy"
	ManagedByValue = "watchkeeper"
)

// Compute judges every control of opts.Benchmark and every region against
// s (Judge), then plans the actions that would heal what drifted (the
// planning pass, which reads the findings and never edits them). It
// performs no I/O, never mutates s, and is deterministic: equal inputs give
// equal plans (controls by numeric id, regions by name, actions by phase,
// region, kind and target).
//
// Compute is level-based: after the actions have been applied, Compute on
// a fresh snapshot of the account returns no actions.
//
// Planning targets one trail of this account (opts.TrailName, else a
// qualifying trail, else the best candidate) and puts filters, alarms and
// its topic in that trail's log group and region. It writes only resources
// named with opts.NamePrefix (and, of keys, only the configured topic key),
// and changes trails only as opts.TrailHealing allows, and only
// opts.TrailName when it is set; where the level or the name forbids a fix,
// the advice says what would fix it.
func Compute(opts Options, s account.Snapshot) Plan {
	jd := Judge(opts, s)
	p := &planner{jd: &jd, j: jd.j, opts: jd.j.opts, tg: jd.tgt, advice: map[string][]Problem{}}
	p.planTrail()
	p.planMonitoring()
	return p.assemble()
}

// planner is the planning pass's working state.
type planner struct {
	jd   *Judgement
	j    *judge
	opts Options
	tg   target

	actions []Action
	// advice is what planning adds beside a control's finding: what
	// Watchkeeper will not or cannot do, and what else is missing where it
	// acts. It never changes a status.
	advice      map[string][]Problem
	regionNotes []string
	warnings    []string
}

func (p *planner) add(a Action) { p.actions = append(p.actions, a) }

func (p *planner) note(id, code, reason string) {
	if !slices.ContainsFunc(p.advice[id], func(pr Problem) bool { return pr.Reason == reason }) {
		p.advice[id] = append(p.advice[id], Problem{Code: code, Reason: reason})
	}
}

func (p *planner) warn(w string) { p.warnings = append(p.warnings, w) }

// assemble builds the Plan: each finding with its advice, each region with
// what trail healing would do, the merged actions and the warnings.
func (p *planner) assemble() Plan {
	out := Plan{
		Account:    p.jd.s.Account,
		Benchmark:  p.opts.Benchmark.ID,
		HomeRegion: p.opts.HomeRegion,
		Controls:   make([]ControlResult, 0, len(p.jd.Controls)),
		Regions:    make([]RegionResult, 0, len(p.jd.Regions)),
	}
	for _, f := range p.jd.Controls {
		c := f.Control
		r := ControlResult{ID: c.ID, SecurityHubID: c.SecurityHubID, Title: c.Title, Status: f.Status, Where: f.Where, Reasons: []string{}}
		if f.Central != nil {
			ct := *f.Central
			r.Central = &ct
		}
		if f.Status == StatusPass {
			r.Reasons = append(r.Reasons, f.Pass)
		}
		for _, pr := range append(slices.Clone(f.Problems), p.advice[c.ID]...) {
			r.Reasons = append(r.Reasons, pr.Reason)
			r.Problems = append(r.Problems, pr)
			if pr.Code != "" && !slices.Contains(r.Codes, pr.Code) {
				r.Codes = append(r.Codes, pr.Code)
			}
		}
		r.Chain = p.chain(f)
		out.Controls = append(out.Controls, r)
	}
	for _, r := range p.jd.Regions {
		r.Reasons = slices.Clone(r.Reasons)
		if r.Central != nil {
			ct := *r.Central
			r.Central = &ct
		}
		if r.Status == StatusFail {
			r.Reasons = append(r.Reasons, p.regionNotes...)
		}
		out.Regions = append(out.Regions, r)
	}
	out.Organization = p.jd.Organization
	out.Actions = mergeActions(p.actions)
	if lg := p.tg.lg; lg != nil {
		out.LogGroup = &LogGroup{ARN: lg.ARN, Name: lg.Name, Region: lg.Region}
		out.TopicARN = p.topicARN()
	}
	out.Warnings = slices.Compact(append(slices.Clone(p.jd.Warnings), p.warnings...))
	return out
}

// chain names the resources of f's alert path (ControlResult.Chain): the
// chain that satisfies the control on PASS; otherwise Watchkeeper's own
// filter and alarm on the target log group, with its topic.
func (p *planner) chain(f Finding) *Chain {
	switch {
	case f.Status == StatusPass && f.Chain != nil:
		c := *f.Chain
		return &c
	case f.Status == StatusPass, f.Status == StatusExcluded, f.Status == StatusCentral, p.tg.lg == nil:
		return nil
	}
	lg, name := p.tg.lg, p.j.ownName(f.Control)
	return &Chain{
		Region: lg.Region, LogGroupARN: lg.ARN, LogGroupName: lg.Name, FilterName: name, AlarmName: name,
		AlarmARN: p.alarmARN(lg.Region, name),
		TopicARN: p.topicARN(),
	}
}

// mergeActions folds actions that write the same thing into one (joining
// their controls) and sorts them by (Phase, Region, Kind, Target).
func mergeActions(in []Action) []Action {
	out := make([]Action, 0, len(in))
	index := map[string]int{}
	for _, a := range in {
		k := a.Key()
		if i, ok := index[k]; ok {
			for _, id := range a.Controls {
				if !slices.Contains(out[i].Controls, id) {
					out[i].Controls = append(out[i].Controls, id)
				}
			}
			out[i].Coverage = out[i].Coverage && a.Coverage
			continue
		}
		a.Controls = slices.Clone(a.Controls)
		index[k] = len(out)
		out = append(out, a)
	}
	for i := range out {
		slices.SortFunc(out[i].Controls, CompareIDs)
	}
	slices.SortFunc(out, func(a, b Action) int {
		return cmp.Or(
			cmp.Compare(a.Kind.Phase(), b.Kind.Phase()),
			strings.Compare(a.Region, b.Region),
			strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Target, b.Target),
			strings.Compare(a.Key(), b.Key()),
		)
	})
	return out
}

// CompareIDs orders control ids numerically field by field ("4.2" before
// "4.10"); non-numeric fields compare as strings.
func CompareIDs(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		ai, aerr := strconv.Atoi(as[i])
		bi, berr := strconv.Atoi(bs[i])
		if aerr == nil && berr == nil {
			if c := cmp.Compare(ai, bi); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}
