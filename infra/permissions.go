package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// RoleName is the remediator's fixed execution role name. It is fixed so
// that the drift rule can exclude the role's own API calls by a literal
// assumed-role ARN prefix, and so that a second Watchkeeper stack in the
// same account (which would race this one across every region) fails at
// deploy time instead of fighting it. IAM names are account-global.
const RoleName = "watchkeeper-remediator"

// NotifyActions are the actions the run-summary publisher (pkg/notify)
// calls, besides inspect.ReadActions and apply.WriteActions.
var NotifyActions = []string{"sns:Publish"}

// PlatformActions are what the function needs from the platform rather than
// from its code: its own log streams, the on-failure destination, and the
// topic key (SNS encrypts a message with the publisher's permissions).
var PlatformActions = []string{
	"kms:Decrypt",
	"kms:GenerateDataKey",
	"logs:CreateLogStream",
	"logs:PutLogEvents",
	"sqs:SendMessage",
}

// permissionScope is the account, partition and configuration the
// remediator's policy is scoped to.
type permissionScope struct {
	partition, account string
	topicName          string
	// topicKeyArn is the KMS key the alarm topic is encrypted with (the
	// stack's TopicKey); "" when none is known, which grants no key action
	// at all: the remediator then only reports the key's state.
	topicKeyArn string
	// trailLogsRoleArn is the CloudTrail-to-CloudWatch-Logs role the
	// remediator may pass to UpdateTrail; "" grants no iam:PassRole.
	trailLogsRoleArn string
	// apply is mode=apply; false (mode=report) grants no write at all.
	apply bool
	// healing is the resolved trail-healing level: "none", "safe", "full".
	healing string
}

func (p permissionScope) arn(service, resource string) string {
	return "arn:" + p.partition + ":" + service + ":*:" + p.account + ":" + resource
}

// remediatorStatements are the remediator's identity-policy statements:
// exactly the actions its code calls in the configured mode, each scoped as
// tightly as the Service Authorization Reference allows. The three actions
// that support no resource-level permissions (DescribeRegions,
// DescribeTrails, DescribeAlarmsForMetric: resource type "*" in the
// reference) are the only ones on "*", and they only read.
//
// What each configuration grants (the planner plans no other write, see
// pkg/plan: StartLogging and PutEventSelectors need healing safe or full,
// UpdateTrail needs full):
//
//	mode    trailHealing  grants
//	report  any           reads + sns:Publish (+ kms:Decrypt, kms:GenerateDataKey on the topic key)
//	apply   none          report's + filter, alarm and topic writes
//	                      (+ kms:CancelKeyDeletion, kms:EnableKey on the topic key)
//	apply   safe          apply/none's + cloudtrail:StartLogging, cloudtrail:PutEventSelectors
//	apply   full          apply/safe's + cloudtrail:UpdateTrail
//	                      (+ iam:PassRole of the managed trail's logs role with provisionTrail)
//
// Reads are the same in every mode: a report must judge the account.
//
// Scoping notes:
//   - Reads of trails, log groups, alarms, topics and keys cover the whole
//     account: the inspector must judge filters, alarms and topics the
//     customer made, not only Watchkeeper's.
//   - Writes to alarms and the topic are limited to Watchkeeper's own
//     names ("watchkeeper-" alarms, the configured topic), so a stolen
//     session cannot rewrite the customer's alarms or topics.
//   - Metric filters have no ARN of their own; PutMetricFilter is authorised
//     on the log group, which is the trail's (whichever the customer uses).
//   - Trail writes cover every trail in the account because the remediator
//     restores whichever multi-region trail the account relies on.
//   - Key writes (re-enabling the topic key, cancelling its scheduled
//     deletion) name the one topic key by ARN, never key/*: the planner
//     plans them only for that key, and a stolen session must not be able
//     to revive keys someone else retired. Nothing grants DisableKey,
//     ScheduleKeyDeletion or PutKeyPolicy.
func remediatorStatements(p permissionScope) []awsiam.PolicyStatement {
	allow := func(sid string, actions []string, resources ...string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(resources...),
		})
	}
	trailSid, trailActions := "InspectTrails", []string{"cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"}
	if p.apply && (p.healing == "safe" || p.healing == "full") {
		trailSid = "InspectAndRestoreTrails"
		trailActions = append(trailActions, "cloudtrail:PutEventSelectors", "cloudtrail:StartLogging")
		if p.healing == "full" {
			trailActions = append(trailActions, "cloudtrail:UpdateTrail")
		}
	}
	out := []awsiam.PolicyStatement{
		allow("ReadWithoutResourceLevelPermissions",
			[]string{"cloudtrail:DescribeTrails", "cloudwatch:DescribeAlarmsForMetric", "ec2:DescribeRegions"}, "*"),
		allow(trailSid, trailActions, p.arn("cloudtrail", "trail/*")),
	}
	if p.apply {
		out = append(out, allow("InspectAndWriteMetricFilters",
			[]string{"logs:DescribeMetricFilters", "logs:PutMetricFilter"},
			p.arn("logs", "log-group:*")))
	} else {
		out = append(out, allow("InspectMetricFilters", []string{"logs:DescribeMetricFilters"}, p.arn("logs", "log-group:*")))
	}
	out = append(out, allow("ReadAlarms", []string{"cloudwatch:DescribeAlarms"}, p.arn("cloudwatch", "alarm:*")))
	if p.apply {
		out = append(out, allow("WriteOwnAlarms",
			[]string{"cloudwatch:EnableAlarmActions", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"},
			p.arn("cloudwatch", "alarm:watchkeeper-*")))
	}
	out = append(out, allow("ReadTopics", []string{"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"}, p.arn("sns", "*")))
	if p.apply {
		out = append(out, allow("WriteOwnTopic",
			[]string{"sns:CreateTopic", "sns:Publish", "sns:Subscribe", "sns:TagResource"},
			p.arn("sns", p.topicName)))
	} else {
		// The run summary (pkg/notify) is published in report mode too.
		out = append(out, allow("PublishToOwnTopic", []string{"sns:Publish"}, p.arn("sns", p.topicName)))
	}
	out = append(out,
		allow("ReadKeyPolicies", []string{"kms:DescribeKey", "kms:GetKeyPolicy"}, p.arn("kms", "key/*")),
		// Publishing to a topic encrypted with a customer managed key makes
		// SNS call kms:GenerateDataKey and kms:Decrypt on that key with the
		// publisher's permissions (SNS developer guide, "Key management":
		// publishers need these two). Named exactly: no wildcard actions.
		allow("PublishToEncryptedTopic", []string{"kms:Decrypt", "kms:GenerateDataKey"}, p.topicKeyArn),
	)
	if p.apply && p.topicKeyArn != "" {
		// A disabled key, or one pending deletion, makes CloudWatch's
		// notifications to the topic fail. CancelKeyDeletion leaves the key
		// Disabled, so restoring it takes EnableKey too (AWS KMS API
		// reference, CancelKeyDeletion). Both authorise on the key ARN
		// (Service Authorization Reference, AWS KMS: resource type key).
		out = append(out, allow("RestoreTopicKey", []string{"kms:CancelKeyDeletion", "kms:EnableKey"}, p.topicKeyArn))
	}
	if p.apply && p.healing == "full" && p.trailLogsRoleArn != "" {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PassTrailLogsRoleToCloudTrail"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("iam:PassRole"),
			Resources: jsii.Strings(p.trailLogsRoleArn),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"iam:PassedToService": "cloudtrail.amazonaws.com"},
			},
		}))
	}
	return out
}
