package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/alarmsim"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// Alarm definition Watchkeeper writes (docs/contracts.md "Resource naming";
// the CIS remediation's put-metric-alarm plus treat-missing-data, so the
// alarm returns to OK after an event and the next event notifies again).
const (
	alarmStatistic         = "Sum"
	alarmPeriod            = 300
	alarmEvaluationPeriods = 1
	alarmThreshold         = 1
	alarmComparison        = "GreaterThanOrEqualToThreshold"
	alarmTreatMissingData  = "notBreaching"
)

// canonicalAlarm is the simulated form of the alarm Watchkeeper writes.
var canonicalAlarm = alarmsim.Alarm{
	Statistic: alarmStatistic, Period: alarmPeriod, EvaluationPeriods: alarmEvaluationPeriods,
	Threshold: alarmThreshold, ComparisonOperator: alarmComparison, TreatMissingData: alarmTreatMissingData,
}

// planMonitoring plans filters, alarms, the topic, its subscriptions and
// its key on the target log group.
func (p *planner) planMonitoring() {
	var topicUsers []string // controls whose alarm notifies Watchkeeper's topic
	for _, f := range p.jd.Controls {
		if f.Status == StatusExcluded || f.Status == StatusCentral {
			continue // CENTRAL: enforced in the trail owner's account
		}
		if p.tg.lg == nil {
			if f.Status != StatusPass && len(p.jd.trails) > 0 { // else the first reason already says it
				p.note(f.Control.ID, "", p.tg.noTargetWhy)
			}
			continue
		}
		if p.planControl(f) {
			topicUsers = append(topicUsers, f.Control.ID)
		}
	}
	if p.tg.lg != nil {
		p.planTopic(topicUsers)
	}
}

// planControl plans Watchkeeper's filter and alarm for f's control on the
// target log group: it restores its own filter and alarm to their
// canonical definitions whenever they drift, and creates them only when
// the control fails, never beside a chain that works. It reports whether
// the control's alarm is (or will be) Watchkeeper's own.
func (p *planner) planControl(f Finding) bool {
	c, lg := f.Control, p.tg.lg
	e := p.j.evalLogGroup(c, lg)
	if e.status == StatusError {
		return false // nothing is known to act on
	}
	failing := f.Status != StatusPass
	if failing && e.status == StatusFail && len(e.problems) > 0 &&
		!slices.ContainsFunc(f.Problems, func(pr Problem) bool { return pr.Reason == e.problems[0].Reason }) {
		// The control failed on its trail; say what else is missing on
		// the log group Watchkeeper is about to fix.
		for _, pr := range e.problems {
			p.note(c.ID, pr.Code, pr.Reason)
		}
	}
	name := p.j.ownName(c)
	ownAlarm := findAlarm(lg.Alarms, name)
	own := FilterSpec{
		LogGroupName: lg.Name, FilterName: name, Pattern: c.PatternFor(p.opts.Profile),
		MetricName: c.MetricName, Namespace: p.opts.Namespace, MetricValue: "1",
	}
	ownRef := account.MetricTransformation{MetricName: own.MetricName, MetricNamespace: own.Namespace, MetricValue: "1"}
	if e.ownFilter != nil && !filterCanonical(*e.ownFilter, own) {
		p.add(Action{Kind: PutMetricFilter, Region: lg.Region, Target: lg.Name + "/" + name, Controls: []string{c.ID},
			Reason: p.filterReason(*e.ownFilter, own, e), Filter: &own})
	}

	var ref account.MetricTransformation
	usable := usableCandidates(e.candidates)
	switch {
	case e.ownFilter != nil:
		ref = ownRef
	case ownAlarm != nil && slices.ContainsFunc(usable, func(t account.MetricTransformation) bool {
		return t.MetricName == ownAlarm.MetricName && t.MetricNamespace == ownAlarm.Namespace
	}):
		// Keep our alarm's metric while it is a good one, so plans do not
		// flip between equally good filters.
		ref = account.MetricTransformation{MetricName: ownAlarm.MetricName, MetricNamespace: ownAlarm.Namespace}
	case len(usable) > 0:
		ref = usable[0]
	case !failing:
		return false // a chain works; ours is not needed
	default:
		ref = ownRef
		reason := fmt.Sprintf("no metric filter on log group %s counts the events of %s", lg.Name, c.ID)
		p.add(Action{Kind: PutMetricFilter, Region: lg.Region, Target: lg.Name + "/" + name, Controls: []string{c.ID}, Reason: reason, Filter: &own})
	}

	want := p.alarmSpec(c, ref)
	alarmARN := p.alarmARN(lg.Region, name)
	switch {
	case ownAlarm == nil && !failing:
		return false // never duplicate a working chain
	case ownAlarm == nil:
		p.add(Action{Kind: PutMetricAlarm, Region: lg.Region, Target: alarmARN, Controls: []string{c.ID},
			Reason: fmt.Sprintf("no alarm that notifies a confirmed subscriber watches metric %s/%s", ref.MetricNamespace, ref.MetricName),
			Alarm:  &want})
	case alarmDiff(*ownAlarm, want) != "":
		p.add(Action{Kind: PutMetricAlarm, Region: lg.Region, Target: alarmARN, Controls: []string{c.ID},
			Reason: fmt.Sprintf("Watchkeeper's alarm %s differs from its definition (%s); rewrite it", name, alarmDiff(*ownAlarm, want)),
			Alarm:  &want})
	case !ownAlarm.ActionsEnabled:
		p.add(Action{Kind: EnableAlarmActions, Region: lg.Region, Target: alarmARN, Controls: []string{c.ID},
			Reason: fmt.Sprintf("Watchkeeper's alarm %s has its actions disabled", name),
			Alarm:  &AlarmSpec{AlarmName: name}})
	}
	return failing
}

// filterReason says why Watchkeeper's filter f is rewritten to want. A
// filter that still counts the control's events and differs only in its
// pattern's text is being moved to the configured profile's exact text
// (the securityhub profile needs Security Hub's exact string; switching
// back restores the benchmark's).
func (p *planner) filterReason(f account.MetricFilter, want FilterSpec, e chainEval) string {
	samePattern := want
	samePattern.Pattern = f.Pattern
	counts := slices.ContainsFunc(e.candidates, func(c candidate) bool { return c.own })
	if counts && filterCanonical(f, samePattern) {
		if p.opts.Profile == catalog.ProfileSecurityHub {
			return fmt.Sprintf("pattern profile securityhub: rewrite Watchkeeper's metric filter %s to the exact Security Hub string", f.Name)
		}
		return fmt.Sprintf("pattern profile %s: rewrite Watchkeeper's metric filter %s to the benchmark's exact pattern", p.opts.Profile, f.Name)
	}
	return fmt.Sprintf("Watchkeeper's metric filter %s on log group %s differs from its definition (%s); rewrite it", f.Name, want.LogGroupName, filterDiff(f, want))
}

// usableCandidates are the candidate metrics Watchkeeper's own alarm can
// watch: dimensionless, and one event trips the canonical alarm on them.
func usableCandidates(cs []candidate) []account.MetricTransformation {
	var out []account.MetricTransformation
	for _, c := range cs {
		if c.valueWhy == "" && len(c.t.Dimensions) == 0 && alarmsim.Simulate(canonicalAlarm, c.metric()).Notifies() {
			out = append(out, c.t)
		}
	}
	return out
}

func (p *planner) alarmSpec(c catalog.Control, ref account.MetricTransformation) AlarmSpec {
	return AlarmSpec{
		AlarmName:          p.j.ownName(c),
		Description:        fmt.Sprintf("CIS %s %s: %s (managed by Watchkeeper)", p.opts.Benchmark.Version, c.ID, c.Title),
		MetricName:         ref.MetricName,
		Namespace:          ref.MetricNamespace,
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

// alarmARN is the ARN of the alarm named name in region of this account.
func (p *planner) alarmARN(region, name string) string {
	return fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", p.j.partition, region, p.j.account, name)
}

func (p *planner) topicARN() string {
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s", p.j.partition, p.tg.lg.Region, p.j.account, p.opts.TopicName)
}

func managedTags() map[string]string { return map[string]string{ManagedByTag: ManagedByValue} }

func findAlarm(alarms []account.Alarm, name string) *account.Alarm {
	for i := range alarms {
		if alarms[i].Name == name {
			return &alarms[i]
		}
	}
	return nil
}

// filterCanonical reports whether Watchkeeper's filter f is exactly want.
func filterCanonical(f account.MetricFilter, want FilterSpec) bool { return filterDiff(f, want) == "" }

// filterDiff says how Watchkeeper's filter f differs from want: its pattern
// text, or any field of its one metric transformation.
func filterDiff(f account.MetricFilter, want FilterSpec) string {
	var d []string
	if strings.TrimSpace(f.Pattern) != strings.TrimSpace(want.Pattern) {
		d = append(d, fmt.Sprintf("pattern %s instead of %s", f.Pattern, want.Pattern))
	}
	if len(f.Transformations) != 1 {
		return strings.Join(append(d, fmt.Sprintf("%d metric transformations", len(f.Transformations))), "; ")
	}
	t := f.Transformations[0]
	if t.MetricName != want.MetricName || t.MetricNamespace != want.Namespace {
		d = append(d, fmt.Sprintf("publishes %s/%s instead of %s/%s", t.MetricNamespace, t.MetricName, want.Namespace, want.MetricName))
	}
	if strings.TrimSpace(t.MetricValue) != want.MetricValue {
		d = append(d, fmt.Sprintf("metricValue %q", t.MetricValue))
	}
	if t.DefaultValue != nil {
		d = append(d, fmt.Sprintf("defaultValue %g", *t.DefaultValue))
	}
	if t.Unit != "" && t.Unit != "None" {
		d = append(d, fmt.Sprintf("unit %s", t.Unit))
	}
	if len(t.Dimensions) > 0 {
		d = append(d, fmt.Sprintf("dimensions %s", describeDims(t.Dimensions)))
	}
	return strings.Join(d, "; ")
}

// alarmDiff says how Watchkeeper's alarm a differs from want in anything
// but ActionsEnabled; "" when it matches. Extra alarm actions a person
// added are tolerated; the topic must be among them.
func alarmDiff(a account.Alarm, want AlarmSpec) string {
	var d []string
	if a.MetricMath || a.MetricName != want.MetricName || a.Namespace != want.Namespace || len(a.Dimensions) > 0 {
		d = append(d, fmt.Sprintf("watches %s/%s%s instead of %s/%s", a.Namespace, a.MetricName, dimsSuffix(a), want.Namespace, want.MetricName))
	}
	if a.Statistic != want.Statistic || a.ExtendedStatistic != "" || (a.Unit != "" && a.Unit != "None") || a.Period != want.Period ||
		a.EvaluationPeriods != want.EvaluationPeriods || (a.DatapointsToAlarm != 0 && a.DatapointsToAlarm != want.EvaluationPeriods) ||
		a.Threshold != want.Threshold || a.ComparisonOperator != want.ComparisonOperator || a.ThresholdMetricID != "" {
		d = append(d, fmt.Sprintf("condition %s%s over %d s, %d of %d, %s %g%s", a.Statistic, a.ExtendedStatistic, a.Period,
			max(a.DatapointsToAlarm, 0), a.EvaluationPeriods, a.ComparisonOperator, a.Threshold, unitSuffix(a.Unit)))
	}
	if a.TreatMissingData != want.TreatMissingData {
		d = append(d, fmt.Sprintf("treat missing data %q", a.TreatMissingData))
	}
	if !slices.Contains(a.AlarmActions, want.TopicARN) {
		d = append(d, fmt.Sprintf("does not notify %s", want.TopicARN))
	}
	return strings.Join(d, "; ")
}

func dimsSuffix(a account.Alarm) string {
	switch {
	case a.MetricMath:
		return " (metric math)"
	case len(a.Dimensions) > 0:
		return " with dimensions " + describeDims(a.Dimensions)
	}
	return ""
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " unit " + u
}
