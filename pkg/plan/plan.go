// Package plan compares the desired controls with an observed snapshot and
// decides what is wrong (control and region results, with reasons) and what
// would fix it (actions).
//
// Compute performs no I/O and is deterministic: results and actions are
// sorted, so plans diff cleanly and can be golden-tested. A plan is data: it
// can be shown before it is applied, and "report only" simply means not
// handing it to apply.
package plan

import (
	"fmt"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// Status is a control's or region's verdict.
type Status string

const (
	StatusPass     Status = "PASS"
	StatusFail     Status = "FAIL"
	StatusError    Status = "ERROR"    // could not be evaluated; Reasons say why
	StatusExcluded Status = "EXCLUDED" // excluded by configuration
	// StatusCentral: the account is a member of an organization whose
	// organization trail (owned by another account, the trail owner)
	// records its events into the owner's CloudWatch Logs log group. The
	// member can see that trail but cannot modify it, and cannot read the
	// owner's log group (CloudTrail User Guide, "Creating a trail for an
	// organization": organization trails "log events for the management
	// account and all member accounts in the organization"; member
	// accounts see the trail, only the management account or a delegated
	// administrator can change it), so the control's alert path is
	// enforced, and judged, in the owner's account. It is neither a
	// failure nor an error, and nothing is planned for it. With a central
	// role (Options of the inspector, Snapshot.CentralRole) the member
	// judges the owner's chain itself, and the status is PASS or FAIL.
	StatusCentral Status = "CENTRAL"
)

// Central names the organization trail that makes a control or region
// CENTRAL: the trail, the account that owns it, and its log group.
type Central struct {
	TrailARN     string `json:"trailArn"`
	OwnerAccount string `json:"ownerAccount"`
	LogGroupARN  string `json:"logGroupArn"`
	LogGroupName string `json:"logGroupName"`
	Region       string `json:"region"`
}

// Reason codes. The first group is Security Hub's own vocabulary
// (awsdocs/aws-security-hub-user-guide, controls-findings-create-update.md),
// used where one fits; the second group is Watchkeeper's, in the same style,
// for alert-path faults Security Hub does not name. README "Reason codes"
// documents each.
const (
	CodeMultiRegionNotPresent  = "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT"
	CodeFiltersNotPresent      = "CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT"
	CodeFilterNotValid         = "CLOUDTRAIL_METRIC_FILTER_NOT_VALID"
	CodeAlarmsNotPresent       = "CLOUDWATCH_ALARMS_NOT_PRESENT"
	CodeAlarmActionsNotValid   = "CLOUDWATCH_ALARM_ACTIONS_NOT_VALID"
	CodeSubscriptionNotPresent = "SNS_SUBSCRIPTION_NOT_PRESENT"

	// CodeFilterTooBroad: the filter covers the control but also counts
	// routine CloudTrail activity, so its alarm sits in ALARM and
	// CloudWatch, which notifies only on state changes, stays silent.
	CodeFilterTooBroad = "CLOUDTRAIL_METRIC_FILTER_TOO_BROAD"
	// CodeTransformationNotValid: the filter's metric transformation
	// (metricValue, defaultValue) does not turn one event into a datapoint
	// the alarm can tell from quiet periods.
	CodeTransformationNotValid = "CLOUDTRAIL_METRIC_TRANSFORMATION_NOT_VALID"
	// CodeMetricMismatch: the alarm watches a metric (namespace, name,
	// dimensions, unit) the filter never publishes to.
	CodeMetricMismatch = "CLOUDWATCH_ALARM_METRIC_MISMATCH"
	// CodeAlarmConditionNotValid: simulated on one event, the alarm does
	// not go from OK or INSUFFICIENT_DATA to ALARM (it never trips, or it
	// is already in ALARM with no event).
	CodeAlarmConditionNotValid = "CLOUDWATCH_ALARM_CONDITION_NOT_VALID"
	// CodeTopicPolicyDenies: the topic's access policy denies sns:Publish
	// to cloudwatch.amazonaws.com.
	CodeTopicPolicyDenies = "SNS_TOPIC_POLICY_DENIES_CLOUDWATCH"
	// CodeTopicKeyNotUsable: the topic's KMS key is disabled, pending
	// deletion or import, AWS managed, or its policy does not let
	// CloudWatch use it.
	CodeTopicKeyNotUsable = "SNS_TOPIC_KMS_KEY_NOT_USABLE"
	// CodeCentral (on CENTRAL, not a failure): the account's events are
	// recorded by an organization trail of another account, whose log
	// group's filters, alarms and topic are enforced there.
	CodeCentral = "CLOUDTRAIL_ORGANIZATION_TRAIL_CENTRAL"
)

// HealingLevel says how far Watchkeeper may go in changing a trail.
type HealingLevel string

const (
	// HealNone never changes a trail; trail problems are only reported.
	HealNone HealingLevel = "none"
	// HealSafe restarts logging and restores management events on the
	// trail Watchkeeper targets, keeping every other selector intact.
	HealSafe HealingLevel = "safe"
	// HealFull also makes the trail multi-region and attaches the configured
	// CloudWatch Logs log group and role.
	HealFull HealingLevel = "full"
)

// ParseHealingLevel returns the level named s or an error listing the valid ones.
func ParseHealingLevel(s string) (HealingLevel, error) {
	switch HealingLevel(s) {
	case HealNone, HealSafe, HealFull:
		return HealingLevel(s), nil
	}
	return "", fmt.Errorf("unknown trail healing level %q (supported: none, safe, full)", s)
}

// Kind is what an action does. Kinds are named after the AWS API call that
// carries them out.
type Kind string

const (
	CreateTopic        Kind = "CreateTopic"
	Subscribe          Kind = "Subscribe"
	PutMetricFilter    Kind = "PutMetricFilter"
	PutMetricAlarm     Kind = "PutMetricAlarm"
	EnableAlarmActions Kind = "EnableAlarmActions"
	StartLogging       Kind = "StartLogging"
	PutEventSelectors  Kind = "PutEventSelectors"
	UpdateTrail        Kind = "UpdateTrail"
	// CancelKeyDeletion and EnableKey restore the configured topic key
	// (only that key) when it is scheduled for deletion or disabled.
	CancelKeyDeletion Kind = "CancelKeyDeletion"
	EnableKey         Kind = "EnableKey"
)

// Phase orders kinds whose actions depend on one another: a topic before
// its subscriptions and the alarms that notify it, a trail's log delivery
// before the filters on its log group. Actions of one phase are independent.
func (k Kind) Phase() int {
	switch k {
	case UpdateTrail, PutEventSelectors, StartLogging, CreateTopic, CancelKeyDeletion:
		return 0
	case Subscribe, PutMetricFilter, EnableKey:
		// EnableKey after CancelKeyDeletion, which leaves the key
		// Disabled (AWS KMS API reference, CancelKeyDeletion).
		return 1
	default: // PutMetricAlarm, EnableAlarmActions
		return 2
	}
}

// Action is one change. Apply reads only Kind, Region and the spec that
// matches Kind; Reason is for people and is never used to decide anything.
type Action struct {
	Kind   Kind   `json:"action"`
	Region string `json:"region"`
	// Target names the resource written: an ARN where one is known, else
	// "logGroupName/filterName" for filters.
	Target string `json:"target"`
	// Controls are the ids of the controls that need this action.
	Controls []string `json:"controls,omitempty"`
	// Coverage is true for a trail action that no failing control needs
	// but that makes every region covered by an active multi-region trail
	// recording all management events.
	Coverage bool   `json:"coverage,omitempty"`
	Reason   string `json:"reason"`

	Topic        *TopicSpec        `json:"topic,omitempty"`
	Subscription *SubscriptionSpec `json:"subscription,omitempty"`
	Filter       *FilterSpec       `json:"filter,omitempty"`
	Alarm        *AlarmSpec        `json:"alarm,omitempty"`
	Trail        *TrailSpec        `json:"trail,omitempty"`
	KMSKey       *KeySpec          `json:"kmsKey,omitempty"`
}

// Key is the action's identity, the one rule every package uses to tell
// whether two actions are the same change: plans hold at most one action
// per identity, and apply outcomes and report lines are matched by it. It is
// the kind, region and target and, for Subscribe, the protocol and
// endpoint. The protocol compares in lower case: SNS's Subscribe protocol
// values are all lower case ("http", "https", "email", "email-json", "sms",
// "sqs", "application", "lambda", "firehose"; SNS API reference,
// Subscribe), so "EMAIL" can only mean "email". The endpoint keeps its
// case: a URL path or an address's local part may be case-sensitive.
func (a Action) Key() string {
	k := string(a.Kind) + "\x00" + a.Region + "\x00" + a.Target
	if s := a.Subscription; s != nil {
		k += "\x00" + Endpoint{Protocol: s.Protocol, Endpoint: s.Endpoint}.Key()
	}
	return k
}

// KeySpec is the KMS key CancelKeyDeletion or EnableKey acts on: always the
// key Watchkeeper's topic is configured with, by ARN.
type KeySpec struct {
	KeyARN string `json:"keyArn"`
}

// TopicSpec is what CreateTopic creates.
type TopicSpec struct {
	Name     string            `json:"name"`
	KMSKeyID string            `json:"kmsKeyId,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
}

// SubscriptionSpec is what Subscribe subscribes.
type SubscriptionSpec struct {
	TopicARN string `json:"topicArn"`
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
}

// FilterSpec is the metric filter PutMetricFilter writes.
type FilterSpec struct {
	LogGroupName string `json:"logGroupName"`
	FilterName   string `json:"filterName"`
	Pattern      string `json:"pattern"`
	MetricName   string `json:"metricName"`
	Namespace    string `json:"namespace"`
	MetricValue  string `json:"metricValue"` // always "1": each matching event counts once
}

// AlarmSpec is the alarm PutMetricAlarm writes, or (for EnableAlarmActions)
// the alarm whose actions are re-enabled (only AlarmName is read then).
type AlarmSpec struct {
	AlarmName          string            `json:"alarmName"`
	Description        string            `json:"description,omitempty"`
	MetricName         string            `json:"metricName,omitempty"`
	Namespace          string            `json:"namespace,omitempty"`
	Statistic          string            `json:"statistic,omitempty"`          // "Sum"
	Period             int32             `json:"period,omitempty"`             // 300
	EvaluationPeriods  int32             `json:"evaluationPeriods,omitempty"`  // 1
	Threshold          float64           `json:"threshold"`                    // 1
	ComparisonOperator string            `json:"comparisonOperator,omitempty"` // GreaterThanOrEqualToThreshold
	TreatMissingData   string            `json:"treatMissingData,omitempty"`   // notBreaching
	TopicARN           string            `json:"topicArn,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
}

// TrailSpec is a change to a trail. For PutEventSelectors, Selectors is the
// complete new set (every existing selector kept, management events
// restored). For UpdateTrail, only the non-zero fields change.
type TrailSpec struct {
	TrailARN        string             `json:"trailArn"`
	HomeRegion      string             `json:"homeRegion"`
	Selectors       *account.Selectors `json:"selectors,omitempty"`
	MakeMultiRegion bool               `json:"makeMultiRegion,omitempty"`
	LogGroupARN     string             `json:"logGroupArn,omitempty"`
	LogsRoleARN     string             `json:"logsRoleArn,omitempty"`
}

// ControlResult is one control's verdict.
type ControlResult struct {
	ID            string   `json:"id"`
	SecurityHubID string   `json:"securityHubId,omitempty"`
	Title         string   `json:"title"`
	Status        Status   `json:"status"`
	Reasons       []string `json:"reasons"`
	// Codes are the Security Hub reason codes behind Reasons, where one fits.
	Codes []string `json:"codes,omitempty"`
	// Where names the log group (ARN) whose filter and alarm satisfy the
	// control, when it passes.
	Where string `json:"where,omitempty"`
	// Problems pairs each reason that is a problem with its code ("" where
	// none fits), in the order of Reasons: every reason on FAIL, ERROR and
	// EXCLUDED; on PASS every reason after the first (which says what
	// satisfies the control). It is for consumers that need the pairing,
	// such as Security Hub's StatusReasons (pkg/findings); the JSON
	// document keeps Reasons and Codes.
	Problems []Problem `json:"-"`
	// Chain names the resources of the control's alert path; nil when
	// none is known. Not part of the JSON document.
	Chain *Chain `json:"-"`
	// Central names the organization trail, its owner and log group when
	// Status is CENTRAL; nil otherwise.
	Central *Central `json:"central,omitempty"`
}

// Chain names the resources of one control's alert path, so that a
// consumer can point at them (pkg/findings lists them as a Security Hub
// finding's resources). On PASS it is the chain that satisfies the control:
// the log group, the filter that counts the control's events, the alarm on
// its metric and the topic that delivers. On FAIL and ERROR it is where
// Watchkeeper's own filter and alarm for the control are, or would be
// created, on the target log group, with Watchkeeper's topic; Chain is nil
// then when no log group can be targeted.
type Chain struct {
	Region       string `json:"region"`
	LogGroupARN  string `json:"logGroupArn"`
	LogGroupName string `json:"logGroupName"`
	// FilterName is the metric filter's name; metric filters have no ARN.
	FilterName string `json:"filterName"`
	AlarmName  string `json:"alarmName"`
	AlarmARN   string `json:"alarmArn"`
	TopicARN   string `json:"topicArn"`
}

// RegionResult is one region's verdict: is it covered by an active
// multi-region trail recording all management events?
type RegionResult struct {
	Region  string   `json:"region"`
	Status  Status   `json:"status"`
	Reasons []string `json:"reasons"`
	// Central names the organization trail that covers the region when
	// Status is CENTRAL; nil otherwise.
	Central *Central `json:"central,omitempty"`
}

// Plan is the outcome of Compute.
type Plan struct {
	Account    string          `json:"account"`
	Benchmark  string          `json:"benchmark"`
	HomeRegion string          `json:"homeRegion"`
	Controls   []ControlResult `json:"controls"`
	Regions    []RegionResult  `json:"regions"`
	Actions    []Action        `json:"actions"`
	// TopicARN is the topic Watchkeeper's alarms notify, in the target log
	// group's region; "" when no log group can be targeted.
	TopicARN string `json:"topicArn,omitempty"`
	// LogGroup is the target log group, where Watchkeeper's filters and
	// alarms go; nil when none can be targeted.
	LogGroup *LogGroup `json:"logGroup,omitempty"`
	// Warnings are things a person should know that are not failures
	// (e.g. a control whose literal benchmark text matches almost every
	// event, or a subscription still awaiting confirmation).
	Warnings []string `json:"warnings,omitempty"`
	// Organization is the organization coverage, when the snapshot holds
	// the organization's accounts (Snapshot.Organization); nil otherwise.
	Organization *Organization `json:"organization,omitempty"`
}

// LogGroup names a CloudWatch Logs log group.
type LogGroup struct {
	ARN    string `json:"arn"`
	Name   string `json:"name"`
	Region string `json:"region"`
}

// Compliant reports whether every non-excluded control and every region
// passes or is CENTRAL (enforced in the organization trail's owner account,
// which a member cannot change).
func (p Plan) Compliant() bool {
	for _, c := range p.Controls {
		if c.Status != StatusPass && c.Status != StatusExcluded && c.Status != StatusCentral {
			return false
		}
	}
	for _, r := range p.Regions {
		if r.Status != StatusPass && r.Status != StatusCentral {
			return false
		}
	}
	return true
}

// Endpoint is a subscription Watchkeeper ensures on its topic.
type Endpoint struct {
	Protocol string `json:"protocol"` // "email", "https", "sqs", "lambda", ...
	Endpoint string `json:"endpoint"`
}

// Key identifies an endpoint: the protocol in lower case (SNS's protocol
// values are all lower case; see Action.Key) and the endpoint as is.
func (e Endpoint) Key() string { return strings.ToLower(e.Protocol) + "\x00" + e.Endpoint }

// Options are the inputs to Compute besides the snapshot. The zero value of
// each optional field is a documented default.
type Options struct {
	Benchmark catalog.Benchmark
	// Profile selects the pattern written; "" means ProfileBenchmark.
	Profile catalog.Profile
	// HomeRegion is where the topic, filters and alarms go when no trail
	// decides it.
	HomeRegion string
	// Namespace is the metric namespace; "" means "CISBenchmark".
	Namespace string
	// TopicName is the SNS topic Watchkeeper creates and alarms notify;
	// "" means NamePrefix + "cis-alarms".
	TopicName string
	// TopicKMSKeyID, if set, encrypts the topic Watchkeeper creates.
	TopicKMSKeyID string
	// Subscriptions are ensured on Watchkeeper's topic.
	Subscriptions []Endpoint
	// Exclude lists control ids that are reported EXCLUDED and never healed.
	Exclude []string
	// TrailHealing is how far trails may be changed; "" means HealSafe.
	TrailHealing HealingLevel
	// TrailName, if set, is the trail Watchkeeper targets and the only trail
	// it changes (e.g. the trail the CDK app provisioned, or the customer
	// trail its IAM policy is scoped to). When that trail is missing or owned
	// by another account, filters and alarms go behind the best other trail
	// of this account, but no trail write is planned for it: its problems are
	// reported. "" lets Watchkeeper target and heal any trail of the account.
	TrailName string
	// TrailLogGroupARN and TrailLogsRoleARN are attached to the target trail
	// under HealFull when it has no CloudWatch Logs delivery.
	TrailLogGroupARN string
	TrailLogsRoleARN string
	// NamePrefix prefixes every resource Watchkeeper creates, so it can tell
	// its own resources from others; "" means DefaultNamePrefix.
	NamePrefix string
}

// withDefaults returns o with every zero optional field set to its default.
func (o Options) withDefaults() Options {
	if o.Profile == "" {
		o.Profile = catalog.ProfileBenchmark
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.NamePrefix == "" {
		o.NamePrefix = DefaultNamePrefix
	}
	if o.TopicName == "" {
		o.TopicName = o.NamePrefix + DefaultTopicSuffix
	}
	if o.TrailHealing == "" {
		o.TrailHealing = HealSafe
	}
	return o
}

// Defaults.
const (
	DefaultNamespace   = "CISBenchmark"
	DefaultNamePrefix  = "watchkeeper-"
	DefaultTopicSuffix = "cis-alarms"
)
