package trigger_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/test/memtest"
)

// decodeHostile decodes raw, requires a *DecodeError naming field (and
// containing problem), a clipped message and bounded memory.
func decodeHostile(t *testing.T, raw []byte, field, problem string) {
	t.Helper()
	var err error
	var got trigger.Trigger
	n := memtest.Allocated(func() { got, err = trigger.Decode(raw) })
	if err == nil {
		t.Fatalf("Decode accepted a hostile event: %+v", got)
	}
	var de *trigger.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
	}
	if de.Field != field || !strings.Contains(de.Problem, problem) {
		t.Errorf("error = %q (field %q), want field %q and a problem containing %q", err, de.Field, field, problem)
	}
	if len(err.Error()) > 1024 || !utf8.ValidString(err.Error()) {
		t.Errorf("error message is %d bytes (valid UTF-8: %v); hostile input must be clipped", len(err.Error()), utf8.ValidString(err.Error()))
	}
	if n > memtest.Bound {
		t.Errorf("decoding %d bytes allocated %d MiB, want < %d MiB", len(raw), n>>20, memtest.Bound>>20)
	}
}

// within builds an API-call event whose detail is detail (raw JSON), with a
// valid envelope.
func apiCall(detail string) []byte {
	return []byte(`{"version":"0","id":"e1","detail-type":"AWS API Call via CloudTrail","source":"aws.logs","account":"123456789012",` +
		`"time":"2026-11-22T10:00:00Z","region":"us-east-1","detail":` + detail + `}`)
}

const goodDetail = `{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","awsRegion":"us-east-1",` +
	`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/bob"},"requestParameters":%s}`

func TestDecodeHugeEvents(t *testing.T) {
	tenMiB := 10 << 20
	pad := strings.Repeat("a", tenMiB)
	deep := func(open string, n int) string { return strings.Repeat(open, n) }
	for _, tc := range []struct {
		name, raw, field, problem string
	}{
		{"10 MiB direct invocation", `{"mode":"report","x":"` + pad + `"}`, "", "more than"},
		{"10 MiB EventBridge event", string(apiCall(strings.Replace(goodDetail, "%s", `{"logGroupName":"`+pad+`"}`, 1))), "", "more than"},
		{"10 MiB of open brackets", deep("[", tenMiB), "", "more than"},
		{"10 MiB of whitespace", strings.Repeat(" ", tenMiB) + `{"mode":"report"}`, "", "more than"},
		{"one byte over the limit", `{"mode":"report","x":"` + strings.Repeat("a", trigger.MaxEventBytes-len(`{"mode":"report","x":""}`)+1) + `"}`, "", "more than"},
		// Within the size limit, nesting is bounded by encoding/json's
		// depth limit, so it cannot exhaust the stack.
		{"nested arrays in mode", `{"mode":` + deep("[", 200_000) + `}`, "", "not a JSON object"},
		{"nested objects in mode", `{"mode":` + deep(`{"a":`, 30_000) + `1` + deep("}", 30_000) + `}`, "", "not a JSON object"},
		{"nested arrays in detail", string(apiCall(`{"x":` + deep("[", 200_000) + `}`)), "", "not a JSON object"},
		{"nested arrays in requestParameters", string(apiCall(strings.Replace(goodDetail, "%s", deep("[", 200_000), 1))), "", "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			decodeHostile(t, []byte(tc.raw), tc.field, tc.problem)
		})
	}
}

// TestDecodeLargestAcceptedEvent: an event just under the limit with a
// 10,000-name DeleteAlarms decodes in bounded memory and carries at most
// ten resource names.
func TestDecodeLargestAcceptedEvent(t *testing.T) {
	names := make([]string, 10_000)
	for i := range names {
		names[i] = `"watchkeeper-` + strings.Repeat("x", 10) + `"`
	}
	detail := `{"eventSource":"monitoring.amazonaws.com","eventName":"DeleteAlarms","awsRegion":"us-east-1",` +
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/bob"},"requestParameters":{"alarmNames":[` + strings.Join(names, ",") + `]}}`
	raw := []byte(strings.Replace(string(apiCall(detail)), `"aws.logs"`, `"aws.monitoring"`, 1))
	if len(raw) > trigger.MaxEventBytes {
		t.Fatalf("test event is %d bytes, over the limit", len(raw))
	}
	var tr trigger.Trigger
	var err error
	n := memtest.Allocated(func() { tr, err = trigger.Decode(raw) })
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Resources) != 10 || tr.Call.Name != "DeleteAlarms" {
		t.Errorf("resources = %d (%v), call %s", len(tr.Resources), tr.Resources, tr.Call.Name)
	}
	if n > memtest.Bound {
		t.Errorf("allocated %d MiB", n>>20)
	}
	if d := tr.Describe(); len(d) > 4096 {
		t.Errorf("Describe is %d bytes", len(d))
	}
}

func TestDecodeWrongJSONTypes(t *testing.T) {
	sched := func(field, value string) string {
		m := map[string]string{"version": `"0"`, "id": `"e1"`, "detail-type": `"Scheduled Event"`, "source": `"aws.events"`,
			"account": `"123456789012"`, "time": `"2026-11-22T10:00:00Z"`, "region": `"us-east-1"`}
		m[field] = value
		var b strings.Builder
		b.WriteString("{")
		first := true
		for _, k := range []string{"version", "id", "detail-type", "source", "account", "time", "region"} {
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(`"` + k + `":` + m[k])
		}
		b.WriteString(`,"detail":{}}`)
		return b.String()
	}
	for _, tc := range []struct {
		name, raw, field, problem string
	}{
		{"id number", sched("id", "1"), "id", "got a number"},
		{"id null", sched("id", "null"), "id", "empty"}, // null leaves the string empty
		{"account number", sched("account", "123456789012"), "account", "got a number"},
		{"account huge number", sched("account", "1"+strings.Repeat("0", 400)), "account", "got a number"},
		{"account negative", sched("account", "-123456789012"), "account", "got a number"},
		{"region array", sched("region", `["us-east-1"]`), "region", "got an array"},
		{"region object", sched("region", `{"name":"us-east-1"}`), "region", "got an object"},
		{"source boolean", sched("source", "true"), "source", "got a boolean"},
		{"time number", sched("time", "1700000000"), "time", "got a number"},
		{"time far future", sched("time", `"99999-01-01T00:00:00Z"`), "time", "RFC 3339"},
		{"version object", sched("version", "{}"), "version", "got an object"},
		{"detail-type null", sched("detail-type", "null"), "detail-type", "empty"},
		{"mode null", `{"mode":null}`, "mode", "allowed: report, apply"},
		{"mode number", `{"mode":-1}`, "mode", "got a number"},
		{"mode object", `{"mode":{"mode":"report"}}`, "mode", "got an object"},
		{"top-level number", `12345678901234567890123456789`, "", "not a JSON object"},
		{"top-level true", `true`, "", "not a JSON object"},
		{"detail array", string(apiCall(`[{"eventName":"DeleteMetricFilter"}]`)), "detail", "want object"},
		{"detail null", string(apiCall(`null`)), "detail.eventSource", "missing"},
		{"detail number", string(apiCall(`1e999`)), "detail", "want object"},
		{"eventSource number", string(apiCall(`{"eventSource":1,"eventName":"DeleteMetricFilter"}`)), "detail", "eventSource: got JSON number"},
		{"eventName array", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":["DeleteMetricFilter"]}`)), "detail", "eventName: got JSON array"},
		{"eventName null", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":null,"userIdentity":{}}`)), "detail.eventName", "missing"},
		{"userIdentity array", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","userIdentity":[]}`)), "detail", "userIdentity"},
		{"userIdentity null", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","userIdentity":null}`)), "detail.userIdentity", "missing"},
		{"userIdentity.arn number", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","userIdentity":{"arn":42}}`)), "detail", "arn"},
		{"sessionContext string", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","userIdentity":{"sessionContext":"x"}}`)), "detail", "sessionContext"},
		{"sessionIssuer.arn array", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","userIdentity":{"sessionContext":{"sessionIssuer":{"arn":[]}}}}`)), "detail", "arn"},
		{"awsRegion number", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","awsRegion":1,"userIdentity":{}}`)), "detail", "awsRegion"},
		{"errorCode object", string(apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","errorCode":{},"userIdentity":{}}`)), "detail", "errorCode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			decodeHostile(t, []byte(tc.raw), tc.field, tc.problem)
		})
	}
}

// TestDecodeOddRequestParameters: requestParameters is informational, so
// wrong types there never reject an event; they only lose the names.
func TestDecodeOddRequestParameters(t *testing.T) {
	for _, rp := range []string{`null`, `[]`, `"x"`, `1`, `{"logGroupName":1}`, `{"alarmNames":"a"}`, `{"alarmNames":[1,null,{}]}`, `{"filterName":null}`} {
		tr, err := trigger.Decode(apiCall(strings.Replace(goodDetail, "%s", rp, 1)))
		if err != nil {
			t.Errorf("requestParameters %s: %v", rp, err)
			continue
		}
		if tr.Kind != trigger.Drift || len(tr.Resources) > 0 && rp != `{"filterName":null}` {
			t.Errorf("requestParameters %s: %+v", rp, tr)
		}
	}
}

// hostileNames holds names with quotes, backslashes, emoji, RTL and other
// invisible marks, and JSON-escaped control characters.
var hostileNames = []string{
	`quo\"te`, `back\\slash`, `emoji-🔥🚨`, "rtl-\u202egnp.exe", "zero\u200bwidth", `ctl-\u0000\u001b[31m\n`, "\u2028line-sep",
	`<script>alert(1)</script>`, `'; DROP TABLE alarms; --`, "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ",
}

// TestDecodeHostileNames: names are never used to decide anything, so an
// event naming odd resources or principals decodes (the run is level-based);
// but an odd call name or source is rejected, clipped, and never accepted
// as a handled call.
func TestDecodeHostileNames(t *testing.T) {
	for _, name := range hostileNames {
		t.Run(name, func(t *testing.T) {
			rp := `{"logGroupName":"` + name + `","filterName":"` + strings.Repeat(name, 100) + `"}`
			detail := `{"eventSource":"logs.amazonaws.com","eventName":"DeleteMetricFilter","awsRegion":"us-east-1",` +
				`"userIdentity":{"type":"` + name + `","arn":"arn:aws:sts::123456789012:assumed-role/` + name + `/s",` +
				`"sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::123456789012:role/` + name + `"}}},"requestParameters":` + rp + `}`
			tr, err := trigger.Decode(apiCall(detail))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if tr.Call.Name != "DeleteMetricFilter" || len(tr.Resources) != 2 {
				t.Errorf("trigger %+v", tr)
			}
			for _, r := range tr.Resources {
				if len(r) > 300 || !utf8.ValidString(r) {
					t.Errorf("resource name of %d bytes (valid UTF-8 %v) is not clipped", len(r), utf8.ValidString(r))
				}
			}
			// A look-alike of Watchkeeper's own role is not Watchkeeper.
			if tr.CausedBy(selfRole) {
				t.Errorf("CausedBy(%s) = true for actor %q", selfRole, tr.Actor.ARN)
			}

			// As an eventName, eventSource, source, detail-type, account or
			// region, the same name is rejected with a clipped message.
			long := strings.Repeat(name, 1000)
			decodeHostile(t, apiCall(`{"eventSource":"logs.amazonaws.com","eventName":"`+long+`","userIdentity":{}}`), "detail.eventName", "not a handled call")
			decodeHostile(t, apiCall(`{"eventSource":"`+long+`","eventName":"DeleteMetricFilter","userIdentity":{}}`), "detail.eventName", "not a handled call")
			decodeHostile(t, []byte(strings.Replace(string(apiCall(`{}`)), `"AWS API Call via CloudTrail"`, `"`+long+`"`, 1)), "detail-type", "is not handled")
			decodeHostile(t, []byte(strings.Replace(string(apiCall(`{}`)), `"123456789012"`, `"`+long+`"`, 1)), "account", "12-digit")
			decodeHostile(t, []byte(strings.Replace(string(apiCall(`{}`)), `"us-east-1"`, `"`+long+`"`, 1)), "region", "region name")
			decodeHostile(t, []byte(`{"mode":"`+long+`"}`), "mode", "not a mode")
			// As an unknown member of a direct invocation, the member's
			// name is the field: it must be clipped too.
			_, err = trigger.Decode([]byte(`{"` + long + `":"report"}`))
			var de *trigger.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, trigger.ErrUnsupported) || !strings.Contains(de.Problem, "unknown member") {
				t.Fatalf("unknown member: %v", err)
			}
			if len(err.Error()) > 1024 || !utf8.ValidString(err.Error()) {
				t.Errorf("unknown member: error message is %d bytes; the member name must be clipped", len(err.Error()))
			}
		})
	}
}

// TestDirectInvocationCannotParameterise: a direct invocation may ask for
// report or apply and nothing else; anything that would change what a run
// writes (topic, regions, subscriptions, healing level, exclusions) is
// rejected as unsupported.
func TestDirectInvocationCannotParameterise(t *testing.T) {
	for _, raw := range []string{
		`{"mode":"apply","regions":["us-east-1"]}`,
		`{"mode":"apply","topicName":"attacker-topic"}`,
		`{"mode":"apply","subscriptions":["email:attacker@example.com"]}`,
		`{"mode":"apply","trailHealing":"full"}`,
		`{"mode":"apply","exclude":["4.3"]}`,
		`{"mode":"apply","WATCHKEEPER_MODE":"apply"}`,
		`{"mode":"report","mode":"apply","x":1}`,
	} {
		_, err := trigger.Decode([]byte(raw))
		if !errors.Is(err, trigger.ErrUnsupported) {
			t.Errorf("Decode(%s) = %v, want ErrUnsupported", raw, err)
		}
	}
}
