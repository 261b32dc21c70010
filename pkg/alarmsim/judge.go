package alarmsim

import (
	"fmt"
	"math"
)

// manyEvents is the "large number" of non-matching log events in one
// period; the unbounded case covers any larger number.
const manyEvents = 1000

// judge holds one valid alarm and metric with the defaults resolved.
type judge struct {
	alarm  Alarm
	metric Metric
	stat   statistic
	n, dta int    // EvaluationPeriods and DatapointsToAlarm
	treat  string // TreatMissingData
	holds  func(v, t float64) bool
	symbol string
}

func newJudge(a Alarm, m Metric, stat statistic) judge {
	j := judge{alarm: a, metric: m, stat: stat, n: int(a.EvaluationPeriods), dta: int(a.DatapointsToAlarm), treat: a.TreatMissingData}
	if j.dta == 0 {
		j.dta = j.n
	}
	if j.treat == "" {
		j.treat = treatMissing
	}
	op := operators[a.ComparisonOperator]
	j.holds, j.symbol = op.holds, op.symbol
	return j
}

func (j judge) anyBreach(r reading) bool {
	return r.ok && (j.holds(r.lo, j.alarm.Threshold) || j.holds(r.hi, j.alarm.Threshold))
}

func (j judge) allBreach(r reading) bool {
	return r.ok && j.holds(r.lo, j.alarm.Threshold) && j.holds(r.hi, j.alarm.Threshold)
}

// quietBreach looks for a period with non-matching log events only whose
// defaultValue datapoints breach: then the alarm sits in ALARM with no
// events. MetricTransformation defaultValue is "The value to emit when a
// filter pattern does not match a log event"; any number of such events may
// fall in one period.
func (j judge) quietBreach() (Result, bool) {
	if j.metric.Default == nil {
		return Result{}, false
	}
	for _, n := range []int{1, manyEvents, unbounded} {
		p := period{n: n, def: *j.metric.Default}
		if r := j.stat.of(p); j.anyBreach(r) {
			is := "which is"
			if r.lo != r.hi {
				is = "which can be"
			}
			return Result{Outcome: AlarmsWithoutEvents, Detail: fmt.Sprintf(
				"%s over %s is %s, %s %s %s, so the alarm sits in ALARM with no events; an event changes no state, so nothing is sent",
				j.stat.name, describePeriod(p), describeReading(r), is, j.symbol, formatValue(j.alarm.Threshold))}, true
		}
	}
	return Result{}, false
}

// eventMiss looks for an event period that does not breach: one matching
// event plus 0, 1, manyEvents or unboundedly many non-matching ones when the
// filter has a defaultValue.
func (j judge) eventMiss() (Result, bool) {
	counts := []int{0}
	def := 0.0
	if j.metric.Default != nil {
		counts = append(counts, 1, manyEvents, unbounded)
		def = *j.metric.Default
	}
	for _, n := range counts {
		p := period{event: true, value: j.metric.Value, n: n, def: def}
		r := j.stat.of(p)
		if !r.ok {
			return Result{Outcome: NeverTrips, Detail: fmt.Sprintf(
				"%s has no value over %s, because percentiles and trimmed means are not available when a value is negative, so one event never breaches",
				j.stat.name, describePeriod(p))}, true
		}
		if !j.allBreach(r) {
			not, so := "not", "so one event never breaches"
			if r.lo != r.hi {
				not = "not surely"
			}
			if n != 0 {
				so = "so one event does not breach when non-matching log events share its period"
			}
			return Result{Outcome: NeverTrips, Detail: fmt.Sprintf("%s over %s is %s, %s %s %s, %s",
				j.stat.name, describePeriod(p), describeReading(r), not, j.symbol, formatValue(j.alarm.Threshold), so)}, true
		}
		if n != unbounded && j.alarm.EvaluateLowSampleCountPercentile == "ignore" && j.stat.lowSample(float64(n+1)) {
			return Result{Outcome: NeverTrips, Detail: fmt.Sprintf(
				"EvaluateLowSampleCountPercentile=ignore skips %s for %s as too few datapoints, so one event leaves the state unchanged",
				describePeriod(p), j.stat.name)}, true
		}
	}
	return Result{}, false
}

// scenario is the alarm's life around one event, with the other periods
// filled by background.
type scenario struct {
	background Datapoint // Missing: no log events; NotBreaching: non-matching events publishing defaultValue
	replay
}

// replays runs the event through the evaluation range twice when the filter
// has a defaultValue: once with no log events in the other periods, and once
// with non-matching events publishing defaultValue datapoints.
func (j judge) replays() []scenario {
	start := State(j.alarm.StateValue)
	if start == "" {
		start = StateInsufficientData
	}
	backgrounds := []Datapoint{Missing}
	if j.metric.Default != nil && j.stat.of(period{n: 1, def: *j.metric.Default}).ok {
		backgrounds = append(backgrounds, NotBreaching)
	}
	var out []scenario
	for _, bg := range backgrounds {
		out = append(out, scenario{background: bg, replay: replayEvent(bg, j.n, j.dta, j.treat, start)})
	}
	return out
}

// neverTrips explains why the one breaching period never brings the alarm to
// ALARM with the given background.
func (j judge) neverTrips(bg Datapoint) string {
	switch {
	case bg == NotBreaching:
		return fmt.Sprintf("DatapointsToAlarm=%d of EvaluationPeriods=%d: non-matching log events publish defaultValue=%s in the other periods, so one breaching period never makes %d breaching datapoints",
			j.dta, j.n, formatValue(*j.metric.Default), j.dta)
	case j.treat == treatIgnore:
		return fmt.Sprintf("DatapointsToAlarm=%d with TreatMissingData=ignore: one breaching datapoint among missing ones keeps the current state, so the alarm never enters ALARM", j.dta)
	case j.treat == treatNotBreaching:
		return fmt.Sprintf("DatapointsToAlarm=%d of EvaluationPeriods=%d with TreatMissingData=notBreaching: periods without data count as within the threshold, so one breaching period never makes %d breaching datapoints",
			j.dta, j.n, j.dta)
	default:
		return fmt.Sprintf("DatapointsToAlarm=%d of EvaluationPeriods=%d with TreatMissingData=%s: one breaching period never brings the alarm to ALARM", j.dta, j.n, j.treat)
	}
}

func describePeriod(p period) string {
	var others string
	switch p.n {
	case 0:
	case 1:
		others = fmt.Sprintf("1 non-matching log event (defaultValue %s)", formatValue(p.def))
	case unbounded:
		others = fmt.Sprintf("ever more non-matching log events (defaultValue %s)", formatValue(p.def))
	default:
		others = fmt.Sprintf("%d non-matching log events (defaultValue %s)", p.n, formatValue(p.def))
	}
	switch {
	case !p.event:
		return "a period of " + others
	case others == "":
		return fmt.Sprintf("a period of one matching event (value %s)", formatValue(p.value))
	default:
		return fmt.Sprintf("a period of one matching event (value %s) and %s", formatValue(p.value), others)
	}
}

func describeReading(r reading) string {
	if r.lo == r.hi {
		return describeValue(r.lo)
	}
	return fmt.Sprintf("somewhere between %s and %s", describeValue(r.lo), describeValue(r.hi))
}

func describeValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "arbitrarily large"
	case math.IsInf(v, -1):
		return "arbitrarily low"
	default:
		return formatValue(v)
	}
}
