package coalesce_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/test/coalesce"
	"github.com/watchkeeper/watchkeeper/test/lambdart"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	region   = "us-east-1"
	roleName = "watchkeeper-remediator" // infra.RoleName
	selfRole = "arn:aws:iam::" + moto.Account + ":role/" + roleName
	email    = "sec@example.com"
)

var (
	motoSrv   *moto.Server
	bootstrap string
)

func TestMain(m *testing.M) {
	os.Exit(lambdart.Main("coalesce", func(b string, srv *moto.Server) int {
		bootstrap, motoSrv = b, srv
		return m.Run()
	}))
}

// account is one test's moto account: a compliant account whose topic
// also delivers to a summaries queue (so the test can read what the
// function published), the drift queue with its dead-letter queue, and
// the drift rule with the stack's pattern.
type account struct {
	world.Account
	sqs                   *sqs.Client
	eb                    *eventbridge.Client
	drift, dlq, summaries queueRef
	proc                  *lambdart.Process
	mapping               *coalesce.Mapping
}

type queueRef struct{ url, arn string }

func newQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) queueRef {
	t.Helper()
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	a, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return queueRef{aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]}
}

func setUp(t *testing.T) *account {
	t.Helper()
	if err := motoSrv.ResetErr(); err != nil {
		t.Fatal(err)
	}
	ctx, cfg := t.Context(), motoSrv.Config(region)
	a := &account{sqs: sqs.NewFromConfig(cfg), eb: eventbridge.NewFromConfig(cfg)}
	f := coalesce.Stack
	a.dlq = newQueue(t, a.sqs, "watchkeeper-dlq", map[string]string{"KmsMasterKeyId": "alias/watchkeeper-queues", "MessageRetentionPeriod": "1209600"})
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": a.dlq.arn, "maxReceiveCount": f.MaxReceiveCount})
	a.drift = newQueue(t, a.sqs, "watchkeeper-drift", map[string]string{
		"KmsMasterKeyId": "alias/watchkeeper-queues", "RedrivePolicy": string(redrive),
		"VisibilityTimeout": fmt.Sprint(int(f.VisibilityTimeout.Seconds())), "MessageRetentionPeriod": "345600",
	})
	a.summaries = newQueue(t, a.sqs, "summaries", nil)

	acct, err := world.New(motoSrv.Config).Compliant(ctx, world.CompliantSpec{HomeRegion: region, Endpoints: []string{"email:" + email, "sqs:" + a.summaries.arn}})
	if err != nil {
		t.Fatal(err)
	}
	a.Account = acct

	// The drift rule, exactly as the stack writes its control part.
	pattern := trigger.Pattern("aws", moto.Account, "arn:aws:sts::"+moto.Account+":assumed-role/"+roleName+"/")
	if _, err := a.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("watchkeeper-drift"), EventPattern: aws.String(string(pattern.JSON()))}); err != nil {
		t.Fatalf("put rule: %v", err)
	}
	if _, err := a.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("watchkeeper-drift"), Targets: []ebtypes.Target{
		{Id: aws.String("Target0"), Arn: aws.String(a.drift.arn), InputTransformer: wholeEvent},
	}}); err != nil {
		t.Fatalf("put targets: %v", err)
	}

	env := moto.Env(os.Environ(), motoSrv.URL, region)
	env = append(env, "WATCHKEEPER_REGIONS="+region, "WATCHKEEPER_SUBSCRIPTIONS=email:"+email,
		"WATCHKEEPER_SELF_ROLE_ARN="+selfRole, "LOG_LEVEL=INFO")
	a.proc, err = lambdart.Launch(bootstrap, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.proc.Stop()
		if t.Failed() {
			t.Logf("bootstrap stderr:\n%s", a.proc.Stderr)
		}
	})
	if _, err := a.proc.ColdStart(ctx); err != nil {
		t.Fatal(err)
	}
	a.mapping = &coalesce.Mapping{
		Figures: f, SQS: a.sqs, QueueURL: a.drift.url, QueueARN: a.drift.arn, Region: region,
		Invoke: func(ctx context.Context, msgs []lambdart.SQSMessage) (lambdart.BatchResult, error) {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			return a.proc.InvokeSQS(ctx, a.drift.arn, region, msgs)
		},
	}
	return a
}

// wholeEvent works around moto 5.2.1, whose rule targets receive the event
// without its "account" member (moto/events/utils.py,
// EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE). EventBridge delivers
// the whole event to a target without an input transformer, "account"
// included (EventBridge user guide, "Amazon EventBridge events": every
// event has version, id, detail-type, source, account, time, region,
// resources and detail). This transformer writes exactly that shape; the
// stack's target has none.
var wholeEvent = &ebtypes.InputTransformer{
	InputPathsMap: map[string]string{
		"id": "$.id", "detail-type": "$.detail-type", "source": "$.source", "account": "$.account",
		"time": "$.time", "region": "$.region", "resources": "$.resources", "detail": "$.detail",
	},
	InputTemplate: aws.String(`{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", "account": "<account>", ` +
		`"time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}`),
}

// call is a CloudTrail-shaped "AWS API Call via CloudTrail" event.
type call struct {
	id, source, eventSource, name string
	identity                      map[string]any
	params                        map[string]any
	errorCode                     string
}

func (c call) entry(at time.Time) ebtypes.PutEventsRequestEntry {
	d := map[string]any{
		"eventVersion": "1.09", "eventID": c.id, "eventTime": at.UTC().Format(time.RFC3339),
		"eventSource": c.eventSource, "eventName": c.name, "awsRegion": region,
		"sourceIPAddress": "203.0.113.10", "userAgent": "HashiCorp/2.0 Terraform/1.9.5 terraform-provider-aws/5.70.0",
		"userIdentity": c.identity, "requestParameters": c.params, "responseElements": nil,
		"requestID": "req-" + c.id, "eventType": "AwsApiCall", "managementEvent": true, "readOnly": false,
		"recipientAccountId": moto.Account, "eventCategory": "Management",
	}
	if c.errorCode != "" {
		d["errorCode"], d["errorMessage"] = c.errorCode, "User is not authorized to perform this operation"
	}
	detail, _ := json.Marshal(d)
	return ebtypes.PutEventsRequestEntry{Source: aws.String(c.source), DetailType: aws.String(trigger.APICallDetailType), Detail: aws.String(string(detail)), Time: aws.Time(at)}
}

func assumedRole(role, session, path string) map[string]any {
	return map[string]any{"type": "AssumedRole", "principalId": "AROAEXAMPLE:" + session, "accountId": moto.Account,
		"arn": "arn:aws:sts::" + moto.Account + ":assumed-role/" + role + "/" + session,
		"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROAEXAMPLE",
			"arn": "arn:aws:iam::" + moto.Account + ":role" + path + role, "accountId": moto.Account, "userName": role},
			"attributes": map[string]any{"creationDate": "2026-11-22T10:00:00Z", "mfaAuthenticated": "false"}}}
}

const pipeline = "terraform-ci"

// alarmCall is the i-th call of the apply: PutMetricAlarm on the
// pipeline's alarms, and every 50th a DeleteAlarms.
func alarmCall(i int) call {
	c := call{id: fmt.Sprintf("apply-%04d", i), source: "aws.monitoring", eventSource: "monitoring.amazonaws.com", name: "PutMetricAlarm",
		identity: assumedRole(pipeline, "apply-7f3c", "/"),
		params: map[string]any{"alarmName": fmt.Sprintf("app-%04d-cpu-high", i), "metricName": "CPUUtilization", "namespace": "AWS/EC2",
			"statistic": "Average", "period": 60, "evaluationPeriods": 3, "threshold": 80.0, "comparisonOperator": "GreaterThanThreshold",
			"dimensions": []any{map[string]any{"name": "AutoScalingGroupName", "value": fmt.Sprintf("app-%04d", i)}}, "alarmActions": []any{}}}
	if i%50 == 49 {
		c.name, c.params = "DeleteAlarms", map[string]any{"alarmNames": []any{fmt.Sprintf("app-%04d-cpu-high", i)}}
	}
	return c
}

// noise are calls the drift rule must drop: auto scaling's target-tracking
// alarms (its service-linked role), another service's service-linked role,
// the remediator's own calls, and denied calls.
func noise(i int) call {
	c := alarmCall(i)
	c.id = fmt.Sprintf("noise-%04d", i)
	switch i % 4 {
	case 0:
		c.identity = assumedRole("AWSServiceRoleForApplicationAutoScaling_DynamoDBTable", "AutoScaling", "/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/")
		c.identity["invokedBy"] = "application-autoscaling.amazonaws.com"
	case 1:
		c.identity = assumedRole("AWSServiceRoleForAutoScaling", "AutoScaling", "/aws-service-role/autoscaling.amazonaws.com/")
		c.identity["invokedBy"] = "autoscaling.amazonaws.com"
	case 2:
		c.identity = assumedRole(roleName, "watchkeeper-remediator", "/")
	case 3:
		c.errorCode = "AccessDenied"
	}
	return c
}

// An infrastructure-as-code apply that makes 500 alarm calls in one minute
// (with 140 calls by auto scaling, service-linked roles, the remediator
// itself and denied ones mixed in) ends in at most 3 runs; every event is
// delivered, none reaches the dead-letter queue, and the summary of the run
// that healed names every event of its batch.
func TestBurstOf500AlarmEventsCoalesces(t *testing.T) {
	const calls, noisy, burst = 500, 140, time.Minute
	a := setUp(t)
	ctx := t.Context()
	// The apply also deletes one of Watchkeeper's alarms, so the first run
	// heals and publishes its summary.
	cw := cloudwatch.NewFromConfig(motoSrv.Config(region))
	alarms, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(world.DefaultPrefix)})
	if err != nil || len(alarms.MetricAlarms) == 0 {
		t.Fatalf("describe alarms: %v (%d)", err, len(alarms.MetricAlarms))
	}
	healed := aws.ToString(alarms.MetricAlarms[0].AlarmName)
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{healed}}); err != nil {
		t.Fatal(err)
	}

	// The burst, evenly over one minute of virtual time, each call put on
	// the bus as it happens and the pollers polling after each.
	start, realStart := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), time.Now()
	var now time.Time
	step := burst / time.Duration(calls+noisy)
	sent := map[string]string{} // event id -> the alarm named in its summary line
	var tick []ebtypes.PutEventsRequestEntry
	for i, n := 0, 0; i < calls+noisy; i++ {
		var c call
		switch {
		case i == 0:
			c = call{id: "apply-delete-own", source: "aws.monitoring", eventSource: "monitoring.amazonaws.com", name: "DeleteAlarms",
				identity: assumedRole(pipeline, "apply-7f3c", "/"), params: map[string]any{"alarmNames": []any{healed}}}
		case i%((calls+noisy)/noisy) == 2 && n < noisy:
			c = noise(n)
			n++
		default:
			c = alarmCall(len(sent))
		}
		if !strings.HasPrefix(c.id, "noise-") {
			sent[c.id] = alarmName(c)
		}
		// Each call at its own time; PutEvents takes up to 10, so the
		// pollers poll after every tenth (under a second of the burst).
		tick = append(tick, c.entry(start.Add(time.Duration(i)*step)))
		if len(tick) < 10 && i < calls+noisy-1 {
			continue
		}
		now = start.Add(time.Duration(i) * step)
		out, err := a.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: tick})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("put events: %v", err)
		}
		tick = tick[:0]
		if _, err := a.mapping.Step(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("burst put in %v of real time", time.Since(realStart).Round(time.Millisecond))
	// The pollers keep polling until every batch is delivered.
	for deadline := now.Add(10 * time.Minute); ; now = now.Add(time.Second) {
		got, err := a.mapping.Step(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if got == 0 && a.mapping.Idle() {
			break
		}
		if now.After(deadline) {
			t.Fatal("the mapping did not drain the queue in 10 virtual minutes")
		}
	}

	// Figures.
	for _, b := range a.mapping.Batches {
		if b.Result.WholeBatch || len(b.Result.Failed) > 0 {
			t.Errorf("batch of %d failed: whole=%v failed=%v %s", len(b.IDs), b.Result.WholeBatch, b.Result.Failed, b.Result.Why)
		}
	}
	runs := strings.Count(a.proc.Stderr.String(), `"msg":"run finished"`)
	dlq := depth(t, a.sqs, a.dlq.url)
	left := depth(t, a.sqs, a.drift.url)
	t.Logf("coalesce: %d alarm calls + %d dropped calls in %v -> %d batches -> %d runs; dead-letter queue %d, drift queue %d left (window %v, batch size %d, max concurrency %d)",
		len(sent), noisy, burst, len(a.mapping.Batches), runs, dlq, left, a.mapping.Window, a.mapping.BatchSize, a.mapping.MaxConcurrency)
	delivered := map[string]bool{}
	for i, b := range a.mapping.Batches {
		t.Logf("batch %d: %d events, %d bytes, gathered from %v to %v, delivered for %s, run took %v", i+1, len(b.IDs), b.Bytes,
			b.Opened.Sub(start), b.Delivered.Sub(start), b.Why, b.Result.Duration().Round(time.Millisecond))
		for _, id := range batchEvents(t, b) {
			if delivered[id] {
				t.Errorf("event %s delivered twice", id)
			}
			delivered[id] = true
		}
	}
	if runs > 3 || runs != len(a.mapping.Batches) {
		t.Errorf("%d runs for %d batches, want one run per batch and at most 3", runs, len(a.mapping.Batches))
	}
	if dlq != 0 || left != 0 {
		t.Errorf("dead-letter queue holds %d, drift queue %d: want both empty", dlq, left)
	}
	// Exactly the apply's calls reached the function; no dropped call did.
	if len(delivered) != len(sent) {
		t.Errorf("%d events delivered, want the %d calls of the apply", len(delivered), len(sent))
	}
	for id := range delivered {
		if _, ok := sent[id]; !ok {
			t.Errorf("event %s delivered; the drift rule should have dropped it", id)
		}
	}

	// Every published summary names every event of its run's batch, and
	// the run that healed (the first) published one.
	line := func(id string) string {
		return " by arn:aws:sts::" + moto.Account + ":assumed-role/" + pipeline + "/apply-7f3c on alarm " + sent[id] + " in " + region + "\n"
	}
	summarised := map[int]bool{}
	for _, msg := range published(t, a.sqs, a.summaries.url) {
		for i, b := range a.mapping.Batches {
			ids := batchEvents(t, b)
			if !strings.Contains(msg, line(ids[0])) {
				continue
			}
			summarised[i] = true
			if !strings.Contains(msg, fmt.Sprintf("Trigger:    %d drift events", len(ids))) {
				t.Errorf("summary of batch %d does not count its %d events", i+1, len(ids))
			}
			for _, id := range ids {
				if !strings.Contains(msg, line(id)) {
					t.Errorf("summary of batch %d does not name event %s (alarm %s)", i+1, id, sent[id])
				}
			}
		}
	}
	if !summarised[0] {
		t.Error("the healing run (batch 1) published no summary naming its events")
	}
	t.Logf("summaries naming every event of their batch: %d of %d runs", len(summarised), runs)
}

// A record that is not a drift event is reported, not dropped: SQS
// delivers it again until maxReceiveCount, then moves it to the
// dead-letter queue. It starts no run; the drift event beside it does.
func TestMalformedRecordEndsInTheDeadLetterQueue(t *testing.T) {
	a := setUp(t)
	ctx := t.Context()
	if _, err := a.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(a.drift.url), MessageBody: aws.String(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.monitoring"`)}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if out, err := a.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{alarmCall(1).entry(start)}}); err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("put event: %v", err)
	}
	now := start
	for ; now.Sub(start) < time.Duration(a.mapping.MaxReceiveCount+2)*a.mapping.VisibilityTimeout; now = now.Add(time.Minute) {
		if _, err := a.mapping.Step(ctx, now); err != nil {
			t.Fatal(err)
		}
		if depth(t, a.sqs, a.dlq.url) == 1 && a.mapping.Idle() {
			break
		}
	}
	deliveries := 0
	for _, b := range a.mapping.Batches {
		deliveries += len(b.Result.Failed)
	}
	runs := strings.Count(a.proc.Stderr.String(), `"msg":"run finished"`)
	dlq, left := depth(t, a.sqs, a.dlq.url), depth(t, a.sqs, a.drift.url)
	t.Logf("malformed record: reported %d times over %v of virtual time; %d runs; dead-letter queue %d, drift queue %d",
		deliveries, now.Sub(start), runs, dlq, left)
	if dlq != 1 || left != 0 || runs != 1 || deliveries != a.mapping.MaxReceiveCount {
		t.Errorf("dead-letter queue %d, drift queue %d, runs %d, reported %d times: want 1, 0, 1 and %d",
			dlq, left, runs, deliveries, a.mapping.MaxReceiveCount)
	}
}

func alarmName(c call) string {
	if n, ok := c.params["alarmName"].(string); ok {
		return n
	}
	return c.params["alarmNames"].([]any)[0].(string)
}

// depth is a queue's visible plus in-flight messages.
func depth(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	var n, m int
	fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], &n)
	fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)], &m)
	return n + m
}

// published are the summaries the function sent to its topic, as the
// summaries queue received them (SNS's JSON envelope).
func published(t *testing.T, c *sqs.Client, url string) []string {
	t.Helper()
	var out []string
	for {
		r, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			return out
		}
		for _, m := range r.Messages {
			var env struct{ Message string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil || env.Message == "" {
				out = append(out, aws.ToString(m.Body))
			} else {
				out = append(out, env.Message)
			}
			if _, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// batchEvents are the CloudTrail event ids (detail.eventID) of a batch.
func batchEvents(t *testing.T, b coalesce.Batch) []string {
	t.Helper()
	ids := make([]string, 0, len(b.Bodies))
	for _, body := range b.Bodies {
		var ev struct {
			Detail struct {
				EventID string `json:"eventID"`
			} `json:"detail"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatalf("delivered body is not an event: %v\n%s", err, body)
		}
		ids = append(ids, ev.Detail.EventID)
	}
	return ids
}
