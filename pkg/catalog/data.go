package catalog

import (
	"fmt"
)

// This file holds the catalog data. Each monitoring topic (unauthorized API
// calls, root usage, ...) is written once, as a history of "eras": a value
// applies from the version named in `since` until the next era. Benchmarks
// are derived from the topics, so a reviewer checks one pattern history per
// topic against the fact sheet rather than ten copies.
//
// Every pattern text is a constant from patterns.go, copied
// programmatically from the fact sheet.

// version is one CIS AWS Foundations Benchmark release that prescribes
// log metric filters.
type version struct {
	number  string // "3.0.0"
	section string // the Monitoring section's number in that release
}

// versions lists the releases in publication order; era lookups rely on
// that order. v4.0.x is catalogued as v4.0.1, the only 4.0 release the
// fact sheet's sources name ([prowler-cloud] cis_4.0 "v4.0.1"; [turbot]
// cis_v400 does not say which patch release it transcribes).
var versions = []version{
	{"1.2.0", "3"},
	{"1.3.0", "4"},
	{"1.4.0", "4"},
	{"1.5.0", "4"},
	{"2.0.0", "4"},
	{"3.0.0", "4"},
	{"4.0.1", "4"},
	{"5.0.0", "4"},
	{"6.0.0", "5"},
	{"7.0.0", "5"},
}

// era is a value that holds from version `since` until the next era.
type era[T any] struct {
	since string
	v     T
}

// versionIndex returns the position of number in versions, or -1.
func versionIndex(number string) int {
	for i, v := range versions {
		if v.number == number {
			return i
		}
	}
	return -1
}

// at returns the value of the last era that started at or before number,
// or the zero value when none has (the control is not in that version).
// An era naming an unknown version is a programming error: it panics, so
// the catalog's tests catch it.
func at[T any](eras []era[T], number string) T {
	var out T
	n := versionIndex(number)
	for _, e := range eras {
		i := versionIndex(e.since)
		if i < 0 {
			panic(fmt.Sprintf("catalog: era since unknown version %q", e.since))
		}
		if i <= n {
			out = e.v
		}
	}
	return out
}

// texts is what one version's benchmark text says about a topic, and how
// Watchkeeper resolves it.
type texts struct {
	// remediation is the put-metric-filter --filter-pattern argument.
	remediation string
	// audit is the string the audit step looks for; "" means the same as
	// remediation.
	audit string
	// alternative is a second form that both the version's audit and its
	// remediation offer (4.2's SSO variant), or "".
	alternative string
	// write, if set, is written instead of the literal remediation text
	// under the benchmark profile. Only set together with a warning.
	write string
	// extra lists further accepted forms that are not this version's text.
	extra []Variant
	// securityHubMismatch, if set, says why the Security Hub string does
	// not satisfy this version: the securityhub profile then writes the
	// benchmark text and the Security Hub string is not accepted.
	securityHubMismatch string
	warnings            []string
	resolution          string
}

// topic is one monitoring control's history across benchmark versions.
type topic struct {
	n             int    // position in the Monitoring section: id is section.n
	key           string // stable name; resource names derive from it
	securityHubID string // "" when Security Hub has no control
	metricName    string
	since         string // first version that has the control
	titles        []era[string]
	texts         []era[texts]
	events        []era[[]Event]
	// securityHub is the exact string Security Hub's check accepts ("" if
	// none); securityHubAlso are further forms AWS has documented for the
	// same check, accepted but not written.
	securityHub     string
	securityHubAlso []Variant
	// securityHubNote resolves a conflict between Security Hub texts.
	securityHubNote string
}

const (
	// titleOld prefixes v1.2.0–v1.5.0 titles (fact sheet §1, notes).
	titleOld = "Ensure a log metric filter and alarm exist for "

	// precedenceNote explains how ungrouped mixes of && and || bind.
	precedenceNote = "CloudWatch Logs evaluates && before || (CloudWatch Logs User Guide, FilterAndPatternSyntax, " +
		"\"JSON Compound Conditions\": \"the syntax follows standard order of operations () > && > ||\"; pkg/filterpattern implements this)"
)

func events(source string, names ...string) []Event {
	out := make([]Event, len(names))
	for i, n := range names {
		out[i] = Event{Source: source, Name: n}
	}
	return out
}

var (
	iamEvents = events("iam.amazonaws.com",
		"DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy",
		"CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy",
		"AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy")
	securityGroupEvents = events("ec2.amazonaws.com",
		"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
		"RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup")
)

// topics is the catalog, in section order.
var topics = []topic{
	{
		n: 1, key: "unauthorized-api-calls", securityHubID: "CloudWatch.2", metricName: "UnauthorizedAPICalls", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "unauthorized API calls"},
			{"2.0.0", "Ensure unauthorized API calls are monitored"},
		},
		// Any event source and name: the control is about error codes.
		events: nil,
		texts: []era[texts]{
			{"1.2.0", texts{remediation: unauthorizedV120}},
			{"1.3.0", texts{
				remediation: unauthorizedV130,
				write:       unauthorizedGrouped,
				extra:       []Variant{{Pattern: unauthorizedGrouped, Source: "explicitly grouped form of the v1.3.0+ text"}},
				warnings: []string{
					"the benchmark's literal pattern ORs `$.sourceIPAddress != \"delivery.logs.amazonaws.com\"` and `$.eventName != \"HeadBucket\"` " +
						"with the error-code terms, so it matches almost every CloudTrail event and the alarm would fire continuously; " +
						"Watchkeeper writes the explicitly grouped form (errors, minus log delivery and HeadBucket) instead",
				},
				resolution: "Written: the explicitly grouped form " + unauthorizedGrouped + " (fact sheet §3.1: adopted by " +
					"nozaq/terraform-aws-secure-baseline PR #212, terraform-aws-cloudwatch PR #26, steampipe #272), because the literal " +
					"text alerts on nearly everything. Accepted: the literal text (a CIS audit compares strings), the grouped form, and " +
					"the Security Hub/v1.2.0 two-term form. The v1.4.0/v1.5.0 audit line printed without inner double quotes " +
					"([elastic], [prowler-cloud]) is an export artifact (fact sheet §3.1) and is not listed; the v1.3.0 audit text is UNCONFIRMED.",
			}},
			{"2.0.0", texts{
				remediation: unauthorizedV200,
				extra:       []Variant{{Pattern: unauthorizedGrouped, Source: "explicitly grouped form of the v1.3.0+ text"}},
				warnings: []string{
					"the benchmark text mixes || and && without parentheses; " + precedenceNote + ", so it means " +
						"*UnauthorizedOperation OR (AccessDenied* AND not log delivery AND not HeadBucket): the exclusions apply only to AccessDenied* errors",
				},
				resolution: "Written: the literal text, because CIS audits compare the string and, read with && before ||, it still " +
					"only alerts on errors. Accepted also: the explicitly grouped form ((A || B) && C && D), which is the evident " +
					"intent and narrower (it also excludes *UnauthorizedOperation from log delivery and HeadBucket), and the " +
					"Security Hub two-term form, which covers it. [turbot] cis_v600's `($.errorCode=\"*UnauthorizedOperation\")` " +
					"is a whitespace-only transcription variant.",
			}},
		},
		securityHub: unauthorizedSecurityHub,
	},
	{
		n: 2, key: "console-signin-without-mfa", securityHubID: "CloudWatch.3", metricName: "ConsoleSignInWithoutMFA", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "Management Console sign-in without MFA"},
			{"2.0.0", "Ensure management console sign-in without MFA is monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("signin.amazonaws.com", "ConsoleLogin")}},
		texts: []era[texts]{
			{"1.2.0", texts{remediation: mfaV120}},
			// v1.3.0's SSO alternative is UNCONFIRMED (fact sheet §3.2); the
			// form is still accepted there as a Security Hub string.
			{"1.4.0", texts{
				remediation: mfaV120,
				alternative: mfaSSO,
				resolution: "Written: the first pattern of the remediation text. Accepted also: the text's SSO alternative " +
					"(\"to reduce false positives in case Single Sign-On is used\"), which only counts successful IAM-user sign-ins.",
			}},
		},
		securityHub:     mfaSSO,
		securityHubAlso: []Variant{{Pattern: mfaSecurityHubLegacy, Source: "Security Hub CloudWatch.3 (documented until 2021, deployed by ASR)"}},
		securityHubNote: "Security Hub CloudWatch.3 documented " + mfaSecurityHubLegacy + " until 2021 and the four-term SSO form since 2022 " +
			"([awsdocs] e7ee0c4, [SH-current]); the securityhub profile writes the current form and both are accepted. " +
			"The four-term form counts only successful IAM-user sign-ins: failed sign-ins and root or federated sign-ins " +
			"without MFA do not match it (root sign-ins are still caught by the root-usage control). " +
			"Whether Security Hub still accepts the older one is UNCONFIRMED.",
	},
	{
		n: 3, key: "root-account-usage", securityHubID: "CloudWatch.1", metricName: "RootAccountUsage", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + `usage of "root" account`},
			{"1.4.0", titleOld + "usage of 'root' account"},
			{"2.0.0", "Ensure usage of 'root' account is monitored"},
			{"4.0.1", "Ensure usage of the 'root' account is monitored"},
		},
		// Any event source and name: the control is about the identity.
		events:      nil,
		texts:       []era[texts]{{"1.2.0", texts{remediation: rootV120}}},
		securityHub: rootSecurityHub,
	},
	{
		n: 4, key: "iam-policy-changes", securityHubID: "CloudWatch.4", metricName: "IAMPolicyChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "IAM policy changes"},
			{"2.0.0", "Ensure IAM policy changes are monitored"},
		},
		// The CIS text has no eventSource term, so same-named calls of
		// other services (AWS IoT or Organizations CreatePolicy) match too;
		// the fixtures show it.
		events: []era[[]Event]{{"1.2.0", iamEvents}},
		texts: []era[texts]{{"1.2.0", texts{
			remediation: iamV120,
			resolution:  "[turbot] cis_v130's `($eventName=...)` typo (fact sheet §3.4, UNCONFIRMED in the CIS PDF) is not adopted: it would select nothing.",
		}}},
		securityHub: iamSecurityHub,
		securityHubAlso: []Variant{{Pattern: iamSecurityHubScoped,
			Source: "Security Hub CloudWatch.4 current recommendation (scoped to iam.amazonaws.com; character-exactness UNCONFIRMED)"}},
		securityHubNote: "The securityhub profile writes the exact string of the 2023 documentation ([awsdocs]); the current " +
			"documentation recommends an iam.amazonaws.com-scoped form and no longer demands the exact CIS filter ([SH-current]); " +
			"that form is accepted, not written, because its text was reconstructed from a split table.",
	},
	{
		n: 5, key: "cloudtrail-config-changes", securityHubID: "CloudWatch.5", metricName: "CloudTrailConfigChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "CloudTrail configuration changes"},
			{"2.0.0", "Ensure CloudTrail configuration changes are monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("cloudtrail.amazonaws.com",
			"CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: cloudTrailV120}}},
		securityHub: cloudTrailSecurityHub,
	},
	{
		n: 6, key: "console-auth-failures", securityHubID: "CloudWatch.6", metricName: "ConsoleAuthenticationFailures", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "AWS Management Console authentication failures"},
			{"2.0.0", "Ensure AWS Management Console authentication failures are monitored"},
		},
		events:      []era[[]Event]{{"1.2.0", events("signin.amazonaws.com", "ConsoleLogin")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: authFailuresV120}}},
		securityHub: authFailuresSecurityHub,
	},
	{
		n: 7, key: "cmk-disable-or-delete", securityHubID: "CloudWatch.7", metricName: "DisableOrDeleteCMK", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "disabling or scheduled deletion of customer created CMKs"},
			{"2.0.0", "Ensure disabling or scheduled deletion of customer created CMKs is monitored"},
		},
		events:      []era[[]Event]{{"1.2.0", events("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: cmkV120}}},
		securityHub: cmkSecurityHub,
	},
	{
		n: 8, key: "s3-bucket-policy-changes", securityHubID: "CloudWatch.8", metricName: "S3BucketPolicyChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "S3 bucket policy changes"},
			{"2.0.0", "Ensure S3 bucket policy changes are monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("s3.amazonaws.com",
			"PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
			"DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: s3PolicyV120}}},
		securityHub: s3PolicySecurityHub,
	},
	{
		n: 9, key: "config-changes", securityHubID: "CloudWatch.9", metricName: "AWSConfigChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "AWS Config configuration changes"},
			{"2.0.0", "Ensure AWS Config configuration changes are monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("config.amazonaws.com",
			"StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: configV120}}},
		securityHub: configSecurityHub,
	},
	{
		n: 10, key: "security-group-changes", securityHubID: "CloudWatch.10", metricName: "SecurityGroupChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "security group changes"},
			{"2.0.0", "Ensure security group changes are monitored"},
		},
		events: []era[[]Event]{
			{"1.2.0", securityGroupEvents},
			{"5.0.0", append(append([]Event(nil), securityGroupEvents...), Event{Source: "ec2.amazonaws.com", Name: "ModifySecurityGroupRules"})},
		},
		texts: []era[texts]{
			{"1.2.0", texts{remediation: securityGroupV120}},
			{"5.0.0", texts{
				remediation: securityGroupV500,
				resolution: "Both profiles write this version's text: the Security Hub CloudWatch.10 string would miss " +
					"ModifySecurityGroupRules, so it is neither written nor accepted here (see Warnings).",
				securityHubMismatch: "Security Hub CloudWatch.10's exact string lacks ModifySecurityGroupRules, which this version requires; " +
					"under the securityhub profile Watchkeeper still writes this version's text, so CloudWatch.10 (evaluated only in " +
					"Security Hub's CIS v1.2.0/v1.4.0 standards) may report FAILED",
			}},
		},
		securityHub: securityGroupSecurityHub,
	},
	{
		n: 11, key: "nacl-changes", securityHubID: "CloudWatch.11", metricName: "NACLChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "changes to Network Access Control Lists (NACL)"},
			{"2.0.0", "Ensure Network Access Control Lists (NACL) changes are monitored"},
			{"4.0.1", "Ensure Network Access Control List (NACL) changes are monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("ec2.amazonaws.com",
			"CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
			"ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: naclV120}}},
		securityHub: naclSecurityHub,
	},
	{
		n: 12, key: "network-gateway-changes", securityHubID: "CloudWatch.12", metricName: "NetworkGatewayChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "changes to network gateways"},
			{"2.0.0", "Ensure changes to network gateways are monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("ec2.amazonaws.com",
			"CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway",
			"DeleteInternetGateway", "DetachInternetGateway")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: gatewayV120}}},
		securityHub: gatewaySecurityHub,
	},
	{
		n: 13, key: "route-table-changes", securityHubID: "CloudWatch.13", metricName: "RouteTableChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "route table changes"},
			{"2.0.0", "Ensure route table changes are monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("ec2.amazonaws.com",
			"CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable",
			"DeleteRoute", "DisassociateRouteTable")}},
		texts: []era[texts]{
			{"1.2.0", texts{remediation: routeTableV120}},
			{"3.0.0", routeTableSplit(routeTableAuditV300)},
			{"4.0.1", routeTableSplit(routeTableAuditV401)},
		},
		securityHub: routeTableSecurityHub,
		securityHubAlso: []Variant{{Pattern: routeTableSecurityHubScoped,
			Source: "Security Hub CloudWatch.13 current recommendation (scoped to ec2.amazonaws.com; character-exactness UNCONFIRMED)"}},
		securityHubNote: "The securityhub profile writes the exact string of the 2023 documentation ([awsdocs]); the current " +
			"documentation recommends an ec2.amazonaws.com-scoped form and no longer demands the exact CIS filter ([SH-current]); " +
			"that form is accepted, not written, because its text was reconstructed from a split table.",
	},
	{
		n: 14, key: "vpc-changes", securityHubID: "CloudWatch.14", metricName: "VPCChanges", since: "1.2.0",
		titles: []era[string]{
			{"1.2.0", titleOld + "VPC changes"},
			{"2.0.0", "Ensure VPC changes are monitored"},
		},
		events: []era[[]Event]{{"1.2.0", events("ec2.amazonaws.com",
			"CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection",
			"DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
			"DisableVpcClassicLink", "EnableVpcClassicLink")}},
		texts:       []era[texts]{{"1.2.0", texts{remediation: vpcV120}}},
		securityHub: vpcSecurityHub,
	},
	{
		n: 15, key: "organizations-changes", metricName: "OrganizationsChanges", since: "1.3.0",
		titles: []era[string]{
			{"1.3.0", "Ensure a log metric filter and alarm exists for AWS Organizations changes"},
			{"2.0.0", "Ensure AWS Organizations changes are monitored"},
		},
		events: []era[[]Event]{{"1.3.0", events("organizations.amazonaws.com",
			"AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake",
			"DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType",
			"EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
			"RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit")}},
		texts: []era[texts]{{"1.3.0", texts{
			remediation: organizationsV130,
			resolution: "No Security Hub control exists, so both profiles write the benchmark text. Whitespace variants in " +
				"[turbot] v130–v150 and the missing quote in [turbot] v600 are transcription noise (fact sheet §3, 4.15).",
		}}},
	},
}
