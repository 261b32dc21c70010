package trigger

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// The callers whose API calls never start a run, although the calls are
// handled ones: AWS automation that manages alarms of its own. Application
// Auto Scaling and EC2 Auto Scaling create and delete the alarms of every
// target-tracking policy (PutMetricAlarm, DeleteAlarms) whenever a policy or
// a scalable target changes, and other services do the same through their
// service-linked roles. None of those alarms is a CIS control, and an
// infrastructure-as-code apply that scales a fleet can make hundreds of
// such calls in a minute, each of which would otherwise start a full run.
//
// The rule is written here once. The drift rule's pattern (Pattern) drops
// these events in EventBridge, so they cost nothing; Trigger.Automated
// drops them again in the function, for events delivered some other way.
//
// ServiceLinkedRolePath is the IAM path of every service-linked role: IAM
// creates them as "role/aws-service-role/SERVICE-PRINCIPAL/NAME" (IAM user
// guide, "Create a service-linked role": the path cannot be chosen). A
// call made with one is recorded with userIdentity.type "AssumedRole" and
// the role's ARN, path included, in
// userIdentity.sessionContext.sessionIssuer.arn (CloudTrail user guide,
// "CloudTrail userIdentity element"). Matching the path, not the
// conventional "AWSServiceRoleFor" name prefix, is exact: a customer can
// name a role "AWSServiceRoleForMe" but cannot give it this path.
const ServiceLinkedRolePath = "/aws-service-role/"

// autoScalingInvokers are the userIdentity.invokedBy values of calls made
// by EC2 Auto Scaling and Application Auto Scaling, which also catch the
// (older) Application Auto Scaling set-ups that use a customer role rather
// than a service-linked one.
var autoScalingInvokers = []string{"application-autoscaling.amazonaws.com", "autoscaling.amazonaws.com"}

// AutoScalingInvokers returns the userIdentity.invokedBy values whose calls
// never start a run, sorted. The slice is a copy.
func AutoScalingInvokers() []string { return slices.Clone(autoScalingInvokers) }

// ServiceLinkedRoleIssuerPrefix is the prefix of the session-issuer ARN of
// every service-linked role in account:
// "arn:PARTITION:iam::ACCOUNT:role/aws-service-role/".
func ServiceLinkedRoleIssuerPrefix(partition, account string) string {
	return "arn:" + partition + ":iam::" + account + ":role" + ServiceLinkedRolePath
}

// Automated says why a drift event was caused by AWS automation that never
// starts a run (see ServiceLinkedRolePath), or returns "" when it was not.
// A service-linked role counts only in the event's own account, as in the
// drift rule's pattern.
func (t Trigger) Automated() string {
	if t.Kind != Drift {
		return ""
	}
	if slices.Contains(autoScalingInvokers, t.Actor.InvokedBy) {
		return "made by auto scaling (" + t.Actor.InvokedBy + ")"
	}
	if a, err := arn.Parse(t.Actor.IssuerARN); err == nil && a.Service == "iam" &&
		a.AccountID == t.Account && strings.HasPrefix(a.Resource, "role"+ServiceLinkedRolePath) {
		return "made by the service-linked role " + clipN(t.Actor.IssuerARN, 256)
	}
	return ""
}
