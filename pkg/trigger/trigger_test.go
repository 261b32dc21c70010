package trigger_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

const selfRole = "arn:aws:iam::123456789012:role/service/watchkeeper-remediator-role"

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const sso = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com"

const topicKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestDecodeAcceptsRealisticEvents(t *testing.T) {
	for _, tc := range []struct {
		file      string
		kind      trigger.Kind
		mode      trigger.Mode
		call      string
		actor     string
		resources []string
		errorCode string
	}{
		{file: "scheduled.json", kind: trigger.Scheduled},
		{file: "direct-report.json", kind: trigger.Direct, mode: trigger.ModeReport},
		{file: "direct-apply.json", kind: trigger.Direct, mode: trigger.ModeApply},
		{file: "delete-metric-filter.json", kind: trigger.Drift, call: "DeleteMetricFilter", actor: sso,
			resources: []string{"log group aws-cloudtrail-logs-123456789012", "filter watchkeeper-root-account-usage"}},
		{file: "put-metric-filter.json", kind: trigger.Drift, call: "PutMetricFilter", actor: "arn:aws:iam::123456789012:user/bob",
			resources: []string{"log group aws-cloudtrail-logs-123456789012", "filter watchkeeper-root-account-usage"}},
		{file: "delete-log-group.json", kind: trigger.Drift, call: "DeleteLogGroup", actor: sso,
			resources: []string{"log group aws-cloudtrail-logs-123456789012"}},
		{file: "delete-alarms.json", kind: trigger.Drift, call: "DeleteAlarms", actor: sso,
			resources: []string{"alarm watchkeeper-root-account-usage", "alarm watchkeeper-iam-policy-changes"}},
		{file: "put-metric-alarm.json", kind: trigger.Drift, call: "PutMetricAlarm", actor: "arn:aws:iam::123456789012:user/bob",
			resources: []string{"alarm watchkeeper-root-account-usage"}},
		{file: "disable-alarm-actions.json", kind: trigger.Drift, call: "DisableAlarmActions", actor: sso,
			resources: []string{"alarm watchkeeper-root-account-usage"}},
		{file: "stop-logging.json", kind: trigger.Drift, call: "StopLogging", actor: sso,
			resources: []string{"trail arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events"}},
		{file: "delete-trail.json", kind: trigger.Drift, call: "DeleteTrail", actor: "arn:aws:iam::123456789012:user/bob",
			resources: []string{"trail management-events"}},
		{file: "update-trail.json", kind: trigger.Drift, call: "UpdateTrail", actor: sso, resources: []string{"trail management-events"}},
		{file: "put-event-selectors.json", kind: trigger.Drift, call: "PutEventSelectors", actor: sso, resources: []string{"trail management-events"}},
		{file: "delete-topic.json", kind: trigger.Drift, call: "DeleteTopic", actor: "arn:aws:iam::123456789012:user/bob",
			resources: []string{"topic arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms"}},
		{file: "unsubscribe.json", kind: trigger.Drift, call: "Unsubscribe", actor: sso,
			resources: []string{"subscription arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms:2f5c7a1e-0b3d-4c6e-9f8a-1b2c3d4e5f60"}},
		{file: "set-topic-attributes.json", kind: trigger.Drift, call: "SetTopicAttributes", actor: sso,
			resources: []string{"topic arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms", "attribute Policy"}},
		{file: "add-permission.json", kind: trigger.Drift, call: "AddPermission", actor: "arn:aws:iam::123456789012:user/bob",
			resources: []string{"topic arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms", "permission cross-account-publish"}},
		{file: "remove-permission.json", kind: trigger.Drift, call: "RemovePermission", actor: sso,
			resources: []string{"topic arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms", "permission __default_statement_ID"}},
		{file: "disable-key.json", kind: trigger.Drift, call: "DisableKey", actor: sso,
			resources: []string{"key " + topicKey}},
		{file: "schedule-key-deletion.json", kind: trigger.Drift, call: "ScheduleKeyDeletion", actor: "arn:aws:iam::123456789012:user/bob",
			resources: []string{"key 1234abcd-12ab-34cd-56ef-1234567890ab"}},
		{file: "put-key-policy.json", kind: trigger.Drift, call: "PutKeyPolicy", actor: sso,
			resources: []string{"key " + topicKey}},
		{file: "failed-delete-metric-filter.json", kind: trigger.Drift, call: "DeleteMetricFilter",
			actor: "arn:aws:iam::123456789012:user/bob", errorCode: "AccessDenied"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := trigger.Decode(load(t, tc.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Kind != tc.kind || got.Mode != tc.mode || got.Call.Name != tc.call || got.ErrorCode != tc.errorCode {
				t.Errorf("got kind=%s mode=%q call=%q errorCode=%q, want %s %q %q %q", got.Kind, got.Mode, got.Call.Name, got.ErrorCode, tc.kind, tc.mode, tc.call, tc.errorCode)
			}
			if got.Actor.ARN != tc.actor {
				t.Errorf("actor = %q, want %q", got.Actor.ARN, tc.actor)
			}
			// A call CloudTrail recorded as failed changed nothing.
			if got.Failed() != (tc.errorCode != "") {
				t.Errorf("Failed() = %t with errorCode %q", got.Failed(), got.ErrorCode)
			}
			if diff := cmp.Diff(tc.resources, got.Resources); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			if tc.kind != trigger.Direct {
				if got.Account != "123456789012" || got.Region != "us-east-1" || got.Time.IsZero() || got.ID == "" {
					t.Errorf("envelope not decoded: %+v", got)
				}
			}
			if got.CausedBy(selfRole) {
				t.Errorf("CausedBy(%s) = true for an event by %s", selfRole, got.Actor)
			}
		})
	}
}

func TestDecodeScheduledEnvelope(t *testing.T) {
	got, err := trigger.Decode(load(t, "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := trigger.Trigger{Kind: trigger.Scheduled, ID: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", Account: "123456789012",
		Region: "us-east-1", Time: time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(scheduled) (-want +got):\n%s", diff)
	}
	if d := got.Describe(); d != "scheduled run" {
		t.Errorf("Describe = %q", d)
	}
}

// mutate decodes a testdata event, applies f and re-encodes it.
func mutate(t *testing.T, file string, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(load(t, file), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func detail(m map[string]any) map[string]any { return m["detail"].(map[string]any) }

func TestDecodeRejects(t *testing.T) {
	huge := `{"mode":"report","x":"` + strings.Repeat("a", trigger.MaxEventBytes) + `"}`
	for _, tc := range []struct {
		name        string
		raw         []byte
		field       string
		problem     string // substring
		unsupported bool
	}{
		{name: "empty", raw: []byte(``), problem: "empty payload"},
		{name: "malformed", raw: []byte(`{"source": "aws.events",`), problem: "malformed JSON"},
		{name: "trailing data", raw: []byte(`{"mode":"report"} {"mode":"apply"}`), problem: "trailing data"},
		{name: "array", raw: []byte(`[1,2]`), problem: "not a JSON object"},
		{name: "string", raw: []byte(`"hello"`), problem: "not a JSON object"},
		{name: "null", raw: []byte(`null`), problem: "null"},
		{name: "invalid utf8", raw: []byte("{\"mode\":\"\xff\"}"), problem: "UTF-8"},
		{name: "too large", raw: []byte(huge), problem: "more than"},
		{name: "empty object", raw: []byte(`{}`), problem: "empty object", unsupported: true},
		{name: "unknown direct member", raw: []byte(`{"mode":"report","force":true}`), field: "force", unsupported: true},
		{name: "unknown mode", raw: []byte(`{"mode":"destroy"}`), field: "mode", problem: "allowed: report, apply"},
		{name: "mode wrong type", raw: []byte(`{"mode":1}`), field: "mode", problem: "want a JSON string, got a number"},
		{name: "source without detail-type", raw: []byte(`{"source":"aws.events"}`), field: "detail-type", problem: "missing"},
		{name: "unknown detail-type", raw: mutate(t, "scheduled.json", func(m map[string]any) { m["detail-type"] = "EC2 Instance State-change Notification" }),
			field: "detail-type", unsupported: true},
		{name: "scheduled from wrong source", raw: mutate(t, "scheduled.json", func(m map[string]any) { m["source"] = "com.example" }),
			field: "source", unsupported: true},
		{name: "detail-type wrong type", raw: mutate(t, "scheduled.json", func(m map[string]any) { m["detail-type"] = []any{"Scheduled Event"} }),
			field: "detail-type", problem: "got an array"},
		{name: "missing account", raw: mutate(t, "scheduled.json", func(m map[string]any) { delete(m, "account") }), field: "account", problem: "missing"},
		{name: "bad account", raw: mutate(t, "scheduled.json", func(m map[string]any) { m["account"] = "12345" }), field: "account"},
		{name: "bad region", raw: mutate(t, "scheduled.json", func(m map[string]any) { m["region"] = "US East" }), field: "region"},
		{name: "bad time", raw: mutate(t, "scheduled.json", func(m map[string]any) { m["time"] = "yesterday" }), field: "time"},
		{name: "api call without detail", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { delete(m, "detail") }),
			field: "detail", problem: "missing"},
		{name: "detail not an object", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { m["detail"] = "x" }),
			field: "detail", problem: "want object"},
		{name: "missing eventName", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { delete(detail(m), "eventName") }),
			field: "detail.eventName", problem: "missing"},
		{name: "missing eventSource", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { delete(detail(m), "eventSource") }),
			field: "detail.eventSource", problem: "missing"},
		{name: "eventName wrong type", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { detail(m)["eventName"] = 7 }),
			field: "detail", problem: "eventName: got JSON number, want string"},
		{name: "unhandled call", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { detail(m)["eventName"] = "CreateLogStream" }),
			field: "detail.eventName", problem: "not a handled call", unsupported: true},
		{name: "call from another service", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { detail(m)["eventSource"] = "s3.amazonaws.com" }),
			field: "detail.eventName", unsupported: true},
		{name: "source mismatch", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { m["source"] = "aws.sns" }),
			field: "source", unsupported: true},
		{name: "missing userIdentity", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { delete(detail(m), "userIdentity") }),
			field: "detail.userIdentity", problem: "missing"},
		{name: "userIdentity wrong type", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { detail(m)["userIdentity"] = "root" }),
			field: "detail", problem: "userIdentity"},
		{name: "bad awsRegion", raw: mutate(t, "delete-metric-filter.json", func(m map[string]any) { detail(m)["awsRegion"] = "../../etc" }),
			field: "detail.awsRegion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trigger.Decode(tc.raw)
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", got)
			}
			var de *trigger.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			if de.Field != tc.field {
				t.Errorf("Field = %q, want %q (error: %v)", de.Field, tc.field, err)
			}
			if !strings.Contains(de.Problem, tc.problem) {
				t.Errorf("Problem = %q, want it to contain %q", de.Problem, tc.problem)
			}
			if errors.Is(err, trigger.ErrUnsupported) != tc.unsupported {
				t.Errorf("errors.Is(ErrUnsupported) = %v, want %v", !tc.unsupported, tc.unsupported)
			}
			if len(err.Error()) > 1024 {
				t.Errorf("error message is %d bytes; hostile input must not be echoed in full", len(err.Error()))
			}
		})
	}
}

func TestCausedBy(t *testing.T) {
	self, err := trigger.Decode(load(t, "self-put-metric-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	withActor := func(a trigger.Actor) trigger.Trigger {
		return trigger.Trigger{Kind: trigger.Drift, Actor: a}
	}
	for _, tc := range []struct {
		name string
		tr   trigger.Trigger
		role string
		want bool
	}{
		{"own role via issuer and session", self, selfRole, true},
		{"own role, session ARN only (STS drops the path)", withActor(trigger.Actor{ARN: "arn:aws:sts::123456789012:assumed-role/watchkeeper-remediator-role/sess"}), selfRole, true},
		{"own role, issuer only", withActor(trigger.Actor{IssuerARN: selfRole}), selfRole, true},
		{"role without path", withActor(trigger.Actor{ARN: "arn:aws:sts::123456789012:assumed-role/wk/s"}), "arn:aws:iam::123456789012:role/wk", true},
		{"same role name, other account", withActor(trigger.Actor{ARN: "arn:aws:sts::210987654321:assumed-role/watchkeeper-remediator-role/s"}), selfRole, false},
		{"same role name, other partition", withActor(trigger.Actor{ARN: "arn:aws-cn:sts::123456789012:assumed-role/watchkeeper-remediator-role/s"}), selfRole, false},
		{"role name prefix", withActor(trigger.Actor{ARN: "arn:aws:sts::123456789012:assumed-role/watchkeeper-remediator-role-2/s"}), selfRole, false},
		{"IAM user with the role's name", withActor(trigger.Actor{ARN: "arn:aws:iam::123456789012:user/watchkeeper-remediator-role"}), selfRole, false},
		{"no role configured", self, "", false},
		{"malformed role configured", self, "watchkeeper-remediator-role", false},
		{"scheduled event", trigger.Trigger{Kind: trigger.Scheduled}, selfRole, false},
		{"empty actor", withActor(trigger.Actor{}), selfRole, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tr.CausedBy(tc.role); got != tc.want {
				t.Errorf("CausedBy(%q) = %v, want %v (actor %+v)", tc.role, got, tc.want, tc.tr.Actor)
			}
		})
	}
}

func TestHandledCoversIssueList(t *testing.T) {
	// Issue #4 names the first thirteen calls; the topic-key and
	// topic-policy calls follow. The CDK rule is built from Handled.
	want := []string{"DeleteAlarms", "DeleteLogGroup", "DeleteMetricFilter", "DeleteTopic", "DeleteTrail", "DisableAlarmActions",
		"PutEventSelectors", "PutMetricAlarm", "PutMetricFilter", "SetTopicAttributes", "StopLogging", "Unsubscribe", "UpdateTrail",
		"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy", "AddPermission", "RemovePermission"}
	var got []string
	for _, c := range trigger.Handled() {
		got = append(got, c.Name)
		if !strings.HasPrefix(c.Source, "aws.") || !strings.HasSuffix(c.EventSource, ".amazonaws.com") {
			t.Errorf("malformed entry %+v", c)
		}
	}
	if diff := cmp.Diff(want, got, cmpSort); diff != "" {
		t.Errorf("Handled names (-want +got):\n%s", diff)
	}
	by := trigger.HandledBySource()
	if len(by) != 5 || len(by["aws.monitoring"]) != 3 || len(by["aws.kms"]) != 3 || len(by["aws.sns"]) != 5 {
		t.Errorf("HandledBySource = %v", by)
	}
	h := trigger.Handled()
	h[0].Name = "Mutated"
	if trigger.Handled()[0].Name == "Mutated" {
		t.Error("Handled returns the package's own slice")
	}
}

// TestEveryHandledCallIsDecodedAndGuarded: each handled call, in the shape
// EventBridge delivers it, decodes to exactly that call, and the loop guard
// recognises it when Watchkeeper's own role made it (whatever the call:
// the guard looks at the principal, not the event name), and only then.
func TestEveryHandledCallIsDecodedAndGuarded(t *testing.T) {
	own := "arn:aws:sts::123456789012:assumed-role/watchkeeper-remediator-role/watchkeeper-remediator"
	for _, c := range trigger.Handled() {
		for _, tc := range []struct {
			who  string
			arn  string
			self bool
		}{{"self", own, true}, {"other", sso, false}} {
			t.Run(c.Name+"/"+tc.who, func(t *testing.T) {
				raw := mutate(t, "delete-metric-filter.json", func(m map[string]any) {
					m["source"] = c.Source
					d := detail(m)
					d["eventSource"], d["eventName"] = c.EventSource, c.Name
					d["requestParameters"] = map[string]any{}
					d["userIdentity"] = map[string]any{"type": "AssumedRole", "arn": tc.arn, "accountId": "123456789012"}
				})
				got, err := trigger.Decode(raw)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got.Kind != trigger.Drift || got.Call != c {
					t.Errorf("decoded kind %s call %+v, want drift %+v", got.Kind, got.Call, c)
				}
				if got.CausedBy(selfRole) != tc.self {
					t.Errorf("CausedBy(%s) = %v for actor %s, want %v", selfRole, !tc.self, tc.arn, tc.self)
				}
			})
		}
	}
}

var cmpSort = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func FuzzDecode(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "events"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add(load(f, e.Name()))
	}
	f.Add([]byte(`{"mode":"report"}`))
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.logs","detail":{"eventSource":"logs.amazonaws.com"}}`))
	handled := map[trigger.APICall]bool{}
	for _, c := range append(trigger.Handled(), trigger.SelfWatched()...) {
		handled[c] = true
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tr, err := trigger.Decode(raw)
		if err != nil {
			var de *trigger.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is %T, want *DecodeError: %v", err, err)
			}
			if len(err.Error()) > 2048 {
				t.Fatalf("error message of %d bytes", len(err.Error()))
			}
			return
		}
		switch tr.Kind {
		case trigger.Scheduled, trigger.Direct:
		case trigger.Drift:
			if !handled[tr.Call] {
				t.Fatalf("accepted unhandled call %+v", tr.Call)
			}
		default:
			t.Fatalf("accepted event of kind %q", tr.Kind)
		}
		if len(tr.Resources) > 10 {
			t.Fatalf("%d resources", len(tr.Resources))
		}
		again, err := trigger.Decode(raw)
		if err != nil || !cmp.Equal(tr, again) {
			t.Fatalf("Decode is not deterministic: %v", err)
		}
		_ = tr.Describe()
	})
}
