package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

const selfRole = "arn:aws:iam::123456789012:role/service/watchkeeper-remediator-role"

type fakeRunner struct {
	apply bool
	rep   report.Report
	err   error
	calls *[]bool // apply flag of every Run
	mu    *sync.Mutex
}

func (f fakeRunner) Run(ctx context.Context) (report.Report, error) {
	f.mu.Lock()
	*f.calls = append(*f.calls, f.apply)
	f.mu.Unlock()
	return f.rep, f.err
}

type fakeSNS struct {
	mu        sync.Mutex
	published []*sns.PublishInput
	regions   []string
	err       error
	// ctxErrs and budgets record, per publish, the context's error and the
	// time it had left.
	ctxErrs []error
	budgets []time.Duration
}

func (f *fakeSNS) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, in)
	f.ctxErrs = append(f.ctxErrs, ctx.Err())
	if d, ok := ctx.Deadline(); ok {
		f.budgets = append(f.budgets, time.Until(d))
	} else {
		f.budgets = append(f.budgets, -1)
	}
	return &sns.PublishOutput{}, f.err
}

type fixture struct {
	hub     fakeHub
	h       *handler
	runs    []bool // apply flag per engine run
	awsLoad int
	sns     *fakeSNS
	logs    bytes.Buffer
	metrics bytes.Buffer
}

func healedReport() report.Report {
	return report.Report{
		Account: "123456789012", Benchmark: "cis-aws-v3.0.0", HomeRegion: "us-east-1", Mode: "apply", Compliant: true,
		Controls: []plan.ControlResult{{ID: "4.3", Title: "root usage", Status: plan.StatusPass, Reasons: []string{},
			Where: "arn:aws:logs:us-east-1:123456789012:log-group:ct"}},
		Actions: []report.Action{{Action: "PutMetricFilter", Region: "us-east-1", Target: "ct/watchkeeper-root-account-usage",
			Controls: []string{"4.3"}, Status: "applied", Reason: "no filter for 4.3"}},
	}
}

func newFixture(t *testing.T, env map[string]string, rep report.Report, runErr error) *fixture {
	t.Helper()
	f := &fixture{sns: &fakeSNS{}}
	base := map[string]string{"AWS_REGION": "us-east-1", "WATCHKEEPER_SELF_ROLE_ARN": selfRole,
		"WATCHKEEPER_SUBSCRIPTIONS": "email:sec@example.com"}
	for k, v := range env {
		base[k] = v
	}
	mu := &sync.Mutex{}
	clock := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	f.h = newHandler(t.Context(), handlerDeps{
		getenv: func(k string) string { return base[k] },
		awsCfg: func(context.Context) (aws.Config, error) { f.awsLoad++; return aws.Config{Region: "us-east-1"}, nil },
		newRun: func(_ aws.Config, o engine.Options) (runner, error) {
			if o.Reserve != deadlineReserve || o.Finish != finishReserve || o.Finish >= o.Reserve || o.Plan.Benchmark.ID == "" {
				t.Errorf("engine options: %+v", o)
			}
			return fakeRunner{apply: o.Apply, rep: rep, err: runErr, calls: &f.runs, mu: mu}, nil
		},
		topics: func(aws.Config) func(string) publisher {
			return func(region string) publisher {
				f.sns.mu.Lock()
				f.sns.regions = append(f.sns.regions, region)
				f.sns.mu.Unlock()
				return f.sns
			}
		},
		securityHub: func(aws.Config) securityHub {
			return func(region string) findings.Hub { f.hub.region = region; return &f.hub }
		},
		logOut:  &f.logs,
		metrics: &f.metrics,
		now:     func() time.Time { clock = clock.Add(1500 * time.Millisecond); return clock },
	})
	return f
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pkg", "trigger", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInvokeRunsAndReports(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		event     string
		wantApply bool
	}{
		{"scheduled heals", nil, "scheduled.json", true},
		{"drift heals", nil, "delete-metric-filter.json", true},
		{"direct report is report-only", nil, "direct-report.json", false},
		{"direct apply heals", nil, "direct-apply.json", true},
		{"report deployment never heals", map[string]string{"WATCHKEEPER_MODE": "report"}, "direct-apply.json", false},
		{"report deployment, drift", map[string]string{"WATCHKEEPER_MODE": "report"}, "delete-metric-filter.json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.env, healedReport(), nil)
			out, err := f.h.Invoke(t.Context(), event(t, tc.event))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if len(f.runs) != 1 || f.runs[0] != tc.wantApply {
				t.Fatalf("engine runs (apply flags) = %v, want [%v]", f.runs, tc.wantApply)
			}
			// The response is the CLI's JSON report.
			var want bytes.Buffer
			if err := healedReport().WriteJSON(&want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, want.Bytes()) {
				t.Errorf("response:\n%s\nwant:\n%s", out, want.Bytes())
			}
			// One EMF line on the metrics stream.
			lines := strings.Split(strings.TrimSpace(f.metrics.String()), "\n")
			var emf map[string]any
			if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &emf) != nil || emf["_aws"] == nil || emf["ActionsApplied"] != 1.0 || emf["RunDuration"] != 3000.0 {
				t.Errorf("metrics output: %q", f.metrics.String())
			}
			// One summary log line.
			if n := strings.Count(f.logs.String(), `"msg":"run finished"`); n != 1 {
				t.Errorf("%d summary lines in logs:\n%s", n, f.logs.String())
			}
			// The heal is published to the topic in the log group's region.
			if len(f.sns.published) != 1 {
				t.Fatalf("%d publishes", len(f.sns.published))
			}
			p := f.sns.published[0]
			if aws.ToString(p.TopicArn) != "arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms" || f.sns.regions[0] != "us-east-1" {
				t.Errorf("published to %s in %v", aws.ToString(p.TopicArn), f.sns.regions)
			}
			if tc.event == "delete-metric-filter.json" && !strings.Contains(aws.ToString(p.Message), "alice@example.com") {
				t.Errorf("summary does not say who caused the drift:\n%s", aws.ToString(p.Message))
			}
		})
	}
}

func TestInvokeRejectsWithoutAWSCalls(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event []byte
	}{
		{"malformed JSON", []byte(`{"source":`)},
		{"unknown source", []byte(`{"version":"0","id":"x","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2026-11-22T10:00:00Z","region":"us-east-1","detail":{}}`)},
		{"unhandled call", bytes.Replace(event(t, "delete-metric-filter.json"), []byte(`"DeleteMetricFilter"`), []byte(`"CreateLogStream"`), 1)},
		{"wrong type", []byte(`{"mode":["report"]}`)},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, healedReport(), nil)
			_, err := f.h.Invoke(t.Context(), tc.event)
			var de *trigger.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Invoke error = %v, want a *trigger.DecodeError", err)
			}
			if len(f.runs) != 0 || len(f.sns.published) != 0 || f.metrics.Len() != 0 {
				t.Errorf("rejected event caused runs=%v publishes=%d metrics=%q", f.runs, len(f.sns.published), f.metrics.String())
			}
		})
	}
}

func TestInvokeSkipsOwnEvents(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	out, err := f.h.Invoke(t.Context(), event(t, "self-put-metric-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct{ Skipped bool }
	if json.Unmarshal(out, &resp) != nil || !resp.Skipped {
		t.Errorf("response %s", out)
	}
	if len(f.runs) != 0 || len(f.sns.published) != 0 {
		t.Errorf("own event caused runs=%v publishes=%d", f.runs, len(f.sns.published))
	}
	if !strings.Contains(f.logs.String(), "own role; skipped") {
		t.Errorf("no log line for the skip:\n%s", f.logs.String())
	}
	// Without the role configured, the same event runs (idempotently).
	f = newFixture(t, map[string]string{"WATCHKEEPER_SELF_ROLE_ARN": ""}, healedReport(), nil)
	if _, err := f.h.Invoke(t.Context(), event(t, "self-put-metric-filter.json")); err != nil || len(f.runs) != 1 {
		t.Errorf("without a self role: err=%v runs=%v", err, f.runs)
	}
}

// A call that failed (CloudTrail errorCode, e.g. AccessDenied) changed
// nothing: the handler skips it without any AWS call, so a principal
// without permissions cannot start full runs at will.
func TestInvokeSkipsFailedCalls(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	out, err := f.h.Invoke(t.Context(), event(t, "failed-delete-metric-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Skipped bool
		Reason  string
	}
	if json.Unmarshal(out, &resp) != nil || !resp.Skipped || !strings.Contains(resp.Reason, "AccessDenied") {
		t.Errorf("response %s", out)
	}
	if len(f.runs) != 0 || len(f.sns.published) != 0 || f.metrics.Len() != 0 {
		t.Errorf("failed call caused runs=%v publishes=%d metrics=%q", f.runs, len(f.sns.published), f.metrics.String())
	}
	if !strings.Contains(f.logs.String(), "the call failed, nothing changed; skipped") {
		t.Errorf("no log line for the skip:\n%s", f.logs.String())
	}
}

// Decode errors are returned, not also logged above debug: Lambda records
// the returned error once ("log or return, not both").
func TestInvokeReturnsDecodeErrorsWithoutLoggingThem(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	f.logs.Reset()
	if _, err := f.h.Invoke(t.Context(), []byte(`{"source":`)); err == nil {
		t.Fatal("malformed event accepted")
	}
	if f.logs.Len() != 0 {
		t.Errorf("decode error logged as well as returned:\n%s", f.logs.String())
	}
}

// A run that healed but could not verify before the deadline still gets its
// summary out (published with a live, bounded context although the
// invocation's has expired) and returns its report, not an error.
func TestInvokePublishesUnverifiedHealingAfterDeadline(t *testing.T) {
	rep := healedReport()
	rep.Compliant = false
	rep.Warnings = []string{"healing not verified: the account could not be observed again after applying (context deadline exceeded)"}
	f := newFixture(t, nil, rep, fmt.Errorf("%w: observe account after apply: %w", engine.ErrUnverified, context.DeadlineExceeded))
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	out, err := f.h.Invoke(ctx, event(t, "scheduled.json"))
	if err != nil {
		t.Fatalf("Invoke: %v, want the report", err)
	}
	var got report.Report
	if json.Unmarshal(out, &got) != nil || len(got.Actions) != 1 || got.Actions[0].Status != report.StatusApplied || len(got.Warnings) != 1 {
		t.Errorf("response %s", out)
	}
	if len(f.sns.published) != 1 {
		t.Fatalf("%d publishes, want the summary", len(f.sns.published))
	}
	if f.sns.ctxErrs[0] != nil || f.sns.budgets[0] <= 0 || f.sns.budgets[0] > publishTimeout {
		t.Errorf("published with context error %v and %s left, want a live context bounded by %s", f.sns.ctxErrs[0], f.sns.budgets[0], publishTimeout)
	}
	if n := strings.Count(f.logs.String(), `"msg":"run finished"`); n != 1 || !strings.Contains(f.logs.String(), "healing not verified") {
		t.Errorf("want one summary line naming the unverified healing:\n%s", f.logs.String())
	}
}

func TestInvalidConfigFailsEveryInvocation(t *testing.T) {
	f := newFixture(t, map[string]string{"WATCHKEEPER_MODE": "destroy", "WATCHKEEPER_EXCLUDE": "9.9"}, healedReport(), nil)
	for i := 0; i < 3; i++ {
		_, err := f.h.Invoke(t.Context(), event(t, "scheduled.json"))
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("invocation %d: error %v, want *ConfigError", i, err)
		}
		for _, want := range []string{"mode: ", "allowed: apply, report", "excludedControls: "} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	}
	if f.awsLoad != 0 || len(f.runs) != 0 || len(f.sns.published) != 0 {
		t.Errorf("invalid configuration still loaded AWS config %d times, ran %v, published %d", f.awsLoad, f.runs, len(f.sns.published))
	}
}

func TestInvokeQuietAndFailures(t *testing.T) {
	compliant := report.Report{Account: "123456789012", HomeRegion: "us-east-1", Mode: "apply", Compliant: true}
	t.Run("compliant run publishes nothing", func(t *testing.T) {
		f := newFixture(t, nil, compliant, nil)
		if _, err := f.h.Invoke(t.Context(), event(t, "scheduled.json")); err != nil {
			t.Fatal(err)
		}
		if len(f.sns.published) != 0 {
			t.Errorf("published %d summaries for a compliant, untouched account", len(f.sns.published))
		}
	})
	t.Run("notify off", func(t *testing.T) {
		f := newFixture(t, map[string]string{"WATCHKEEPER_NOTIFY": "false"}, healedReport(), nil)
		if _, err := f.h.Invoke(t.Context(), event(t, "scheduled.json")); err != nil || len(f.sns.published) != 0 {
			t.Errorf("err=%v publishes=%d", err, len(f.sns.published))
		}
	})
	t.Run("publish failure does not fail the run", func(t *testing.T) {
		f := newFixture(t, nil, healedReport(), nil)
		f.sns.err = errors.New("NotFound: topic does not exist")
		out, err := f.h.Invoke(t.Context(), event(t, "scheduled.json"))
		if err != nil || len(out) == 0 || !strings.Contains(f.logs.String(), "summary not published") {
			t.Errorf("err=%v out=%d logs=%s", err, len(out), f.logs.String())
		}
	})
	t.Run("account cannot be evaluated", func(t *testing.T) {
		f := newFixture(t, nil, report.Report{}, errors.New("observe account: no credentials"))
		_, err := f.h.Invoke(t.Context(), event(t, "scheduled.json"))
		var re *RunError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "no credentials") {
			t.Errorf("err = %v, want *RunError", err)
		}
		if len(f.sns.published) != 0 || f.metrics.Len() != 0 {
			t.Error("a run that evaluated nothing published or emitted metrics")
		}
	})
}
