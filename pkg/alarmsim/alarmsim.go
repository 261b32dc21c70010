package alarmsim

import (
	"fmt"
	"strings"
)

// Alarm is the part of a metric alarm's definition that decides whether it
// notifies. Field names and values are those of PutMetricAlarm and
// DescribeAlarms.
type Alarm struct {
	Statistic          string  // SampleCount, Average, Sum, Minimum or Maximum; "" when ExtendedStatistic is set
	ExtendedStatistic  string  // a percentile such as "p99" or "p99.9"; trimmed and winsorized means ("tm99", "TM(10%:90%)", "IQM") are judged by bounds
	Period             int32   // seconds; 0 = unknown (the outcome does not depend on it)
	EvaluationPeriods  int32   // N of "M out of N"
	DatapointsToAlarm  int32   // M of "M out of N"; 0 = unset = EvaluationPeriods
	Threshold          float64 // unused for anomaly-detection operators
	ComparisonOperator string  // GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, or an anomaly-band operator
	TreatMissingData   string  // missing, ignore, breaching or notBreaching; "" = missing
	Unit               string  // "" = none specified
	StateValue         string  // current state: OK, ALARM or INSUFFICIENT_DATA; "" = unknown

	// EvaluateLowSampleCountPercentile is "evaluate" or "ignore" ("" =
	// evaluate). With ignore, a percentile alarm skips periods with too few
	// datapoints, which one event always is.
	EvaluateLowSampleCountPercentile string
}

// Metric is what the watched metric receives from its metric filter.
type Metric struct {
	Value   float64  // what one matching log event publishes (the filter's metricValue, usually 1)
	Default *float64 // the filter's defaultValue, published for non-matching log events (0 included); nil = not set
	Unit    string   // the filter's unit; "" = None
}

// Outcome is Simulate's verdict: Notifies, or the reason one event does not
// reach the alarm's actions.
type Outcome int

const (
	_ Outcome = iota // the zero Outcome is no verdict; Simulate never returns it

	// Notifies: with no matching events the alarm is out of ALARM, and one
	// matching event moves it to ALARM, which runs its AlarmActions.
	Notifies
	// NeverTrips: one event does not bring the alarm to ALARM (the value
	// does not breach, DatapointsToAlarm needs more breaching periods, or
	// the period is skipped).
	NeverTrips
	// AlarmsWithoutEvents: the alarm sits in ALARM with no events (missing
	// data treated as breaching, or defaultValue datapoints that breach), so
	// an event changes no state and sends nothing.
	AlarmsWithoutEvents
	// StuckInAlarm: TreatMissingData=ignore keeps an alarm that is already
	// in ALARM there, so an event changes no state and sends nothing.
	StuckInAlarm
	// UnitMismatch: the alarm names a unit the metric is not published in,
	// so it stays in INSUFFICIENT_DATA.
	UnitMismatch
	// AnomalyBand: an anomaly-detection operator compares with a band, not a
	// fixed threshold; callers report these as metric-math alarms.
	AnomalyBand
	// UnsupportedStatistic: a valid ExtendedStatistic this simulation does
	// not judge (trimmed counts and sums, percentile ranks, absolute-bound
	// means).
	UnsupportedStatistic
	// InvalidDefinition: a definition PutMetricAlarm or PutMetricFilter
	// would not accept.
	InvalidDefinition
)

// String returns the constant's name.
func (o Outcome) String() string {
	switch o {
	case Notifies:
		return "Notifies"
	case NeverTrips:
		return "NeverTrips"
	case AlarmsWithoutEvents:
		return "AlarmsWithoutEvents"
	case StuckInAlarm:
		return "StuckInAlarm"
	case UnitMismatch:
		return "UnitMismatch"
	case AnomalyBand:
		return "AnomalyBand"
	case UnsupportedStatistic:
		return "UnsupportedStatistic"
	case InvalidDefinition:
		return "InvalidDefinition"
	default:
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
}

// Result is Simulate's answer. Detail and Warning are for people; decide on
// Outcome only.
type Result struct {
	Outcome Outcome
	Detail  string // one sentence naming the deciding field, its value and the consequence
	Warning string // for a Notifies result worth a note, such as TreatMissingData=ignore; "" otherwise
}

// Notifies reports whether one matching event reaches the alarm's actions.
func (r Result) Notifies() bool { return r.Outcome == Notifies }

// Simulate answers, for alarm a on the metric m of a metric filter: with no
// matching log events, is the alarm out of ALARM, and does one matching
// event in one period, with no other matching data, move it to ALARM? See
// the package documentation for the model and its sources.
func Simulate(a Alarm, m Metric) Result {
	if why := invalid(a, m); why != "" {
		return Result{Outcome: InvalidDefinition, Detail: why}
	}
	if anomalyOperators[a.ComparisonOperator] {
		return Result{Outcome: AnomalyBand, Detail: fmt.Sprintf("ComparisonOperator=%s compares with an anomaly-detection band, not Threshold, so one event cannot be judged against a fixed value", a.ComparisonOperator)}
	}
	stat, bad, why := parseStatistic(a)
	if bad != 0 {
		return Result{Outcome: bad, Detail: why}
	}
	if unit := metricUnit(m); a.Unit != "" && a.Unit != unit {
		return Result{Outcome: UnitMismatch, Detail: fmt.Sprintf("Unit=%s differs from the metric filter's unit %s, so the alarm finds no datapoints and stays in INSUFFICIENT_DATA", a.Unit, unit)}
	}
	j := newJudge(a, m, stat)
	if r, found := j.quietBreach(); found {
		return r
	}
	replays := j.replays()
	for _, rp := range replays {
		if rp.before != StateAlarm {
			continue
		}
		if j.treat == treatIgnore {
			return Result{Outcome: StuckInAlarm, Detail: "TreatMissingData=ignore with StateValue=ALARM keeps the alarm in ALARM through periods without datapoints; an event changes no state, so nothing is sent"}
		}
		return Result{Outcome: AlarmsWithoutEvents, Detail: fmt.Sprintf("TreatMissingData=%s counts a period without log events as breaching, so the alarm sits in ALARM with no events; an event changes no state, so nothing is sent", j.treat)}
	}
	if r, found := j.eventMiss(); found {
		return r
	}
	var warnings []string
	for _, rp := range replays {
		switch {
		case rp.tripAge == 0:
			return Result{Outcome: NeverTrips, Detail: j.neverTrips(rp.background)}
		case rp.after == StateAlarm && j.treat == treatIgnore:
			warnings = appendNew(warnings, "TreatMissingData=ignore: after the first event the alarm stays in ALARM through periods without datapoints, and later events send nothing until it returns to OK")
		case rp.tripAge > 1:
			warnings = appendNew(warnings, fmt.Sprintf("DatapointsToAlarm=%d with TreatMissingData=%s: one event reaches ALARM only through CloudWatch's premature-alarm rule, %d periods after the event", j.dta, j.treat, rp.tripAge))
		}
	}
	if stat.kind == statMeanLike {
		warnings = append(warnings, fmt.Sprintf("ExtendedStatistic=%s on one or two datapoints is not documented; it was judged as lying between their lowest and highest value", stat.name))
	}
	return Result{
		Outcome: Notifies,
		Detail:  fmt.Sprintf("%s %s %s breaches on one event and does not without events, so one event moves the alarm to ALARM and sends its AlarmActions", stat.name, operators[a.ComparisonOperator].symbol, formatValue(a.Threshold)),
		Warning: strings.Join(warnings, "; "),
	}
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// metricUnit is the unit the metric filter publishes in. CloudWatch Logs
// MetricTransformation: "The unit to assign to the metric. If you omit this,
// the unit is set as None."
func metricUnit(m Metric) string {
	if m.Unit == "" {
		return "None"
	}
	return m.Unit
}
