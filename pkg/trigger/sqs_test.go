package trigger_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

func loadBatch(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sqs", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every record of a batch is kept, in order: drift events decoded, and
// every other record with the reason it was rejected, so the handler can
// report it by message id instead of dropping it.
func TestDecodeBatchKeepsEveryRecord(t *testing.T) {
	raw := loadBatch(t)
	if !trigger.IsBatch(raw) {
		t.Fatal("IsBatch = false for an SQS event")
	}
	b, err := trigger.DecodeBatch(raw)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Call string
		Rejected bool
	}
	var got []row
	for _, r := range b.Records {
		if (r.Err == nil) == (r.Trigger.Kind == "") {
			t.Errorf("record %s: want exactly one of Trigger and Err, got %+v", r.MessageID, r)
		}
		if r.Err != nil {
			var de *trigger.DecodeError
			if !errors.As(r.Err, &de) {
				t.Errorf("record %s: error is %T, want *DecodeError", r.MessageID, r.Err)
			}
		}
		got = append(got, row{r.MessageID, r.Trigger.Call.Name, r.Err != nil})
	}
	want := []row{
		{"059f36b4-87a3-44ab-83d2-661975830a7d", "PutMetricAlarm", false},
		{"2e1424d4-f796-459a-8184-9c92662be6da", "DeleteMetricFilter", false},
		{"7b2a0f4c-1d3e-4b5a-9c6d-8e7f0a1b2c3d", "", true}, // truncated JSON
		{"9c3b1e5d-2f4a-4c6b-8d7e-9f0a1b2c3d4e", "", true}, // a scheduled event: not from the drift rule
		{"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "PutMetricAlarm", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// A body is decoded exactly as a directly delivered event is.
func TestDecodeBatchBodyIsDecode(t *testing.T) {
	single, err := trigger.Decode(load(t, "put-metric-alarm.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := trigger.DecodeBatch(loadBatch(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(single, b.Records[0].Trigger); diff != "" {
		t.Errorf("batch record vs Decode (-want +got):\n%s", diff)
	}
}

func TestDecodeBatchRejectsRecords(t *testing.T) {
	body := string(load(t, "put-metric-alarm.json"))
	for _, tc := range []struct {
		name   string
		record map[string]any
	}{
		{"not from SQS", map[string]any{"messageId": "m", "eventSource": "aws:kinesis", "body": body}},
		{"no body", map[string]any{"messageId": "m", "eventSource": "aws:sqs"}},
		{"body not JSON", map[string]any{"messageId": "m", "eventSource": "aws:sqs", "body": "DeleteMetricFilter"}},
		{"direct invocation", map[string]any{"messageId": "m", "eventSource": "aws:sqs", "body": `{"mode":"apply"}`}},
		{"unhandled call", map[string]any{"messageId": "m", "eventSource": "aws:sqs", "body": strings.Replace(body, "PutMetricAlarm", "DescribeAlarms", 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(map[string]any{"Records": []any{tc.record}})
			b, err := trigger.DecodeBatch(raw)
			if err != nil {
				t.Fatalf("whole batch rejected: %v", err)
			}
			if len(b.Records) != 1 || b.Records[0].Err == nil || b.Records[0].MessageID != "m" {
				t.Errorf("got %+v, want one rejected record m", b.Records)
			}
		})
	}
}

// Without a message id a record cannot be reported as a batch item
// failure, so the batch as a whole fails (and SQS retries it).
func TestDecodeBatchRejectsUnreportableEvents(t *testing.T) {
	for name, raw := range map[string]string{
		"no records":      `{"Records":[]}`,
		"records null":    `{"Records":null}`,
		"not an object":   `[]`,
		"no message id":   `{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`,
		"empty id":        `{"Records":[{"messageId":"","eventSource":"aws:sqs","body":"{}"}]}`,
		"numeric id":      `{"Records":[{"messageId":7,"eventSource":"aws:sqs","body":"{}"}]}`,
		"trailing data":   `{"Records":[{"messageId":"m","eventSource":"aws:sqs","body":"{}"}]} x`,
		"invalid UTF-8":   "{\"Records\":[{\"messageId\":\"m\xff\"}]}",
		"over the limit":  `{"Records":[{"messageId":"m","body":"` + strings.Repeat("a", trigger.MaxBatchBytes) + `"}]}`,
		"record is array": `{"Records":[[]]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := trigger.DecodeBatch([]byte(raw))
			var de *trigger.DecodeError
			if !errors.As(err, &de) {
				t.Errorf("err = %v, want a *DecodeError", err)
			}
		})
	}
}

func TestIsBatchOnlyForSQSEvents(t *testing.T) {
	for _, name := range []string{"put-metric-alarm.json", "scheduled.json", "direct-report.json"} {
		if trigger.IsBatch(load(t, name)) {
			t.Errorf("IsBatch(%s) = true", name)
		}
	}
	if trigger.IsBatch([]byte(`not json`)) {
		t.Error("IsBatch(not json) = true")
	}
}

// DecodeBatch never panics, returns only *DecodeError, and keeps every
// record it returns either decoded or rejected, never both.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(loadBatch(f))
	f.Add([]byte(`{"Records":[{"messageId":"m","eventSource":"aws:sqs","body":"{\"mode\":\"report\"}"}]}`))
	f.Add([]byte(`{"Records":[{"messageId":"m","eventSource":"aws:sqs","body":null}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := trigger.DecodeBatch(raw)
		if err != nil {
			var de *trigger.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is %T, want *DecodeError: %v", err, err)
			}
			return
		}
		for _, r := range b.Records {
			if r.MessageID == "" || (r.Err == nil) == (r.Trigger.Kind == "") {
				t.Fatalf("record %+v", r)
			}
			if r.Err == nil && r.Trigger.Kind != trigger.Drift {
				t.Fatalf("accepted a %s event from the drift queue", r.Trigger.Kind)
			}
		}
	})
}
