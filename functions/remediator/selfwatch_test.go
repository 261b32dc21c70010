package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// fakeRules is the home Region's default event bus: rule -> enabled.
type fakeRules struct {
	rules   map[string]bool
	enabled []string
}

func (f *fakeRules) Enabled(_ context.Context, name string) (bool, error) {
	on, ok := f.rules[name]
	if !ok {
		return false, selfwatch.ErrNotFound
	}
	return on, nil
}

func (f *fakeRules) Enable(_ context.Context, name string) error {
	f.enabled = append(f.enabled, name)
	f.rules[name] = true
	return nil
}

func allRulesEnabled() map[string]bool {
	return map[string]bool{selfwatch.ScheduleRule: true, selfwatch.DriftRule: true, selfwatch.WatchRule: true}
}

// quietReport is a compliant account in which the run changed nothing:
// alone, not worth a message.
func quietReport() report.Report {
	r := healedReport()
	r.Actions = nil
	return r
}

// A run re-enables Watchkeeper's own rule that someone disabled (here the
// drift rule, which could not hear its own disabling: the nightly run finds
// it) and says so, even though every control passes.
func TestRunReEnablesOwnRuleAndSaysSo(t *testing.T) {
	f := newFixture(t, nil, quietReport(), nil)
	rules := &fakeRules{rules: allRulesEnabled()}
	rules.rules[selfwatch.DriftRule] = false
	f.h.rules = rules
	if _, err := f.h.Invoke(t.Context(), event(t, "scheduled.json")); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if len(rules.enabled) != 1 || rules.enabled[0] != selfwatch.DriftRule || !rules.rules[selfwatch.DriftRule] {
		t.Errorf("EnableRule calls = %v, want [%s]", rules.enabled, selfwatch.DriftRule)
	}
	if len(f.sns.published) != 1 || !strings.Contains(aws.ToString(f.sns.published[0].Message), selfwatch.DriftRule) {
		t.Fatalf("re-enabling an own rule was not published: %d publishes", len(f.sns.published))
	}
}

// A report-only deployment never re-enables a rule; it reports it.
func TestReportOnlyRunLeavesOwnRuleDisabled(t *testing.T) {
	f := newFixture(t, map[string]string{"WATCHKEEPER_MODE": "report"}, quietReport(), nil)
	rules := &fakeRules{rules: allRulesEnabled()}
	rules.rules[selfwatch.ScheduleRule] = false
	f.h.rules = rules
	if _, err := f.h.Invoke(t.Context(), event(t, "scheduled.json")); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if len(rules.enabled) != 0 {
		t.Errorf("report-only run enabled %v", rules.enabled)
	}
	if len(f.sns.published) != 1 || !strings.Contains(aws.ToString(f.sns.published[0].Message), selfwatch.ScheduleRule) {
		t.Errorf("a disabled own rule in a report-only deployment was not published")
	}
}

// A change to the function itself, which the function cannot undo, is
// published with what changed and who changed it, although the account is
// compliant.
func TestSelfChangeIsPublishedWithWhatAndWho(t *testing.T) {
	f := newFixture(t, nil, quietReport(), nil)
	f.h.rules = &fakeRules{rules: allRulesEnabled()}
	raw := []byte(strings.NewReplacer(
		`"source": "aws.kms"`, `"source": "aws.lambda"`,
		`"eventSource": "kms.amazonaws.com"`, `"eventSource": "lambda.amazonaws.com"`,
		`"eventName": "DisableKey"`, `"eventName": "UpdateFunctionConfiguration20150331v2"`,
		`"keyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"`, `"functionName": "Watchkeeper-Remediator", "memorySize": 128`,
	).Replace(string(event(t, "disable-key.json"))))
	tr, err := trigger.Decode(raw)
	if err != nil || !tr.SelfWatch() {
		t.Fatalf("fixture: %v, self-watch %v", err, tr.SelfWatch())
	}
	if _, err := f.h.Invoke(t.Context(), raw); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if len(f.sns.published) != 1 {
		t.Fatalf("%d publishes, want 1", len(f.sns.published))
	}
	msg := aws.ToString(f.sns.published[0].Message)
	for _, want := range []string{tr.Change, tr.Actor.ARN} {
		if !strings.Contains(msg, want) {
			t.Errorf("summary lacks %q:\n%s", want, msg)
		}
	}
}

// The heartbeat is written for a run that evaluated the account, and not
// for one that failed part-way (the dead man's switch counts only the
// former).
func TestHeartbeatFollowsRunSuccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		runErr error
		want   bool
	}{{"success", nil, true}, {"partial failure", errors.New("region eu-west-3: throttled"), false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, quietReport(), tc.runErr)
			_, _ = f.h.Invoke(t.Context(), event(t, "scheduled.json"))
			var doc map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(f.metrics.String())), &doc); err != nil {
				t.Fatalf("metrics: %v %q", err, f.metrics.String())
			}
			if _, got := doc["Heartbeat"]; got != tc.want {
				t.Errorf("heartbeat written = %v, want %v", got, tc.want)
			}
		})
	}
}

// The EventBridge adapter against moto: a disabled rule is re-enabled and
// reads back ENABLED; a rule that does not exist is reported missing (its
// ResourceNotFoundException classified by type).
func TestEventRulesOnMoto(t *testing.T) {
	srv := moto.Start(t)
	eb := eventbridge.NewFromConfig(srv.Config("eu-west-1"))
	ctx := t.Context()
	for _, name := range []string{selfwatch.ScheduleRule, selfwatch.DriftRule} {
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), ScheduleExpression: aws.String("rate(1 day)")}); err != nil {
			t.Fatalf("put rule %s: %v", name, err)
		}
	}
	if _, err := eb.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String(selfwatch.DriftRule)}); err != nil {
		t.Fatalf("disable rule: %v", err)
	}
	got := selfwatch.Check(ctx, eventRules{eb}, selfwatch.Rules(), true)
	want := []selfwatch.Status{selfwatch.Enabled, selfwatch.Restored, selfwatch.Missing}
	for i, r := range got {
		if r.Status != want[i] {
			t.Errorf("%s: status %s (%s), want %s", r.Name, r.Status, r.Error, want[i])
		}
	}
	out, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(selfwatch.DriftRule)})
	if err != nil || out.State != ebtypes.RuleStateEnabled {
		t.Errorf("drift rule after the check: %v %v, want ENABLED", out, err)
	}
}
