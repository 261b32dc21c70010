package alarmsim_test

import (
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/alarmsim"
)

// window parses a row of the CloudWatch User Guide's tables: "0" is a
// non-breaching datapoint, "X" a breaching one and "-" a missing one, the
// most recent on the right.
func window(t *testing.T, row string) []alarmsim.Datapoint {
	t.Helper()
	var w []alarmsim.Datapoint
	for _, f := range strings.Fields(row) {
		switch f {
		case "-":
			w = append(w, alarmsim.Missing)
		case "0":
			w = append(w, alarmsim.NotBreaching)
		case "X":
			w = append(w, alarmsim.Breaching)
		default:
			t.Fatalf("window(%q): unknown symbol %q", row, f)
		}
	}
	return w
}

// retain stands for the tables' "Retain current state".
const retain = alarmsim.State("retain")

// TestEvaluateMissingDataTables encodes the tables of "How alarm state is
// evaluated when data is missing" in the CloudWatch User Guide ("Configuring
// how CloudWatch alarms treat missing data"; source: awsdocs/amazon-cloudwatch-user-guide,
// doc_source/AlarmThatSendsEmail.md at b355497, unchanged since the revision
// of September 2020; the July and September 2019 revisions gave OK for
// "- - X - -" under MISSING instead). "CloudWatch retrieves the 5 most recent
// data points when evaluating the alarm ... 5 is the evaluation range for the
// alarm."
func TestEvaluateMissingDataTables(t *testing.T) {
	ok, alarm, insufficient := alarmsim.StateOK, alarmsim.StateAlarm, alarmsim.StateInsufficientData
	for _, tc := range []struct {
		name   string
		n, m   int
		row    string
		want   [4]alarmsim.State // MISSING, IGNORE, BREACHING, NOT BREACHING
		source string
	}{
		// First table: "Datapoints to Alarm and Evaluation Periods are both 3".
		{"3of3 row1", 3, 3, "0 - X - X", [4]alarmsim.State{ok, ok, ok, ok}, "table 1"},
		{"3of3 row2", 3, 3, "0 - - - -", [4]alarmsim.State{ok, ok, ok, ok}, "table 1"},
		{"3of3 row3", 3, 3, "- - - - -", [4]alarmsim.State{insufficient, retain, alarm, ok}, "table 1"},
		{"3of3 row4", 3, 3, "0 X X - X", [4]alarmsim.State{alarm, alarm, alarm, alarm}, "table 1"},
		{"3of3 row5", 3, 3, "- - X - -", [4]alarmsim.State{alarm, retain, alarm, ok}, "table 1"},
		// Second table: "Datapoints to Alarm is only 2 while Evaluation
		// Periods is 3. This is a 2 out of 3, M out of N alarm."
		{"2of3 row1", 3, 2, "0 - X - X", [4]alarmsim.State{alarm, alarm, alarm, alarm}, "table 2"},
		{"2of3 row2", 3, 2, "0 0 X 0 X", [4]alarmsim.State{alarm, alarm, alarm, alarm}, "table 2"},
		{"2of3 row3", 3, 2, "0 - X - -", [4]alarmsim.State{ok, ok, alarm, ok}, "table 2"},
		{"2of3 row4", 3, 2, "- - - - 0", [4]alarmsim.State{ok, ok, alarm, ok}, "table 2"},
		{"2of3 row5", 3, 2, "- - - X -", [4]alarmsim.State{alarm, retain, alarm, ok}, "table 2"},
		// "Avoiding premature transitions to alarm state": "the alarm does not
		// go immediately into ALARM state when the data is either - - - - X
		// or - - - X - and Datapoints to Alarm is 3". Only the MISSING column
		// is stated; the others follow the fill rules.
		{"premature 3of3 newest", 3, 3, "- - - - X", [4]alarmsim.State{insufficient, retain, alarm, ok}, "premature"},
		{"premature 3of3 second", 3, 3, "- - - X -", [4]alarmsim.State{insufficient, retain, alarm, ok}, "premature"},
		// The January 2019 revision (72266c7) also listed "X - - - -" (3 of 3)
		// as ALARM for MISSING: "the oldest evaluated data point is breaching
		// and there aren't any non-breaching data points".
		{"2019 oldest breaching", 3, 3, "X - - - -", [4]alarmsim.State{alarm, retain, alarm, ok}, "January 2019 table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, treat := range []string{"missing", "ignore", "breaching", "notBreaching"} {
				for _, current := range []alarmsim.State{ok, alarm, insufficient} {
					want := tc.want[i]
					if want == retain {
						want = current
					}
					got := alarmsim.Evaluate(window(t, tc.row), tc.n, tc.m, treat, current)
					if got != want {
						t.Errorf("Evaluate(%q, %d of %d, %s, current %s) = %s, want %s (%s)", tc.row, tc.m, tc.n, treat, current, got, want, tc.source)
					}
				}
			}
		})
	}
}

// TestEvaluateDefaults checks the documented defaults: TreatMissingData ""
// is missing ("If TreatMissingData is omitted, the default behavior of
// missing is used"), and DatapointsToAlarm 0 is EvaluationPeriods.
func TestEvaluateDefaults(t *testing.T) {
	for _, row := range []string{"0 - X - X", "- - - - -", "- - X - -", "- - - X -", "0 - X - -"} {
		w := window(t, row)
		if got, want := alarmsim.Evaluate(w, 3, 3, "", alarmsim.StateOK), alarmsim.Evaluate(w, 3, 3, "missing", alarmsim.StateOK); got != want {
			t.Errorf("Evaluate(%q, TreatMissingData \"\") = %s, want %s as for missing", row, got, want)
		}
		if got, want := alarmsim.Evaluate(w, 3, 0, "missing", alarmsim.StateOK), alarmsim.Evaluate(w, 3, 3, "missing", alarmsim.StateOK); got != want {
			t.Errorf("Evaluate(%q, DatapointsToAlarm 0) = %s, want %s as for 3", row, got, want)
		}
	}
}

func TestDatapointString(t *testing.T) {
	var b strings.Builder
	for _, d := range window(t, "0 - X") {
		b.WriteString(d.String())
	}
	if got, want := b.String(), "0-X"; got != want {
		t.Errorf("Datapoint symbols = %q, want %q", got, want)
	}
}
