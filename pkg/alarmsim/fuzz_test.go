package alarmsim_test

import (
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/alarmsim"
)

// FuzzSimulate checks that Simulate never panics, always gives a verdict
// with a Detail, that Notifies agrees with Outcome, and that it is
// deterministic.
func FuzzSimulate(f *testing.F) {
	f.Add("Sum", "", int32(300), int32(1), int32(0), 1.0, "GreaterThanOrEqualToThreshold", "", "", "", "", 1.0, false, 0.0, "")
	f.Add("", "p99", int32(60), int32(3), int32(2), 1.0, "GreaterThanThreshold", "missing", "Count", "ALARM", "ignore", 1.0, true, 0.0, "Count")
	f.Add("Average", "", int32(10), int32(8640), int32(8640), 0.5, "LessThanThreshold", "ignore", "", "OK", "", 0.0, true, 1e-9, "")
	f.Add("", "TM(10%:90%)", int32(3600), int32(168), int32(1), -1.0, "LessThanOrEqualToThreshold", "notBreaching", "None", "INSUFFICIENT_DATA", "evaluate", -2.0, true, -3.0, "")
	f.Add("SampleCount", "", int32(0), int32(5), int32(3), 0.0, "LessThanLowerOrGreaterThanUpperThreshold", "breaching", "", "", "", 0.0, false, 0.0, "")
	f.Fuzz(func(t *testing.T, stat, ext string, period, evals, dta int32, threshold float64, op, treat, unit, state, low string, value float64, hasDefault bool, def float64, metricUnit string) {
		a := alarmsim.Alarm{
			Statistic: stat, ExtendedStatistic: ext, Period: period, EvaluationPeriods: evals, DatapointsToAlarm: dta,
			Threshold: threshold, ComparisonOperator: op, TreatMissingData: treat, Unit: unit, StateValue: state,
			EvaluateLowSampleCountPercentile: low,
		}
		m := alarmsim.Metric{Value: value, Unit: metricUnit}
		if hasDefault {
			m.Default = &def
		}
		got := alarmsim.Simulate(a, m)
		if got.Notifies() != (got.Outcome == alarmsim.Notifies) {
			t.Errorf("Simulate(%+v, %+v): Notifies() = %t with Outcome %s", a, m, got.Notifies(), got.Outcome)
		}
		if got.Outcome < alarmsim.Notifies || got.Outcome > alarmsim.InvalidDefinition || got.Detail == "" {
			t.Errorf("Simulate(%+v, %+v) = %+v, want a verdict with a Detail", a, m, got)
		}
		if got.Warning != "" && !got.Notifies() {
			t.Errorf("Simulate(%+v, %+v) = %+v: a Warning on a result that does not notify", a, m, got)
		}
		if again := alarmsim.Simulate(a, m); again != got {
			t.Errorf("Simulate(%+v, %+v) = %+v, then %+v", a, m, got, again)
		}
	})
}
