package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// Finding is one control's verdict. Judge produces it and nothing edits it
// afterwards: planning adds advice beside it (Compute), never changes it.
type Finding struct {
	Control catalog.Control
	Status  Status
	// Problems say why the control does not pass, in order; empty on PASS.
	Problems []Problem
	// Pass says which chain satisfies the control, when it passes, and
	// Where names its log group ARN.
	Pass  string
	Where string
	// Chain names the resources of the chain that satisfies the control,
	// when it passes.
	Chain *Chain
	// Central names the organization trail of another account that the
	// control relies on, when Status is CENTRAL.
	Central *Central
}

// Codes returns the distinct codes of f's problems, in order.
func (f Finding) Codes() []string {
	var out []string
	for _, p := range f.Problems {
		if p.Code != "" && !slices.Contains(out, p.Code) {
			out = append(out, p.Code)
		}
	}
	return out
}

// Judgement is the outcome of the judge pass: the findings, and the facts
// about trails the planning pass builds on.
type Judgement struct {
	Controls []Finding
	Regions  []RegionResult
	Warnings []string
	// Organization is the coverage of the organization's accounts, when
	// the snapshot lists them.
	Organization *Organization

	j      *judge
	s      account.Snapshot
	trails []*trailFacts // sorted by ARN
	tgt    target
	// central is the organization trail of another account that records
	// this account's events, when no central role let it be read (nil
	// otherwise): see StatusCentral.
	central *trailFacts
}

// Judge judges every control of opts.Benchmark, and every region, against
// s. It performs no I/O, never mutates s, and is deterministic.
//
// The rule: a control passes only if one occurrence of any of its events,
// recorded by a qualifying trail, becomes a notification delivered to a
// confirmed subscriber (chain.go, topic.go, pkg/alarmsim), and the
// benchmark's own audit criteria hold (trail.go: multi-region, logging,
// ReadWriteType All; the alarm found by MetricName). What could not be
// observed makes a control ERROR, never FAIL or PASS.
func Judge(opts Options, s account.Snapshot) Judgement {
	j := newJudge(opts, s.Account, s.Partition, func(arn string) (account.Topic, bool) {
		t, ok := s.Topics[arn]
		return t, ok
	})
	out := Judgement{Controls: []Finding{}, Regions: []RegionResult{}, j: j, s: s}
	trails := slices.Clone(s.Trails)
	slices.SortFunc(trails, func(a, b account.Trail) int { return strings.Compare(a.ARN, b.ARN) })
	for _, t := range trails {
		out.trails = append(out.trails, judgeTrail(t, s))
	}
	out.tgt = chooseTarget(j.opts, s, out.trails)
	if s.CentralRole == "" {
		if i := slices.IndexFunc(out.trails, func(t *trailFacts) bool { return t.central(s.Account) }); i >= 0 {
			out.central = out.trails[i]
		}
	}
	out.Warnings = append(out.Warnings, out.tgt.warnings...)

	controls := slices.Clone(j.opts.Benchmark.Controls)
	slices.SortFunc(controls, func(a, b catalog.Control) int { return CompareIDs(a.ID, b.ID) })
	for _, c := range controls {
		if slices.Contains(j.opts.Exclude, c.ID) {
			out.Controls = append(out.Controls, Finding{Control: c, Status: StatusExcluded,
				Problems: []Problem{{Reason: "excluded by configuration"}}})
			continue
		}
		f, warnings := out.judgeControl(c)
		out.Controls = append(out.Controls, f)
		for _, w := range c.Warnings {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: %s", c.ID, w))
		}
		out.Warnings = append(out.Warnings, warnings...)
	}
	out.Regions = out.judgeRegions()
	org, orgWarnings := judgeOrganization(s, out.trails)
	out.Organization = org
	out.Warnings = append(out.Warnings, orgWarnings...)
	out.Warnings = append(out.Warnings, observedWarnings(out.trails, s)...)
	return out
}

// judge holds what judging one account needs; it is also the predicate
// the inspector uses (AlarmNotifies), so both decide alike.
type judge struct {
	opts               Options
	account, partition string
	topics             func(arn string) (account.Topic, bool)
	filters            *filterCache
}

func newJudge(opts Options, account, partition string, topics func(string) (account.Topic, bool)) *judge {
	if partition == "" {
		partition = "aws"
	}
	return &judge{opts: opts.withDefaults(), account: account, partition: partition, topics: topics, filters: newFilterCache()}
}

func (j *judge) ownName(c catalog.Control) string { return j.opts.NamePrefix + c.Key }

// judgeControl judges c on every log group of a trail that qualifies for
// it; the control passes on the first log group where a chain works.
func (out *Judgement) judgeControl(c catalog.Control) (Finding, []string) {
	f := Finding{Control: c}
	needKMS := c.Key == cmkControlKey
	var qualifying []*trailFacts
	for _, t := range out.trails {
		if t.qualifies(needKMS) {
			qualifying = append(qualifying, t)
		}
	}
	if len(qualifying) == 0 && out.central != nil {
		// A member account: its events reach the organization trail's log
		// group in the owner's account, where the control is enforced.
		ct := out.central.centralRef()
		f.Status, f.Central = StatusCentral, &ct
		f.Problems = []Problem{{Code: CodeCentral, Reason: fmt.Sprintf(
			"enforced centrally: organization trail %s, owned by account %s, records this account's events into log group %s (%s) in account %s; its metric filters, alarms and topic are enforced and checked there (configure a read-only central role in account %s to judge them from this account)",
			ct.TrailARN, ct.OwnerAccount, ct.LogGroupName, ct.Region, arnAccount(ct.LogGroupARN), ct.OwnerAccount)}}
		return f, nil
	}
	if len(qualifying) == 0 {
		f.Status, f.Problems = out.noQualifyingTrail(needKMS)
		return f, nil
	}
	// The target's log group first, so its reasons (the ones Watchkeeper
	// acts on) lead; then by log group ARN.
	slices.SortStableFunc(qualifying, func(a, b *trailFacts) int {
		if (a == out.tgt.trail) != (b == out.tgt.trail) {
			if a == out.tgt.trail {
				return -1
			}
			return 1
		}
		return strings.Compare(a.lg.ARN, b.lg.ARN)
	})
	anyError := false
	seen := map[string]bool{}
	for _, t := range qualifying {
		if seen[t.lg.ARN] {
			continue
		}
		seen[t.lg.ARN] = true
		e := out.j.evalLogGroup(c, t.lg)
		if e.status == StatusPass {
			return Finding{Control: c, Status: StatusPass, Pass: e.pass, Where: t.lg.ARN, Chain: e.chain}, e.warnings
		}
		anyError = anyError || e.status == StatusError
		prefix := ""
		if a := lgAccount(t.lg); a != out.s.Account {
			prefix = fmt.Sprintf("(log group in account %s: its monitoring must be enforced there) ", a)
		}
		for _, p := range e.problems {
			f.Problems = append(f.Problems, Problem{Code: p.Code, Reason: prefix + p.Reason})
		}
	}
	f.Status = StatusFail
	if anyError {
		f.Status = StatusError
	}
	return f, nil
}

// noQualifyingTrail explains why no trail qualifies for a control: each
// trail's problems first (the actionable part), then the summary.
func (out *Judgement) noQualifyingTrail(needKMS bool) (Status, []Problem) {
	var ps []Problem
	add := func(r string) { ps = append(ps, Problem{Code: CodeMultiRegionNotPresent, Reason: r}) }
	if len(out.trails) == 0 {
		add(fmt.Sprintf("account %s has no CloudTrail trail; create a multi-region trail that records all management events and delivers to CloudWatch Logs", out.s.Account))
		return StatusFail, ps
	}
	unknown, kmsOnly := false, false
	for _, t := range out.trails {
		for _, pr := range t.problems {
			add(pr)
		}
		if len(t.problems) == 0 {
			// Only what could not be observed stands between this
			// trail and qualifying.
			for _, u := range t.unknown {
				unknown = true
				add(u)
			}
		}
		if needKMS && t.t.Selectors != nil && t.mgmtAll && !t.kmsOK {
			kmsOnly = kmsOnly || t.qualifies(false)
			add(fmt.Sprintf("trail %s excludes %s management events, so key disabling and deletion never reach its log group; remove %s from its excluded management event sources", t.t.ARN, kmsEventSource, kmsEventSource))
		}
	}
	// Region errors do not make this ERROR: a multi-region trail is seen
	// (as a shadow trail) from every region, so a region that could not
	// be observed hides only single-region trails, which never qualify.
	if kmsOnly {
		add("no active multi-region trail that delivers to CloudWatch Logs records " + kmsEventSource + " management events")
	} else {
		add("no active multi-region trail records all management events and delivers them to an existing CloudWatch Logs log group")
	}
	if unknown {
		return StatusError, ps
	}
	return StatusFail, ps
}

// judgeRegions gives each region its verdict: covered by an active
// multi-region trail that records all management events. Such a trail
// covers every Region by definition (CloudTrail User Guide, "Creating a
// trail": a multi-region trail "applies to all Regions"), so the region's
// line cites it, whether or not the region's own trail list was read.
func (out *Judgement) judgeRegions() []RegionResult {
	cover, unknown := out.regionCoverage()
	regions := slices.Clone(out.s.Regions)
	slices.SortFunc(regions, func(a, b account.Region) int { return strings.Compare(a.Name, b.Name) })
	res := make([]RegionResult, 0, len(regions))
	for _, r := range regions {
		rr := RegionResult{Region: r.Name, Reasons: []string{}}
		switch {
		case r.Error != "":
			rr.Status = StatusError
			rr.Reasons = append(rr.Reasons, fmt.Sprintf("region %s could not be observed: %s", r.Name, r.Error))
		case cover != nil:
			rr.Status = StatusPass
			rr.Reasons = append(rr.Reasons, fmt.Sprintf("covered by multi-region trail %s", cover.t.ARN))
		case out.central != nil && out.central.t.IsMultiRegion:
			ct := out.central.centralRef()
			rr.Status, rr.Central = StatusCentral, &ct
			rr.Reasons = append(rr.Reasons, fmt.Sprintf("covered by multi-region organization trail %s, owned by account %s; its status and event selectors are checked there", ct.TrailARN, ct.OwnerAccount))
		case len(unknown) > 0:
			rr.Status = StatusError
			rr.Reasons = append(rr.Reasons, unknown...)
		default:
			rr.Status = StatusFail
			rr.Reasons = append(rr.Reasons, fmt.Sprintf("%s: no active multi-region trail records all management events in %s", CodeMultiRegionNotPresent, r.Name))
			for _, t := range out.trails {
				rr.Reasons = append(rr.Reasons, t.regionProblems...)
			}
		}
		res = append(res, rr)
	}
	return res
}

// regionCoverage returns the trail that covers every region, or nil and
// what could not be observed about trails that might.
func (out *Judgement) regionCoverage() (cover *trailFacts, unknown []string) {
	for _, t := range out.trails {
		if t.coversRegions {
			return t, nil
		}
		if len(t.regionProblems) == 0 {
			unknown = append(unknown, t.regionUnknown...)
		}
	}
	return nil, unknown
}

// regionsFail reports whether some observed region FAILs for want of an
// active multi-region trail recording all management events.
func (out *Judgement) regionsFail() bool {
	return slices.ContainsFunc(out.Regions, func(r RegionResult) bool { return r.Status == StatusFail })
}

// observedWarnings are what was observed that a person should know and
// that is not by itself a failure, sorted.
func observedWarnings(trails []*trailFacts, s account.Snapshot) []string {
	var w []string
	for _, t := range trails {
		if t.t.Status != nil && t.t.Status.LatestCloudWatchLogsDeliveryError != "" {
			w = append(w, fmt.Sprintf("trail %s reports CloudWatch Logs delivery error %q (not by itself a failure, but events may be missing from log group %s; check the trail's CloudWatch Logs role)",
				t.t.ARN, t.t.Status.LatestCloudWatchLogsDeliveryError, t.t.LogGroupARN))
		}
	}
	for _, arn := range slices.Sorted(maps.Keys(s.Topics)) {
		t := s.Topics[arn]
		if !t.Exists {
			continue
		}
		if pending := pendingEndpoints(t); len(pending) > 0 {
			w = append(w, fmt.Sprintf("topic %s has subscriptions awaiting confirmation: confirm the subscription sent to %s", t.ARN, strings.Join(pending, ", ")))
		}
	}
	slices.Sort(w)
	return slices.Compact(w)
}
