package policy

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// CloudWatch is the service principal that publishes alarm notifications
// to Amazon SNS.
const CloudWatch = "cloudwatch.amazonaws.com"

// CloudWatchKeyActions are the AWS KMS actions CloudWatch needs on the key
// of an encrypted topic: the Amazon SNS Developer Guide ("Configure AWS
// KMS permissions for AWS services") grants it kms:GenerateDataKey* and
// kms:Decrypt. kms:GenerateDataKey is the action the wildcard must cover.
var CloudWatchKeyActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// servicePrincipalAbsent lists the condition keys that the IAM User Guide,
// "AWS global condition context keys", documents as missing from a call
// made directly by a service principal:
//   - aws:PrincipalOrgID, aws:PrincipalOrgPaths: "included in the request
//     context only if the principal is a member of an organization"; a
//     service principal is not, and the guide notes that a PrincipalOrgID
//     condition shuts out "AWS services that interact with your internal
//     resources";
//   - aws:PrincipalTag/*: only for an IAM user or role with tags;
//   - aws:username: "always included in the request context for IAM users"
//     and for no other principal the page names;
//   - aws:CalledVia, aws:CalledViaFirst, aws:CalledViaLast: present only
//     when a service uses an IAM principal's credentials, "not present when
//     the principal makes the call directly";
//   - the "Properties of a role session" keys: "only available when a
//     request is made by a principal with role session or federated user
//     principal credentials";
//   - aws:referer: "not included for programmatic requests".
//
// Keys that are present but whose value for a service principal is not
// documented stay unknown, so conditions on them are reported as
// uncertain: aws:PrincipalAccount, aws:PrincipalType and aws:userid ("for
// all requests, including anonymous requests"), aws:PrincipalArn (the
// page lists only role, user, federated user and root values), the
// network keys (aws:SourceIp, aws:SourceVpc, aws:SourceVpce,
// aws:VpcSourceIp, ...: for "service-to-service calls, certain
// network-specific authorization context is redacted"), aws:SourceOrgID
// and aws:SourceOrgPaths (present only if the account is in an
// organization), aws:RequestedRegion, aws:CurrentTime and service keys
// such as kms:CallerAccount and kms:ViaService.
var servicePrincipalAbsent = []string{
	"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalTag/*", "aws:username",
	"aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:referer",
	"aws:AssumedRoot", "aws:FederatedProvider", "aws:TokenIssueTime", "aws:SignInSessionArn",
	"aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:ChatbotSourceArn",
	"aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4", "aws:SourceIdentity",
	"ec2:RoleDelivery", "ec2:SourceInstanceArn", "glue:RoleAssumedBy", "glue:CredentialIssuingService",
	"codebuild:BuildArn", "codebuild:ProjectArn", "lambda:SourceFunctionArn", "ssm:SourceInstanceArn",
	"identitystore:UserId",
}

// CloudWatchPublishRequest is CloudWatch publishing a notification for the
// alarm alarmARN, owned by account, to the topic topicARN. Empty account
// (taken from alarmARN when that is an ARN) or alarmARN leaves the key
// unknown.
//
// Besides the keys every CloudWatch request has (see CloudWatchKeyRequests)
// it carries aws:SourceOwner: the Amazon SNS Developer Guide ("Example
// cases for Amazon SNS access control") lists Amazon CloudWatch among the
// services that set both aws:SourceAccount and aws:SourceOwner, "the
// 12-digit AWS account ID on whose behalf the service is publishing". The
// IAM guide leaves aws:SourceOwner undocumented, but the SNS console's
// default topic policy conditions on it.
//
// aws:SecureTransport stays unknown: no page says CloudWatch publishes
// over TLS. For an encrypted topic it is known, because "You can't,
// however, use HTTP when publishing to an encrypted SNS topic" (Amazon SNS
// Developer Guide, "Amazon SNS security best practices"); callers judging
// an encrypted topic should add
//
//	r = r.With("aws:SecureTransport", "true")
func CloudWatchPublishRequest(topicARN, account, alarmARN string) Request {
	r := cloudWatchRequest("sns:Publish", topicARN, account, alarmARN)
	if src := r.Context["aws:SourceAccount"]; src != nil {
		r.Context["aws:SourceOwner"] = src
	}
	return r
}

// CloudWatchKeyRequests are CloudWatch's calls to AWS KMS, one for each
// of CloudWatchKeyActions, on the key keyARN of an encrypted topic while
// publishing for the alarm alarmARN owned by account. Judge them together
// with EvaluateAll.
//
// Every CloudWatch request, here and in CloudWatchPublishRequest, knows
// these keys (IAM User Guide, "AWS global condition context keys"):
//   - aws:PrincipalServiceName = cloudwatch.amazonaws.com: "present in the
//     request when the call is made by an AWS service principal";
//   - aws:PrincipalIsAWSService = true: "set to true when a service uses a
//     service principal to perform a direct action on your resources";
//   - aws:ViaAWSService = false: "always included", true only for forward
//     access sessions, which act with an IAM principal's credentials;
//   - aws:SourceAccount and aws:SourceArn: "included in the request context
//     only when the call to your resource is being made directly by an AWS
//     service principal on behalf of a resource for which the configuration
//     triggered the service-to-service request" — here the alarm. The
//     Amazon SNS Developer Guide ("Configure AWS KMS permissions for AWS
//     services") recommends both keys in the key policy statement for the
//     publishing service;
//   - aws:ResourceAccount = the account in the resource ARN: "always
//     included ... for most service actions" (SNS and KMS are not among the
//     exceptions);
//   - absent, as documented for a direct call by a service principal:
//     aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalTag/*,
//     aws:username, aws:CalledVia, aws:CalledViaFirst, aws:CalledViaLast,
//     aws:referer and the role-session keys (aws:MultiFactorAuthPresent,
//     aws:TokenIssueTime, aws:SourceIdentity, ...).
//
// Other keys are unknown; the package documentation says why.
//
// A KMS request also has aws:SecureTransport = true: "AWS KMS requires TLS
// 1.2" (AWS KMS Developer Guide, "Infrastructure security in AWS Key
// Management Service").
func CloudWatchKeyRequests(keyARN, account, alarmARN string) []Request {
	var rs []Request
	for _, a := range CloudWatchKeyActions {
		rs = append(rs, cloudWatchRequest(a, keyARN, account, alarmARN).With("aws:SecureTransport", "true"))
	}
	return rs
}

func cloudWatchRequest(action, resource, account, alarmARN string) Request {
	ctx := map[string][]string{
		"aws:PrincipalServiceName":  {CloudWatch},
		"aws:PrincipalIsAWSService": {"true"},
		"aws:ViaAWSService":         {"false"},
	}
	if a, err := arn.Parse(alarmARN); err == nil && account == "" {
		account = a.AccountID
	}
	if account != "" {
		ctx["aws:SourceAccount"] = []string{account}
	}
	if alarmARN != "" {
		ctx["aws:SourceArn"] = []string{alarmARN}
	}
	if a, err := arn.Parse(resource); err == nil && a.AccountID != "" {
		ctx["aws:ResourceAccount"] = []string{a.AccountID}
	}
	return Request{
		Service:  CloudWatch,
		Action:   action,
		Resource: resource,
		Context:  ctx,
		Absent:   slices.Clone(servicePrincipalAbsent),
	}
}
