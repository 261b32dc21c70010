package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const topic = "arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms"

var subscribe = plan.Action{
	Kind: plan.Subscribe, Region: "us-east-1", Target: topic, Controls: []string{"4.3", "4.7"},
	Reason:       "subscribe configured endpoint email:security@example.com",
	Subscription: &plan.SubscriptionSpec{TopicARN: topic, Protocol: "email", Endpoint: "security@example.com"},
}

var subscribeSQS = plan.Action{
	Kind: plan.Subscribe, Region: "us-east-1", Target: topic, Controls: []string{"4.3", "4.7"},
	Reason:       "subscribe configured endpoint sqs:arn:aws:sqs:us-east-1:123456789012:alerts",
	Subscription: &plan.SubscriptionSpec{TopicARN: topic, Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:alerts"},
}

var putFilter = plan.Action{
	Kind: plan.PutMetricFilter, Region: "us-east-1", Target: "/aws/cloudtrail/main/watchkeeper-cmk-disable-or-delete",
	Controls: []string{"4.7"}, Reason: "no metric filter on log group /aws/cloudtrail/main counts the events of 4.7",
	Filter: &plan.FilterSpec{LogGroupName: "/aws/cloudtrail/main", FilterName: "watchkeeper-cmk-disable-or-delete",
		Pattern:    "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
		MetricName: "DisableOrDeleteCMK", Namespace: "CISBenchmark", MetricValue: "1"},
}

var putAlarm = plan.Action{
	Kind: plan.PutMetricAlarm, Region: "us-east-1", Target: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:watchkeeper-root-account-usage",
	Controls: []string{"4.3"}, Reason: "no alarm that notifies a confirmed subscriber watches metric CISBenchmark/RootAccountUsage",
	Alarm: &plan.AlarmSpec{AlarmName: "watchkeeper-root-account-usage", MetricName: "RootAccountUsage", Namespace: "CISBenchmark", Threshold: 1, TopicARN: topic},
}

// representative is a plan with every status, a multi-reason failure, a
// control without a Security Hub id, a region error and a warning.
func representative() plan.Plan {
	return plan.Plan{
		Account: "123456789012", Benchmark: "cis-aws-v3.0.0", HomeRegion: "us-east-1",
		Controls: []plan.ControlResult{
			{ID: "4.1", SecurityHubID: "CloudWatch.2", Title: "Ensure unauthorized API calls are monitored", Status: plan.StatusExcluded, Reasons: []string{"excluded by configuration"}},
			{ID: "4.3", SecurityHubID: "CloudWatch.1", Title: "Ensure usage of 'root' account is monitored", Status: plan.StatusFail,
				Codes:   []string{plan.CodeAlarmsNotPresent},
				Reasons: []string{"no alarm watches metric CISBenchmark/RootAccountUsage published by metric filter watchkeeper-root-account-usage on log group /aws/cloudtrail/main (us-east-1)"}},
			{ID: "4.7", SecurityHubID: "CloudWatch.7", Title: "Ensure disabling or scheduled deletion of customer created CMKs is monitored", Status: plan.StatusFail,
				Codes: []string{plan.CodeFiltersNotPresent, plan.CodeFilterNotValid},
				Reasons: []string{
					"no metric filter on log group /aws/cloudtrail/main (us-east-1) matches this control's pattern",
					"metric filter team-kms on log group /aws/cloudtrail/main (us-east-1) does not count: its pattern matches every CloudTrail event",
				}},
			{ID: "4.10", SecurityHubID: "CloudWatch.10", Title: "Ensure security group changes are monitored", Status: plan.StatusPass, Where: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/main",
				Reasons: []string{"metric filter watchkeeper-security-group-changes on log group /aws/cloudtrail/main (us-east-1) counts this control's events and alarm watchkeeper-security-group-changes notifies topic " + topic + " (1 confirmed subscriptions)"}},
			{ID: "4.15", Title: "Ensure AWS Organizations changes are monitored", Status: plan.StatusError,
				Reasons: []string{"could not read the metric filters and alarms of log group /aws/cloudtrail/org (us-east-1): AccessDeniedException"}},
		},
		Regions: []plan.RegionResult{
			{Region: "eu-west-1", Status: plan.StatusPass, Reasons: []string{"covered by multi-region trail arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}},
			{Region: "us-east-1", Status: plan.StatusPass, Reasons: []string{"covered by multi-region trail arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}},
			{Region: "us-west-2", Status: plan.StatusError, Reasons: []string{"region us-west-2 could not be observed: UnrecognizedClientException"}},
		},
		Actions:  []plan.Action{putFilter, subscribe, subscribeSQS, putAlarm},
		Warnings: []string{"4.1: the v3.0.0 audit text matches almost every event"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run go test ./pkg/report -update to create it): %v", path, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// applied is the representative report after an apply in which the alarm
// failed and the SQS subscription was skipped.
func applied() report.Report {
	r := report.New("apply", representative())
	r.Record(putFilter, report.Outcome{Status: report.StatusApplied})
	r.Record(subscribe, report.Outcome{Status: report.StatusApplied})
	r.Record(subscribeSQS, report.Outcome{Status: report.StatusSkipped})
	r.Record(putAlarm, report.Outcome{Status: report.StatusFailed, ErrorClass: "denied",
		Error: "put metric alarm watchkeeper-root-account-usage in us-east-1: AccessDenied: not authorized to perform cloudwatch:PutMetricAlarm"})
	return r
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    report.Report
	}{
		{"plan", report.New("plan", representative())},
		{"apply", applied()},
		{"compliant", report.New("audit", plan.Plan{Account: "123456789012", Benchmark: "cis-aws-v3.0.0", HomeRegion: "us-east-1",
			Controls: []plan.ControlResult{{ID: "4.7", SecurityHubID: "CloudWatch.7", Title: "CMK", Status: plan.StatusPass, Reasons: []string{"ok"}}},
			Regions:  []plan.RegionResult{{Region: "us-east-1", Status: plan.StatusPass}}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var js, txt bytes.Buffer
			if err := tc.r.WriteJSON(&js); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			if err := tc.r.WriteText(&txt); err != nil {
				t.Fatalf("WriteText: %v", err)
			}
			golden(t, tc.name+".json.golden", js.Bytes())
			golden(t, tc.name+".txt.golden", txt.Bytes())
		})
	}
}

// TestJSONContract decodes the document generically and checks the keys
// and types issue #3 promises, independent of the golden files.
func TestJSONContract(t *testing.T) {
	p := representative()
	p.Regions = append(p.Regions, plan.RegionResult{Region: "zz-nil-1", Status: plan.StatusPass}) // nil reasons
	p.Controls[0].Reasons = nil
	p.Warnings = nil
	var buf bytes.Buffer
	if err := report.New("plan", p).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, buf.String())
	}
	for _, k := range []string{"account", "benchmark", "homeRegion"} {
		if _, ok := doc[k].(string); !ok {
			t.Errorf("key %q: %T, want string", k, doc[k])
		}
	}
	if c, ok := doc["compliant"].(bool); !ok || c {
		t.Errorf("compliant = %v, want false", doc["compliant"])
	}
	if _, ok := doc["warnings"].([]any); !ok {
		t.Errorf("warnings = %v, want an array", doc["warnings"])
	}
	check := func(list string, keys []string, arrays []string) {
		items, ok := doc[list].([]any)
		if !ok || len(items) == 0 {
			t.Fatalf("%s = %v, want a non-empty array", list, doc[list])
		}
		for i, it := range items {
			m := it.(map[string]any)
			for _, k := range keys {
				if _, ok := m[k].(string); !ok {
					t.Errorf("%s[%d].%s = %#v, want a string", list, i, k, m[k])
				}
			}
			for _, k := range arrays {
				if _, ok := m[k].([]any); !ok {
					t.Errorf("%s[%d].%s = %#v, want an array (never null)", list, i, k, m[k])
				}
			}
		}
	}
	check("controls", []string{"id", "securityHubId", "status"}, []string{"reasons"})
	check("regions", []string{"region", "status"}, []string{"reasons"})
	check("actions", []string{"action", "region", "target", "status", "reason", "error"}, []string{"controls"})
	if got := doc["controls"].([]any)[4].(map[string]any)["securityHubId"]; got != "" {
		t.Errorf("4.15 securityHubId = %#v, want present and empty", got)
	}
}

func TestRecord(t *testing.T) {
	r := applied()
	got := map[string]report.Status{}
	for _, a := range r.Actions {
		got[a.Action+" "+a.Detail] = a.Status
	}
	want := map[string]report.Status{
		"PutMetricFilter ":                                        report.StatusApplied,
		"Subscribe email:security@example.com":                    report.StatusApplied,
		"Subscribe sqs:arn:aws:sqs:us-east-1:123456789012:alerts": report.StatusSkipped,
		"PutMetricAlarm ":                                         report.StatusFailed,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses after Record (-want +got):\n%s", diff)
	}
	if len(r.Pending()) != 2 {
		t.Errorf("Pending() = %d actions, want 2 (the failed and the skipped)", len(r.Pending()))
	}

	// An outcome for an action the plan did not hold is appended, not lost.
	extra := plan.Action{Kind: plan.StartLogging, Region: "us-east-1", Target: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", Reason: "trail is not logging"}
	r.Record(extra, report.Outcome{Status: report.StatusApplied})
	last := r.Actions[len(r.Actions)-1]
	if len(r.Actions) != 5 || last.Action != "StartLogging" || last.Status != report.StatusApplied {
		t.Errorf("unplanned outcome: %d actions, last %+v", len(r.Actions), last)
	}
}

func TestNewAllPlanned(t *testing.T) {
	r := report.New("plan", representative())
	if len(r.Actions) != 4 {
		t.Fatalf("got %d actions, want 4", len(r.Actions))
	}
	for _, a := range r.Actions {
		if a.Status != report.StatusPlanned || a.Error != "" {
			t.Errorf("action %s %s: status %q error %q, want planned without error", a.Action, a.Target, a.Status, a.Error)
		}
	}
	if r.Compliant {
		t.Error("failing plan reported compliant")
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	r := applied()
	if err := r.WriteJSON(&failingWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteJSON to a failing writer: %v, want the write error", err)
	}
	for n := range 4 {
		if err := r.WriteText(&failingWriter{n: n}); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("WriteText failing after %d writes: %v, want the write error", n, err)
		}
	}
}

// TestRecordAfterRoundTrip: a report that travelled as JSON (e.g. between
// Lambda invocations) still matches outcomes to its actions.
func TestRecordAfterRoundTrip(t *testing.T) {
	b, err := json.Marshal(report.New("apply", representative()))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	r.Record(subscribeSQS, report.Outcome{Status: report.StatusApplied})
	if len(r.Actions) != 4 {
		t.Fatalf("got %d actions, want the outcome recorded on one of the 4", len(r.Actions))
	}
	for _, a := range r.Actions {
		want := report.StatusPlanned
		if a.Detail == "sqs:arn:aws:sqs:us-east-1:123456789012:alerts" {
			want = report.StatusApplied
		}
		if a.Status != want {
			t.Errorf("%s %s: status %s, want %s", a.Action, a.Detail, a.Status, want)
		}
	}
}

// TestJSONCentralAndOrganization: a CENTRAL control and region name the
// organization trail, its owner account and its log group; the
// "organization" section appears only when the plan has one.
func TestJSONCentralAndOrganization(t *testing.T) {
	ct := &plan.Central{TrailARN: "arn:aws:cloudtrail:us-east-1:999988887777:trail/org", OwnerAccount: "999988887777",
		LogGroupARN: "arn:aws:logs:us-east-1:999988887777:log-group:org", LogGroupName: "org", Region: "us-east-1"}
	p := plan.Plan{
		Account: "123456789012", Benchmark: "cis-aws-v3.0.0", HomeRegion: "us-east-1",
		Controls: []plan.ControlResult{{ID: "4.1", Status: plan.StatusCentral, Reasons: []string{"enforced centrally"}, Codes: []string{plan.CodeCentral}, Central: ct}},
		Regions:  []plan.RegionResult{{Region: "us-east-1", Status: plan.StatusCentral, Reasons: []string{"covered"}, Central: ct}},
	}
	decode := func(p plan.Plan) map[string]any {
		var buf bytes.Buffer
		if err := report.New("audit", p).WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := decode(p)
	if doc["compliant"] != true {
		t.Errorf("compliant = %v, want true (CENTRAL is not a failure)", doc["compliant"])
	}
	for _, list := range []string{"controls", "regions"} {
		c, _ := doc[list].([]any)[0].(map[string]any)["central"].(map[string]any)
		if c["trailArn"] != ct.TrailARN || c["ownerAccount"] != ct.OwnerAccount || c["logGroupArn"] != ct.LogGroupARN {
			t.Errorf("%s[0].central = %v", list, c)
		}
	}
	if _, ok := doc["organization"]; ok {
		t.Error("organization section without a listing")
	}
	p.Organization = &plan.Organization{TrailARN: ct.TrailARN, Accounts: []plan.OrgAccount{{OrgAccount: account.OrgAccount{ID: "222233334444", Name: "a", Status: "ACTIVE"}, Covered: true}}}
	org, _ := decode(p)["organization"].(map[string]any)
	if accts, _ := org["accounts"].([]any); len(accts) != 1 || accts[0].(map[string]any)["covered"] != true {
		t.Errorf("organization = %v", org)
	}
	var text bytes.Buffer
	if err := report.New("audit", p).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ct.TrailARN, ct.OwnerAccount, ct.LogGroupName, "222233334444"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report does not name %s", s)
		}
	}
}
