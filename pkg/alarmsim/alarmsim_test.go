package alarmsim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/alarmsim"
)

// cis is the alarm the CIS AWS Foundations Benchmark prescribes: Sum >= 1
// over 300 seconds, 1 of 1, missing data left at its default.
func cis() alarmsim.Alarm {
	return alarmsim.Alarm{Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
}

func ptr(v float64) *float64 { return &v }

type simCase struct {
	name   string
	alarm  func(a *alarmsim.Alarm)
	metric alarmsim.Metric
	want   alarmsim.Outcome
}

func runSimCases(t *testing.T, cases []simCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := cis()
			if tc.alarm != nil {
				tc.alarm(&a)
			}
			got := alarmsim.Simulate(a, tc.metric)
			if got.Outcome != tc.want {
				t.Errorf("Simulate(%+v, %+v) = %s (%s), want %s", a, tc.metric, got.Outcome, got.Detail, tc.want)
			}
			if got.Detail == "" {
				t.Errorf("Simulate(%+v, %+v) has no Detail", a, tc.metric)
			}
		})
	}
}

// TestSimulatePass lists definitions on which one event sends the alarm's
// actions.
func TestSimulatePass(t *testing.T) {
	one := alarmsim.Metric{Value: 1}
	runSimCases(t, []simCase{
		{"Sum >= 1", nil, one, alarmsim.Notifies},
		// "SampleCount is the number of data points during the period",
		// whatever their value.
		{"SampleCount >= 1 with value 0", func(a *alarmsim.Alarm) { a.Statistic = "SampleCount" }, alarmsim.Metric{Value: 0}, alarmsim.Notifies},
		{"Average >= 1", func(a *alarmsim.Alarm) { a.Statistic = "Average" }, one, alarmsim.Notifies},
		{"Sum > 0", func(a *alarmsim.Alarm) { a.ComparisonOperator, a.Threshold = "GreaterThanThreshold", 0 }, one, alarmsim.Notifies},
		{"Maximum >= 1", func(a *alarmsim.Alarm) { a.Statistic = "Maximum" }, one, alarmsim.Notifies},
		{"Minimum >= 1", func(a *alarmsim.Alarm) { a.Statistic = "Minimum" }, one, alarmsim.Notifies},
		{"p99 >= 1", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "p99" }, one, alarmsim.Notifies},
		{"p99.9 >= 1", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "p99.9" }, one, alarmsim.Notifies},
		{"tm99 >= 1", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "tm99" }, one, alarmsim.Notifies},
		{"TM(10%:90%) >= 1", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "TM(10%:90%)" }, one, alarmsim.Notifies},
		// Zeros do not change a Sum, nor a Maximum.
		{"Sum >= 1 with defaultValue 0", nil, alarmsim.Metric{Value: 1, Default: ptr(0)}, alarmsim.Notifies},
		{"Maximum >= 1 with defaultValue 0", func(a *alarmsim.Alarm) { a.Statistic = "Maximum" }, alarmsim.Metric{Value: 1, Default: ptr(0)}, alarmsim.Notifies},
		// The average of one 1 and any number of zeros stays above 0.
		{"Average > 0 with defaultValue 0", func(a *alarmsim.Alarm) {
			a.Statistic, a.ComparisonOperator, a.Threshold = "Average", "GreaterThanThreshold", 0
		}, alarmsim.Metric{Value: 1, Default: ptr(0)}, alarmsim.Notifies},
		// Quiet periods are OK (notBreaching); the event's 1 is below 2.
		{"Sum < 2 notBreaching", func(a *alarmsim.Alarm) {
			a.ComparisonOperator, a.Threshold, a.TreatMissingData = "LessThanThreshold", 2, "notBreaching"
		}, one, alarmsim.Notifies},
		{"1 of 3 notBreaching", func(a *alarmsim.Alarm) {
			a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData = 3, 1, "notBreaching"
		}, one, alarmsim.Notifies},
		{"1 of 3 notBreaching defaultValue 0", func(a *alarmsim.Alarm) {
			a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData = 3, 1, "notBreaching"
		}, alarmsim.Metric{Value: 1, Default: ptr(0)}, alarmsim.Notifies},
		// The premature-alarm rule: "- - X - -" goes to ALARM under missing.
		{"3 of 3 missing", func(a *alarmsim.Alarm) { a.EvaluationPeriods = 3 }, one, alarmsim.Notifies},
		{"2 of 3 missing", func(a *alarmsim.Alarm) { a.EvaluationPeriods, a.DatapointsToAlarm = 3, 2 }, one, alarmsim.Notifies},
		{"ignore from OK", func(a *alarmsim.Alarm) { a.TreatMissingData, a.StateValue = "ignore", "OK" }, one, alarmsim.Notifies},
		{"ignore from INSUFFICIENT_DATA", func(a *alarmsim.Alarm) { a.TreatMissingData, a.StateValue = "ignore", "INSUFFICIENT_DATA" }, one, alarmsim.Notifies},
		{"ignore state unknown", func(a *alarmsim.Alarm) { a.TreatMissingData = "ignore" }, one, alarmsim.Notifies},
		// Missing data returns it to INSUFFICIENT_DATA before the event.
		{"missing from ALARM", func(a *alarmsim.Alarm) { a.StateValue = "ALARM" }, one, alarmsim.Notifies},
		{"Unit None on a None metric", func(a *alarmsim.Alarm) { a.Unit = "None" }, one, alarmsim.Notifies},
		{"Unit Count on a Count metric", func(a *alarmsim.Alarm) { a.Unit = "Count" }, alarmsim.Metric{Value: 1, Unit: "Count"}, alarmsim.Notifies},
		{"p99 low samples evaluated", func(a *alarmsim.Alarm) {
			a.Statistic, a.ExtendedStatistic, a.EvaluateLowSampleCountPercentile = "", "p99", "evaluate"
		}, one, alarmsim.Notifies},
		{"high-resolution period", func(a *alarmsim.Alarm) { a.Period, a.EvaluationPeriods = 10, 8640 }, one, alarmsim.Notifies},
		{"period unknown", func(a *alarmsim.Alarm) { a.Period = 0 }, one, alarmsim.Notifies},
	})
}

// TestSimulateFail lists definitions on which one event sends nothing.
func TestSimulateFail(t *testing.T) {
	one := alarmsim.Metric{Value: 1}
	zero := alarmsim.Metric{Value: 1, Default: ptr(0)}
	runSimCases(t, []simCase{
		{"Sum >= 2", func(a *alarmsim.Alarm) { a.Threshold = 2 }, one, alarmsim.NeverTrips},
		{"Sum > 1 with value 1", func(a *alarmsim.Alarm) { a.ComparisonOperator = "GreaterThanThreshold" }, one, alarmsim.NeverTrips},
		{"breaching", func(a *alarmsim.Alarm) { a.TreatMissingData = "breaching" }, one, alarmsim.AlarmsWithoutEvents},
		{"breaching with defaultValue 0", func(a *alarmsim.Alarm) { a.TreatMissingData = "breaching" }, zero, alarmsim.AlarmsWithoutEvents},
		{"defaultValue 1", nil, alarmsim.Metric{Value: 1, Default: ptr(1)}, alarmsim.AlarmsWithoutEvents},
		// 0.001 reaches 1 after 1000 non-matching events; 1e-9 after more.
		{"defaultValue 0.001", nil, alarmsim.Metric{Value: 1, Default: ptr(0.001)}, alarmsim.AlarmsWithoutEvents},
		{"defaultValue 1e-9", nil, alarmsim.Metric{Value: 1, Default: ptr(1e-9)}, alarmsim.AlarmsWithoutEvents},
		{"negative defaultValue drags Sum down", nil, alarmsim.Metric{Value: 2, Default: ptr(-1e-9)}, alarmsim.NeverTrips},
		{"2 of 3 notBreaching", func(a *alarmsim.Alarm) {
			a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData = 3, 2, "notBreaching"
		}, one, alarmsim.NeverTrips},
		{"2 of 3 ignore", func(a *alarmsim.Alarm) { a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData = 3, 2, "ignore" }, one, alarmsim.NeverTrips},
		// With non-matching events the other periods hold real zeros.
		{"2 of 3 missing defaultValue 0", func(a *alarmsim.Alarm) { a.EvaluationPeriods, a.DatapointsToAlarm = 3, 2 }, zero, alarmsim.NeverTrips},
		{"Unit Count on a None metric", func(a *alarmsim.Alarm) { a.Unit = "Count" }, one, alarmsim.UnitMismatch},
		{"Unit Seconds on a Count metric", func(a *alarmsim.Alarm) { a.Unit = "Seconds" }, alarmsim.Metric{Value: 1, Unit: "Count"}, alarmsim.UnitMismatch},
		{"ignore in ALARM", func(a *alarmsim.Alarm) { a.TreatMissingData, a.StateValue = "ignore", "ALARM" }, one, alarmsim.StuckInAlarm},
		{"ignore in ALARM defaultValue 0", func(a *alarmsim.Alarm) { a.TreatMissingData, a.StateValue = "ignore", "ALARM" }, zero, alarmsim.StuckInAlarm},
		// A quiet period with non-matching events counts 1 or more datapoints.
		{"SampleCount >= 1 defaultValue 0", func(a *alarmsim.Alarm) { a.Statistic = "SampleCount" }, zero, alarmsim.AlarmsWithoutEvents},
		{"Average >= 1 defaultValue 0", func(a *alarmsim.Alarm) { a.Statistic = "Average" }, zero, alarmsim.NeverTrips},
		{"Average >= 0.5 defaultValue 0", func(a *alarmsim.Alarm) { a.Statistic, a.Threshold = "Average", 0.5 }, zero, alarmsim.NeverTrips},
		{"Minimum >= 1 defaultValue 0", func(a *alarmsim.Alarm) { a.Statistic = "Minimum" }, zero, alarmsim.NeverTrips},
		{"p99 >= 1 defaultValue 0", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "p99" }, zero, alarmsim.NeverTrips},
		{"tm99 >= 1 defaultValue 0", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "tm99" }, zero, alarmsim.NeverTrips},
		{"Sum < 2 defaultValue 0", func(a *alarmsim.Alarm) { a.ComparisonOperator, a.Threshold = "LessThanThreshold", 2 }, zero, alarmsim.AlarmsWithoutEvents},
		{"Sum <= 0 notBreaching", func(a *alarmsim.Alarm) {
			a.ComparisonOperator, a.Threshold, a.TreatMissingData = "LessThanOrEqualToThreshold", 0, "notBreaching"
		}, one, alarmsim.NeverTrips},
		// "fewer than 10/(1-percentile) data points": 1000 for p99.
		{"p99 low samples ignored", func(a *alarmsim.Alarm) {
			a.Statistic, a.ExtendedStatistic, a.EvaluateLowSampleCountPercentile = "", "p99", "ignore"
		}, one, alarmsim.NeverTrips},
		{"p10 low samples ignored", func(a *alarmsim.Alarm) {
			a.Statistic, a.ExtendedStatistic, a.EvaluateLowSampleCountPercentile = "", "p10", "ignore"
		}, one, alarmsim.NeverTrips},
		// Percentiles "are not available ... when any of the metric values are negative numbers".
		{"p50 of a negative value", func(a *alarmsim.Alarm) {
			a.Statistic, a.ExtendedStatistic, a.ComparisonOperator, a.Threshold = "", "p50", "LessThanThreshold", 0
		}, alarmsim.Metric{Value: -1}, alarmsim.NeverTrips},
		{"anomaly band", func(a *alarmsim.Alarm) {
			a.ComparisonOperator, a.Statistic = "LessThanLowerOrGreaterThanUpperThreshold", ""
		}, one, alarmsim.AnomalyBand},
		{"upper band", func(a *alarmsim.Alarm) { a.ComparisonOperator = "GreaterThanUpperThreshold" }, one, alarmsim.AnomalyBand},
		{"lower band", func(a *alarmsim.Alarm) { a.ComparisonOperator = "LessThanLowerThreshold" }, one, alarmsim.AnomalyBand},
		{"trimmed count", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "tc90" }, one, alarmsim.UnsupportedStatistic},
		{"absolute trimmed mean", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "TM(150:1000)" }, one, alarmsim.UnsupportedStatistic},
		{"percentile rank", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "PR(:300)" }, one, alarmsim.UnsupportedStatistic},
	})
}

// TestSimulateInvalid lists definitions PutMetricAlarm or PutMetricFilter
// would reject.
func TestSimulateInvalid(t *testing.T) {
	one := alarmsim.Metric{Value: 1}
	runSimCases(t, []simCase{
		{"EvaluationPeriods 0", func(a *alarmsim.Alarm) { a.EvaluationPeriods = 0 }, one, alarmsim.InvalidDefinition},
		{"DatapointsToAlarm above EvaluationPeriods", func(a *alarmsim.Alarm) { a.EvaluationPeriods, a.DatapointsToAlarm = 3, 4 }, one, alarmsim.InvalidDefinition},
		{"DatapointsToAlarm negative", func(a *alarmsim.Alarm) { a.DatapointsToAlarm = -1 }, one, alarmsim.InvalidDefinition},
		{"unknown Statistic", func(a *alarmsim.Alarm) { a.Statistic = "Median" }, one, alarmsim.InvalidDefinition},
		{"no statistic", func(a *alarmsim.Alarm) { a.Statistic = "" }, one, alarmsim.InvalidDefinition},
		{"both statistics", func(a *alarmsim.Alarm) { a.ExtendedStatistic = "p99" }, one, alarmsim.InvalidDefinition},
		{"p101", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "p101" }, one, alarmsim.InvalidDefinition},
		{"unknown operator", func(a *alarmsim.Alarm) { a.ComparisonOperator = "EqualToThreshold" }, one, alarmsim.InvalidDefinition},
		{"TreatMissingData misspelt", func(a *alarmsim.Alarm) { a.TreatMissingData = "Breaching" }, one, alarmsim.InvalidDefinition},
		{"StateValue unknown", func(a *alarmsim.Alarm) { a.StateValue = "PENDING" }, one, alarmsim.InvalidDefinition},
		{"Period 45", func(a *alarmsim.Alarm) { a.Period = 45 }, one, alarmsim.InvalidDefinition},
		{"longer than a day", func(a *alarmsim.Alarm) { a.EvaluationPeriods = 289 }, one, alarmsim.InvalidDefinition},
		{"NaN threshold", func(a *alarmsim.Alarm) { a.Threshold = math.NaN() }, one, alarmsim.InvalidDefinition},
		{"infinite metricValue", nil, alarmsim.Metric{Value: math.Inf(1)}, alarmsim.InvalidDefinition},
		{"NaN defaultValue", nil, alarmsim.Metric{Value: 1, Default: ptr(math.NaN())}, alarmsim.InvalidDefinition},
	})
}

// TestSimulateMOfN runs every M of N up to 5 under each TreatMissingData
// value, with and without defaultValue 0. The documented rules give, for one
// breaching period: missing trips whatever M is while the other periods are
// missing (the premature-alarm rule) but needs M = 1 once they hold real
// zeros; notBreaching and ignore need M = 1; breaching sits in ALARM.
func TestSimulateMOfN(t *testing.T) {
	for n := int32(1); n <= 5; n++ {
		for m := int32(1); m <= n; m++ {
			for _, treat := range []string{"", "missing", "ignore", "breaching", "notBreaching"} {
				for _, def := range []*float64{nil, ptr(0)} {
					want := alarmsim.NeverTrips
					switch {
					case treat == "breaching":
						want = alarmsim.AlarmsWithoutEvents
					case m == 1, (treat == "" || treat == "missing") && def == nil:
						want = alarmsim.Notifies
					}
					a := cis()
					a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData, a.StateValue = n, m, treat, "OK"
					got := alarmsim.Simulate(a, alarmsim.Metric{Value: 1, Default: def})
					if got.Outcome != want {
						t.Errorf("Simulate(%d of %d, TreatMissingData %q, defaultValue %v) = %s (%s), want %s", m, n, treat, deref(def), got.Outcome, got.Detail, want)
					}
				}
			}
		}
	}
}

func deref(p *float64) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

// TestSimulateWarnings checks that a Notifies result carries a warning where
// the docs' behaviour is worth a note, and none for the CIS alarm.
func TestSimulateWarnings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alarm func(a *alarmsim.Alarm)
		warn  bool
	}{
		{"CIS", nil, false},
		{"ignore", func(a *alarmsim.Alarm) { a.TreatMissingData = "ignore" }, true},
		{"3 of 3 missing", func(a *alarmsim.Alarm) { a.EvaluationPeriods = 3 }, true},
		{"tm99", func(a *alarmsim.Alarm) { a.Statistic, a.ExtendedStatistic = "", "tm99" }, true},
	} {
		a := cis()
		if tc.alarm != nil {
			tc.alarm(&a)
		}
		got := alarmsim.Simulate(a, alarmsim.Metric{Value: 1})
		if !got.Notifies() || (got.Warning != "") != tc.warn {
			t.Errorf("Simulate(%s) = %s with Warning %q, want Notifies with a warning: %t", tc.name, got.Outcome, got.Warning, tc.warn)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[alarmsim.Outcome]string{
		alarmsim.Notifies: "Notifies", alarmsim.NeverTrips: "NeverTrips", alarmsim.AlarmsWithoutEvents: "AlarmsWithoutEvents",
		alarmsim.StuckInAlarm: "StuckInAlarm", alarmsim.UnitMismatch: "UnitMismatch", alarmsim.AnomalyBand: "AnomalyBand",
		alarmsim.UnsupportedStatistic: "UnsupportedStatistic", alarmsim.InvalidDefinition: "InvalidDefinition", alarmsim.Outcome(0): "Outcome(0)",
	} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}
