package plan

import (
	"fmt"
	"slices"
	"strings"
)

// trailHeal is what healing the target trail must achieve: the controls
// that need it to qualify (needBase), the CMK control when only KMS events
// are missing (needKMS), and whether some Region is uncovered (cover).
type trailHeal struct {
	t        *trailFacts
	needBase []string
	needKMS  []string
	cover    bool
	home     string
	notes    []string
}

// planTrail plans healing of the target trail, as far as the healing level
// allows, when some control fails because the target does not qualify, or
// some region is not covered. Where the level forbids a fix, the advice
// says what would fix it.
func (p *planner) planTrail() {
	t := p.tg.trail
	if t == nil {
		return
	}
	h := &trailHeal{t: t, home: t.t.HomeRegion}
	if h.home == "" {
		h.home = arnRegion(t.t.ARN)
	}
	for _, f := range p.jd.Controls {
		if f.Status == StatusPass || f.Status == StatusExcluded || f.Status == StatusCentral {
			continue
		}
		if f.Control.Key == cmkControlKey && !t.qualifies(true) {
			h.needKMS = append(h.needKMS, f.Control.ID)
		}
		if !t.qualifies(false) {
			h.needBase = append(h.needBase, f.Control.ID)
		}
	}
	// Region coverage is healed within the level even when no active
	// control needs it (every control excluded, say).
	h.cover = p.jd.regionsFail()
	if len(h.needBase) == 0 && len(h.needKMS) == 0 && !h.cover {
		return
	}
	if mayChange(p.opts, t) {
		p.planStartLogging(h)
		p.planSelectors(h)
		p.planUpdateTrail(h)
	} else {
		h.notes = append(h.notes, fmt.Sprintf("Watchkeeper changes only the configured trail %s, so it leaves trail %s as it is; fix that trail yourself or configure its name as the trail to heal", p.opts.TrailName, t.t.ARN))
	}
	p.regionNotes = h.notes
	for _, id := range append(slices.Clone(h.needBase), h.needKMS...) {
		for _, n := range h.notes {
			p.note(id, "", n)
		}
	}
}

// trailAction plans one change to h's trail for the controls ids; an
// action no control needs exists for Region coverage only.
func (p *planner) trailAction(h *trailHeal, k Kind, ids []string, reason string, spec TrailSpec) {
	spec.TrailARN, spec.HomeRegion = h.t.t.ARN, h.home
	p.add(Action{Kind: k, Region: h.home, Target: h.t.t.ARN, Controls: ids, Coverage: len(ids) == 0, Reason: reason, Trail: &spec})
}

func (p *planner) planStartLogging(h *trailHeal) {
	t := h.t.t
	if (len(h.needBase) == 0 && !h.cover) || t.Status == nil || t.Status.IsLogging {
		return
	}
	if p.opts.TrailHealing == HealNone {
		h.notes = append(h.notes, fmt.Sprintf("trail healing is none, so Watchkeeper leaves trail %s stopped; trail healing safe would start logging (or run aws cloudtrail start-logging --name %s)", t.ARN, t.Name))
		return
	}
	p.trailAction(h, StartLogging, h.needBase, fmt.Sprintf("trail %s is not logging", t.ARN), TrailSpec{})
}

// planSelectors restores management events: for every failing control when
// they are missing, for the CMK control when only KMS events are.
func (p *planner) planSelectors(h *trailHeal) {
	t := h.t
	if t.t.Selectors == nil {
		return
	}
	var ids []string
	if !t.mgmtAll {
		ids = slices.Clone(h.needBase)
	}
	for _, id := range h.needKMS {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, CompareIDs)
	withKMS := len(h.needKMS) > 0
	if len(ids) == 0 && (!h.cover || t.mgmtAll) {
		return
	}
	sel, changed, what, why := healSelectors(*t.t.Selectors, withKMS)
	switch {
	case changed && p.opts.TrailHealing == HealNone:
		h.notes = append(h.notes, fmt.Sprintf("trail healing is none, so Watchkeeper leaves the event selectors of trail %s unchanged; trail healing safe would restore read and write management events%s: %s", t.t.ARN, kmsClause(withKMS), what))
	case changed:
		p.trailAction(h, PutEventSelectors, ids, fmt.Sprintf("restore read and write management events%s on trail %s: %s", kmsClause(withKMS), t.t.ARN, what), TrailSpec{Selectors: &sel})
	case why != "":
		h.notes = append(h.notes, fmt.Sprintf("Watchkeeper cannot restore management events on trail %s: %s", t.t.ARN, why))
	}
}

// planUpdateTrail makes the trail multi-region and attaches the configured
// log group, as far as the level allows.
func (p *planner) planUpdateTrail(h *trailHeal) {
	t := h.t.t
	if len(h.needBase) == 0 && !h.cover {
		return
	}
	var upd TrailSpec
	var what []string
	if !t.IsMultiRegion {
		if p.opts.TrailHealing == HealFull {
			upd.MakeMultiRegion = true
			what = append(what, "make it multi-region")
		} else {
			h.notes = append(h.notes, fmt.Sprintf("trail healing is %s, so Watchkeeper does not make trail %s multi-region; trail healing full would (or run aws cloudtrail update-trail --name %s --is-multi-region-trail)", p.opts.TrailHealing, t.ARN, t.Name))
		}
	}
	if p.tg.attachPlanned && len(h.needBase) > 0 {
		// CloudTrail takes the log group ARN in the ":*" form that
		// CloudWatch Logs reports (its CreateTrail/UpdateTrail examples:
		// "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/DefaultLogGroupTest:*").
		upd.LogGroupARN = strings.TrimSuffix(p.opts.TrailLogGroupARN, ":*") + ":*"
		upd.LogsRoleARN = p.opts.TrailLogsRoleARN
		what = append(what, fmt.Sprintf("deliver to CloudWatch Logs log group %s", p.opts.TrailLogGroupARN))
	}
	if len(what) > 0 {
		p.trailAction(h, UpdateTrail, h.needBase, fmt.Sprintf("%s: %s", t.ARN, strings.Join(what, " and ")), upd)
	}
}

func kmsClause(withKMS bool) string {
	if withKMS {
		return " (including " + kmsEventSource + ")"
	}
	return ""
}
