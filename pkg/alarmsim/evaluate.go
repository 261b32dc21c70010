package alarmsim

// Datapoint is one period's datapoint as the alarm sees it: missing, or a
// value that is within or outside the threshold.
type Datapoint int8

// The three categories of "Configuring how CloudWatch alarms treat missing
// data": "Not breaching (within the threshold)", "Breaching (violating the
// threshold)" and "Missing".
const (
	Missing Datapoint = iota
	NotBreaching
	Breaching
)

// String returns the symbol the CloudWatch User Guide's tables use: "-" for
// a missing datapoint, "0" for a non-breaching one and "X" for a breaching
// one.
func (d Datapoint) String() string {
	switch d {
	case NotBreaching:
		return "0"
	case Breaching:
		return "X"
	default:
		return "-"
	}
}

// State is a metric alarm state, spelled as in the StateValue field of
// DescribeAlarms.
type State string

// The metric alarm states ("Metric alarm states" in "Alarm evaluation").
const (
	StateOK               State = "OK"
	StateAlarm            State = "ALARM"
	StateInsufficientData State = "INSUFFICIENT_DATA"
)

// The TreatMissingData values PutMetricAlarm accepts ("Valid Values:
// breaching | notBreaching | ignore | missing"); "" means missing.
const (
	treatMissing      = "missing"
	treatIgnore       = "ignore"
	treatBreaching    = "breaching"
	treatNotBreaching = "notBreaching"
)

// Evaluate returns the state a metric alarm moves to when CloudWatch
// evaluates it over window, given its current state. window is the
// evaluation range, oldest datapoint first and most recent last, as in the
// tables of the CloudWatch User Guide section "How alarm state is evaluated
// when data is missing".
//
// evaluationPeriods is N and datapointsToAlarm is M of an "M out of N"
// alarm; an evaluationPeriods below 1 counts as 1, and a datapointsToAlarm
// outside 1..N counts as N (0 is PutMetricAlarm's "unset"). treatMissingData
// is "missing", "ignore", "breaching" or "notBreaching"; "" and unknown
// values count as "missing", the documented default. Simulate validates its
// input before it calls Evaluate.
//
// The rules, in the guide's words:
//
//   - "If no data points in the evaluation range are missing, CloudWatch
//     evaluates the alarm based on the most recent data points collected",
//     and if the range holds at least N real datapoints "CloudWatch evaluates
//     the alarm state based on the most recent real data points"; "the value
//     you set for how to treat missing data is not needed and is ignored".
//   - Otherwise "CloudWatch fills in the missing data points with the result
//     you specified for how to treat missing data ... However, all real data
//     points in the evaluation range are included in the evaluation": each
//     fill counts as breaching for breaching and as within the threshold for
//     notBreaching.
//   - For missing: "If all data points in the alarm evaluation range are
//     missing, the alarm transitions to INSUFFICIENT_DATA". With some real
//     datapoints, M breaching ones give ALARM, a non-breaching one gives OK,
//     and only breaching ones, fewer than M, give INSUFFICIENT_DATA, unless
//     the rule of "Avoiding premature transitions to alarm state" applies:
//     "alarms are designed to always go into ALARM state when the oldest
//     available breaching datapoint ... is at least as old as the value of
//     Datapoints to Alarm, and all other more recent data points are
//     breaching or missing". Ages count over the whole evaluation range (the
//     M-out-of-N sentence says "during the evaluation range", and the January
//     2019 table gave ALARM for "X - - - -"). The tables show the rule does
//     not apply when a non-breaching datapoint is in range ("0 - X - -" with
//     2 of 3 is OK).
//   - For ignore: "The current alarm state is maintained" where missing would
//     give INSUFFICIENT_DATA or the premature rule; the tables show "Retain
//     current state" for "- - - - -", "- - X - -" (3 of 3) and "- - - X -"
//     (2 of 3).
func Evaluate(window []Datapoint, evaluationPeriods, datapointsToAlarm int, treatMissingData string, current State) State {
	n := max(evaluationPeriods, 1)
	m := datapointsToAlarm
	if m < 1 || m > n {
		m = n
	}
	real, bad := 0, 0
	for _, d := range window {
		if d != Missing {
			real++
		}
		if d == Breaching {
			bad++
		}
	}
	if real >= n {
		// The N most recent real datapoints; older ones are not needed.
		bad, seen := 0, 0
		for i := len(window) - 1; i >= 0 && seen < n; i-- {
			if window[i] == Missing {
				continue
			}
			seen++
			if window[i] == Breaching {
				bad++
			}
		}
		return verdict(bad >= m)
	}
	switch treatMissingData {
	case treatBreaching:
		return verdict(bad+n-real >= m)
	case treatNotBreaching:
		return verdict(bad >= m)
	}
	good := real - bad
	switch {
	case bad >= m:
		return StateAlarm
	case treatMissingData != treatIgnore && good == 0 && bad > 0 && oldestBreachingAge(window) >= m:
		return StateAlarm
	case good > 0:
		return StateOK
	case treatMissingData == treatIgnore:
		return current
	default:
		return StateInsufficientData
	}
}

func verdict(alarm bool) State {
	if alarm {
		return StateAlarm
	}
	return StateOK
}

// oldestBreachingAge returns how many periods old the oldest breaching
// datapoint in window is, counting the most recent datapoint as 1, or 0 when
// none breaches.
func oldestBreachingAge(window []Datapoint) int {
	for i, d := range window {
		if d == Breaching {
			return len(window) - i
		}
	}
	return 0
}

// evaluationRange is how many datapoints CloudWatch retrieves for an alarm
// with n evaluation periods. The guide says only that it retrieves "a higher
// number of data points than the number specified as Evaluation Periods" and
// gives 5 for 3 evaluation periods; n+2 matches that example. The verdict on
// one event does not depend on the choice as long as it exceeds n: the event
// ages through every position up to the range.
func evaluationRange(n int) int { return n + 2 }

// replay is the life of an alarm around one breaching period in a run of
// quiet periods, each of which holds quiet (Missing, or NotBreaching when
// non-matching log events publish a defaultValue).
type replay struct {
	before  State // the state the quiet periods hold the alarm in
	tripAge int   // periods after the event at which it enters ALARM; 0 if never
	after   State // the state once the event has left the evaluation range
}

// replayEvent evaluates the alarm as the breaching period ages through the
// evaluation range, starting from start after a long quiet run.
//
// Only ages 1, M, N, N+1 and the end of the range are evaluated. For a window
// of quiet datapoints and one breaching datapoint, Evaluate depends on the
// age only through "age >= M" (the premature-alarm rule) and "age <= N"
// (whether the event is among the N most recent real datapoints), so those
// ages start every stretch of equal verdicts, and evaluating one window twice
// gives the same state. A test compares this with evaluating every age.
func replayEvent(quiet Datapoint, n, m int, treatMissingData string, start State) replay {
	size := evaluationRange(n)
	window := make([]Datapoint, size)
	fill := func() {
		for i := range window {
			window[i] = quiet
		}
	}
	fill()
	r := replay{before: Evaluate(window, n, m, treatMissingData, start)}
	state := r.before
	last := 0
	for _, age := range []int{1, m, n, n + 1, size} {
		if age <= last || age > size {
			continue
		}
		last = age
		fill()
		window[size-age] = Breaching
		next := Evaluate(window, n, m, treatMissingData, state)
		if r.tripAge == 0 && next == StateAlarm && state != StateAlarm {
			r.tripAge = age
		}
		state = next
	}
	fill()
	r.after = Evaluate(window, n, m, treatMissingData, state)
	return r
}
