package notify_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

var update = flag.Bool("update", false, "rewrite golden files")

func drift(t *testing.T) trigger.Trigger {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "trigger", "testdata", "events", "delete-metric-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trigger.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func pass(id, title string) plan.ControlResult {
	return plan.ControlResult{ID: id, Title: title, Status: plan.StatusPass, Reasons: []string{}}
}

const topic = "arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms"

func healed(t *testing.T) notify.Run {
	return notify.Run{
		Trigger:       drift(t),
		Duration:      2345 * time.Millisecond,
		Subscriptions: []plan.Endpoint{{Protocol: "email", Endpoint: "sec@example.com"}, {Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:q"}},
		Report: report.Report{
			Account: "123456789012", Benchmark: "cis-aws-v3.0.0", HomeRegion: "us-east-1", Mode: "apply", Compliant: true,
			Controls: []plan.ControlResult{pass("4.3", "Ensure usage of the 'root' account is monitored"), pass("4.4", "Ensure IAM policy changes are monitored"),
				{ID: "4.16", Title: "Ensure AWS Security Hub is enabled", Status: plan.StatusExcluded, Reasons: []string{"excluded by configuration"}}},
			Regions: []plan.RegionResult{{Region: "us-east-1", Status: plan.StatusPass}},
			Actions: []report.Action{
				{Action: "PutMetricFilter", Region: "us-east-1", Target: "aws-cloudtrail-logs-123456789012/watchkeeper-root-account-usage",
					Controls: []string{"4.3"}, Status: "applied", Reason: "no metric filter on aws-cloudtrail-logs-123456789012 matches root account usage"},
				{Action: "Subscribe", Region: "us-east-1", Target: topic, Controls: []string{"4.3", "4.4"}, Status: "applied",
					Reason: "topic has no confirmed subscriber email:sec@example.com", Detail: "email:sec@example.com",
					Endpoint: &plan.Endpoint{Protocol: "email", Endpoint: "sec@example.com"}},
			},
		},
	}
}

func notCompliant() notify.Run {
	return notify.Run{
		Trigger:  trigger.Trigger{Kind: trigger.Direct, Mode: trigger.ModeReport},
		Duration: 812 * time.Millisecond,
		Report: report.Report{
			Account: "123456789012", Benchmark: "cis-aws-v3.0.0", HomeRegion: "us-east-1", Mode: "report",
			Controls: []plan.ControlResult{pass("4.3", "Ensure usage of the 'root' account is monitored"),
				{ID: "4.4", Title: "Ensure IAM policy changes are monitored", Status: plan.StatusFail, Reasons: []string{"no alarm on metric IAMPolicyChanges"}, Codes: []string{plan.CodeAlarmsNotPresent}}},
			Regions: []plan.RegionResult{{Region: "us-east-1", Status: plan.StatusPass}, {Region: "eu-west-3", Status: plan.StatusError, Reasons: []string{"AccessDenied: explicit deny in an SCP"}}},
			Actions: []report.Action{{Action: "PutMetricAlarm", Region: "us-east-1", Target: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:watchkeeper-iam-policy-changes",
				Controls: []string{"4.4"}, Status: "planned", Reason: "no alarm on metric IAMPolicyChanges"}},
			Warnings: []string{"4.15: the benchmark's literal pattern matches almost every event"},
		},
	}
}

func deadline(t *testing.T) notify.Run {
	r := healed(t)
	r.Trigger = trigger.Trigger{Kind: trigger.Scheduled}
	r.Report.Compliant = false
	r.Report.Controls[1] = plan.ControlResult{ID: "4.4", Title: "Ensure IAM policy changes are monitored", Status: plan.StatusFail, Reasons: []string{"no alarm"}}
	r.Report.Actions = append(r.Report.Actions,
		report.Action{Action: "PutMetricAlarm", Region: "us-east-1", Target: "watchkeeper-iam-policy-changes", Controls: []string{"4.4"}, Status: "skipped", Reason: "no alarm"},
		report.Action{Action: "PutMetricAlarm", Region: "us-east-1", Target: "watchkeeper-x\nInjected: line", Controls: []string{"4.5"}, Status: "failed", Reason: "no alarm",
			Error: "operation error CloudWatch: PutMetricAlarm, https response error StatusCode: 400, LimitExceeded", ErrorClass: "other"})
	return r
}

// hostile is a run whose untrusted text (resource names, errors, the actor,
// the trigger's resources) tries to forge lines, reorder text with bidi
// overrides, hide text with zero-width characters, and flood the message.
func hostile(t *testing.T) notify.Run {
	r := deadline(t)
	r.Trigger = drift(t)
	r.Trigger.Resources = []string{"filter evil\u0085Caused by:  root", "log group \u202Egnp.exe\u202C"}
	r.Trigger.Actor.ARN = "arn:aws:iam::123456789012:user/mal\u2028Caused by: nobody"
	r.Report.Actions = append(r.Report.Actions,
		report.Action{Action: "PutMetricFilter", Region: "us-east-1", Target: "ct/\u202Etxt.exe\u200B\u2029Injected: para\u0085Injected: nel\u009bInjected: csi",
			Controls: []string{"4.6"}, Status: "failed", Reason: "no filter\rInjected: cr", Error: strings.Repeat("A", 5000),
			Retryable: true, ErrorClass: "throttled"})
	long := "4.1: the benchmark's literal pattern ORs two exclusions with the error-code terms, so it matches almost every CloudTrail event and the alarm would fire continuously; Watchkeeper writes the grouped form instead"
	r.Report.Warnings = []string{long, long, "4.15: short note\u0085Injected: note"}
	return r
}

func TestMessageGolden(t *testing.T) {
	for name, run := range map[string]notify.Run{"healed": healed(t), "not-compliant": notCompliant(), "deadline": deadline(t), "hostile": hostile(t)} {
		t.Run(name, func(t *testing.T) {
			got := "Subject: " + notify.Subject(run) + "\n\n" + notify.Message(run)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/notify -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMessageContent(t *testing.T) {
	msg := notify.Message(healed(t))
	for _, want := range []string{
		"Caused by:  arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com (AssumedRole)",
		"confirm the subscription sent to sec@example.com",
		"PutMetricFilter aws-cloudtrail-logs-123456789012/watchkeeper-root-account-usage in us-east-1 (controls 4.3)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "arn:aws:sqs") {
		t.Error("message asks to confirm an SQS subscription, which needs no confirmation")
	}
	// Untrusted text never forges a line of its own.
	for _, l := range strings.Split(notify.Message(deadline(t)), "\n") {
		if strings.HasPrefix(l, "Injected:") {
			t.Errorf("a newline in a resource name forged a line: %q", l)
		}
	}
}

// No untrusted rune that renders as a line break, reorders text or hides
// text reaches the message, every line is bounded, and notes appear once,
// shortened.
func TestMessageNeutralisesHostileText(t *testing.T) {
	msg := notify.Message(hostile(t))
	for i, r := range msg {
		if r != '\n' && (unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf)) {
			t.Errorf("message holds %U at byte %d", r, i)
		}
	}
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Injected:") || strings.HasPrefix(l, "Caused by:  root") || strings.HasPrefix(l, "Caused by: nobody") {
			t.Errorf("untrusted text forged a line: %q", l)
		}
		if len(l) > 1100 {
			t.Errorf("line of %d bytes: %.80q...", len(l), l)
		}
	}
	if strings.Contains(msg, strings.Repeat("A", 400)) {
		t.Error("a 5000-byte error reached the message uncapped")
	}
	if n := strings.Count(msg, "the benchmark's literal pattern ORs"); n != 1 {
		t.Errorf("a repeated warning appears %d times in the notes, want once", n)
	}
	if strings.Contains(msg, "fire continuously") {
		t.Error("a long warning was not shortened to one short line")
	}
}

func TestCountAndShouldPublish(t *testing.T) {
	quiet := notify.Run{Report: report.Report{Compliant: true, Controls: []plan.ControlResult{pass("4.1", "x")}}}
	for _, tc := range []struct {
		name    string
		run     notify.Run
		counts  notify.Counts
		publish bool
	}{
		{"healed", healed(t), notify.Counts{ControlsPassing: 2, ActionsApplied: 2}, true},
		{"report-only failing", notCompliant(), notify.Counts{ControlsPassing: 1, ControlsFailing: 1, ActionsPlanned: 1}, true},
		{"deadline", deadline(t), notify.Counts{ControlsPassing: 1, ControlsFailing: 1, ActionsApplied: 2, ActionsSkipped: 1, ActionsFailed: 1}, true},
		{"compliant, nothing done", quiet, notify.Counts{ControlsPassing: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.counts, notify.Count(tc.run.Report)); diff != "" {
				t.Errorf("Count (-want +got):\n%s", diff)
			}
			if got := notify.ShouldPublish(tc.run.Report); got != tc.publish {
				t.Errorf("ShouldPublish = %v, want %v", got, tc.publish)
			}
		})
	}
}

func TestSubjectIsValidForSNS(t *testing.T) {
	run := healed(t)
	run.Report.Account = strings.Repeat("é\n", 80)
	s := notify.Subject(run)
	if len(s) >= 100 {
		t.Errorf("subject is %d bytes; SNS allows fewer than 100", len(s))
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("subject has non-printable-ASCII %q", r)
		}
	}
}

func TestEMF(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 1, 0, time.UTC)
	line := notify.EMF(deadline(t), now)
	if strings.Contains(string(line), "\n") {
		t.Fatal("EMF document spans lines; CloudWatch Logs needs one JSON object per event")
	}
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatal(err)
	}
	meta := doc["_aws"].(map[string]any)
	if ts := meta["Timestamp"].(float64); int64(ts) != now.UnixMilli() {
		t.Errorf("Timestamp = %v", ts)
	}
	// Spec: every metric named in a directive is a numeric root member and
	// every dimension a string root member.
	got := map[string]float64{}
	for _, d := range meta["CloudWatchMetrics"].([]any) {
		dir := d.(map[string]any)
		if dir["Namespace"] != notify.MetricNamespace {
			t.Errorf("Namespace = %v", dir["Namespace"])
		}
		for _, set := range dir["Dimensions"].([]any) {
			for _, name := range set.([]any) {
				if _, ok := doc[name.(string)].(string); !ok {
					t.Errorf("dimension %v is not a string root member", name)
				}
			}
		}
		for _, m := range dir["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			v, ok := doc[name].(float64)
			if !ok {
				t.Errorf("metric %s is not a numeric root member", name)
			}
			got[name] = v
		}
	}
	want := map[string]float64{"ControlsPassing": 1, "ControlsFailing": 1, "ActionsApplied": 2, "ActionsFailed": 1, "ActionsSkipped": 1, "Compliant": 0, "RunDuration": 2345}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if doc["Trigger"] != "scheduled" || doc["Benchmark"] != "cis-aws-v3.0.0" {
		t.Errorf("dimensions: %v %v", doc["Trigger"], doc["Benchmark"])
	}
}

func TestTopicARN(t *testing.T) {
	base := report.Report{Account: "123456789012", HomeRegion: "us-east-1"}
	gov := report.Report{Account: "123456789012", HomeRegion: "us-gov-west-1"}
	planned := base
	planned.TopicARN = "arn:aws:sns:eu-west-1:123456789012:wk-topic"
	for _, tc := range []struct {
		name        string
		r           report.Report
		arn, region string
	}{
		{"home region", base, "arn:aws:sns:us-east-1:123456789012:wk-topic", "us-east-1"},
		{"home region's partition", gov, "arn:aws-us-gov:sns:us-gov-west-1:123456789012:wk-topic", "us-gov-west-1"},
		{"the plan's topic", planned, "arn:aws:sns:eu-west-1:123456789012:wk-topic", "eu-west-1"},
		{"no account", report.Report{HomeRegion: "us-east-1"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arn, region := notify.TopicARN(tc.r, "wk-topic")
			if arn != tc.arn || region != tc.region {
				t.Errorf("TopicARN = %q, %q; want %q, %q", arn, region, tc.arn, tc.region)
			}
		})
	}
}

// A Region covered by the organization's trail (CENTRAL) is watched by the
// trail's owner: the member's summary asks no one to act on it, while a
// Region in ERROR still does.
func TestCentralRegionNeedsNoPerson(t *testing.T) {
	run := healed(t)
	run.Report.Regions = []plan.RegionResult{
		{Region: "eu-west-1", Status: plan.StatusCentral, Reasons: []string{"covered by the organization trail"}},
		{Region: "eu-west-2", Status: plan.StatusError, Reasons: []string{"AccessDenied"}},
	}
	msg := notify.Message(run)
	if strings.Contains(msg, "region eu-west-1") {
		t.Errorf("summary asks a person about the CENTRAL region:\n%s", msg)
	}
	if !strings.Contains(msg, "region eu-west-2") {
		t.Errorf("summary drops the ERROR region:\n%s", msg)
	}
}
