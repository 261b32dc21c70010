package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// sqsBatch is pkg/trigger's SQS event fixture: two drift events, a
// truncated body, a scheduled event (not from the drift rule) and an
// auto-scaling call.
func sqsBatch(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pkg", "trigger", "testdata", "sqs", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// batchOf wraps event bodies in an SQS event, message ids m0, m1, ...
func batchOf(t *testing.T, bodies ...[]byte) []byte {
	t.Helper()
	ev := events.SQSEvent{}
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + string(rune('0'+i)), EventSource: "aws:sqs", Body: string(b)})
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func failures(t *testing.T, out []byte) []string {
	t.Helper()
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response is not an SQSEventResponse: %v\n%s", err, out)
	}
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

// A batch is one run; the records that are not handled drift events are
// reported by message id; automation's calls are skipped; the summary
// names every event of the run.
func TestBatchIsOneRunAndReportsMalformedRecords(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	out, err := f.h.Invoke(t.Context(), sqsBatch(t))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if len(f.runs) != 1 || !f.runs[0] {
		t.Fatalf("engine runs (apply flags) = %v, want one healing run", f.runs)
	}
	want := []string{"7b2a0f4c-1d3e-4b5a-9c6d-8e7f0a1b2c3d", "9c3b1e5d-2f4a-4c6b-8d7e-9f0a1b2c3d4e"}
	if got := failures(t, out); !slices.Equal(got, want) {
		t.Errorf("batch item failures = %v, want %v", got, want)
	}
	if n := strings.Count(f.metrics.String(), `"_aws"`); n != 1 {
		t.Errorf("%d EMF documents, want 1 (one run)", n)
	}
	if len(f.sns.published) != 1 {
		t.Fatalf("%d publishes, want 1", len(f.sns.published))
	}
	msg := aws.ToString(f.sns.published[0].Message)
	for _, want := range []string{"2 drift events", "PutMetricAlarm (monitoring.amazonaws.com) by arn:aws:iam::123456789012:user/bob",
		"DeleteMetricFilter (logs.amazonaws.com) by arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess"} {
		if !strings.Contains(msg, want) {
			t.Errorf("summary lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "TargetTracking-table/orders") {
		t.Errorf("summary lists the auto-scaling call, which was skipped:\n%s", msg)
	}
	if !strings.Contains(f.logs.String(), "AWS automation; skipped") {
		t.Errorf("no log line for the skipped auto-scaling call:\n%s", f.logs.String())
	}
}

// A batch with nothing to run for makes no AWS call and succeeds for the
// records it skipped.
func TestBatchWithoutDriftStartsNoRun(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	out, err := f.h.Invoke(t.Context(), batchOf(t, event(t, "self-put-metric-filter.json"), event(t, "failed-delete-metric-filter.json"),
		event(t, "autoscaling-put-metric-alarm.json"), event(t, "service-linked-role-delete-alarms.json"), []byte(`{"mode":"apply"}`)))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if len(f.runs) != 0 || len(f.sns.published) != 0 || f.metrics.Len() != 0 {
		t.Errorf("runs %v, publishes %d, metrics %q: want none", f.runs, len(f.sns.published), f.metrics.String())
	}
	if got := failures(t, out); !slices.Equal(got, []string{"m4"}) {
		t.Errorf("batch item failures = %v, want [m4] (the direct invocation)", got)
	}
}

// A run that cannot evaluate the account fails the whole batch, so SQS
// delivers every event again.
func TestBatchRunFailureFailsTheBatch(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	f.h.healer = fakeRunner{apply: true, err: errors.New("sts: no credentials"), calls: &f.runs, mu: &sync.Mutex{}}
	_, err := f.h.Invoke(t.Context(), batchOf(t, event(t, "delete-metric-filter.json"), event(t, "put-metric-alarm.json")))
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *RunError", err)
	}
	if len(f.runs) != 1 {
		t.Errorf("engine runs = %v, want 1", f.runs)
	}
}

// An SQS event without message ids cannot be answered item by item: it is
// rejected as a whole, before any AWS call.
func TestUnreportableBatchIsRejected(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	_, err := f.h.Invoke(t.Context(), []byte(`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`))
	var de *trigger.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *trigger.DecodeError", err)
	}
	if len(f.runs) != 0 {
		t.Errorf("engine runs = %v, want none", f.runs)
	}
}

// Single events by AWS automation are skipped as well (a rule target other
// than the queue, or a replay).
func TestAutomatedSingleEventIsSkipped(t *testing.T) {
	f := newFixture(t, nil, healedReport(), nil)
	out, err := f.h.Invoke(t.Context(), event(t, "autoscaling-put-metric-alarm.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s skipped
	if err := json.Unmarshal(out, &s); err != nil || !s.Skipped || len(f.runs) != 0 {
		t.Errorf("response %s, runs %v: want skipped without a run", out, f.runs)
	}
}
