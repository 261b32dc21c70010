package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

// cloudWatchService is the principal that publishes alarm notifications.
const cloudWatchService = "cloudwatch.amazonaws.com"

// Key states in which KMS refuses to use a key (AWS KMS Developer Guide,
// "Key states of AWS KMS keys": a key that is Disabled, PendingDeletion or
// PendingImport cannot be used in cryptographic operations), so SNS cannot
// encrypt the notification and drops it.
var unusableKeyStates = []string{"Disabled", "PendingDeletion", "PendingImport", "Unavailable", "PendingReplicaDeletion"}

type topicResult struct {
	ok        bool
	code, why string
	unknown   bool
}

// topicVerdict decides whether a notification alarm a sends to topic arn
// reaches a person:
//   - the topic is in the alarm's Region (CloudWatch alarm actions name an
//     SNS topic of the alarm's Region: PutMetricAlarm, AlarmActions
//     "arn:aws:sns:region:account-id:sns-topic-name");
//   - it exists and was read;
//   - its access policy does not explicitly deny sns:Publish to
//     cloudwatch.amazonaws.com (IAM User Guide, "Policy evaluation logic":
//     an explicit deny overrides any allow);
//   - if it is encrypted, the key is usable, not AWS managed, and its policy
//     lets CloudWatch call kms:Decrypt and kms:GenerateDataKey* (Amazon SNS
//     Developer Guide, "Configure AWS KMS permissions for AWS services");
//   - it has a confirmed subscription.
func (j *judge) topicVerdict(arn string, a account.Alarm) topicResult {
	r, okARN := parseARN(arn)
	if okARN && a.Region != "" && r.Region != a.Region {
		return topicResult{code: CodeAlarmActionsNotValid, why: fmt.Sprintf("topic %s, which is in %s, not the alarm's Region %s; an alarm notifies only a topic in its own Region", arn, r.Region, a.Region)}
	}
	t, seen := j.topic(arn)
	switch {
	case !seen:
		return topicResult{unknown: true, why: fmt.Sprintf("topic %s, which was not observed%s", arn, elsewhere(arn, j.account))}
	case t.Error != "":
		return topicResult{unknown: true, why: fmt.Sprintf("topic %s, which could not be read: %s%s", arn, t.Error, elsewhere(arn, j.account))}
	case !t.Exists:
		return topicResult{code: CodeAlarmActionsNotValid, why: fmt.Sprintf("topic %s, which does not exist; point the alarm at an existing topic with a confirmed subscriber", arn)}
	}
	if v := j.topicPolicyVerdict(t, a); !v.ok {
		return v
	}
	if v := keyVerdict(t, j.account, a.ARN); !v.ok {
		return v
	}
	if t.ConfirmedSubscriptions == 0 {
		if pending := pendingEndpoints(t); len(pending) > 0 {
			return topicResult{code: CodeSubscriptionNotPresent, why: fmt.Sprintf("topic %s, which has no confirmed subscription; confirm the subscription sent to %s", arn, strings.Join(pending, ", "))}
		}
		return topicResult{code: CodeSubscriptionNotPresent, why: fmt.Sprintf("topic %s, which has no subscriptions; subscribe a person or system that acts on security alerts", arn)}
	}
	return topicResult{ok: true, why: fmt.Sprintf("topic %s (confirmed subscriptions: %d)", arn, t.ConfirmedSubscriptions)}
}

// topic returns the observed topic. Watchkeeper's own topic is recorded
// only if it exists (account.Snapshot.Topics), so its absence means it is gone.
func (j *judge) topic(arn string) (account.Topic, bool) {
	if t, ok := j.topics(arn); ok {
		return t, true
	}
	if j.isOwnTopic(arn) {
		return account.Topic{ARN: arn}, true
	}
	return account.Topic{}, false
}

// topicPolicyVerdict: an explicit Deny of sns:Publish to CloudWatch in the
// topic's access policy drops every notification. A Deny whose condition
// cannot be evaluated counts as applying, and the reason says so.
func (j *judge) topicPolicyVerdict(t account.Topic, a account.Alarm) topicResult {
	if t.Policy == "" {
		return topicResult{ok: true}
	}
	r := policy.CloudWatchPublishRequest(t.ARN, j.account, a.ARN)
	if t.KMSKeyID != "" {
		// "You can't, however, use HTTP when publishing to an encrypted SNS
		// topic" (Amazon SNS Developer Guide, "Amazon SNS security best
		// practices").
		r = r.With("aws:SecureTransport", "true")
	}
	d, err := policy.Evaluate(t.Policy, r)
	switch {
	case err != nil:
		return topicResult{unknown: true, why: fmt.Sprintf("topic %s, whose access policy could not be evaluated: %v", t.ARN, err)}
	case d.Denied:
		why := fmt.Sprintf("topic %s, whose access policy denies sns:Publish to %s (%s), so every alarm notification is refused; remove that Deny or exempt %s", t.ARN, cloudWatchService, strings.Join(d.DenyStatements, ", "), cloudWatchService)
		if len(d.Uncertain) > 0 {
			why += "; counted as applying because " + strings.Join(d.Uncertain, "; ")
		}
		return topicResult{code: CodeTopicPolicyDenies, why: why}
	}
	return topicResult{ok: true}
}

// keyVerdict judges an encrypted topic's KMS key.
func keyVerdict(t account.Topic, account, alarmARN string) topicResult {
	if t.KMSKeyID == "" {
		return topicResult{ok: true}
	}
	k := t.KMS
	name := t.KMSKeyID
	if k != nil && k.KeyARN != "" {
		name = k.KeyARN
	}
	switch {
	case k == nil:
		return topicResult{unknown: true, why: fmt.Sprintf("topic %s, encrypted with KMS key %s, which was not observed", t.ARN, name)}
	case k.AWSManaged:
		return topicResult{code: CodeTopicKeyNotUsable, why: fmt.Sprintf("topic %s, which is encrypted with the AWS managed key alias/aws/sns; CloudWatch cannot use that key, so every alarm notification is silently dropped; encrypt the topic with a customer managed key whose policy lets %s call kms:GenerateDataKey* and kms:Decrypt", t.ARN, cloudWatchService)}
	case slices.Contains(unusableKeyStates, k.KeyState):
		return topicResult{code: CodeTopicKeyNotUsable, why: fmt.Sprintf("topic %s, encrypted with KMS key %s, whose KeyState is %s; KMS refuses to use it, so SNS drops every alarm notification", t.ARN, name, k.KeyState)}
	case k.Error != "":
		return topicResult{unknown: true, why: fmt.Sprintf("topic %s, encrypted with KMS key %s, which could not be read: %s", t.ARN, name, k.Error)}
	case k.Policy == "":
		return topicResult{unknown: true, why: fmt.Sprintf("topic %s, encrypted with KMS key %s, whose key policy was not observed", t.ARN, name)}
	}
	d, err := policy.EvaluateAll(k.Policy, policy.CloudWatchKeyRequests(name, account, alarmARN)...)
	switch {
	case err != nil:
		return topicResult{unknown: true, why: fmt.Sprintf("topic %s, encrypted with KMS key %s, whose key policy could not be evaluated: %v", t.ARN, name, err)}
	case !d.Allowed:
		why := fmt.Sprintf("topic %s, which is encrypted with KMS key %s whose key policy does not let %s call kms:Decrypt and kms:GenerateDataKey*, so every alarm notification is silently dropped; add that statement to the key policy", t.ARN, name, cloudWatchService)
		if len(d.Uncertain) > 0 {
			why += " (not counted: " + strings.Join(d.Uncertain, "; ") + ")"
		}
		return topicResult{code: CodeTopicKeyNotUsable, why: why}
	}
	return topicResult{ok: true}
}

// isOwnTopic reports whether arn is Watchkeeper's topic in some region.
func (j *judge) isOwnTopic(arn string) bool {
	r, ok := parseARN(arn)
	return ok && r.Partition == j.partition && r.Service == "sns" && r.AccountID == j.account && r.Resource == j.opts.TopicName
}

// pendingEndpoints lists the endpoints whose subscriptions await
// confirmation, sorted.
func pendingEndpoints(t account.Topic) []string {
	var out []string
	for _, s := range t.Subscriptions {
		if !s.Confirmed() && s.ARN != "Deleted" {
			out = append(out, s.Endpoint)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
