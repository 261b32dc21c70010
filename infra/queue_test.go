package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/test/coalesce"
)

// The queues and their key, told apart by construct id (prefixed).
func (f *fixture) deadLetterQueueID(t *testing.T) string {
	id, _ := f.prefixed(t, "AWS::SQS::Queue", "DeadLetterQueue")
	return id
}

func (f *fixture) driftQueueID(t *testing.T) string {
	id, _ := f.prefixed(t, "AWS::SQS::Queue", "DriftQueue")
	return id
}

func (f *fixture) queueKeyID(t *testing.T) string {
	id, _ := f.prefixed(t, "AWS::KMS::Key", "QueueKey")
	return id
}

// Both queues hold CloudTrail records, so both are encrypted with a
// customer managed key that rotates, not with SQS's or AWS's key.
func TestEveryQueueIsEncryptedWithARotatingCustomerManagedKey(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	queues := f.resources("AWS::SQS::Queue")
	if len(queues) != 2 {
		t.Fatalf("got %d queues, want 2 (drift, dead-letter)", len(queues))
	}
	keys := f.resources("AWS::KMS::Key")
	for id, q := range queues {
		ga, _ := props(q)["KmsMasterKeyId"].(map[string]any)["Fn::GetAtt"].([]any)
		if len(ga) != 2 || ga[1] != "Arn" || keys[ga[0].(string)] == nil {
			t.Errorf("queue %s KmsMasterKeyId = %v, want the ARN of a key in this stack", id, props(q)["KmsMasterKeyId"])
			continue
		}
		if props(keys[ga[0].(string)])["EnableKeyRotation"] != true {
			t.Errorf("queue %s key %s does not rotate", id, ga[0])
		}
		if props(q)["SqsManagedSseEnabled"] == true {
			t.Errorf("queue %s also has SQS-managed encryption", id)
		}
	}
}

func TestDriftQueueRedrivesToTheDeadLetterQueue(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	q := props(f.resources("AWS::SQS::Queue")[f.driftQueueID(t)])
	want := map[string]any{
		"KmsMasterKeyId":         getAtt(f.queueKeyID(t), "Arn"),
		"VisibilityTimeout":      float64(DriftVisibilityTimeoutMinutes * 60),
		"MessageRetentionPeriod": float64(DriftRetentionDays * 24 * 3600),
		"RedrivePolicy":          map[string]any{"deadLetterTargetArn": getAtt(f.deadLetterQueueID(t), "Arn"), "maxReceiveCount": float64(DriftMaxReceiveCount)},
	}
	got := map[string]any{}
	for k := range want {
		got[k] = q[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift queue (-want +got):\n%s", diff)
	}
}

// The function reads the drift queue in batches: one mapping, with the
// batching window, batch size, maximum concurrency and partial batch
// responses, created after the policy that lets it read the queue.
func TestDriftQueueFeedsTheFunctionInBatches(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	id, esm := f.only(t, "AWS::Lambda::EventSourceMapping")
	want := map[string]any{
		"FunctionName":                   ref(f.logicalID(t, "AWS::Lambda::Function")),
		"EventSourceArn":                 getAtt(f.driftQueueID(t), "Arn"),
		"BatchSize":                      float64(DriftBatchSize),
		"MaximumBatchingWindowInSeconds": float64(DriftBatchWindowSeconds),
		"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
		"ScalingConfig":                  map[string]any{"MaximumConcurrency": float64(DriftMaxConcurrency)},
	}
	got := map[string]any{}
	for k, v := range props(esm) {
		if k != "Tags" { // ManagedBy, asserted for every resource elsewhere
			got[k] = v
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event source mapping %s (-want +got):\n%s", id, diff)
	}
	policyID, _ := f.prefixed(t, "AWS::IAM::Policy", "RemediatorPolicy")
	deps, _ := esm["DependsOn"].([]any)
	found := false
	for _, d := range deps {
		found = found || d == policyID
	}
	if !found {
		t.Errorf("mapping depends on %v, want %s (Lambda checks the role's queue permissions at creation)", deps, policyID)
	}
}

// The figures stay within what Lambda and SQS accept, and relate as the
// Lambda developer guide asks.
func TestDriftQueueFiguresRespectTheServiceLimits(t *testing.T) {
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"batching window 1-300 s (a batch size over 10 needs at least 1)", DriftBatchWindowSeconds >= 1 && DriftBatchWindowSeconds <= 300},
		{"batch size at most 10,000 (standard queue)", DriftBatchSize <= 10000},
		{"maximum concurrency 2-1,000", DriftMaxConcurrency >= 2 && DriftMaxConcurrency <= 1000},
		{"visibility timeout at least six times the function timeout", DriftVisibilityTimeoutMinutes >= 6*FunctionTimeoutMinutes},
		{"visibility timeout at most 12 hours", DriftVisibilityTimeoutMinutes <= 12*60},
		{"retention longer than every receive a record can get", DriftRetentionDays*24*60 > DriftMaxReceiveCount*DriftVisibilityTimeoutMinutes},
		{"the dead-letter queue keeps records longer than the drift queue", 14 > DriftRetentionDays},
	} {
		if !c.ok {
			t.Errorf("not so: %s", c.what)
		}
	}
}

// Only the drift rule may send to the drift queue: the queue policy names
// it, and nothing else is allowed to send.
func TestOnlyTheDriftRuleSendsToTheDriftQueue(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	queueID := f.driftQueueID(t)
	var ruleID string
	for id, r := range f.resources("AWS::Events::Rule") {
		if tg, _ := props(r)["Targets"].([]any); len(tg) == 1 && cmp.Equal(tg[0].(map[string]any)["Arn"], getAtt(queueID, "Arn")) {
			ruleID = id
		}
	}
	if ruleID == "" {
		t.Fatal("no rule targets the drift queue")
	}
	var sends []any
	for _, p := range f.resources("AWS::SQS::QueuePolicy") {
		if !cmp.Equal(props(p)["Queues"], []any{ref(queueID)}) {
			continue
		}
		for _, s := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			if st["Effect"] == "Allow" {
				sends = append(sends, st)
			}
		}
	}
	want := []any{map[string]any{
		"Sid": "AllowTheDriftRuleToSend", "Effect": "Allow", "Action": "sqs:SendMessage",
		"Principal": map[string]any{"Service": "events.amazonaws.com"},
		"Resource":  getAtt(queueID, "Arn"),
		"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": getAtt(ruleID, "Arn")}},
	}}
	if diff := cmp.Diff(want, sends); diff != "" {
		t.Errorf("drift queue Allow statements (-want +got):\n%s", diff)
	}
}

// EventBridge may use the queue key only for this account's rules.
func TestQueueKeyLetsOnlyThisAccountsRulesUseIt(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	key := props(f.resources("AWS::KMS::Key")[f.queueKeyID(t)])
	var events []any
	for _, s := range key["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		st := s.(map[string]any)
		if p, _ := st["Principal"].(map[string]any); p["Service"] != nil {
			events = append(events, st)
		}
	}
	want := []any{map[string]any{
		"Sid": "AllowThisAccountsRulesToSendToTheQueues", "Effect": "Allow",
		"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey"},
		"Principal": map[string]any{"Service": "events.amazonaws.com"},
		"Resource":  "*",
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": testAccount},
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:events:" + testRegion + ":" + testAccount + ":rule/*"},
		},
	}}
	if diff := cmp.Diff(want, events); diff != "" {
		b, _ := json.Marshal(key["KeyPolicy"])
		t.Errorf("queue key's service statements (-want +got):\n%s\npolicy: %s", diff, b)
	}
}

// test/coalesce proves the coalescing with the stack's figures.
func TestCoalesceProofUsesTheStacksFigures(t *testing.T) {
	want := coalesce.Figures{
		Window:            DriftBatchWindowSeconds * time.Second,
		BatchSize:         DriftBatchSize,
		MaxConcurrency:    DriftMaxConcurrency,
		VisibilityTimeout: DriftVisibilityTimeoutMinutes * time.Minute,
		MaxReceiveCount:   DriftMaxReceiveCount,
	}
	if diff := cmp.Diff(want, coalesce.Stack); diff != "" {
		t.Errorf("test/coalesce figures differ from the stack's (-stack +coalesce):\n%s", diff)
	}
}
