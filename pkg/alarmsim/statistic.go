package alarmsim

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

// statKind is how a statistic is computed over one period's datapoints.
type statKind int

const (
	statSum statKind = iota + 1
	statSampleCount
	statAverage
	statMinimum
	statMaximum
	statPercentile
	statMeanLike // trimmed mean, winsorized mean, IQM: judged by bounds
)

// statistic is the alarm's Statistic or ExtendedStatistic, parsed.
type statistic struct {
	kind statKind
	name string  // as the alarm spells it
	q    float64 // percentile as a fraction in [0, 1]
}

var (
	percentileForm  = regexp.MustCompile(`^p(\d{1,3}(?:\.\d{1,10})?)$`)
	meanForm        = regexp.MustCompile(`^(?:tm|wm)(\d{1,3}(?:\.\d{1,10})?)$`)
	meanRangeForm   = regexp.MustCompile(`^(?:TM|WM)\((\d{1,3}(?:\.\d{1,10})?%)?:(\d{1,3}(?:\.\d{1,10})?%)?\)$`)
	unsupportedForm = regexp.MustCompile(`^(?:(?:tc|ts)\d{1,3}(?:\.\d{1,10})?|(?:TM|WM|TC|TS|PR)\(.*\))$`)
)

// parseStatistic reads the alarm's statistic. It returns a non-zero Outcome
// (InvalidDefinition or UnsupportedStatistic) and a reason when the alarm
// cannot be judged.
//
// PutMetricAlarm: "you must specify either Statistic or ExtendedStatistic but
// not both". The ExtendedStatistic forms are those of "CloudWatch statistics
// definitions": pNN.NN percentiles; tmNN, wmNN, TM(a%:b%), WM(a%:b%) and IQM
// means, judged by bounds (see statistic.of); trimmed counts and sums,
// percentile ranks and means with absolute bounds such as TM(150:1000), which
// can drop the event's datapoint altogether, are valid but not judged.
func parseStatistic(a Alarm) (statistic, Outcome, string) {
	switch {
	case a.Statistic != "" && a.ExtendedStatistic != "":
		return statistic{}, InvalidDefinition, fmt.Sprintf("Statistic=%s and ExtendedStatistic=%s are both set; PutMetricAlarm takes one or the other", a.Statistic, a.ExtendedStatistic)
	case a.Statistic != "":
		kinds := map[string]statKind{"Sum": statSum, "SampleCount": statSampleCount, "Average": statAverage, "Minimum": statMinimum, "Maximum": statMaximum}
		if k, ok := kinds[a.Statistic]; ok {
			return statistic{kind: k, name: a.Statistic}, 0, ""
		}
		return statistic{}, InvalidDefinition, fmt.Sprintf("Statistic=%q is not SampleCount, Average, Sum, Minimum or Maximum", a.Statistic)
	case a.ExtendedStatistic == "":
		return statistic{}, InvalidDefinition, "neither Statistic nor ExtendedStatistic is set"
	}
	x := a.ExtendedStatistic
	if g := percentileForm.FindStringSubmatch(x); g != nil {
		if p, err := strconv.ParseFloat(g[1], 64); err == nil && p <= 100 {
			return statistic{kind: statPercentile, name: x, q: p / 100}, 0, ""
		}
	}
	if g := meanForm.FindStringSubmatch(x); g != nil {
		if p, err := strconv.ParseFloat(g[1], 64); err == nil && p > 0 && p <= 100 {
			return statistic{kind: statMeanLike, name: x}, 0, ""
		}
	}
	if x == "IQM" || meanRangeForm.MatchString(x) {
		return statistic{kind: statMeanLike, name: x}, 0, ""
	}
	if unsupportedForm.MatchString(x) {
		return statistic{}, UnsupportedStatistic, fmt.Sprintf("ExtendedStatistic=%s is a trimmed count, trimmed sum, percentile rank or absolute-bound mean, which this simulation does not judge", x)
	}
	return statistic{}, InvalidDefinition, fmt.Sprintf("ExtendedStatistic=%q is not a statistic listed in CloudWatch statistics definitions", x)
}

// unbounded stands for "as many non-matching log events as you like" in
// period.n: the limit the statistic tends to as their number grows.
const unbounded = -1

// period is the datapoints one period of the metric holds: the matching
// event's value when event is set, plus n datapoints of the metric filter's
// defaultValue, one for each non-matching log event.
type period struct {
	event bool
	value float64
	n     int
	def   float64
}

// reading is a statistic over one period: a value known to lie in [lo, hi]
// (lo == hi for exact statistics), or no datapoint at all when ok is false.
type reading struct {
	lo, hi float64
	ok     bool
}

func exact(v float64) reading { return reading{lo: v, hi: v, ok: true} }

// of returns the statistic over p's datapoints, per "CloudWatch statistics
// definitions": "SampleCount is the number of data points during the
// period", "Sum is the sum of the values of the all data points", "Average
// is the value of Sum/SampleCount", Minimum and Maximum the lowest and
// highest values. A percentile uses the nearest rank (the ceil(q*count)-th
// smallest value), an approximation: CloudWatch does not document its
// interpolation. Percentiles and the mean forms are "not available for
// metrics when any of the metric values are negative numbers", so such a
// period has no datapoint. A trimmed or winsorized mean is only known to lie
// between the smallest and largest value (its behaviour on one or two
// datapoints is not documented), so the reading is that interval.
//
// For p.n == unbounded, of returns the limit as the number of non-matching
// events grows: Sum and SampleCount run off to infinity, Average tends to
// the default value (never reaching it; the value returned sits beside it on
// the event's side, so a threshold equal to it compares as the tail does),
// and a percentile below 100 becomes the default value.
func (s statistic) of(p period) reading {
	if p.n == 0 && !p.event {
		return reading{}
	}
	neg := (p.event && p.value < 0) || (p.n != 0 && p.def < 0)
	if neg && (s.kind == statPercentile || s.kind == statMeanLike) {
		return reading{}
	}
	lo, hi := p.def, p.def
	if p.event {
		lo, hi = p.value, p.value
		if p.n != 0 {
			lo, hi = min(p.value, p.def), max(p.value, p.def)
		}
	}
	ev := 0.0
	if p.event {
		ev = p.value
	}
	if p.n == unbounded {
		return s.limit(p, ev, lo, hi)
	}
	n := float64(p.n)
	count := n
	if p.event {
		count++
	}
	switch s.kind {
	case statSum:
		return exact(ev + n*p.def)
	case statSampleCount:
		return exact(count)
	case statAverage:
		return exact((ev + n*p.def) / count)
	case statMinimum:
		return exact(lo)
	case statMaximum:
		return exact(hi)
	case statPercentile:
		rank := max(math.Ceil(s.q*count), 1)
		// Sorted, the lower value comes first: lowCount copies of lo.
		lowCount := count
		if p.event && p.n != 0 && p.value != p.def {
			lowCount = n
			if p.value < p.def {
				lowCount = 1
			}
		}
		if rank <= lowCount {
			return exact(lo)
		}
		return exact(hi)
	default: // statMeanLike
		return reading{lo: lo, hi: hi, ok: true}
	}
}

func (s statistic) limit(p period, ev, lo, hi float64) reading {
	switch s.kind {
	case statSum:
		if p.def == 0 {
			return exact(ev)
		}
		return exact(math.Inf(int(math.Copysign(1, p.def))))
	case statSampleCount:
		return exact(math.Inf(1))
	case statAverage:
		if !p.event || p.value == p.def {
			return exact(p.def)
		}
		return exact(math.Nextafter(p.def, p.value))
	case statMinimum:
		return exact(lo)
	case statMaximum:
		return exact(hi)
	case statPercentile:
		switch {
		case s.q == 0:
			return exact(lo)
		case s.q == 1:
			return exact(hi)
		default:
			return exact(p.def)
		}
	default: // statMeanLike
		return reading{lo: lo, hi: hi, ok: true}
	}
}

// lowSample reports whether a percentile alarm with
// EvaluateLowSampleCountPercentile=ignore skips a period of count datapoints.
// "Percentile-based CloudWatch alarms and low data samples": "For percentiles
// between 0.5 (inclusive) and 1.00 (exclusive), this setting is used when
// there are fewer than 10/(1-percentile) data points during the evaluation
// period ... For percentiles between 0 and 0.5 (exclusive), the setting is
// used when there are fewer than 10/percentile data points."
func (s statistic) lowSample(count float64) bool {
	switch {
	case s.kind != statPercentile || s.q <= 0 || s.q >= 1:
		return false
	case s.q >= 0.5:
		return count < 10/(1-s.q)
	default:
		return count < 10/s.q
	}
}

// operators maps the static-threshold ComparisonOperator values to their
// symbol and comparison ("The specified statistic value is used as the first
// operand").
var operators = map[string]struct {
	symbol string
	holds  func(v, t float64) bool
}{
	"GreaterThanOrEqualToThreshold": {">=", func(v, t float64) bool { return v >= t }},
	"GreaterThanThreshold":          {">", func(v, t float64) bool { return v > t }},
	"LessThanThreshold":             {"<", func(v, t float64) bool { return v < t }},
	"LessThanOrEqualToThreshold":    {"<=", func(v, t float64) bool { return v <= t }},
}

// anomalyOperators are the ComparisonOperator values PutMetricAlarm keeps
// for alarms "based on anomaly detection models": they compare with a band,
// not with Threshold.
var anomalyOperators = map[string]bool{
	"LessThanLowerOrGreaterThanUpperThreshold": true,
	"LessThanLowerThreshold":                   true,
	"GreaterThanUpperThreshold":                true,
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
