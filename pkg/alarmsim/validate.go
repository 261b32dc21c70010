package alarmsim

import (
	"fmt"
	"math"
)

// maxEvaluationPeriods is the most evaluation periods any alarm can have:
// one day of the shortest (10-second) period. PutMetricAlarm, Period: "Valid
// values are 10, 20, 30, and any multiple of 60 ... Period multiplied by
// EvaluationPeriods can't be more than 604,800 seconds. For alarms with a
// period of less than one hour (3,600 seconds), the total evaluation period
// can't be longer than one day (86,400 seconds)."
const maxEvaluationPeriods = 86400 / 10

// invalid returns why PutMetricAlarm or PutMetricFilter would not accept a
// and m, or "" if they would. The statistic is checked by parseStatistic.
func invalid(a Alarm, m Metric) string {
	n := int64(a.EvaluationPeriods)
	switch {
	case n < 1:
		return fmt.Sprintf("EvaluationPeriods=%d is below the minimum of 1", n)
	case a.DatapointsToAlarm < 0 || int64(a.DatapointsToAlarm) > n:
		return fmt.Sprintf("DatapointsToAlarm=%d is not between 1 and EvaluationPeriods=%d", a.DatapointsToAlarm, n)
	case a.Period < 0 || (a.Period > 30 && a.Period%60 != 0) || (a.Period > 0 && a.Period%10 != 0):
		return fmt.Sprintf("Period=%d is not 10, 20, 30 or a multiple of 60", a.Period)
	case a.Period == 0 && n > maxEvaluationPeriods:
		return fmt.Sprintf("EvaluationPeriods=%d exceeds one day of 10-second periods", n)
	case a.Period > 0 && a.Period < 3600 && n*int64(a.Period) > 86400:
		return fmt.Sprintf("Period=%d times EvaluationPeriods=%d exceeds one day", a.Period, n)
	case a.Period >= 3600 && n*int64(a.Period) > 604800:
		return fmt.Sprintf("Period=%d times EvaluationPeriods=%d exceeds seven days", a.Period, n)
	}
	switch a.TreatMissingData {
	case "", treatMissing, treatIgnore, treatBreaching, treatNotBreaching:
	default:
		return fmt.Sprintf("TreatMissingData=%q is not missing, ignore, breaching or notBreaching", a.TreatMissingData)
	}
	switch State(a.StateValue) {
	case "", StateOK, StateAlarm, StateInsufficientData:
	default:
		return fmt.Sprintf("StateValue=%q is not OK, ALARM or INSUFFICIENT_DATA", a.StateValue)
	}
	switch a.EvaluateLowSampleCountPercentile {
	case "", "evaluate", "ignore":
	default:
		return fmt.Sprintf("EvaluateLowSampleCountPercentile=%q is not evaluate or ignore", a.EvaluateLowSampleCountPercentile)
	}
	_, static := operators[a.ComparisonOperator]
	switch {
	case !static && !anomalyOperators[a.ComparisonOperator]:
		return fmt.Sprintf("ComparisonOperator=%q is not an operator PutMetricAlarm accepts", a.ComparisonOperator)
	case static && !finite(a.Threshold):
		return fmt.Sprintf("Threshold=%v is not a finite number", a.Threshold)
	case !finite(m.Value):
		// MetricDatum (PutMetricData): "special values (for example, NaN, +Infinity,
		// -Infinity) are not supported".
		return fmt.Sprintf("the metric filter's metricValue %v is not a finite number", m.Value)
	case m.Default != nil && !finite(*m.Default):
		return fmt.Sprintf("the metric filter's defaultValue %v is not a finite number", *m.Default)
	}
	return ""
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
