package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
)

// ManagedByTag is the tag key (with value ManagedByValue) on every resource
// Watchkeeper creates where the service supports tags.
const (
	ManagedByTag   = "ManagedBy"
	ManagedByValue = "watchkeeper"
)

// Alarm definition Watchkeeper writes (docs/contracts.md "Resource naming";
// the CIS remediation's put-metric-alarm plus treat-missing-data).
const (
	alarmStatistic         = "Sum"
	alarmPeriod            = 300
	alarmEvaluationPeriods = 1
	alarmThreshold         = 1
	alarmComparison        = "GreaterThanOrEqualToThreshold"
	alarmTreatMissingData  = "notBreaching"
)

// Compute judges every control of opts.Benchmark and every region against s
// and returns the actions that would heal what drifted. It performs no I/O,
// never mutates s, and is deterministic: equal inputs give equal plans
// (controls by numeric id, regions by name, actions by phase, region, kind
// and target).
//
// Compute is level-based: after the actions have been applied, Compute on
// a fresh snapshot of the account returns no actions.
//
// Judgement, per control, as the CIS audit procedure does it:
//   - A trail qualifies when it is multi-region, logging, records read and
//     write management events (classic selector IncludeManagementEvents with
//     ReadWriteType All, or an advanced eventCategory=Management selector
//     without a readOnly condition; the latter is an interpretation, see the
//     fact sheet §4) and delivers to an existing log group. For the CMK
//     control it must also not exclude kms.amazonaws.com. A CloudWatch Logs
//     delivery error is only a warning: the trail is configured correctly and
//     the cause (usually the logs role) is outside the control's definition.
//   - On a qualifying trail's log group, a filter satisfies the control when
//     its pattern is equivalent to, or covers, an accepted variant and it
//     publishes 1 per event. Decision: a filter that matches every CloudTrail
//     event does not satisfy (CLOUDTRAIL_METRIC_FILTER_NOT_VALID), since an
//     alarm on it cannot single anything out; a filter equivalent to an
//     accepted variant is always accepted.
//   - An alarm on that metric (name and namespace, no dimensions) with
//     actions enabled must notify an existing SNS topic with a confirmed
//     subscription whose KMS key (if any) CloudWatch may use.
//   - What could not be observed (a log group, topic or key that could not be
//     read, a trail's status) makes the control ERROR, never FAIL, and
//     nothing is planned on guesses. A trail or log group of another account
//     (an organization trail) is judged when it could be read; otherwise the
//     control is ERROR with a reason saying it must be enforced there.
//     Watchkeeper never plans a write into another account.
//
// Planning targets one trail of this account (opts.TrailName, else a
// qualifying trail, else the best candidate) and puts filters, alarms and
// its topic in that trail's log group and region. It writes only resources
// named with opts.NamePrefix, and changes trails only as opts.TrailHealing
// allows; where the level forbids a fix, the reasons say what would fix it.
func Compute(opts Options, s inspect.Snapshot) Plan {
	p := newPlanner(opts, s)
	return p.run()
}

// planner holds one Compute call's working state.
type planner struct {
	opts      Options
	s         inspect.Snapshot
	partition string

	trails []*trailFacts // sorted by ARN
	active []catalog.Control
	// target is the trail Watchkeeper heals and whose log group receives
	// its filters and alarms; nil when none can be targeted.
	target *trailFacts
	// targetLG is where filters and alarms go (the target's log group, or
	// the one full healing attaches); nil when there is none.
	targetLG      *inspect.LogGroup
	noTargetWhy   string
	attachPlanned bool
	// healNotes say what trail healing would do where its level forbids it.
	healNotes []string

	actions  []Action
	warnings []string
	filters  *filterCache
}

func newPlanner(opts Options, s inspect.Snapshot) *planner {
	if opts.Profile == "" {
		opts.Profile = catalog.ProfileBenchmark
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = DefaultNamePrefix
	}
	if opts.TopicName == "" {
		opts.TopicName = opts.NamePrefix + DefaultTopicSuffix
	}
	if opts.TrailHealing == "" {
		opts.TrailHealing = HealSafe
	}
	p := &planner{opts: opts, s: s, partition: s.Partition, filters: newFilterCache()}
	if p.partition == "" {
		p.partition = "aws"
	}
	return p
}

func (p *planner) ownName(c catalog.Control) string { return p.opts.NamePrefix + c.Key }

func (p *planner) run() Plan {
	plan := Plan{
		Account:    p.s.Account,
		Benchmark:  p.opts.Benchmark.ID,
		HomeRegion: p.opts.HomeRegion,
		Controls:   []ControlResult{},
		Regions:    []RegionResult{},
		Actions:    []Action{},
	}
	trails := slices.Clone(p.s.Trails)
	slices.SortFunc(trails, func(a, b inspect.Trail) int { return strings.Compare(a.ARN, b.ARN) })
	for _, t := range trails {
		p.trails = append(p.trails, judgeTrail(t, p.s))
	}
	controls := slices.Clone(p.opts.Benchmark.Controls)
	slices.SortFunc(controls, func(a, b catalog.Control) int { return CompareIDs(a.ID, b.ID) })

	p.chooseTarget()

	results := make([]ControlResult, 0, len(controls))
	for _, c := range controls {
		if slices.Contains(p.opts.Exclude, c.ID) {
			results = append(results, ControlResult{
				ID: c.ID, SecurityHubID: c.SecurityHubID, Title: c.Title, Status: StatusExcluded,
				Reasons: []string{"excluded by configuration"},
			})
			continue
		}
		p.active = append(p.active, c)
		results = append(results, p.judgeControl(c))
		for _, w := range c.Warnings {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: %s", c.ID, w))
		}
	}

	p.planTrail(results)
	p.planMonitoring(results)

	for i := range results {
		if results[i].Reasons == nil {
			results[i].Reasons = []string{}
		}
	}
	plan.Controls = results
	plan.Regions = p.judgeRegions()
	plan.Actions = mergeActions(p.actions)
	plan.Warnings = p.collectWarnings()
	return plan
}

// judgeControl judges c on every trail that qualifies for it.
func (p *planner) judgeControl(c catalog.Control) ControlResult {
	res := ControlResult{ID: c.ID, SecurityHubID: c.SecurityHubID, Title: c.Title}
	needKMS := c.Key == cmkControlKey
	m := p.filters.matcher(c, p.opts.Profile)

	var qualifying []*trailFacts
	for _, f := range p.trails {
		if f.qualifies(needKMS) {
			qualifying = append(qualifying, f)
		}
	}
	if len(qualifying) == 0 {
		v := p.noQualifyingTrail(needKMS)
		res.Status, res.Reasons, res.Codes = v.status, v.reasons, v.codes
		return res
	}
	// The target's log group first, so its reasons (the ones Watchkeeper
	// acts on) lead; then by log group ARN.
	slices.SortStableFunc(qualifying, func(a, b *trailFacts) int {
		if (a == p.target) != (b == p.target) {
			if a == p.target {
				return -1
			}
			return 1
		}
		return strings.Compare(a.lg.ARN, b.lg.ARN)
	})
	var fail verdict
	anyError := false
	seen := map[string]bool{}
	for _, f := range qualifying {
		if seen[f.lg.ARN] {
			continue
		}
		seen[f.lg.ARN] = true
		st := p.judgeLogGroup(c, m, f.lg)
		prefix := ""
		if a := lgAccount(f.lg); a != p.s.Account {
			prefix = fmt.Sprintf("(log group in account %s: its monitoring must be enforced there) ", a)
		}
		switch st.lg.status {
		case StatusPass:
			res.Status, res.Reasons, res.Codes, res.Where = StatusPass, st.lg.reasons, nil, st.passWhere
			return res
		case StatusError:
			anyError = true
		}
		for _, r := range st.lg.reasons {
			fail.reasons = append(fail.reasons, prefix+r)
		}
		for _, code := range st.lg.codes {
			if !slices.Contains(fail.codes, code) {
				fail.codes = append(fail.codes, code)
			}
		}
	}
	res.Status = StatusFail
	if anyError {
		res.Status = StatusError
	}
	res.Reasons, res.Codes = fail.reasons, fail.codes
	return res
}

// noQualifyingTrail explains why no trail qualifies for a control: each
// trail's problems first (the actionable part), then the summary.
func (p *planner) noQualifyingTrail(needKMS bool) verdict {
	v := verdict{status: StatusFail}
	if len(p.trails) == 0 {
		v.add(CodeMultiRegionNotPresent, fmt.Sprintf("account %s has no CloudTrail trail; create a multi-region trail that records all management events and delivers to CloudWatch Logs", p.s.Account))
		return v
	}
	unknown, kmsOnly := false, false
	for _, f := range p.trails {
		for _, pr := range f.problems {
			v.add(CodeMultiRegionNotPresent, pr)
		}
		if len(f.problems) == 0 {
			// Only what could not be observed stands between this
			// trail and qualifying.
			for _, u := range f.unknown {
				unknown = true
				v.add(CodeMultiRegionNotPresent, u)
			}
		}
		if needKMS && f.t.Selectors != nil && f.mgmtAll && !f.kmsOK {
			kmsOnly = kmsOnly || f.qualifies(false)
			v.add(CodeMultiRegionNotPresent, fmt.Sprintf("trail %s excludes %s management events, so key disabling and deletion never reach its log group; remove %s from its excluded management event sources", f.t.ARN, kmsEventSource, kmsEventSource))
		}
	}
	// Region errors do not make this ERROR: a multi-region trail is seen
	// (as a shadow trail) from every region, so a region that could not
	// be observed hides only single-region trails, which never qualify.
	if kmsOnly {
		v.add(CodeMultiRegionNotPresent, "no active multi-region trail that delivers to CloudWatch Logs records "+kmsEventSource+" management events")
	} else {
		v.add(CodeMultiRegionNotPresent, "no active multi-region trail records all management events and delivers them to an existing CloudWatch Logs log group")
	}
	if unknown {
		v.status = StatusError
	}
	return v
}

// judgeRegions gives each region its verdict: covered by an active
// multi-region trail that records all management events.
func (p *planner) judgeRegions() []RegionResult {
	cover, unknown := p.regionCoverage()
	regions := slices.Clone(p.s.Regions)
	slices.SortFunc(regions, func(a, b inspect.Region) int { return strings.Compare(a.Name, b.Name) })
	out := make([]RegionResult, 0, len(regions))
	for _, r := range regions {
		res := RegionResult{Region: r.Name, Reasons: []string{}}
		switch {
		case r.Error != "":
			res.Status = StatusError
			res.Reasons = append(res.Reasons, fmt.Sprintf("region %s could not be observed: %s", r.Name, r.Error))
		case cover != nil:
			res.Status = StatusPass
			res.Reasons = append(res.Reasons, fmt.Sprintf("covered by multi-region trail %s", cover.t.ARN))
		case len(unknown) > 0:
			res.Status = StatusError
			res.Reasons = append(res.Reasons, unknown...)
		default:
			res.Status = StatusFail
			res.Reasons = append(res.Reasons, fmt.Sprintf("%s: no active multi-region trail records all management events in %s", CodeMultiRegionNotPresent, r.Name))
			for _, f := range p.trails {
				res.Reasons = append(res.Reasons, f.regionProblems...)
			}
			res.Reasons = append(res.Reasons, p.trailHealNotes()...)
		}
		out = append(out, res)
	}
	return out
}

// regionCoverage returns the trail that covers every region, or nil and
// what could not be observed about trails that might.
func (p *planner) regionCoverage() (cover *trailFacts, unknown []string) {
	for _, f := range p.trails {
		if f.coversRegions {
			return f, nil
		}
		if len(f.regionProblems) == 0 {
			unknown = append(unknown, f.regionUnknown...)
		}
	}
	return nil, unknown
}

// regionsFail reports whether some observed region FAILs for want of an
// active multi-region trail recording all management events.
func (p *planner) regionsFail() bool {
	cover, unknown := p.regionCoverage()
	return cover == nil && len(unknown) == 0 &&
		slices.ContainsFunc(p.s.Regions, func(r inspect.Region) bool { return r.Error == "" })
}

// chooseTarget picks the one trail Watchkeeper heals and monitors.
func (p *planner) chooseTarget() {
	if p.opts.TrailName != "" {
		for _, f := range p.trails {
			if f.t.Name != p.opts.TrailName && f.t.ARN != p.opts.TrailName {
				continue
			}
			if f.owned {
				p.target = f
			} else {
				p.warnings = append(p.warnings, fmt.Sprintf("the configured trail %s (%s) is owned by account %s; Watchkeeper does not change it and targets a trail of this account instead", p.opts.TrailName, f.t.ARN, f.t.OwnerAccount))
			}
			break
		}
		if p.target == nil && !slices.ContainsFunc(p.trails, func(f *trailFacts) bool { return f.t.Name == p.opts.TrailName || f.t.ARN == p.opts.TrailName }) {
			p.warnings = append(p.warnings, fmt.Sprintf("the configured trail %s does not exist; Watchkeeper targets the best other trail of this account", p.opts.TrailName))
		}
	}
	if p.target == nil {
		var best *trailFacts
		for _, f := range p.trails {
			if !f.owned || !f.qualifies(false) || !f.localLogGroup(p.s.Account) {
				continue
			}
			if best == nil || p.betterQualifying(f, best) {
				best = f
			}
		}
		p.target = best
	}
	if p.target == nil {
		var best *trailFacts
		for _, f := range p.trails {
			if !f.owned {
				continue
			}
			if best == nil || betterCandidate(f, best, p.s.Account) {
				best = f
			}
		}
		p.target = best
	}

	t := p.target
	switch {
	case t == nil:
		owned := slices.ContainsFunc(p.trails, func(f *trailFacts) bool { return f.owned })
		if len(p.trails) > 0 && !owned {
			p.noTargetWhy = fmt.Sprintf("every trail Watchkeeper sees is owned by another account; it never writes into another account, so the metric filters and alarms must be enforced there (or create a multi-region trail in account %s that delivers to CloudWatch Logs)", p.s.Account)
		} else {
			p.noTargetWhy = fmt.Sprintf("account %s has no trail Watchkeeper could put metric filters behind; create a multi-region trail that records all management events and delivers to CloudWatch Logs (the Watchkeeper CDK app can provision one)", p.s.Account)
		}
	case t.localLogGroup(p.s.Account):
		p.targetLG = t.lg
	case p.canAttach(t):
		p.attachPlanned = true
		arn := strings.TrimSuffix(p.opts.TrailLogGroupARN, ":*")
		if lg, ok := p.s.LogGroups[arn]; ok && lg.Exists {
			p.targetLG = &lg
		} else {
			p.targetLG = &inspect.LogGroup{
				ARN: arn, Name: logGroupName(arn), Region: arnRegion(arn), Account: arnAccount(arn),
				Exists: true, Filters: []inspect.MetricFilter{}, Alarms: []inspect.Alarm{},
			}
		}
	case t.t.LogGroupARN != "" && !p.observed(t.t.LogGroupARN) && arnAccount(t.t.LogGroupARN) == p.s.Account:
		p.noTargetWhy = fmt.Sprintf("log group %s of trail %s was not observed, so Watchkeeper cannot tell what is missing", t.t.LogGroupARN, t.t.ARN)
	case t.lg != nil && t.lg.Error != "":
		p.noTargetWhy = fmt.Sprintf("the metric filters of log group %s (trail %s) could not be read, so Watchkeeper cannot tell what is missing: %s", t.lg.ARN, t.t.ARN, t.lg.Error)
	case t.t.LogGroupARN != "" && arnAccount(t.t.LogGroupARN) != p.s.Account && arnAccount(t.t.LogGroupARN) != "":
		p.noTargetWhy = fmt.Sprintf("trail %s delivers to log group %s in account %s; Watchkeeper never writes into another account, so the metric filters and alarms must be enforced there", t.t.ARN, t.t.LogGroupARN, arnAccount(t.t.LogGroupARN))
	default:
		p.noTargetWhy = p.attachAdvice(t)
	}
}

func (p *planner) observed(logGroupARN string) bool {
	_, ok := p.s.LogGroups[logGroupARN]
	return ok
}

// attachSettings names the log group and role settings in every front end.
const attachSettings = "CLI --trail-log-group-arn and --trail-logs-role-arn, Lambda WATCHKEEPER_TRAIL_LOG_GROUP_ARN and WATCHKEEPER_TRAIL_LOGS_ROLE_ARN"

// attachAdvice says how a trail without a usable log group gets one.
func (p *planner) attachAdvice(t *trailFacts) string {
	what := "does not deliver to CloudWatch Logs"
	if t.t.LogGroupARN != "" {
		what = fmt.Sprintf("delivers to log group %s, which does not exist", t.t.LogGroupARN)
	}
	how := fmt.Sprintf("with trail healing full and a log group and role to attach configured (%s) Watchkeeper attaches one (trail healing is %s)", attachSettings, p.opts.TrailHealing)
	if p.opts.TrailHealing == HealFull {
		how = fmt.Sprintf("configure a log group and role to attach (%s) so Watchkeeper can attach one", attachSettings)
	}
	return fmt.Sprintf("Watchkeeper has no log group to put metric filters on: trail %s %s; %s, or run aws cloudtrail update-trail --name %s --cloud-watch-logs-log-group-arn <arn> --cloud-watch-logs-role-arn <arn>", t.t.ARN, what, how, t.t.Name)
}

func (p *planner) canAttach(t *trailFacts) bool {
	if p.opts.TrailHealing != HealFull || p.opts.TrailLogGroupARN == "" || p.opts.TrailLogsRoleARN == "" {
		return false
	}
	if t.t.LogGroupARN == "" {
		return true
	}
	lg, ok := p.s.LogGroups[t.t.LogGroupARN]
	return ok && !lg.Exists && lg.Error == "" &&
		strings.TrimSuffix(p.opts.TrailLogGroupARN, ":*") != t.t.LogGroupARN
}

// betterQualifying orders qualifying trails: one whose log group already
// holds Watchkeeper's filters, then one based in the home region, then by ARN.
func (p *planner) betterQualifying(a, b *trailFacts) bool {
	ao, bo := p.holdsOwnFilters(a.lg), p.holdsOwnFilters(b.lg)
	if ao != bo {
		return ao
	}
	ah, bh := a.t.HomeRegion == p.opts.HomeRegion, b.t.HomeRegion == p.opts.HomeRegion
	if ah != bh {
		return ah
	}
	return a.t.ARN < b.t.ARN
}

func (p *planner) holdsOwnFilters(lg *inspect.LogGroup) bool {
	return lg != nil && slices.ContainsFunc(lg.Filters, func(f inspect.MetricFilter) bool {
		return strings.HasPrefix(f.Name, p.opts.NamePrefix)
	})
}

// betterCandidate orders trails that do not qualify: one with a usable log
// group, then one with any log group, then multi-region, then by ARN.
func betterCandidate(a, b *trailFacts, account string) bool {
	if al, bl := a.localLogGroup(account), b.localLogGroup(account); al != bl {
		return al
	}
	if al, bl := a.t.LogGroupARN != "", b.t.LogGroupARN != ""; al != bl {
		return al
	}
	if a.t.IsMultiRegion != b.t.IsMultiRegion {
		return a.t.IsMultiRegion
	}
	return a.t.ARN < b.t.ARN
}

// planTrail plans healing of the target trail, as far as the healing level
// allows, when some control fails because the target does not qualify.
func (p *planner) planTrail(results []ControlResult) {
	t := p.target
	if t == nil {
		return
	}
	var needBase, needKMS []string
	for _, c := range p.active {
		if p.resultFor(results, c.ID).Status == StatusPass {
			continue
		}
		if c.Key == cmkControlKey && !t.qualifies(true) {
			needKMS = append(needKMS, c.ID)
		}
		if !t.qualifies(false) {
			needBase = append(needBase, c.ID)
		}
	}
	// Region coverage is healed within the level even when no active
	// control needs it (every control excluded, say).
	cover := p.regionsFail()
	if len(needBase) == 0 && len(needKMS) == 0 && !cover {
		return
	}
	all := slices.Clone(needBase)
	for _, id := range needKMS {
		if !slices.Contains(all, id) {
			all = append(all, id)
		}
	}
	slices.SortFunc(all, CompareIDs)
	level := p.opts.TrailHealing
	var notes []string
	home := t.t.HomeRegion
	if home == "" {
		home = arnRegion(t.t.ARN)
	}
	trailAction := func(k Kind, ids []string, reason string, spec TrailSpec) {
		spec.TrailARN, spec.HomeRegion = t.t.ARN, home
		if len(ids) == 0 {
			reason += " (for region coverage: no active multi-region trail records all management events)"
		}
		p.actions = append(p.actions, Action{Kind: k, Region: home, Target: t.t.ARN, Controls: ids, Reason: reason, Trail: &spec})
	}

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
		withKMS := len(needKMS) > 0
		for _, id := range needKMS {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, CompareIDs)
		if len(ids) > 0 || (cover && !t.mgmtAll) {
			if sel, changed, what, why := healSelectors(*t.t.Selectors, withKMS); changed {
				if level == HealNone {
					notes = append(notes, fmt.Sprintf("trail healing is none, so Watchkeeper leaves the event selectors of trail %s unchanged; trail healing safe would restore read and write management events%s: %s", t.t.ARN, kmsClause(withKMS), what))
				} else {
					trailAction(PutEventSelectors, ids, fmt.Sprintf("restore read and write management events%s on trail %s: %s", kmsClause(withKMS), t.t.ARN, what), TrailSpec{Selectors: &sel})
				}
			} else if why != "" {
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
		if p.attachPlanned && len(needBase) > 0 {
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
	p.healNotes = notes
	for i := range results {
		if slices.Contains(all, results[i].ID) {
			results[i].Reasons = append(results[i].Reasons, notes...)
		}
	}
}

func kmsClause(withKMS bool) string {
	if withKMS {
		return " (including " + kmsEventSource + ")"
	}
	return ""
}

func (p *planner) trailHealNotes() []string { return p.healNotes }

func (p *planner) resultFor(results []ControlResult, id string) *ControlResult {
	for i := range results {
		if results[i].ID == id {
			return &results[i]
		}
	}
	return nil
}

// planMonitoring plans filters, alarms, the topic and its subscriptions on
// the target log group for every control that does not pass.
func (p *planner) planMonitoring(results []ControlResult) {
	var topicUsers []string // controls whose alarm notifies Watchkeeper's topic
	for _, c := range p.active {
		r := p.resultFor(results, c.ID)
		p.planProfileRewrite(c)
		if r.Status == StatusPass {
			continue
		}
		if p.targetLG == nil {
			if len(p.trails) > 0 { // else the first reason already says it
				r.Reasons = append(r.Reasons, p.noTargetWhy)
			}
			continue
		}
		if p.planControl(c, r) {
			topicUsers = append(topicUsers, c.ID)
		}
	}
	if p.targetLG == nil {
		return
	}
	topicARN := p.topicARN()
	topic, seen := p.s.Topics[topicARN]
	if seen && topic.Error != "" {
		for _, id := range topicUsers {
			r := p.resultFor(results, id)
			r.Reasons = append(r.Reasons, fmt.Sprintf("Watchkeeper's topic %s could not be read (%s), so Watchkeeper neither creates it nor subscribes anyone to it this run", topicARN, topic.Error))
		}
		return
	}
	exists := seen && topic.Exists
	if len(topicUsers) == 0 && !exists {
		return
	}
	if len(topicUsers) == 0 {
		// Only configured endpoints to add: they serve every control.
		for _, c := range p.active {
			topicUsers = append(topicUsers, c.ID)
		}
	}
	region := p.targetLG.Region
	if !exists {
		key := p.opts.TopicKMSKeyID
		if kr := kmsKeyRegion(key); kr != "" && kr != region {
			// KMS keys are regional: SNS in region could not use a key of
			// kr, so every alarm notification to an encrypted topic would
			// be dropped. Of the two alternatives, creating the topic with
			// SNS's default (no server-side encryption) is the safer: the
			// topic carries alarm notifications, not the logs, and a topic
			// that delivers them keeps the account monitored, whereas no
			// topic (or an undeliverable one) leaves every control
			// failing silently. The warning asks for a key in region.
			p.warnings = append(p.warnings, fmt.Sprintf("the configured topic key %s is in %s, but the topic %s is in %s and KMS keys are regional: Watchkeeper creates the topic without a customer managed key; configure a key in %s (whose policy lets cloudwatch.amazonaws.com use it) to encrypt it", key, kr, topicARN, region, region))
			key = ""
		}
		p.actions = append(p.actions, Action{
			Kind: CreateTopic, Region: region, Target: topicARN, Controls: topicUsers,
			Reason: "create the topic Watchkeeper's alarms notify",
			Topic:  &TopicSpec{Name: p.opts.TopicName, KMSKeyID: key, Tags: managedTags()},
		})
		if k := p.opts.TopicKMSKeyID; k == "alias/aws/sns" || strings.HasSuffix(k, ":alias/aws/sns") {
			p.warnings = append(p.warnings, fmt.Sprintf("the configured topic key %s is the AWS managed SNS key, whose policy CloudWatch cannot use: every alarm notification to %s would be dropped; configure a customer managed key whose policy lets cloudwatch.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt", k, topicARN))
		}
	}
	subscribed := 0
	var configured []Endpoint
	for _, e := range p.opts.Subscriptions {
		if e.Endpoint == "" || slices.ContainsFunc(configured, func(s Endpoint) bool { return sameEndpoint(s, e) }) {
			continue
		}
		configured = append(configured, e)
		if exists && slices.ContainsFunc(topic.Subscriptions, func(s inspect.Subscription) bool {
			return s.ARN != "Deleted" && sameEndpoint(Endpoint{Protocol: s.Protocol, Endpoint: s.Endpoint}, e)
		}) {
			subscribed++
			continue // pending counts: never re-subscribe, never duplicate
		}
		subscribed++
		p.actions = append(p.actions, Action{
			Kind: Subscribe, Region: region, Target: topicARN, Controls: topicUsers,
			Reason:       fmt.Sprintf("subscribe configured endpoint %s:%s", e.Protocol, e.Endpoint),
			Subscription: &SubscriptionSpec{TopicARN: topicARN, Protocol: e.Protocol, Endpoint: e.Endpoint},
		})
	}
	if exists {
		for _, s := range topic.Subscriptions {
			if s.ARN != "Deleted" {
				subscribed++
			}
		}
	}
	if subscribed == 0 {
		for _, id := range topicUsers {
			r := p.resultFor(results, id)
			r.Reasons = append(r.Reasons, fmt.Sprintf("Watchkeeper's topic %s has no subscription and none is configured, so no one would be notified; configure one (WATCHKEEPER_SUBSCRIPTIONS=email:security@example.com or --subscribe email:security@example.com)", topicARN))
			if !slices.Contains(r.Codes, CodeSubscriptionNotPresent) {
				r.Codes = append(r.Codes, CodeSubscriptionNotPresent)
			}
		}
	}
}

// planControl plans the filter and alarm for one failing control on the
// target log group. It reports whether the control's alarm is (or will
// be) Watchkeeper's own, notifying Watchkeeper's topic.
func (p *planner) planControl(c catalog.Control, r *ControlResult) bool {
	lg := p.targetLG
	st := p.judgeLogGroup(c, p.filters.matcher(c, p.opts.Profile), lg)
	switch st.lg.status {
	case StatusPass, StatusError:
		// Pass: only the trail is wrong. Error: nothing is known to act on.
		return false
	}
	if len(st.lg.reasons) > 0 && !slices.Contains(r.Reasons, st.lg.reasons[0]) {
		// The control failed on its trail; say what else is missing
		// on the log group Watchkeeper is about to fix.
		r.Reasons = append(r.Reasons, st.lg.reasons...)
		for _, code := range st.lg.codes {
			if !slices.Contains(r.Codes, code) {
				r.Codes = append(r.Codes, code)
			}
		}
	}
	name := p.ownName(c)
	ownAlarm := findAlarm(lg.Alarms, name)

	var ref metricRef
	switch {
	case len(st.satisfying) == 0:
		ref = metricRef{filter: name, name: c.MetricName, namespace: p.opts.Namespace}
		reason := fmt.Sprintf("no metric filter on log group %s counts the events of %s", lg.Name, c.ID)
		if st.ownFilter != nil {
			reason = fmt.Sprintf("Watchkeeper's metric filter %s on log group %s does not count the events of %s; rewrite it", name, lg.Name, c.ID)
		}
		p.actions = append(p.actions, Action{
			Kind: PutMetricFilter, Region: lg.Region, Target: lg.Name + "/" + name, Controls: []string{c.ID}, Reason: reason,
			Filter: &FilterSpec{
				LogGroupName: lg.Name, FilterName: name, Pattern: c.PatternFor(p.opts.Profile),
				MetricName: c.MetricName, Namespace: p.opts.Namespace, MetricValue: "1",
			},
		})
	default:
		ref = st.satisfying[0]
		if ownAlarm != nil {
			// Keep our alarm's metric if it is one that satisfies, so
			// plans do not flip between equally good filters.
			for _, s := range st.satisfying {
				if s.name == ownAlarm.MetricName && s.namespace == ownAlarm.Namespace {
					ref = s
					break
				}
			}
		}
	}

	want := p.alarmSpec(c, ref)
	alarmARN := fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", p.partition, lg.Region, p.s.Account, name)
	switch {
	case ownAlarm == nil:
		p.actions = append(p.actions, Action{
			Kind: PutMetricAlarm, Region: lg.Region, Target: alarmARN, Controls: []string{c.ID},
			Reason: fmt.Sprintf("no alarm that notifies a confirmed subscriber watches metric %s/%s", ref.namespace, ref.name),
			Alarm:  &want,
		})
	case !sameDefinition(*ownAlarm, want):
		p.actions = append(p.actions, Action{
			Kind: PutMetricAlarm, Region: lg.Region, Target: alarmARN, Controls: []string{c.ID},
			Reason: fmt.Sprintf("Watchkeeper's alarm %s differs from its definition (%s); rewrite it", name, definitionDiff(*ownAlarm, want)),
			Alarm:  &want,
		})
	case !ownAlarm.ActionsEnabled:
		p.actions = append(p.actions, Action{
			Kind: EnableAlarmActions, Region: lg.Region, Target: alarmARN, Controls: []string{c.ID},
			Reason: fmt.Sprintf("Watchkeeper's alarm %s has its actions disabled", name),
			Alarm:  &AlarmSpec{AlarmName: name},
		})
	}
	return true
}

// planProfileRewrite rewrites Watchkeeper's own filter for c on the target
// log group when it still counts the control's events but its text is not
// the exact pattern of the configured profile (the securityhub profile
// needs Security Hub's exact string; switching back restores the
// benchmark's). It keeps the filter's metric, so its alarm stays valid. A
// filter that does not count is planControl's business; a person's filter
// is never rewritten.
func (p *planner) planProfileRewrite(c catalog.Control) {
	lg := p.targetLG
	if lg == nil || lg.Error != "" || !lg.Exists {
		return
	}
	name := p.ownName(c)
	i := slices.IndexFunc(lg.Filters, func(f inspect.MetricFilter) bool { return f.Name == name })
	if i < 0 {
		return
	}
	f := lg.Filters[i]
	want := c.PatternFor(p.opts.Profile)
	if strings.TrimSpace(f.Pattern) == strings.TrimSpace(want) {
		return
	}
	if ok, _, _ := p.filters.matcher(c, p.opts.Profile).satisfies(f.Pattern); !ok {
		return
	}
	ref, counts := countingMetric(f)
	if !counts {
		return
	}
	reason := fmt.Sprintf("pattern profile %s: rewrite Watchkeeper's metric filter %s to the benchmark's exact pattern", p.opts.Profile, name)
	if p.opts.Profile == catalog.ProfileSecurityHub {
		reason = fmt.Sprintf("pattern profile securityhub: rewrite Watchkeeper's metric filter %s to the exact Security Hub string", name)
	}
	p.actions = append(p.actions, Action{
		Kind: PutMetricFilter, Region: lg.Region, Target: lg.Name + "/" + name, Controls: []string{c.ID}, Reason: reason,
		Filter: &FilterSpec{
			LogGroupName: lg.Name, FilterName: name, Pattern: want,
			MetricName: ref.name, Namespace: ref.namespace, MetricValue: "1",
		},
	})
}

func (p *planner) topicARN() string {
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s", p.partition, p.targetLG.Region, p.s.Account, p.opts.TopicName)
}

func (p *planner) alarmSpec(c catalog.Control, ref metricRef) AlarmSpec {
	return AlarmSpec{
		AlarmName:          p.ownName(c),
		Description:        fmt.Sprintf("CIS %s %s: %s (managed by Watchkeeper)", p.opts.Benchmark.Version, c.ID, c.Title),
		MetricName:         ref.name,
		Namespace:          ref.namespace,
		Statistic:          alarmStatistic,
		Period:             alarmPeriod,
		EvaluationPeriods:  alarmEvaluationPeriods,
		Threshold:          alarmThreshold,
		ComparisonOperator: alarmComparison,
		TreatMissingData:   alarmTreatMissingData,
		TopicARN:           p.topicARN(),
		Tags:               managedTags(),
	}
}

func managedTags() map[string]string { return map[string]string{ManagedByTag: ManagedByValue} }

func findAlarm(alarms []inspect.Alarm, name string) *inspect.Alarm {
	for i := range alarms {
		if alarms[i].Name == name {
			return &alarms[i]
		}
	}
	return nil
}

// sameDefinition reports whether Watchkeeper's alarm a matches want in
// everything but ActionsEnabled. Extra alarm actions a person added are
// tolerated; the topic must be among them.
func sameDefinition(a inspect.Alarm, want AlarmSpec) bool {
	return definitionDiff(a, want) == ""
}

func definitionDiff(a inspect.Alarm, want AlarmSpec) string {
	var d []string
	if a.MetricName != want.MetricName || a.Namespace != want.Namespace || a.HasDimensions {
		d = append(d, fmt.Sprintf("watches %s/%s instead of %s/%s", a.Namespace, a.MetricName, want.Namespace, want.MetricName))
	}
	if a.Statistic != want.Statistic || a.Period != want.Period || a.EvaluationPeriods != want.EvaluationPeriods ||
		a.Threshold != want.Threshold || a.ComparisonOperator != want.ComparisonOperator {
		d = append(d, fmt.Sprintf("condition %s over %d s x%d %s %g", a.Statistic, a.Period, a.EvaluationPeriods, a.ComparisonOperator, a.Threshold))
	}
	if a.TreatMissingData != want.TreatMissingData {
		d = append(d, fmt.Sprintf("treat missing data %q", a.TreatMissingData))
	}
	if !slices.Contains(a.AlarmActions, want.TopicARN) {
		d = append(d, fmt.Sprintf("does not notify %s", want.TopicARN))
	}
	return strings.Join(d, "; ")
}

func sameEndpoint(a, b Endpoint) bool {
	return strings.EqualFold(a.Protocol, b.Protocol) && a.Endpoint == b.Endpoint
}

func logGroupName(arn string) string {
	_, name, ok := strings.Cut(arn, ":log-group:")
	if !ok {
		return arn
	}
	return strings.TrimSuffix(name, ":*")
}

// collectWarnings returns the catalog's warnings in control order, then
// what was observed, sorted.
func (p *planner) collectWarnings() []string {
	var w []string
	for _, f := range p.trails {
		if f.t.Status != nil && f.t.Status.LatestCloudWatchLogsDeliveryError != "" {
			w = append(w, fmt.Sprintf("trail %s reports CloudWatch Logs delivery error %q (not by itself a failure, but events may be missing from log group %s; check the trail's CloudWatch Logs role)",
				f.t.ARN, f.t.Status.LatestCloudWatchLogsDeliveryError, f.t.LogGroupARN))
		}
	}
	for _, t := range sortedTopics(p.s.Topics) {
		if !t.Exists {
			continue
		}
		if pending := pendingEndpoints(t); len(pending) > 0 {
			w = append(w, fmt.Sprintf("topic %s has subscriptions awaiting confirmation: confirm the subscription sent to %s", t.ARN, strings.Join(pending, ", ")))
		}
	}
	slices.Sort(w)
	out := slices.Compact(slices.Clone(p.warnings))
	return append(out, slices.Compact(w)...)
}

func sortedTopics(m map[string]inspect.Topic) []inspect.Topic {
	out := make([]inspect.Topic, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b inspect.Topic) int { return strings.Compare(a.ARN, b.ARN) })
	return out
}

// mergeActions folds actions that write the same thing into one (joining
// their controls) and sorts them by (Phase, Region, Kind, Target).
func mergeActions(in []Action) []Action {
	out := make([]Action, 0, len(in))
	index := map[string]int{}
	for _, a := range in {
		k := actionKey(a)
		if i, ok := index[k]; ok {
			for _, id := range a.Controls {
				if !slices.Contains(out[i].Controls, id) {
					out[i].Controls = append(out[i].Controls, id)
				}
			}
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
			strings.Compare(actionKey(a), actionKey(b)),
		)
	})
	return out
}

func actionKey(a Action) string {
	k := string(a.Kind) + "\x00" + a.Region + "\x00" + a.Target
	if a.Subscription != nil {
		k += "\x00" + strings.ToLower(a.Subscription.Protocol) + "\x00" + a.Subscription.Endpoint
	}
	return k
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

// kmsKeyRegion is the region of a KMS key or alias ARN
// ("arn:PARTITION:kms:REGION:ACCOUNT:key/ID"), or "" for a key ID or alias
// name, which SNS resolves in the topic's own region.
func kmsKeyRegion(key string) string {
	if !strings.HasPrefix(key, "arn:") {
		return ""
	}
	parts := strings.SplitN(key, ":", 6)
	if len(parts) < 6 || parts[2] != "kms" {
		return ""
	}
	return parts[3]
}
