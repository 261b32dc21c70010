package notify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// alarmEvents are n PutMetricAlarm events by one pipeline role, one
// second apart, each on its own alarm: what an infrastructure-as-code apply
// produces.
func alarmEvents(n int) []trigger.Trigger {
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	out := make([]trigger.Trigger, n)
	for i := range out {
		out[i] = trigger.Trigger{
			Kind: trigger.Drift, ID: fmt.Sprintf("evt-%04d", i), Account: "123456789012", Region: "us-east-1",
			Time:      start.Add(time.Duration(i) * time.Second),
			Call:      trigger.APICall{Source: "aws.monitoring", EventSource: "monitoring.amazonaws.com", Name: "PutMetricAlarm"},
			Actor:     trigger.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::123456789012:assumed-role/terraform-ci/apply"},
			Resources: []string{fmt.Sprintf("alarm app-%04d-cpu-high", i)},
		}
	}
	return out
}

func batchRun(t *testing.T, n int) notify.Run {
	r := healed(t)
	r.Events = alarmEvents(n)
	r.Trigger = r.Events[0]
	return r
}

func TestBatchMessageGolden(t *testing.T) {
	got := "Subject: " + notify.Subject(batchRun(t, 3)) + "\n\n" + notify.Message(batchRun(t, 3))
	path := filepath.Join("testdata", "batch.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/notify -run TestBatchMessageGolden -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

// The summary of a 500-event batch names every event: its call, caller and
// resource.
func TestBatchMessageNamesEveryEvent(t *testing.T) {
	msg := notify.Message(batchRun(t, 500))
	for _, e := range alarmEvents(500) {
		line := "  - PutMetricAlarm (monitoring.amazonaws.com) by " + e.Actor.ARN + " on " + e.Resources[0] + " in us-east-1\n"
		if !strings.Contains(msg, line) {
			t.Fatalf("message does not name event %s (%q)", e.ID, line)
		}
	}
	if strings.Contains(msg, "more (every event") {
		t.Error("500 events were truncated")
	}
}

// A huge batch is cut at a bound that keeps the message under SNS's 256 KB,
// and the rest is counted, not silently dropped.
func TestBatchMessageIsBoundedAndCountsTheRest(t *testing.T) {
	const n = 10000 // the event source mapping's largest batch
	msg := notify.Message(batchRun(t, n))
	if len(msg) > 200<<10 {
		t.Errorf("message is %d bytes", len(msg))
	}
	listed := strings.Count(msg, "  - PutMetricAlarm (monitoring.amazonaws.com)")
	var more int
	if _, err := fmt.Sscanf(msg[strings.LastIndex(msg, "  ... and "):], "  ... and %d more", &more); err != nil {
		t.Fatalf("no count of the unlisted events: %v", err)
	}
	if listed+more != n || listed < 500 {
		t.Errorf("listed %d + counted %d, want %d in all and at least 500 listed", listed, more, n)
	}
}

// One event keeps the single-event summary: no list, the caller named.
func TestBatchOfOneReadsLikeOneEvent(t *testing.T) {
	one := batchRun(t, 1)
	single := healed(t)
	single.Trigger = one.Trigger
	if diff := cmp.Diff(notify.Message(single), notify.Message(one)); diff != "" {
		t.Errorf("batch of one vs single event (-single +batch):\n%s", diff)
	}
}
