package alarmsim_test

import (
	"fmt"

	"github.com/watchkeeper/watchkeeper/pkg/alarmsim"
)

func ExampleSimulate() {
	alarm := alarmsim.Alarm{
		Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 1,
		ComparisonOperator: "GreaterThanOrEqualToThreshold",
	}
	fmt.Println(alarmsim.Simulate(alarm, alarmsim.Metric{Value: 1}).Outcome)

	zero := 0.0
	alarm.Statistic = "SampleCount"
	r := alarmsim.Simulate(alarm, alarmsim.Metric{Value: 1, Default: &zero})
	fmt.Println(r.Outcome)
	fmt.Println(r.Detail)
	// Output:
	// Notifies
	// AlarmsWithoutEvents
	// SampleCount over a period of 1 non-matching log event (defaultValue 0) is 1, which is >= 1, so the alarm sits in ALARM with no events; an event changes no state, so nothing is sent
}

func ExampleEvaluate() {
	// The last row of the guide's 3-of-3 table: one breaching datapoint,
	// three periods old, with nothing since.
	window := []alarmsim.Datapoint{alarmsim.Missing, alarmsim.Missing, alarmsim.Breaching, alarmsim.Missing, alarmsim.Missing}
	for _, treat := range []string{"missing", "ignore", "breaching", "notBreaching"} {
		fmt.Println(treat, alarmsim.Evaluate(window, 3, 3, treat, alarmsim.StateOK))
	}
	// Output:
	// missing ALARM
	// ignore OK
	// breaching ALARM
	// notBreaching OK
}
