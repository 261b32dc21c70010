package main

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// destructiveActions are what the remediator never calls and a stolen
// session of its role must never do, whatever else is attached to the role
// later: an explicit Deny wins over any Allow (IAM User Guide, "Policy
// evaluation logic"), so these stay denied even if someone attaches a broad
// managed policy. Wildcards are deliberate here: a Deny pattern that grows
// with the service only denies more. Each group says what it protects.
//
// Before granting the remediator a new action, check it against this list:
// TestGuardNeverDeniesAGrantedAction fails when a Deny would cover it.
var destructiveActions = []string{
	// The trail, its log group, the filters, alarms and topic that the CIS
	// monitoring controls consist of: deletes, stopping, disabling.
	"cloudtrail:Delete*",
	"cloudtrail:StopLogging",
	"cloudwatch:Delete*",
	"cloudwatch:DisableAlarmActions",
	"logs:Delete*",
	"logs:PutRetentionPolicy", // shortening retention deletes old events
	"sns:AddPermission",
	"sns:Delete*",
	"sns:RemovePermission",
	"sns:SetSubscriptionAttributes", // e.g. a filter policy that drops every alarm
	"sns:SetTopicAttributes",        // the topic policy and its KMS key
	"sns:Unsubscribe",
	// Key deletion and key policy changes (the topic key, the trail key,
	// any key): the remediator only re-enables the topic key and cancels
	// its deletion (RestoreTopicKey).
	"kms:CreateGrant",
	"kms:Delete*",
	"kms:Disable*",
	"kms:PutKeyPolicy",
	"kms:ScheduleKeyDeletion",
	// IAM writes: a session that could write IAM could grant itself
	// anything. iam:PassRole is handled by denyPassRole.
	"iam:Add*",
	"iam:Attach*",
	"iam:Create*",
	"iam:Delete*",
	"iam:Detach*",
	"iam:Put*",
	"iam:Remove*",
	"iam:Set*",
	"iam:Tag*",
	"iam:Untag*",
	"iam:Update*",
	"iam:Upload*",
	// The trail bucket: its objects, policy, ACL, versioning, lifecycle
	// and encryption. The remediator makes no S3 call at all.
	"s3:BypassGovernanceRetention",
	"s3:Delete*",
	"s3:PutBucket*",
	"s3:PutEncryptionConfiguration",
	"s3:PutLifecycleConfiguration",
}

// trailWriteActions are every trail write the remediator can be granted.
// cloudtrail:UpdateTrail is also the call that changes a trail's bucket,
// KMS key and log file validation; CloudTrail has no condition key for
// UpdateTrail's parameters (Service Authorization Reference, AWS
// CloudTrail: only the aws:RequestTag, aws:ResourceTag and aws:TagKeys
// keys), so IAM can only deny it outright or per trail.
var trailWriteActions = []string{"cloudtrail:PutEventSelectors", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail"}

// guardStatements are the explicit Deny statements of the remediator's
// policy for configuration p:
//
//   - DenyDestructiveActions: destructiveActions, everywhere.
//   - DenyTrailWritesNotGranted: the trail writes this configuration does
//     not grant (all three in report mode or with trailHealing=none;
//     UpdateTrail, and so bucket, key and validation changes, unless
//     trailHealing=full), everywhere.
//   - DenyTrailWritesToOtherTrails: the granted trail writes on every trail
//     but the named ones (NotResource), when a trail is named. With none
//     named there is no such statement: the Allow covers every trail of the
//     account, and docs/security.md says what that leaves open.
//   - DenyPassingOtherRoles: iam:PassRole of any role but the trail's logs
//     role when that is granted, else of every role.
//   - DenySubscribingOtherEndpoints: sns:Subscribe of any endpoint that is
//     not configured (sns:Endpoint), or of every endpoint when none is or
//     in report mode.
//   - DenyAlarmActionsOtherThanTheTopic: an alarm with any action that is
//     not Watchkeeper's topic (cloudwatch:AlarmActions, ForAnyValue), such
//     as an EC2 stop or terminate action.
//
// The Allow statements already grant none of this (the last two repeat the
// Allow's conditions as denials); the Deny keeps it so when the role gains
// permissions later (a managed policy attached by
// hand, another stack's grant), because an explicit Deny overrides them.
func guardStatements(p permissionScope) []awsiam.PolicyStatement {
	out := []awsiam.PolicyStatement{deny("DenyDestructiveActions", destructiveActions, "*")}
	granted := p.trailWrites()
	var notGranted []string
	for _, a := range trailWriteActions {
		if !slices.Contains(granted, a) {
			notGranted = append(notGranted, a)
		}
	}
	if len(notGranted) > 0 {
		out = append(out, deny("DenyTrailWritesNotGranted", notGranted, "*"))
	}
	if len(granted) > 0 && len(p.trailArns) > 0 {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:          jsii.String("DenyTrailWritesToOtherTrails"),
			Effect:       awsiam.Effect_DENY,
			Actions:      jsii.Strings(granted...),
			NotResources: jsii.Strings(p.trailArns...),
		}))
	}
	if p.grantsPassRole() {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:          jsii.String("DenyPassingOtherRoles"),
			Effect:       awsiam.Effect_DENY,
			Actions:      jsii.Strings("iam:PassRole"),
			NotResources: jsii.Strings(p.trailLogsRoleArn),
		}))
	} else {
		out = append(out, deny("DenyPassingOtherRoles", []string{"iam:PassRole"}, "*"))
	}
	var endpoints []string
	if p.apply {
		for _, e := range p.subscriptions {
			if !slices.Contains(endpoints, e.Endpoint) {
				endpoints = append(endpoints, e.Endpoint)
			}
		}
		slices.Sort(endpoints)
	}
	if len(endpoints) == 0 {
		out = append(out, deny("DenySubscribingOtherEndpoints", []string{"sns:Subscribe"}, "*"))
	} else {
		var ep any = endpoints
		if len(endpoints) == 1 {
			ep = endpoints[0]
		}
		out = append(out, denyIf("DenySubscribingOtherEndpoints", []string{"sns:Subscribe"},
			map[string]any{"StringNotEquals": map[string]any{"sns:Endpoint": ep}}))
	}
	// The condition key applies to both alarm writes (Service
	// Authorization Reference, Amazon CloudWatch); the remediator calls
	// neither with any other action.
	out = append(out, denyIf("DenyAlarmActionsOtherThanTheTopic", []string{"cloudwatch:PutCompositeAlarm", "cloudwatch:PutMetricAlarm"},
		map[string]any{"ForAnyValue:StringNotLike": map[string]any{"cloudwatch:AlarmActions": p.topicArn()}}))
	return out
}

func denyIf(sid string, actions []string, conditions map[string]any) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Effect:     awsiam.Effect_DENY,
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings("*"),
		Conditions: &conditions,
	})
}

func deny(sid string, actions []string, resources ...string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_DENY,
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	})
}
