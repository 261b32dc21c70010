package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/alarmsim"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// The alert path on one log group, judged link by link. A control passes on
// a log group when some chain works end to end:
//
//	metric filter (pattern covers the control, not routine activity)
//	  -> metric (namespace, name and dimensions, as the filter publishes it)
//	  -> alarm found by MetricName (the benchmark's audit: describe-alarms
//	     --query "MetricAlarms[?MetricName == ...]") whose simulated state
//	     goes to ALARM on one event (pkg/alarmsim)
//	  -> SNS action in the alarm's Region, actions enabled
//	  -> topic that delivers (topic.go).
//
// Each broken link is a Problem with a code and a reason naming the
// resource, the field, its value and why no notification arrives.

// Problem is one reason a control does not pass.
type Problem struct {
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
}

// candidate is one metric a filter that satisfies the control's pattern
// publishes.
type candidate struct {
	filter string
	own    bool
	t      account.MetricTransformation
	// value is what one matching event publishes; valueWhy says why it
	// cannot be known ("" when value holds).
	value    float64
	valueWhy string
}

// metric is the simulated feed of the candidate's metric.
func (c candidate) metric() alarmsim.Metric {
	return alarmsim.Metric{Value: c.value, Default: c.t.DefaultValue, Unit: c.t.Unit}
}

// chainEval is control c judged on one log group.
type chainEval struct {
	status   Status // StatusPass, StatusFail or StatusError
	problems []Problem
	// pass says which chain works, when status is StatusPass.
	pass     string
	chain    *Chain // the resources of the chain that works, on StatusPass
	warnings []string
	// candidates are the metrics of filters that satisfy the pattern,
	// Watchkeeper's own filter first, then by filter name.
	candidates []candidate
	ownFilter  *account.MetricFilter
}

func (e *chainEval) add(code, reason string) {
	e.problems = append(e.problems, Problem{Code: code, Reason: reason})
}

// evalLogGroup judges control c on lg.
func (j *judge) evalLogGroup(c catalog.Control, lg *account.LogGroup) chainEval {
	var e chainEval
	where := fmt.Sprintf("log group %s (%s)", lg.Name, lg.Region)
	if lg.Error != "" {
		e.status = StatusError
		e.add("", fmt.Sprintf("could not read the metric filters and alarms of %s: %s", where, lg.Error))
		return e
	}
	ownName := j.ownName(c)
	notes := j.scanFilters(c, lg, &e)
	if len(e.candidates) == 0 {
		e.status = StatusFail
		e.add(CodeFiltersNotPresent, fmt.Sprintf("no metric filter on %s matches this control's pattern %s", where, c.PatternFor(j.opts.Profile)))
		e.problems = append(e.problems, notes.problems...)
		return e
	}

	unknown := false
	// Watchkeeper's alarm turned into a metric-math alarm no longer names
	// the metric; it is judged beside the first candidate so the reason
	// says why it does not count.
	var mathOwn []account.Alarm
	if a := findAlarm(lg.Alarms, ownName); a != nil && a.MetricMath {
		mathOwn = append(mathOwn, *a)
	}
	for i, cand := range e.candidates {
		alarms := alarmsOn(lg, cand.t)
		if i == 0 {
			alarms = append(mathOwn, alarms...)
		}
		if len(alarms) == 0 {
			dims := ""
			if len(cand.t.Dimensions) > 0 {
				dims = fmt.Sprintf(" (only with dimensions %s, so an alarm must select them)", describeDims(cand.t.Dimensions))
			}
			e.add(CodeAlarmsNotPresent, fmt.Sprintf("no alarm watches metric %s/%s published by metric filter %s on %s%s", cand.t.MetricNamespace, cand.t.MetricName, cand.filter, where, dims))
			continue
		}
		for _, a := range alarms {
			v := j.alarmVerdict(a, cand, &c)
			if v.ok {
				e.status = StatusPass
				e.problems = nil
				e.pass = fmt.Sprintf("metric filter %s on %s counts this control's events and alarm %s notifies %s", cand.filter, where, a.Name, v.detail)
				e.chain = &Chain{Region: lg.Region, LogGroupARN: lg.ARN, LogGroupName: lg.Name, FilterName: cand.filter,
					AlarmName: a.Name, AlarmARN: a.ARN, TopicARN: v.topic}
				if v.warning != "" {
					e.warnings = append(e.warnings, v.warning)
				}
				return e
			}
			unknown = unknown || v.unknown
			e.add(v.code, v.detail)
		}
	}
	e.problems = append(e.problems, notes.problems...)
	e.status = StatusFail
	if unknown {
		e.status = StatusError
	}
	return e
}

// scanFilters sets e's candidates (the metrics of filters whose pattern
// satisfies c) and ownFilter, and returns notes on filters that do not
// count and why.
func (j *judge) scanFilters(c catalog.Control, lg *account.LogGroup, e *chainEval) (notes chainEval) {
	where := fmt.Sprintf("log group %s (%s)", lg.Name, lg.Region)
	ownName := j.ownName(c)
	m := j.filters.matcher(c, j.opts.Profile)
	for _, f := range ownFirst(lg.Filters, ownName) {
		own := f.Name == ownName
		if own {
			e.ownFilter = &f
		}
		ok, kind, why := m.satisfies(f.Pattern)
		switch {
		case ok:
			for _, t := range f.Transformations {
				e.candidates = append(e.candidates, newCandidate(f.Name, own, t))
			}
			if len(f.Transformations) == 0 {
				notes.add(CodeTransformationNotValid, fmt.Sprintf("metric filter %s on %s matches this control's events but publishes no metric", f.Name, where))
			}
		case kind == overBroad:
			notes.add(CodeFilterTooBroad, fmt.Sprintf("metric filter %s on %s does not count: %s", f.Name, where, why))
		case own && kind == unrelated:
			notes.add(CodeFilterNotValid, fmt.Sprintf("Watchkeeper's metric filter %s on %s has pattern %s, which does not match this control's events", f.Name, where, f.Pattern))
		case own:
			notes.add(CodeFilterNotValid, fmt.Sprintf("Watchkeeper's metric filter %s on %s does not count: %s", f.Name, where, why))
		}
		// A person's filter that does not parse or is about something
		// else is simply not this control's filter.
	}
	return notes
}

// ownFirst returns filters with the one named own first, then by name.
func ownFirst(filters []account.MetricFilter, own string) []account.MetricFilter {
	out := slices.Clone(filters)
	slices.SortFunc(out, func(a, b account.MetricFilter) int {
		switch {
		case a.Name == own && b.Name != own:
			return -1
		case b.Name == own && a.Name != own:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// newCandidate reads what one matching event publishes. A metricValue that
// is a number is published as is; one that names a field ($.x) publishes
// that field of the event (CloudWatch Logs User Guide, "Publishing
// numerical values found in log events"), which none of the benchmark's
// CloudTrail events carries as a number Watchkeeper can rely on.
func newCandidate(filter string, own bool, t account.MetricTransformation) candidate {
	c := candidate{filter: filter, own: own, t: t}
	raw := strings.TrimSpace(t.MetricValue)
	v, err := strconv.ParseFloat(raw, 64)
	switch {
	case err == nil:
		c.value = v
	case strings.HasPrefix(raw, "$"):
		c.valueWhy = fmt.Sprintf("publishes metricValue %s, the event's %s field, which CloudTrail records of this control's events do not carry as a number, so one event does not reliably become a datapoint", raw, strings.TrimPrefix(strings.TrimPrefix(raw, "$"), "."))
	default:
		c.valueWhy = fmt.Sprintf("publishes metricValue %q, which is not a number", raw)
	}
	return c
}

// alarmsOn returns the log group's alarms that name t's metric (namespace
// and name, case-sensitive, as CloudWatch identifies metrics), whatever
// their dimensions, sorted by name. Dimensions are judged per alarm so the
// reason can say exactly why the alarm's series gets no data.
func alarmsOn(lg *account.LogGroup, t account.MetricTransformation) []account.Alarm {
	var out []account.Alarm
	for _, a := range lg.Alarms {
		if a.MetricName == t.MetricName && a.Namespace == t.MetricNamespace {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b account.Alarm) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// alarmResult is one alarm judged as a link of the chain.
type alarmResult struct {
	ok              bool
	code            string
	detail, warning string
	unknown         bool
	topic           string // the topic that delivers, when ok
}

// alarmVerdict judges alarm a fed by cand. c, when known, lets a dimension
// the alarm selects be checked against the control's events.
func (j *judge) alarmVerdict(a account.Alarm, cand candidate, c *catalog.Control) alarmResult {
	name := fmt.Sprintf("alarm %s (%s)", a.Name, a.Region)
	fail := func(code, format string, args ...any) alarmResult {
		return alarmResult{code: code, detail: name + " " + fmt.Sprintf(format, args...)}
	}
	if a.MetricMath {
		// The benchmark's audit lists alarms by MetricName; a metric-math
		// or anomaly-detection alarm has none.
		return fail(CodeAlarmsNotPresent, "is a metric-math or anomaly-detection alarm; the benchmark's audit selects alarms by MetricName, so it does not count")
	}
	if why := dimensionMismatch(a, cand.t, c); why != "" {
		return fail(CodeMetricMismatch, "watches %s/%s %s, so it watches a series that gets no data for this control's events", a.Namespace, a.MetricName, why)
	}
	if cand.valueWhy != "" {
		return fail(CodeTransformationNotValid, "watches metric filter %s, which %s", cand.filter, cand.valueWhy)
	}
	sim := alarmsim.Simulate(simAlarm(a), cand.metric())
	if !sim.Notifies() {
		code := CodeAlarmConditionNotValid
		if sim.Outcome == alarmsim.UnitMismatch {
			code = CodeMetricMismatch
		}
		return fail(code, "on metric filter %s: %s", cand.filter, sim.Detail)
	}
	if !a.ActionsEnabled {
		return fail(CodeAlarmActionsNotValid, "has its actions disabled, so it never notifies anyone; enable them (aws cloudwatch enable-alarm-actions --alarm-names %s --region %s)", a.Name, a.Region)
	}
	var topics []string
	for _, act := range a.AlarmActions {
		if r, ok := parseARN(act); ok && r.Service == "sns" {
			topics = append(topics, act)
		}
	}
	if len(topics) == 0 {
		return fail(CodeAlarmActionsNotValid, "notifies no SNS topic; add one with a confirmed subscriber to its alarm actions")
	}
	var first alarmResult
	for _, arn := range topics {
		tv := j.topicVerdict(arn, a)
		if tv.ok {
			return alarmResult{ok: true, detail: tv.why, warning: prefixed(name, sim.Warning), topic: arn}
		}
		if first.detail == "" {
			first = alarmResult{code: tv.code, detail: fmt.Sprintf("%s notifies %s", name, tv.why)}
		}
		first.unknown = first.unknown || tv.unknown
	}
	return first
}

func prefixed(name, s string) string {
	if s == "" {
		return ""
	}
	return name + ": " + s
}

// simAlarm is the part of a that the simulation reads.
func simAlarm(a account.Alarm) alarmsim.Alarm {
	return alarmsim.Alarm{
		Statistic: a.Statistic, ExtendedStatistic: a.ExtendedStatistic,
		Period: a.Period, EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm,
		Threshold: a.Threshold, ComparisonOperator: a.ComparisonOperator,
		TreatMissingData: a.TreatMissingData, Unit: a.Unit, StateValue: a.StateValue,
		EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile,
	}
}

// dimensionMismatch says why alarm a's dimensions select no data from a
// filter publishing t ("" when they match). CloudWatch identifies a metric
// by namespace, name and dimensions together (CloudWatch User Guide,
// "Dimensions": "each unique combination of dimensions is a separate
// metric"), and a filter with dimensions publishes only the dimensioned
// series (CloudWatch Logs User Guide, "Publishing dimensions with metrics
// from values in JSON or space-delimited log events").
func dimensionMismatch(a account.Alarm, t account.MetricTransformation, c *catalog.Control) string {
	switch {
	case len(a.Dimensions) == 0 && len(t.Dimensions) == 0:
		return ""
	case len(a.Dimensions) == 0:
		return fmt.Sprintf("without dimensions, but the filter publishes it only with dimensions %s", describeDims(t.Dimensions))
	case len(t.Dimensions) == 0:
		return fmt.Sprintf("with dimensions %s, but the filter publishes it without dimensions", describeDims(a.Dimensions))
	}
	if !slices.Equal(slices.Sorted(maps.Keys(a.Dimensions)), slices.Sorted(maps.Keys(t.Dimensions))) {
		return fmt.Sprintf("with dimensions %s, but the filter publishes dimensions %s", describeDims(a.Dimensions), describeDims(t.Dimensions))
	}
	// Same names: the alarm sees one series. It sees every event of the
	// control only if every such event carries exactly that value.
	for name, value := range a.Dimensions {
		field := strings.TrimPrefix(strings.TrimPrefix(t.Dimensions[name], "$"), ".")
		if c == nil || len(c.Events) == 0 || !slices.ContainsFunc([]string{"eventSource", "eventName"}, func(f string) bool { return f == field }) {
			return fmt.Sprintf("with dimension %s=%s only (the filter fills it from %s)", name, value, t.Dimensions[name])
		}
		for _, ev := range c.Events {
			got := ev.Source
			if field == "eventName" {
				got = ev.Name
			}
			if got != value {
				return fmt.Sprintf("with dimension %s=%s only, so %s events (%s=%s) land in another series", name, value, ev.Name, field, got)
			}
		}
	}
	return ""
}

func describeDims(d map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(d)) {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, ", ")
}
