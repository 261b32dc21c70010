package plan

import (
	"fmt"
	"slices"
	"strings"
)

// planTrail plans healing of the target trail, as far as the healing level
// allows, when some control fails because the target does not qualify, or
// some region is not covered. Where the level forbids a fix, the advice
// says what would fix it.
func (p *planner) planTrail() {
	t := p.tg.trail
	if t == nil {
		return
	}
	var needBase, needKMS []string
	for _, f := range p.jd.Controls {
		if f.Status == StatusPass || f.Status == StatusExcluded {
			continue
		}
		if f.Control.Key == cmkControlKey && !t.qualifies(true) {
			needKMS = append(needKMS, f.Control.ID)
		}
		if !t.qualifies(false) {
			needBase = append(needBase, f.Control.ID)
		}
	}
	// Region coverage is healed within the level even when no active
	// control needs it (every control excluded, say).
	cover := p.jd.regionsFail()
	if len(needBase) == 0 && len(needKMS) == 0 && !cover {
		return
	}
	level := p.opts.TrailHealing
	home := t.t.HomeRegion
	if home == "" {
		home = arnRegion(t.t.ARN)
	}
	trailAction := func(k Kind, ids []string, reason string, spec TrailSpec) {
		spec.TrailARN, spec.HomeRegion = t.t.ARN, home
		p.add(Action{Kind: k, Region: home, Target: t.t.ARN, Controls: ids, Coverage: len(ids) == 0, Reason: reason, Trail: &spec})
	}
	var notes []string
	if (len(needBase) > 0 || cover) && t.t.Status != nil && !t.t.Status.IsLogging {
		if level == HealNone {
			notes = append(notes, fmt.Sprintf("trail healing is none, so Watchkeeper leaves trail %s stopped; trail healing safe would start logging (or run aws cloudtrail start-logging --name %s)", t.t.ARN, t.t.Name))
		} else {
			trailAction(StartLogging, needBase, fmt.Sprintf("trail %s is not logging", t.t.ARN), TrailSpec{})
		}
	}
	if t.t.Selectors != nil {
		// The controls a selector change serves: every failing one when
		// management events are missing, the CMK control when only KMS is.
		var ids []string
		if !t.mgmtAll {
			ids = slices.Clone(needBase)
		}
		for _, id := range needKMS {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, CompareIDs)
		withKMS := len(needKMS) > 0
		if len(ids) > 0 || (cover && !t.mgmtAll) {
			sel, changed, what, why := healSelectors(*t.t.Selectors, withKMS)
			switch {
			case changed && level == HealNone:
				notes = append(notes, fmt.Sprintf("trail healing is none, so Watchkeeper leaves the event selectors of trail %s unchanged; trail healing safe would restore read and write management events%s: %s", t.t.ARN, kmsClause(withKMS), what))
			case changed:
				trailAction(PutEventSelectors, ids, fmt.Sprintf("restore read and write management events%s on trail %s: %s", kmsClause(withKMS), t.t.ARN, what), TrailSpec{Selectors: &sel})
			case why != "":
				notes = append(notes, fmt.Sprintf("Watchkeeper cannot restore management events on trail %s: %s", t.t.ARN, why))
			}
		}
	}
	if len(needBase) > 0 || cover {
		var upd TrailSpec
		var what []string
		if !t.t.IsMultiRegion {
			if level == HealFull {
				upd.MakeMultiRegion = true
				what = append(what, "make it multi-region")
			} else {
				notes = append(notes, fmt.Sprintf("trail healing is %s, so Watchkeeper does not make trail %s multi-region; trail healing full would (or run aws cloudtrail update-trail --name %s --is-multi-region-trail)", level, t.t.ARN, t.t.Name))
			}
		}
		if p.tg.attachPlanned && len(needBase) > 0 {
			// CloudTrail takes the log group ARN in the ":*" form that
			// CloudWatch Logs reports (its CreateTrail/UpdateTrail examples:
			// "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/DefaultLogGroupTest:*").
			upd.LogGroupARN = strings.TrimSuffix(p.opts.TrailLogGroupARN, ":*") + ":*"
			upd.LogsRoleARN = p.opts.TrailLogsRoleARN
			what = append(what, fmt.Sprintf("deliver to CloudWatch Logs log group %s", p.opts.TrailLogGroupARN))
		}
		if len(what) > 0 {
			trailAction(UpdateTrail, needBase, fmt.Sprintf("%s: %s", t.t.ARN, strings.Join(what, " and ")), upd)
		}
	}
	p.regionNotes = notes
	for _, id := range append(slices.Clone(needBase), needKMS...) {
		for _, n := range notes {
			p.note(id, "", n)
		}
	}
}

func kmsClause(withKMS bool) string {
	if withKMS {
		return " (including " + kmsEventSource + ")"
	}
	return ""
}
