package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsorganizations"
	"github.com/aws/jsii-runtime-go"
)

// Prevention beside healing (issue #13, optional: -c scp=true). The
// service control policy denies, to every principal of the target OUs'
// accounts except the exempt roles, the calls that break a CIS monitoring
// control on Watchkeeper's resources. An SCP never grants; an explicit
// Deny in it wins over every Allow in the account (Organizations User
// Guide, "SCP evaluation"). SCPs do not affect the management account
// (same guide, "Service control policies"), which the central stack heals
// but nothing prevents.
//
// SCPs have no Principal element, so the exemption is a condition on
// aws:PrincipalArn, which for a role session is the role's ARN (IAM User
// Guide, "AWS global condition context keys"). Exempt:
//
//   - Watchkeeper's remediator, by its name in every Region
//     (RoleName and RoleName-REGION);
//   - the break-glass role (context key breakGlassRoleArn);
//   - CloudFormation's StackSets execution role in member accounts
//     (stacksets-exec-*, created by service-managed StackSets): without it
//     no StackSet update or removal could change or delete the member
//     stack's topic and alarms.
//
// Because the exemption is by role name, the policy also denies creating,
// or changing the trust of, a role with one of those names: otherwise an
// account administrator could create "watchkeeper-remediator-x" and act
// through it.

// scpProtectedActions groups what is denied, by the resource it names.
type scpStatement struct {
	sid       string
	actions   []string
	resources []string
}

// scpStatements are the policy's Deny statements for cfg (scpDocument).
func scpStatements(cfg Config, partition string) []scpStatement {
	trails := []string{"arn:" + partition + ":cloudtrail:*:*:trail/*"}
	if name := cfg.memberConfig().HealedTrail(); name != "" {
		trails = []string{trailArn(partition, "*", name)}
	}
	return []scpStatement{
		{
			// The trail Watchkeeper heals (the trailName key), or every
			// trail when none is named: the CIS controls need a logging
			// multi-Region trail, and which one the account relies on is
			// only known at run time.
			sid:       "ProtectTrail",
			actions:   []string{"cloudtrail:DeleteTrail", "cloudtrail:StopLogging"},
			resources: trails,
		},
		{
			// Metric filters have no ARN: DeleteMetricFilter authorises on
			// the log group (Service Authorization Reference, Amazon
			// CloudWatch Logs), and the filters live in the trail's log
			// group, named by the customer. So every log group.
			sid:       "ProtectMetricFilters",
			actions:   []string{"logs:DeleteMetricFilter"},
			resources: []string{"arn:" + partition + ":logs:*:*:log-group:*"},
		},
		{
			// The alarms Watchkeeper creates are named watchkeeper-*.
			sid:       "ProtectAlarms",
			actions:   []string{"cloudwatch:DeleteAlarms", "cloudwatch:DisableAlarmActions"},
			resources: []string{"arn:" + partition + ":cloudwatch:*:*:alarm:watchkeeper-*"},
		},
		{
			// The alarm topic, by its configured name in every Region:
			// deleting it, changing its policy, key or delivery, or its
			// subscriptions.
			sid: "ProtectTopic",
			actions: []string{
				"sns:AddPermission", "sns:DeleteTopic", "sns:PutDataProtectionPolicy", "sns:RemovePermission",
				"sns:SetSubscriptionAttributes", "sns:SetTopicAttributes", "sns:Unsubscribe",
			},
			resources: []string{"arn:" + partition + ":sns:*:*:" + cfg.TopicName},
		},
		{
			// The exemption is by role name (see above).
			sid:       "ProtectExemptRoleNames",
			actions:   []string{"iam:CreateRole", "iam:UpdateAssumeRolePolicy"},
			resources: []string{"arn:" + partition + ":iam::*:role/" + RoleName, "arn:" + partition + ":iam::*:role/" + RoleName + "-*"},
		},
	}
}

// scpExemptRoles are the aws:PrincipalArn patterns the Deny statements
// exempt.
func scpExemptRoles(cfg Config, partition string) []string {
	return []string{
		"arn:" + partition + ":iam::*:role/" + RoleName,
		"arn:" + partition + ":iam::*:role/" + RoleName + "-*",
		"arn:" + partition + ":iam::*:role/stacksets-exec-*",
		cfg.Org.BreakGlassRoleARN,
	}
}

// scpDocument is the SCP's policy document.
func scpDocument(cfg Config, partition string) map[string]any {
	exempt := scpExemptRoles(cfg, partition)
	var stmts []any
	for _, s := range scpStatements(cfg, partition) {
		stmts = append(stmts, map[string]any{
			"Sid":       s.sid,
			"Effect":    "Deny",
			"Action":    s.actions,
			"Resource":  s.resources,
			"Condition": map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": exempt}},
		})
	}
	return map[string]any{"Version": "2012-10-17", "Statement": stmts}
}

// newSCP creates the policy and attaches it to the target OUs. The SCP's
// partition is the central stack's; SCP documents are not CloudFormation
// templates, so it must be a literal (aws for the commercial partition).
func newSCP(central awscdk.Stack, cfg Config) awsorganizations.CfnPolicy {
	partition := "aws"
	if p := *central.Partition(); !*awscdk.Token_IsUnresolved(jsii.String(p)) {
		partition = p
	}
	return awsorganizations.NewCfnPolicy(central, jsii.String("ProtectMonitoringSCP"), &awsorganizations.CfnPolicyProps{
		Name:        jsii.String(SCPName),
		Description: jsii.String("Watchkeeper: only Watchkeeper and the break-glass role may delete or disable the CIS monitoring chain"),
		Type:        jsii.String("SERVICE_CONTROL_POLICY"),
		Content:     scpDocument(cfg, partition),
		TargetIds:   jsii.Strings(cfg.Org.TargetOUs...),
	})
}
