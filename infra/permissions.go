package main

import (
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
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
// from its code: its own log streams, the on-failure destination, the
// topic key (SNS encrypts a message with the publisher's permissions), and
// the drift queue the event source mapping reads with the function's role
// (queueStatements).
var PlatformActions = []string{
	"kms:Decrypt",
	"kms:GenerateDataKey",
	"logs:CreateLogStream",
	"logs:PutLogEvents",
	"sqs:DeleteMessage",
	"sqs:GetQueueAttributes",
	"sqs:ReceiveMessage",
	"sqs:SendMessage",
}

// queueStatements are what the drift queue's event source mapping needs
// from the function's role: it polls the queue and deletes what the
// function answered with the role's permissions (Lambda developer guide,
// "Using Lambda with Amazon SQS": sqs:ReceiveMessage, sqs:DeleteMessage,
// sqs:GetQueueAttributes), and decrypts the records with the queue key
// (kms:Decrypt; "Permissions for encrypted queues"). kms:GenerateDataKey
// on the same key lets Lambda send failed asynchronous invocations to the
// dead-letter queue, which the key encrypts too (a sender to a queue
// encrypted with a customer managed key needs kms:GenerateDataKey and
// kms:Decrypt: SQS developer guide, "Amazon SQS key management").
func queueStatements(driftQueueArn, queueKeyArn string) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		allow("ConsumeDriftQueue", []string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}, driftQueueArn),
		allow("UseQueueKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, queueKeyArn),
	}
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
	// trailArns are the trails the remediator may change (the managed
	// trail, or the trailName context key); nil means every trail of the
	// account, the only choice when no trail is named.
	trailArns []string
	// subscriptions are the endpoints the remediator may subscribe to its
	// topic, exactly as pkg/config builds them for the function; none
	// grants no sns:Subscribe.
	subscriptions []plan.Endpoint
	// apply is mode=apply; false (mode=report) grants no write at all.
	apply bool
	// healing is the resolved trail-healing level: "none", "safe", "full".
	healing string
	// findingsRegion, when set, grants importing the run's Security Hub
	// findings into that Region's hub (findings=securityhub; the stack's
	// Region, the function's home Region).
	findingsRegion string
}

func (p permissionScope) arn(service, resource string) string {
	return "arn:" + p.partition + ":" + service + ":*:" + p.account + ":" + resource
}

// topicArn is Watchkeeper's topic in every Region: the planner keeps one
// topic of the configured name in the target trail's Region.
func (p permissionScope) topicArn() string { return p.arn("sns", p.topicName) }

// trailWrites are the trail writes the configuration grants, in the order
// the policy lists them (the planner plans no other: StartLogging and
// PutEventSelectors need healing safe or full, UpdateTrail needs full).
func (p permissionScope) trailWrites() []string {
	if !p.apply || (p.healing != "safe" && p.healing != "full") {
		return nil
	}
	w := []string{"cloudtrail:PutEventSelectors", "cloudtrail:StartLogging"}
	if p.healing == "full" {
		w = append(w, "cloudtrail:UpdateTrail")
	}
	return w
}

// trailWriteResources are the trails the trail writes are granted on.
func (p permissionScope) trailWriteResources() []string {
	if len(p.trailArns) == 0 {
		return []string{p.arn("cloudtrail", "trail/*")}
	}
	return p.trailArns
}

// trailArn is the IAM resource for a configured trailName: a trail ARN as
// given, or a trail name in any Region of the account (a trail is named
// uniquely per Region, and the trail's home Region is not known at synth).
func trailArn(partition, account, nameOrArn string) string {
	if strings.HasPrefix(nameOrArn, "arn:") {
		return nameOrArn
	}
	return "arn:" + partition + ":cloudtrail:*:" + account + ":trail/" + nameOrArn
}

// remediatorStatements are the remediator's identity-policy Allow
// statements: exactly the actions its code calls in the configured mode,
// each scoped as tightly as the Service Authorization Reference allows. The
// three actions that support no resource-level permissions (DescribeRegions,
// DescribeTrails, DescribeAlarmsForMetric: resource type "*" in the
// reference) are the only ones on "*", and they only read. guardStatements
// adds the explicit Deny statements.
//
// What each configuration grants (the planner plans no other write, see
// pkg/plan: StartLogging and PutEventSelectors need healing safe or full,
// UpdateTrail needs full):
//
//	mode    trailHealing  grants
//	report  any           reads + sns:Publish (+ kms:Decrypt, kms:GenerateDataKey on the topic key)
//	apply   none          report's + filter, alarm and topic writes, sns:Subscribe of the configured endpoints
//	                      (+ kms:CancelKeyDeletion, kms:EnableKey on the topic key)
//	apply   safe          apply/none's + cloudtrail:StartLogging, cloudtrail:PutEventSelectors
//	apply   full          apply/safe's + cloudtrail:UpdateTrail
//	                      (+ iam:PassRole of the managed trail's logs role with provisionTrail)
//
// Reads are the same in every mode: a report must judge the account.
//
// Scoping notes (docs/security.md, "Deployed IAM policy", has the threat
// model and the AWS references):
//   - Reads of trails, log groups, alarms, topics and keys cover the whole
//     account: the inspector must judge filters, alarms and topics the
//     customer made, not only Watchkeeper's.
//   - Trail writes name the trail Watchkeeper may heal (the managed trail's
//     ARN with provisionTrail, the trailName context key otherwise); the
//     function is told the same name (WATCHKEEPER_TRAIL_NAME) and plans no
//     write to any other trail. With no trail named they cover every trail
//     of the account, because the remediator then restores whichever trail
//     the account relies on.
//   - PutMetricAlarm is limited to "watchkeeper-" alarms and, through the
//     cloudwatch:AlarmActions condition key (CloudWatch User Guide, "Using
//     condition keys to limit alarm actions"), to alarms whose every action
//     is Watchkeeper's topic: a stolen session cannot make an alarm stop or
//     terminate instances, or notify someone else.
//   - sns:Subscribe is granted once per protocol, with the sns:Protocol and
//     sns:Endpoint condition keys (Service Authorization Reference, Amazon
//     SNS: both apply to Subscribe) pinned to the configured endpoints of
//     that protocol, so a stolen session cannot subscribe an attacker's
//     endpoint to the alarm topic. StringEquals, not StringLike: an e-mail
//     address may contain '*' or '?'.
//   - sns:CreateTopic names the one configured topic, so no other topic
//     can be created.
//   - Metric filters have no ARN of their own; PutMetricFilter is authorised
//     on the log group, which is the trail's (whichever the customer uses).
//   - Key writes (re-enabling the topic key, cancelling its scheduled
//     deletion) name the one topic key by ARN, never key/*: the planner
//     plans them only for that key, and a stolen session must not be able
//     to revive keys someone else retired.
func remediatorStatements(p permissionScope) []awsiam.PolicyStatement {
	out := []awsiam.PolicyStatement{
		allow("ReadWithoutResourceLevelPermissions",
			[]string{"cloudtrail:DescribeTrails", "cloudwatch:DescribeAlarmsForMetric", "ec2:DescribeRegions"}, "*"),
		allow("InspectTrails", []string{"cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"}, p.arn("cloudtrail", "trail/*")),
	}
	if w := p.trailWrites(); len(w) > 0 {
		out = append(out, allow("RestoreTrails", w, p.trailWriteResources()...))
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
		ownAlarms := p.arn("cloudwatch", "alarm:watchkeeper-*")
		out = append(out,
			allow("WriteOwnAlarms", []string{"cloudwatch:EnableAlarmActions", "cloudwatch:TagResource"}, ownAlarms),
			// ForAllValues alone is true for a request without the key,
			// so Null=false also requires an action to be present (IAM
			// User Guide, "Set operators for multivalued context keys").
			allowIf("PutOwnAlarmsNotifyingOnlyTheTopic", []string{"cloudwatch:PutMetricAlarm"}, []string{ownAlarms}, map[string]any{
				"ForAllValues:StringLike": map[string]any{"cloudwatch:AlarmActions": p.topicArn()},
				"Null":                    map[string]any{"cloudwatch:AlarmActions": "false"},
			}))
	}
	out = append(out,
		allow("ReadTopics", []string{"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"}, p.arn("sns", "*")),
		// The run summary (pkg/notify) is published in report mode too.
		allow("PublishToOwnTopic", []string{"sns:Publish"}, p.topicArn()))
	if p.apply {
		out = append(out, allow("CreateOwnTopic", []string{"sns:CreateTopic", "sns:TagResource"}, p.topicArn()))
		out = append(out, subscribeStatements(p)...)
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
	if p.findingsRegion != "" {
		out = append(out, findingsStatements(p)...)
	}
	if p.grantsPassRole() {
		out = append(out, allowIf("PassTrailLogsRoleToCloudTrail", []string{"iam:PassRole"}, []string{p.trailLogsRoleArn},
			map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "cloudtrail.amazonaws.com"}}))
	}
	return out
}

// grantsPassRole: only UpdateTrail (full healing) passes the logs role.
func (p permissionScope) grantsPassRole() bool {
	return p.apply && p.healing == "full" && p.trailLogsRoleArn != ""
}

// subscribeStatements grant sns:Subscribe on Watchkeeper's topic for the
// configured endpoints only: one statement per protocol, so each endpoint
// is allowed with its own protocol and no other (the two condition keys of
// one statement are ANDed, their values ORed).
func subscribeStatements(p permissionScope) []awsiam.PolicyStatement {
	byProtocol := map[string][]string{}
	for _, e := range p.subscriptions {
		proto := strings.ToLower(e.Protocol)
		if !slices.Contains(byProtocol[proto], e.Endpoint) {
			byProtocol[proto] = append(byProtocol[proto], e.Endpoint)
		}
	}
	var out []awsiam.PolicyStatement
	for _, proto := range slices.Sorted(maps.Keys(byProtocol)) {
		endpoints := slices.Sorted(slices.Values(byProtocol[proto]))
		var ep any = endpoints
		if len(endpoints) == 1 {
			ep = endpoints[0]
		}
		out = append(out, allowIf("SubscribeConfigured"+sidWord(proto)+"Endpoints", []string{"sns:Subscribe"}, []string{p.topicArn()},
			map[string]any{"StringEquals": map[string]any{"sns:Protocol": proto, "sns:Endpoint": ep}}))
	}
	return out
}

// sidWord turns a protocol ("email-json") into Sid characters
// ("EmailJson"): a Sid allows only ASCII letters and digits (IAM User
// Guide, "IAM JSON policy elements: Sid").
func sidWord(s string) string {
	var b strings.Builder
	upper := true
	for _, r := range s {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if upper {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			upper = false
		default:
			upper = true
		}
	}
	return b.String()
}

func allow(sid string, actions []string, resources ...string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	})
}

func allowIf(sid string, actions, resources []string, conditions map[string]any) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Effect:     awsiam.Effect_ALLOW,
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings(resources...),
		Conditions: &conditions,
	})
}

// HealedTrail is the trail the remediator may change: the managed trail
// with provisionTrail, else the trailName context key, else "" (any trail
// of the account). The function gets it as WATCHKEEPER_TRAIL_NAME and the
// policy scopes trail writes to it.
func (c Config) HealedTrail() string {
	if c.ProvisionTrail {
		return TrailName
	}
	return c.TrailName
}

// endpoints are the subscriptions the function will ensure, built by the
// same pkg/config rule the function applies to WATCHKEEPER_SUBSCRIPTIONS,
// so the policy's sns:Endpoint values are the strings the function sends.
// An invalid configuration (which synth rejects earlier) yields none.
func (c Config) endpoints() []plan.Endpoint {
	built, err := config.Build(c.input())
	if err != nil {
		return nil
	}
	return built.Subscriptions
}

// findingsStatements let the function keep its own Security Hub findings
// (pkg/findings), in the home Region only, and nothing else there. BatchImportFindings authorises on
// the product the findings name, here the account's default product;
// GetFindings and BatchUpdateFindings on the hub (Service Authorization
// Reference, AWS Security Hub: resource types product and hub). Findings
// are imported in report mode too: they are the report, not a change to
// the monitoring controls. BatchUpdateFindings is only allowed to set
// Workflow.Status to RESOLVED, through the securityhub:ASFFSyntaxPath
// condition key (Security Hub User Guide, "Configuring access to
// BatchUpdateFindings"): Publish resolves a finding that turned PASS, and a
// stolen session can neither suppress findings nor change their severity
// or notes.
func findingsStatements(p permissionScope) []awsiam.PolicyStatement {
	arn := func(resource string) string {
		return "arn:" + p.partition + ":securityhub:" + p.findingsRegion + ":" + p.account + ":" + resource
	}
	hub := arn("hub/default")
	return []awsiam.PolicyStatement{
		allow("ImportOwnFindings", []string{"securityhub:BatchImportFindings"}, arn("product/"+p.account+"/default")),
		allow("ReadFindings", []string{"securityhub:GetFindings"}, hub),
		allowIf("ResolveFindings", []string{"securityhub:BatchUpdateFindings"}, []string{hub}, map[string]any{
			"StringEquals": map[string]any{"securityhub:ASFFSyntaxPath/Workflow.Status": "RESOLVED"},
		}),
	}
}
