package policy_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

const (
	account  = "111122223333"
	other    = "444455556666"
	topicARN = "arn:aws:sns:us-east-1:111122223333:alarms"
	alarmARN = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:root-usage"
)

// want is what a test expects of a Decision. uncertain lists, in order, a
// word each Uncertain entry must contain (the condition key or element it
// is about); the rest of the wording is not asserted.
type want struct {
	allowed, denied bool
	allow, deny     []string
	uncertain       []string
}

func check(t *testing.T, got policy.Decision, w want) {
	t.Helper()
	if got.Allowed != w.allowed || got.Denied != w.denied {
		t.Errorf("Allowed, Denied = %v, %v; want %v, %v", got.Allowed, got.Denied, w.allowed, w.denied)
	}
	if diff := cmp.Diff(w.deny, got.DenyStatements, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("DenyStatements (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(w.allow, got.AllowStatements, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("AllowStatements (-want +got):\n%s", diff)
	}
	if len(got.Uncertain) != len(w.uncertain) {
		t.Fatalf("Uncertain = %q; want %d entries naming %q", got.Uncertain, len(w.uncertain), w.uncertain)
	}
	for i, word := range w.uncertain {
		if !strings.Contains(strings.ToLower(got.Uncertain[i]), strings.ToLower(word)) {
			t.Errorf("Uncertain[%d] = %q; want it to name %q", i, got.Uncertain[i], word)
		}
	}
	checkInvariants(t, got)
}

// checkInvariants holds for every Decision, including fuzzed ones.
func checkInvariants(t *testing.T, d policy.Decision) {
	t.Helper()
	if d.Allowed && d.Denied {
		t.Errorf("Allowed and Denied are both true: %+v", d)
	}
	if d.Denied != (len(d.DenyStatements) > 0) {
		t.Errorf("Denied = %v with DenyStatements %q", d.Denied, d.DenyStatements)
	}
	if d.Allowed && len(d.AllowStatements) == 0 {
		t.Errorf("Allowed without AllowStatements: %+v", d)
	}
}

// topicPolicy wraps statements (a JSON list body) into a topic policy
// document with the given Version ("" for none).
func topicPolicy(version, statements string) string {
	v := ""
	if version != "" {
		v = `"Version":"` + version + `",`
	}
	return `{` + v + `"Statement":[` + statements + `]}`
}
