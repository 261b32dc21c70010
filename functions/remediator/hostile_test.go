package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/test/memtest"
)

// recordingEndpoint points every AWS client at a server that counts the
// requests it gets and refuses them (403, not retried), with credentials and
// a region set, so a command line that escaped validation would reach it.
func recordingEndpoint(t *testing.T) *atomic.Int64 {
	t.Helper()
	hermetic(t)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	return &n
}

// cliRejects runs the command line and requires exit 1 before any AWS
// request, nothing on stdout, stderr naming want, in bounded memory.
func cliRejects(t *testing.T, calls *atomic.Int64, args []string, want ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var code int
	before := calls.Load()
	n := memtest.Allocated(func() { code = runCLI(args, &stdout, &stderr) })
	if code != exitError {
		t.Errorf("exit %d, want %d; stderr: %.500s", code, exitError, stderr.String())
	}
	if got := calls.Load() - before; got != 0 {
		t.Errorf("%d AWS requests made for a rejected command line; stderr: %.500s", got, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %.200q, want nothing", stdout.String())
	}
	for _, w := range want {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not mention %q: %.500s", w, stderr.String())
		}
	}
	if n > memtest.Bound {
		t.Errorf("allocated %d MiB, want < %d", n>>20, memtest.Bound>>20)
	}
	return stderr.String()
}

// TestCLISubscribeGarbage: --subscribe applies the same endpoint rules as
// WATCHKEEPER_SUBSCRIPTIONS, so garbage never becomes an SNS Subscribe call.
func TestCLISubscribeGarbage(t *testing.T) {
	calls := recordingEndpoint(t)
	for _, v := range []string{
		"email:not-an-address",
		`email:"quoted"@example.com`,
		"email:🔥@example.com",
		"email:sec@example.com\n--subscribe=email:attacker@example.com",
		"https:javascript:alert(1)",
		"https:http://example.com/",
		"https:https://user:pass@example.com/",
		"sms:call-me-maybe",
		"sqs:my-queue",
		"lambda:arn:aws:lambda:us-east-1:123456789012:layer:x",
		"application:\u202eevil",
		"email:" + strings.Repeat("a", 1<<20) + "@example.com",
		":", "email:", ":sec@example.com", "PAGER:sec@example.com",
	} {
		t.Run(fmt.Sprintf("%.40q", v), func(t *testing.T) {
			cliRejects(t, calls, []string{"apply", "--home-region", "us-east-1", "--subscribe", v}, "subscriptions: ")
		})
	}
}

// TestCLIAbsurdLists: 10,000 regions or excluded ids are refused before any
// AWS call, and the region refusal is one line.
func TestCLIAbsurdLists(t *testing.T) {
	calls := recordingEndpoint(t)
	var valid, invalid, dup, ids []string
	for i := range 10_000 {
		valid = append(valid, fmt.Sprintf("us-east-%d", i))
		invalid = append(invalid, fmt.Sprintf("moon-%d🌙", i))
		dup = append(dup, "us-east-1")
		ids = append(ids, fmt.Sprintf("9.%d", i))
	}
	for name, list := range map[string][]string{"valid-looking": valid, "invalid": invalid, "duplicates": dup} {
		t.Run("10,000 regions, "+name, func(t *testing.T) {
			stderr := cliRejects(t, calls, []string{"audit", "--regions", strings.Join(list, ",")}, "regions: ", "at most 4096 allowed") // as WATCHKEEPER_REGIONS
			if len(stderr) > 4096 {
				t.Errorf("stderr is %d bytes for one problem", len(stderr))
			}
		})
	}
	t.Run("10,000 unknown excluded ids", func(t *testing.T) {
		cliRejects(t, calls, []string{"apply", "--exclude", strings.Join(ids, ",")}, "excludedControls: ", "value is", "at most 4096")
	})
	t.Run("64 regions are allowed", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		runCLI([]string{"audit", "--regions", strings.Join(valid[:64], ",")}, &stdout, &stderr)
		if strings.Contains(stderr.String(), "regions: ") {
			t.Errorf("64 regions refused: %s", stderr.String())
		}
	})
}

// TestCLIHostileValues: unicode, quotes, numbers out of range and megabyte
// values in the flags that are validated.
func TestCLIHostileValues(t *testing.T) {
	calls := recordingEndpoint(t)
	mib := strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"overflowing timeout", []string{"audit", "--timeout", "9999999999999999h"}, []string{"-timeout"}},
		{"timeout without unit", []string{"audit", "--timeout", "5"}, []string{"-timeout"}},
		{"negative timeout in ns", []string{"audit", "--timeout", "-1ns"}, []string{"--timeout", "negative"}},
		{"boolean flag with value", []string{"audit", "-v=maybe"}, []string{"-v"}},
		{"benchmark with quotes", []string{"audit", "--benchmark", `cis-aws-v3.0.0"; rm -rf /`}, []string{"benchmark: "}},
		{"megabyte benchmark", []string{"audit", "--benchmark", mib}, []string{"benchmark: ", "at most 4096"}},
		{"unicode healing level", []string{"apply", "--trail-healing", "fυll"}, []string{"trailHealing: ", "none, safe, full"}},
		{"RTL home region", []string{"audit", "--home-region", "us-east-1\u202e"}, []string{"homeRegion: "}},
		{"emoji region", []string{"audit", "--regions", "us-east-1,🔥"}, []string{"regions: "}},
		{"exclude with quotes", []string{"apply", "--exclude", `4.1",4.2`}, []string{"excludedControls: ", "unknown control"}},
		{"exclude empty items only", []string{"apply", "--exclude", ",,,", "--output", "xml"}, []string{"--output"}},
		{"megabyte exclude id", []string{"apply", "--exclude", mib}, []string{"excludedControls: "}},
		{"log group ARN not an ARN", []string{"apply", "--trail-log-group-arn", "\u202e", "--trail-logs-role-arn", "arn:aws:iam::123456789012:role/r"}, []string{"trailLogGroupArn: "}},
		{"namespace with a colon", []string{"audit", "--namespace", "CIS:x"}, []string{"namespace: "}},
		{"unicode topic name", []string{"audit", "--topic-name", "alarmes-sécurité"}, []string{"topicName: "}},
		{"unknown command", []string{"destroy"}, []string{"unknown command"}},
		{"megabyte unknown flag", []string{"audit", "--" + mib}, []string{"flag provided but not defined"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cliRejects(t, calls, tc.args, tc.want...)
		})
	}
}

// TestCLINamesValidatedLikeConfig: the CLI refuses topic names, namespaces,
// trail names and KMS keys AWS cannot hold with the Lambda's own rules
// (pkg/config), before any AWS call, so a hostile value never reaches
// CreateTopic or PutMetricFilter after other writes were made.
func TestCLINamesValidatedLikeConfig(t *testing.T) {
	calls := recordingEndpoint(t)
	for _, args := range [][]string{
		{"apply", "--topic-name", `alarms"🔥`},
		{"apply", "--topic-name", strings.Repeat("t", 300)},
		{"apply", "--namespace", "AWS/Logs"},
		{"apply", "--namespace", "CIS\u202e"},
		{"apply", "--trail-name", `trail"\`},
		{"apply", "--topic-kms-key", "my key"},
	} {
		field := map[string]string{"--topic-name": "topicName: ", "--namespace": "namespace: ", "--trail-name": "trailName: ", "--topic-kms-key": "topicKmsKey: "}[args[1]]
		cliRejects(t, calls, args, field)
	}
}

// TestInvokeHostilePayloads: every hostile payload is refused with a
// *trigger.DecodeError naming the problem, in bounded memory, with no engine
// run (so no AWS call), no publish, no metrics, and a bounded log line.
func TestInvokeHostilePayloads(t *testing.T) {
	tenMiB := strings.Repeat("a", 10<<20)
	deep := strings.Repeat("[", 200_000)
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"10 MiB direct invocation", `{"mode":"report","pad":"` + tenMiB + `"}`, "more than"},
		{"10 MiB scheduled event", `{"detail-type":"Scheduled Event","source":"aws.events","detail":{"pad":"` + tenMiB + `"}}`, "more than"},
		{"deep nesting", `{"mode":` + deep + `}`, "not a JSON object"},
		{"deep nesting in detail", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.logs","id":"1","account":"123456789012","region":"us-east-1","detail":{"x":` + deep + `}}`, "not a JSON object"},
		{"mode number", `{"mode":1e999}`, "want a JSON string, got a number"},
		{"mode null", `{"mode":null}`, "not a mode"},
		{"array for object", `[{"mode":"apply"}]`, "not a JSON object"},
		{"detail array", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.logs","id":"1","account":"123456789012","region":"us-east-1","detail":[]}`, "want object"},
		{"account number", `{"detail-type":"Scheduled Event","source":"aws.events","id":"1","account":123456789012,"region":"us-east-1"}`, "account"},
		{"quoted unicode call", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.logs","id":"1","account":"123456789012","region":"us-east-1",` +
			`"detail":{"eventSource":"logs.amazonaws.com","eventName":"Delete\"Metric\\Filter🔥\u202e","userIdentity":{}}}`, "not a handled call"},
		{"direct invocation asking for a topic", `{"mode":"apply","topicName":"attacker"}`, "unknown member"},
		{"direct invocation asking for regions", `{"mode":"apply","regions":["us-east-1"]}`, "unknown member"},
		{"megabyte unknown member", `{"mode":"apply","` + strings.Repeat("k", 200_000) + `":1}`, "unknown member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, healedReport(), nil)
			var err error
			n := memtest.Allocated(func() { _, err = f.h.Invoke(t.Context(), []byte(tc.payload)) })
			var de *trigger.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Invoke error = %v, want a *trigger.DecodeError", err)
			}
			if !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 1024 {
				t.Errorf("error (%d bytes) = %.300q, want it to contain %q and be short", len(err.Error()), err, tc.want)
			}
			if len(f.runs) != 0 || len(f.sns.published) != 0 || f.metrics.Len() != 0 {
				t.Errorf("rejected payload caused runs=%v publishes=%d metrics=%d bytes", f.runs, len(f.sns.published), f.metrics.Len())
			}
			for _, line := range strings.Split(f.logs.String(), "\n") {
				if len(line) > 4096 {
					t.Errorf("log line of %d bytes: the payload is echoed", len(line))
				}
			}
			if n > memtest.Bound {
				t.Errorf("allocated %d MiB for a %d-byte payload, want < %d", n>>20, len(tc.payload), memtest.Bound>>20)
			}
		})
	}
}

// TestInvokeForgedActor: anyone allowed to invoke the function directly can
// hand it a well-formed CloudTrail event with an invented actor. The event
// only says when to run (the run is the same as a scheduled one); the
// invented identity reaches the summary, but on one line, so it cannot
// forge further lines of the message.
func TestInvokeForgedActor(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	forged := bytes.Replace(event(t, "delete-metric-filter.json"),
		[]byte(`"arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com"`),
		[]byte(`"arn": "mallory\nRestored:   nothing, all is fine\r\n\u2028Caused by:  bob"`), 1)
	if bytes.Equal(forged, event(t, "delete-metric-filter.json")) {
		t.Fatal("fixture changed: actor ARN not found")
	}
	if _, err := f.h.Invoke(t.Context(), forged); err != nil {
		t.Fatal(err)
	}
	if len(f.runs) != 1 || !f.runs[0] {
		t.Fatalf("runs = %v, want one healing run", f.runs)
	}
	if len(f.sns.published) != 1 {
		t.Fatalf("%d publishes", len(f.sns.published))
	}
	msg := aws.ToString(f.sns.published[0].Message)
	for _, line := range strings.Split(msg, "\n") {
		if strings.HasPrefix(line, "Restored:   nothing") || strings.HasPrefix(line, "Caused by:  bob") {
			t.Errorf("forged actor injected a line into the summary:\n%s", msg)
		}
	}
	if !strings.Contains(msg, "mallory") {
		t.Errorf("summary does not name the (claimed) actor:\n%s", msg)
	}
}
