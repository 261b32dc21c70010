package cdkcheck_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/test/cfn"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// selfCall is a CloudTrail-recorded call on one of Watchkeeper's own
// resources (or a look-alike), with its requestParameters.
type selfCall struct {
	id, source, eventSource, eventName string
	params                             map[string]any
	errorCode                          string
}

func (c selfCall) entry() ebtypes.PutEventsRequestEntry {
	d := map[string]any{
		"eventVersion": "1.09", "eventID": c.id, "eventTime": "2026-11-23T06:00:00Z",
		"eventSource": c.eventSource, "eventName": c.eventName, "awsRegion": "us-east-1",
		"userIdentity":      iamUser("mallory"),
		"requestParameters": c.params, "eventType": "AwsApiCall", "managementEvent": true, "readOnly": false,
		"recipientAccountId": moto.Account,
	}
	if c.errorCode != "" {
		d["errorCode"] = c.errorCode
	}
	detail, _ := json.Marshal(d)
	return ebtypes.PutEventsRequestEntry{Source: aws.String(c.source), DetailType: aws.String(viaCloudTrail), Detail: aws.String(string(detail))}
}

// sink is an SQS queue in moto standing in for a rule's real target.
func sink(t *testing.T, q *sqs.Client, name string) (url *string, arn string) {
	t.Helper()
	out, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	attrs, err := q.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	return out.QueueUrl, attrs.Attributes["QueueArn"]
}

func putRule(t *testing.T, eb *eventbridge.Client, name string, pattern map[string]any, target ebtypes.Target) {
	t.Helper()
	b, err := json.Marshal(cfn.ResolvePseudo(pattern, motoPseudo))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Fn::") || strings.Contains(string(b), `"Ref"`) {
		t.Fatalf("%s pattern still holds CloudFormation intrinsics: %s", name, b)
	}
	if _, err := eb.PutRule(t.Context(), &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(string(b))}); err != nil {
		t.Fatalf("put rule %s: %v", name, err)
	}
	if _, err := eb.PutTargets(t.Context(), &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{target}}); err != nil {
		t.Fatalf("put targets %s: %v", name, err)
	}
}

// The synthesized drift and self-watch patterns, on real EventBridge rules
// in moto, catch changes to Watchkeeper's own rules, its function and the
// trail's delivery role, and only to those: the same calls on other rules,
// functions or roles, and failed calls, are not delivered. The drift rule
// still delivers the control calls; the self-watch rule does not.
func TestSelfWatchPatternsOnMotoEventBridge(t *testing.T) {
	srv := moto.Start(t)
	cfg := srv.Config("us-east-1")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	driftURL, driftArn := sink(t, q, "drift-sink")
	watchURL, watchArn := sink(t, q, "selfwatch-sink")
	putRule(t, eb, "drift", driftPattern(t), ebtypes.Target{Id: aws.String("sink"), Arn: aws.String(driftArn)})
	putRule(t, eb, "selfwatch", rulePattern(t, selfwatch.WatchRule), ebtypes.Target{Id: aws.String("sink"), Arn: aws.String(watchArn)})

	fnArn := "arn:aws:lambda:us-east-1:" + moto.Account + ":function:" + motoFunctionName
	calls := []struct {
		call selfCall
		want bool // delivered by both rules
	}{
		{selfCall{id: "disable-schedule", source: "aws.events", eventSource: "events.amazonaws.com", eventName: "DisableRule", params: map[string]any{"name": selfwatch.ScheduleRule}}, true},
		{selfCall{id: "delete-drift-rule", source: "aws.events", eventSource: "events.amazonaws.com", eventName: "DeleteRule", params: map[string]any{"name": selfwatch.DriftRule}}, true},
		{selfCall{id: "remove-selfwatch-targets", source: "aws.events", eventSource: "events.amazonaws.com", eventName: "RemoveTargets", params: map[string]any{"rule": selfwatch.WatchRule, "ids": []any{"Watchdog"}}}, true},
		{selfCall{id: "concurrency-zero", source: "aws.lambda", eventSource: "lambda.amazonaws.com", eventName: "PutFunctionConcurrency20171031", params: map[string]any{"functionName": motoFunctionName, "reservedConcurrentExecutions": 0}}, true},
		{selfCall{id: "update-config-by-arn", source: "aws.lambda", eventSource: "lambda.amazonaws.com", eventName: "UpdateFunctionConfiguration20150331v2", params: map[string]any{"functionName": fnArn, "timeout": 3}}, true},
		{selfCall{id: "delete-function", source: "aws.lambda", eventSource: "lambda.amazonaws.com", eventName: "DeleteFunction20150331", params: map[string]any{"functionName": motoFunctionName}}, true},
		{selfCall{id: "delivery-role-policy-deleted", source: "aws.iam", eventSource: "iam.amazonaws.com", eventName: "DeleteRolePolicy", params: map[string]any{"roleName": motoDeliveryRoleName, "policyName": "LogsRoleDefaultPolicy"}}, true},
		{selfCall{id: "delivery-role-trust-replaced", source: "aws.iam", eventSource: "iam.amazonaws.com", eventName: "UpdateAssumeRolePolicy", params: map[string]any{"roleName": motoDeliveryRoleName}}, true},
		// Someone else's rule, function or role: not delivered.
		{selfCall{id: "other-rule-disabled", source: "aws.events", eventSource: "events.amazonaws.com", eventName: "DisableRule", params: map[string]any{"name": "team-b-nightly"}}, false},
		{selfCall{id: "other-function-updated", source: "aws.lambda", eventSource: "lambda.amazonaws.com", eventName: "UpdateFunctionConfiguration20150331v2", params: map[string]any{"functionName": "team-b-api"}}, false},
		{selfCall{id: "other-role-policy", source: "aws.iam", eventSource: "iam.amazonaws.com", eventName: "PutRolePolicy", params: map[string]any{"roleName": "team-b-role", "policyName": "p"}}, false},
		// Failed, or not a watched call: not delivered.
		{selfCall{id: "denied-disable-schedule", source: "aws.events", eventSource: "events.amazonaws.com", eventName: "DisableRule", params: map[string]any{"name": selfwatch.ScheduleRule}, errorCode: "AccessDeniedException"}, false},
		{selfCall{id: "enable-schedule", source: "aws.events", eventSource: "events.amazonaws.com", eventName: "EnableRule", params: map[string]any{"name": selfwatch.ScheduleRule}}, false},
		{selfCall{id: "read-function", source: "aws.lambda", eventSource: "lambda.amazonaws.com", eventName: "GetFunction20150331v2", params: map[string]any{"functionName": motoFunctionName}}, false},
	}
	var want []string
	for _, c := range calls {
		out, err := eb.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{c.call.entry()}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("put event %s: %v %+v", c.call.id, err, out)
		}
		if c.want {
			want = append(want, c.call.id)
		}
	}
	// A control call reaches the drift rule only.
	control := apiCall{"user-deletes-filter", "aws.logs", viaCloudTrail, "logs.amazonaws.com", "DeleteMetricFilter", iamUser("alice")}
	if _, err := eb.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{control.entry()}}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	wantDrift := append([]string{control.id}, want...)
	sort.Strings(wantDrift)
	if diff := cmp.Diff(wantDrift, receiveEventIDs(t, q, driftURL)); diff != "" {
		t.Errorf("events delivered by the drift rule (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, receiveEventIDs(t, q, watchURL)); diff != "" {
		t.Errorf("events delivered by the self-watch rule (-want +got):\n%s", diff)
	}
}

// The self-watch rule's message, produced by the synthesized input
// transformer (moto runs EventBridge's transformer), names the call, who
// made it and what it changed, so a person learns it even when the function
// cannot run.
func TestSelfWatchMessageSaysWhatChangedAndWho(t *testing.T) {
	var transformer map[string]any
	for _, r := range loadTemplate(t)["Resources"].(map[string]any) {
		p, _ := r.(map[string]any)["Properties"].(map[string]any)
		if r.(map[string]any)["Type"] == "AWS::Events::Rule" && p["Name"] == selfwatch.WatchRule {
			transformer = p["Targets"].([]any)[0].(map[string]any)["InputTransformer"].(map[string]any)
		}
	}
	if transformer == nil {
		t.Fatal("the self-watch rule's target has no input transformer")
	}
	paths := map[string]string{}
	for k, v := range transformer["InputPathsMap"].(map[string]any) {
		paths[k] = v.(string)
	}

	srv := moto.Start(t)
	cfg := srv.Config("us-east-1")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	url, arn := sink(t, q, "watchdog-sink")
	putRule(t, eb, "selfwatch", rulePattern(t, selfwatch.WatchRule), ebtypes.Target{
		Id: aws.String("sink"), Arn: aws.String(arn),
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: paths, InputTemplate: aws.String(transformer["InputTemplate"].(string))},
	})
	concurrency := selfCall{id: "concurrency-zero", source: "aws.lambda", eventSource: "lambda.amazonaws.com", eventName: "PutFunctionConcurrency20171031",
		params: map[string]any{"functionName": motoFunctionName, "reservedConcurrentExecutions": 0}}
	config := selfCall{id: "config-with-secret", source: "aws.lambda", eventSource: "lambda.amazonaws.com", eventName: "UpdateFunctionConfiguration20150331v2",
		params: map[string]any{"functionName": motoFunctionName, "environment": map[string]any{"variables": map[string]any{"API_TOKEN": "hunter2"}}}}
	for _, c := range []selfCall{concurrency, config} {
		if _, err := eb.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{c.entry()}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 2 {
		t.Fatalf("receive: %v, %d messages, want 2", err, len(out.Messages))
	}
	got := map[string]map[string]any{}
	for _, m := range out.Messages {
		var doc map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &doc); err != nil {
			t.Fatalf("watchdog message is not JSON: %v\n%s", err, aws.ToString(m.Body))
		}
		if strings.Contains(aws.ToString(m.Body), "hunter2") {
			t.Errorf("watchdog message quotes an environment variable's value:\n%s", aws.ToString(m.Body))
		}
		got[doc["call"].(string)] = doc
	}
	msg := got[concurrency.eventName]
	want := map[string]any{"call": concurrency.eventName, "by": iamUser("mallory")["arn"], "function": motoFunctionName, "reservedConcurrentExecutions": "0"}
	for k, v := range want {
		if msg[k] != v {
			t.Errorf("watchdog message %s = %v, want %v (message %v)", k, msg[k], v, msg)
		}
	}
	if got[config.eventName]["function"] != motoFunctionName {
		t.Errorf("configuration change message %v does not name the function", got[config.eventName])
	}
}

// The self-alarms still reach a person when the alarm topic is broken.
// From the synthesized template: every alarm notifies both topics, and the
// two topics are encrypted with two different keys. On moto, the two
// topics built that way (each with its key and an SQS subscriber standing
// in for the e-mail subscribers): disabling the alarm topic's key and
// removing its subscription leave the watchdog topic's key enabled and its
// subscriber receiving. (moto's CloudWatch does not run alarm actions, so
// the alarm's publish is made here with the same message path.)
func TestWatchdogPathSurvivesABrokenAlarmTopic(t *testing.T) {
	res := loadTemplate(t)["Resources"].(map[string]any)
	keyOf := map[string]string{} // topic logical id -> key logical id
	for id, r := range res {
		if r.(map[string]any)["Type"] != "AWS::SNS::Topic" {
			continue
		}
		k := r.(map[string]any)["Properties"].(map[string]any)["KmsMasterKeyId"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		keyOf[id] = k
	}
	var alarmTopic, watchdog string
	for id := range keyOf {
		switch {
		case strings.HasPrefix(id, "AlarmTopic"):
			alarmTopic = id
		case strings.HasPrefix(id, "WatchdogTopic"):
			watchdog = id
		}
	}
	if alarmTopic == "" || watchdog == "" || keyOf[alarmTopic] == keyOf[watchdog] {
		t.Fatalf("topics and keys %v: want an alarm topic and a watchdog topic with different keys", keyOf)
	}
	for id, r := range res {
		if r.(map[string]any)["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		want := []any{map[string]any{"Ref": alarmTopic}, map[string]any{"Ref": watchdog}}
		if diff := cmp.Diff(want, r.(map[string]any)["Properties"].(map[string]any)["AlarmActions"]); diff != "" {
			t.Errorf("alarm %s actions (-want +got):\n%s", id, diff)
		}
	}

	srv := moto.Start(t)
	cfg := srv.Config("us-east-1")
	ctx := t.Context()
	k, s, q := kms.NewFromConfig(cfg), sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	type path struct {
		key, topic, sub string
		queue           *string
	}
	build := func(name string) path {
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		topic, err := s.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: map[string]string{"KmsMasterKeyId": aws.ToString(key.KeyMetadata.Arn)}})
		if err != nil {
			t.Fatal(err)
		}
		url, arn := sink(t, q, name+"-subscriber")
		sub, err := s.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		return path{aws.ToString(key.KeyMetadata.KeyId), aws.ToString(topic.TopicArn), aws.ToString(sub.SubscriptionArn), url}
	}
	alarm, dog := build("watchkeeper-cis-alarms"), build("watchkeeper-watchdog")

	// Break the alarm topic both ways the issue names.
	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(alarm.key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(alarm.sub)}); err != nil {
		t.Fatal(err)
	}

	key, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(dog.key)})
	if err != nil || key.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
		t.Fatalf("watchdog key after breaking the alarm topic: %v %v", key, err)
	}
	subs, err := s.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(dog.topic)})
	if err != nil || len(subs.Subscriptions) != 1 {
		t.Fatalf("watchdog subscriptions: %v %v", subs, err)
	}
	// The alarm's notification to both topics: the watchdog's arrives.
	for _, topic := range []string{alarm.topic, dog.topic} {
		if _, err := s.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(`{"AlarmName":"DeadMansSwitchAlarm","NewStateValue":"ALARM"}`)}); err != nil {
			t.Fatalf("publish to %s: %v", topic, err)
		}
	}
	got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dog.queue, MaxNumberOfMessages: 10})
	if err != nil || len(got.Messages) != 1 || !strings.Contains(aws.ToString(got.Messages[0].Body), "DeadMansSwitchAlarm") {
		t.Errorf("watchdog subscriber received %v (%v), want the alarm", got, err)
	}
	lost, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: alarm.queue, MaxNumberOfMessages: 10})
	if err != nil || len(lost.Messages) != 0 {
		t.Errorf("the broken alarm topic still delivered %d messages (%v): the test no longer breaks it", len(lost.Messages), err)
	}
}
