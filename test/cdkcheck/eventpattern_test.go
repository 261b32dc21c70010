package cdkcheck_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/test/cfn"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// ownRoleSession is the ARN CloudTrail records for the remediator's own
// calls: the Lambda service names the session after the function.
const ownRoleSession = "arn:aws:sts::" + moto.Account + ":assumed-role/watchkeeper-remediator/Watchkeeper-RemediatorF10C6561-AbCdEf"

// apiCall is a realistic "AWS API Call via CloudTrail" event, reduced to
// what EventBridge delivers and the pattern can see.
type apiCall struct {
	id          string // detail.eventID; how the test recognises it
	source      string
	detailType  string
	eventSource string
	eventName   string
	identity    map[string]any
}

func iamUser(name string) map[string]any {
	return map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": moto.Account,
		"arn": "arn:aws:iam::" + moto.Account + ":user/" + name, "userName": name}
}

func assumedRole(account, role, session string) map[string]any {
	arn := "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session
	return map[string]any{"type": "AssumedRole", "principalId": "AROAEXAMPLE:" + session, "accountId": account, "arn": arn,
		"sessionContext": map[string]any{"sessionIssuer": map[string]any{
			"type": "Role", "arn": "arn:aws:iam::" + account + ":role/" + role, "accountId": account, "userName": role}}}
}

func (c apiCall) entry() ebtypes.PutEventsRequestEntry { return c.failedEntry("") }

// failedEntry is entry for a call CloudTrail recorded as failed with
// errorCode (and errorMessage), as it does for AccessDenied; "" means the
// call succeeded and the event has neither member.
func (c apiCall) failedEntry(errorCode string) ebtypes.PutEventsRequestEntry {
	d := map[string]any{
		"eventVersion": "1.09", "eventID": c.id, "eventTime": "2026-11-23T06:00:00Z",
		"eventSource": c.eventSource, "eventName": c.eventName, "awsRegion": "us-east-1",
		"sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.17.0",
		"userIdentity": c.identity, "requestParameters": map[string]any{},
		"eventType": "AwsApiCall", "managementEvent": true, "readOnly": false,
		"recipientAccountId": moto.Account,
	}
	if errorCode != "" {
		d["errorCode"] = errorCode
		d["errorMessage"] = "User is not authorized to perform this operation"
		d["responseElements"] = nil
	}
	detail, _ := json.Marshal(d)
	return ebtypes.PutEventsRequestEntry{
		Source:     aws.String(c.source),
		DetailType: aws.String(c.detailType),
		Detail:     aws.String(string(detail)),
	}
}

const viaCloudTrail = "AWS API Call via CloudTrail"

// The synthesized drift pattern, on a real EventBridge rule in moto with an
// SQS target, delivers the drift events and nothing else: not the
// remediator's own calls, not read-only calls, not other services.
//
// moto accepts PutEvents with an "aws." source; real EventBridge rejects
// them (PutEvents: "source ... cannot start with aws." — AWS events come
// only from the services), which is why this proof needs an emulator.
func TestDriftPatternOnMotoEventBridge(t *testing.T) {
	pattern, err := json.Marshal(cfn.ResolvePseudo(driftPattern(t), motoPseudo))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(pattern), "Fn::") || strings.Contains(string(pattern), `"Ref"`) {
		t.Fatalf("drift pattern still holds CloudFormation intrinsics (stack not pinned to an account): %s", pattern)
	}

	srv := moto.Start(t)
	cfg := srv.Config("us-east-1")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := t.Context()

	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("drift-sink")})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("drift"), EventPattern: aws.String(string(pattern))}); err != nil {
		t.Fatalf("put rule with the synthesized pattern: %v", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("drift"), Targets: []ebtypes.Target{
		{Id: aws.String("sink"), Arn: aws.String(attrs.Attributes["QueueArn"])},
	}}); err != nil {
		t.Fatalf("put targets: %v", err)
	}

	events := []struct {
		call apiCall
		want bool
	}{
		// Drift by people and other automation: delivered.
		{apiCall{"user-deletes-filter", "aws.logs", viaCloudTrail, "logs.amazonaws.com", "DeleteMetricFilter", iamUser("alice")}, true},
		{apiCall{"admin-deletes-alarms", "aws.monitoring", viaCloudTrail, "monitoring.amazonaws.com", "DeleteAlarms", assumedRole(moto.Account, "Admin", "alice")}, true},
		{apiCall{"admin-disables-actions", "aws.monitoring", viaCloudTrail, "monitoring.amazonaws.com", "DisableAlarmActions", assumedRole(moto.Account, "Admin", "bob")}, true},
		{apiCall{"undocumented-cloudwatch-source", "aws.cloudwatch", viaCloudTrail, "monitoring.amazonaws.com", "DisableAlarmActions", assumedRole(moto.Account, "Admin", "bob")}, false},
		{apiCall{"root-stops-logging", "aws.cloudtrail", viaCloudTrail, "cloudtrail.amazonaws.com", "StopLogging",
			map[string]any{"type": "Root", "principalId": moto.Account, "arn": "arn:aws:iam::" + moto.Account + ":root", "accountId": moto.Account}}, true},
		{apiCall{"user-deletes-topic", "aws.sns", viaCloudTrail, "sns.amazonaws.com", "DeleteTopic", iamUser("mallory")}, true},
		{apiCall{"service-unsubscribes", "aws.sns", viaCloudTrail, "sns.amazonaws.com", "Unsubscribe",
			map[string]any{"type": "AWSService", "invokedBy": "sns.amazonaws.com"}}, true},
		// The topic key and the topic's access policy.
		{apiCall{"admin-schedules-key-deletion", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "ScheduleKeyDeletion", assumedRole(moto.Account, "Admin", "alice")}, true},
		{apiCall{"user-disables-key", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "DisableKey", iamUser("mallory")}, true},
		{apiCall{"user-puts-key-policy", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "PutKeyPolicy", iamUser("mallory")}, true},
		{apiCall{"user-adds-topic-permission", "aws.sns", viaCloudTrail, "sns.amazonaws.com", "AddPermission", iamUser("mallory")}, true},
		{apiCall{"user-removes-topic-permission", "aws.sns", viaCloudTrail, "sns.amazonaws.com", "RemovePermission", iamUser("mallory")}, true},
		{apiCall{"lookalike-role-name", "aws.logs", viaCloudTrail, "logs.amazonaws.com", "PutMetricFilter", assumedRole(moto.Account, "watchkeeper-remediator-test", "x")}, true},
		{apiCall{"same-role-name-other-account", "aws.cloudtrail", viaCloudTrail, "cloudtrail.amazonaws.com", "DeleteTrail", assumedRole("210987654321", "watchkeeper-remediator", "x")}, true},
		// Watchkeeper's own writes: never delivered (loop guard).
		{apiCall{"own-put-filter", "aws.logs", viaCloudTrail, "logs.amazonaws.com", "PutMetricFilter",
			func() map[string]any {
				m := assumedRole(moto.Account, "watchkeeper-remediator", "x")
				m["arn"] = ownRoleSession
				return m
			}()}, false},
		{apiCall{"own-put-alarm", "aws.monitoring", viaCloudTrail, "monitoring.amazonaws.com", "PutMetricAlarm", assumedRole(moto.Account, "watchkeeper-remediator", "Watchkeeper-Remediator")}, false},
		{apiCall{"own-update-trail", "aws.cloudtrail", viaCloudTrail, "cloudtrail.amazonaws.com", "UpdateTrail", assumedRole(moto.Account, "watchkeeper-remediator", "s")}, false},
		{apiCall{"own-disable-key", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "DisableKey", assumedRole(moto.Account, "watchkeeper-remediator", "s")}, false},
		{apiCall{"own-add-permission", "aws.sns", viaCloudTrail, "sns.amazonaws.com", "AddPermission", assumedRole(moto.Account, "watchkeeper-remediator", "s")}, false},
		// Near misses: not delivered.
		{apiCall{"read-only-call", "aws.logs", viaCloudTrail, "logs.amazonaws.com", "DescribeMetricFilters", iamUser("alice")}, false},
		{apiCall{"unhandled-write", "aws.logs", viaCloudTrail, "logs.amazonaws.com", "CreateLogGroup", iamUser("alice")}, false},
		{apiCall{"other-service", "aws.s3", viaCloudTrail, "s3.amazonaws.com", "DeleteBucket", iamUser("alice")}, false},
		// Watchkeeper's own key repairs are not drift, whoever makes them.
		{apiCall{"user-enables-key", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "EnableKey", iamUser("alice")}, false},
		{apiCall{"user-cancels-key-deletion", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "CancelKeyDeletion", iamUser("alice")}, false},
		{apiCall{"service-event-not-api-call", "aws.logs", "AWS Service Event via CloudTrail", "logs.amazonaws.com", "DeleteMetricFilter", iamUser("alice")}, false},
		{apiCall{"custom-source", "custom.logs", viaCloudTrail, "logs.amazonaws.com", "DeleteMetricFilter", iamUser("alice")}, false},
	}
	// Near misses that failed: a call CloudTrail recorded with an errorCode
	// changed nothing, so even a handled call by someone else is not
	// delivered (no principal can start runs with calls it may not make).
	failed := []struct {
		call      apiCall
		errorCode string
	}{
		{apiCall{"denied-delete-filter", "aws.logs", viaCloudTrail, "logs.amazonaws.com", "DeleteMetricFilter", iamUser("mallory")}, "AccessDenied"},
		{apiCall{"denied-stop-logging", "aws.cloudtrail", viaCloudTrail, "cloudtrail.amazonaws.com", "StopLogging", assumedRole(moto.Account, "ReadOnly", "eve")}, "AccessDenied"},
		{apiCall{"missing-alarm-delete", "aws.monitoring", viaCloudTrail, "monitoring.amazonaws.com", "DeleteAlarms", iamUser("alice")}, "ResourceNotFound"},
		{apiCall{"denied-schedule-key-deletion", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "ScheduleKeyDeletion", iamUser("mallory")}, "AccessDeniedException"},
		{apiCall{"key-already-pending-deletion", "aws.kms", viaCloudTrail, "kms.amazonaws.com", "DisableKey", iamUser("alice")}, "KMSInvalidStateException"},
	}
	var want []string
	for _, f := range failed {
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{f.call.failedEntry(f.errorCode)}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("put event %s: %v %+v", f.call.id, err, out)
		}
	}
	for _, e := range events {
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{e.call.entry()}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("put event %s: %v %+v", e.call.id, err, out)
		}
		if e.want {
			want = append(want, e.call.id)
		}
	}
	got := receiveEventIDs(t, q, queue.QueueUrl)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events delivered by the drift rule (-want +got):\n%s", diff)
	}
}

// receiveEventIDs drains the queue and returns the detail.eventID of each
// delivered event, sorted.
func receiveEventIDs(t *testing.T, q *sqs.Client, url *string) []string {
	t.Helper()
	var ids []string
	for {
		out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var ev struct {
				Detail struct {
					EventID string `json:"eventID"`
				} `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("delivered message is not an event: %v: %s", err, aws.ToString(m.Body))
			}
			ids = append(ids, ev.Detail.EventID)
			if _, err := q.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
	sort.Strings(ids)
	return ids
}
