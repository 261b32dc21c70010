package trigger_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

func TestAutomatedCallers(t *testing.T) {
	for _, tc := range []struct {
		file      string
		replace   []string
		automated bool
	}{
		{"autoscaling-put-metric-alarm.json", nil, true},
		{"service-linked-role-delete-alarms.json", nil, true},
		// Auto scaling with a customer role: recognised by invokedBy alone.
		{"autoscaling-put-metric-alarm.json", []string{"role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/", "role/"}, true},
		{"put-metric-alarm.json", nil, false},       // an IAM user
		{"delete-metric-filter.json", nil, false},   // an SSO role session
		{"unsubscribe.json", nil, false},            // whatever the fixture's caller
		{"self-put-metric-filter.json", nil, false}, // the own role: CausedBy's job
		// A role named like a service-linked one, without its path.
		{"service-linked-role-delete-alarms.json", []string{"role/aws-service-role/compute-optimizer.amazonaws.com/", "role/"}, false},
		// A service-linked role of another account.
		{"service-linked-role-delete-alarms.json", []string{"iam::123456789012:role", "iam::210987654321:role"}, false},
	} {
		t.Run(tc.file+strings.Join(tc.replace, ">"), func(t *testing.T) {
			raw := strings.NewReplacer(tc.replace...).Replace(string(load(t, tc.file)))
			tr, err := trigger.Decode([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.Automated() != ""; got != tc.automated {
				t.Errorf("Automated() = %q, want automated %v", tr.Automated(), tc.automated)
			}
		})
	}
}

func TestAutomatedOnlyForDrift(t *testing.T) {
	for _, tr := range []trigger.Trigger{
		{Kind: trigger.Scheduled, Actor: trigger.Actor{InvokedBy: "autoscaling.amazonaws.com"}},
		{Kind: trigger.Direct, Mode: trigger.ModeReport},
	} {
		if why := tr.Automated(); why != "" {
			t.Errorf("%s: Automated() = %q", tr.Kind, why)
		}
	}
}

// The pattern and Automated name the same callers: the pattern's
// exclusions are built from the values Automated checks.
func TestPatternExcludesWhatAutomatedSkips(t *testing.T) {
	p := trigger.Pattern("aws", "123456789012", "arn:aws:sts::123456789012:assumed-role/watchkeeper-remediator/")
	doc := string(p.JSON())
	for _, want := range append(trigger.AutoScalingInvokers(), trigger.ServiceLinkedRoleIssuerPrefix("aws", "123456789012"),
		"arn:aws:sts::123456789012:assumed-role/watchkeeper-remediator/") {
		if !strings.Contains(doc, `"`+want+`"`) {
			t.Errorf("pattern lacks %q: %s", want, doc)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(p.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range trigger.Handled() {
		if c.Scope == trigger.AnyResource {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	got := back["detail"].(map[string]any)["eventName"].([]any)
	if len(got) != len(names) {
		t.Errorf("pattern names %d calls, Handled %d", len(got), len(names))
	}
}
