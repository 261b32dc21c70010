// Package account is Watchkeeper's model of what it observes in one AWS
// account: trails, log groups with their metric filters and alarms, topics
// and their keys. pkg/inspect fills it from AWS; pkg/plan judges it. It
// imports no AWS SDK package, so everything that only reasons about an
// account (plan, report, config, notify) links no SDK.
package account

import (
	"log/slog"
	"slices"
)

// Snapshot is everything Watchkeeper observed in one account, in
// Watchkeeper's own types (never SDK types), so the planner stays pure.
//
// Observation is scoped: metric filters, alarms and topics are read only for
// the log groups that candidate trails deliver to, so the snapshot (and the
// number of API calls that built it) does not grow with unrelated resources.
type Snapshot struct {
	Account   string `json:"account"`
	Partition string `json:"partition"` // "aws", "aws-cn", "aws-us-gov"
	// Regions are the enabled regions that were asked for, sorted by name.
	Regions []Region `json:"regions"`
	// Trails are the distinct trails seen from any region (shadow copies
	// de-duplicated by ARN), sorted by ARN.
	Trails []Trail `json:"trails"`
	// LogGroups are the CloudWatch Logs log groups candidate trails deliver
	// to, keyed by log group ARN (without the trailing ":*").
	LogGroups map[string]LogGroup `json:"logGroups"`
	// Topics are the SNS topics referenced by relevant alarms (and the
	// configured topic, if it exists), keyed by topic ARN.
	Topics map[string]Topic `json:"topics"`
	// CentralRole is the read-only role in an organization trail owner's
	// account through which that account's trail, log group, alarms and
	// topics were read ("" when none was configured). With it the planner
	// judges the owner's chain for real instead of reporting CENTRAL.
	CentralRole string `json:"centralRole,omitempty"`
	// CentralAccount is the account CentralRole belongs to.
	CentralAccount string `json:"centralAccount,omitempty"`
	// Organization is the organization's account list, when it was asked
	// for (the trail owner's run with --organization); nil otherwise.
	Organization *Organization `json:"organization,omitempty"`
}

// Organization is what AWS Organizations ListAccounts returned.
type Organization struct {
	// Accounts are every account of the organization, sorted by ID.
	Accounts []OrgAccount `json:"accounts"`
	// Error is set when the accounts could not be listed.
	Error string `json:"error,omitempty"`
}

// OrgAccount is one account of the organization.
type OrgAccount struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Status is ACTIVE, SUSPENDED or PENDING_CLOSURE (Organizations API
	// reference, Account.Status).
	Status string `json:"status"`
}

// LogValue keeps snapshots out of logs except as counts.
func (s Snapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("account", s.Account),
		slog.Int("regions", len(s.Regions)),
		slog.Int("trails", len(s.Trails)),
		slog.Int("logGroups", len(s.LogGroups)),
		slog.Int("topics", len(s.Topics)),
	)
}

// Region is one region's observation.
type Region struct {
	Name string `json:"name"`
	// Error is set when the region could not be observed (access denied,
	// not enabled, throttled past retries). The planner marks the region
	// ERROR with this cause and still plans for every other region.
	Error string `json:"error,omitempty"`
	// TrailARNs are the trails DescribeTrails returned in this region,
	// shadow trails of multi-region trails included. It is empty for every
	// region but the home region when CoveredBy is set: a trail covering
	// every region made listing each region's trails unnecessary.
	TrailARNs []string `json:"trailArns"`
	// CoveredBy is the ARN of a trail seen from the home region that
	// covers every region: multi-region, logging, and recording read and
	// write management events (a classic selector with
	// IncludeManagementEvents and ReadWriteType All, or an advanced
	// selector on eventCategory Management without readOnly). DescribeTrails
	// in the home region lists every multi-region trail of the account
	// (shadow trails), so when such a trail exists the other regions are
	// not listed. "" when no trail seen from the home region covers every
	// region (then every region was listed), or the region has Error. The
	// planner still judges the trail itself (Snapshot.Trails).
	CoveredBy string `json:"coveredBy,omitempty"`
}

// Trail is a CloudTrail trail and its status.
type Trail struct {
	ARN                 string `json:"arn"`
	Name                string `json:"name"`
	HomeRegion          string `json:"homeRegion"`
	OwnerAccount        string `json:"ownerAccount"` // account in the ARN
	IsMultiRegion       bool   `json:"isMultiRegion"`
	IsOrganizationTrail bool   `json:"isOrganizationTrail"`
	// LogGroupARN is CloudWatchLogsLogGroupArn without the trailing ":*";
	// empty when the trail does not deliver to CloudWatch Logs.
	LogGroupARN string `json:"logGroupArn,omitempty"`
	LogsRoleARN string `json:"logsRoleArn,omitempty"`
	// Status is nil when it could not be read (e.g. a trail owned by another
	// account); StatusError then says why.
	Status      *TrailStatus `json:"status,omitempty"`
	StatusError string       `json:"statusError,omitempty"`
	// Selectors is nil when they could not be read; SelectorsError says why.
	Selectors      *Selectors `json:"selectors,omitempty"`
	SelectorsError string     `json:"selectorsError,omitempty"`
}

// KMSEventSource is the management event source whose exclusion silently
// breaks the CMK control (Security Hub CloudWatch.7: "The control also fails
// if ExcludeManagementEventSources contains kms.amazonaws.com").
const KMSEventSource = "kms.amazonaws.com"

// CoversEveryRegion reports whether t, as observed, records the management
// events of every enabled Region: it is multi-region (CloudTrail User
// Guide, "Creating a multi-Region trail": such a trail "applies to all AWS
// Regions that are enabled in your AWS account"), it is logging, and some
// selector records read and write management events. This is the one
// statement of the rule: the inspector uses it to skip listing other
// Regions' trails, the planner to judge Region coverage.
func (t Trail) CoversEveryRegion() bool {
	if !t.IsMultiRegion || t.Status == nil || !t.Status.IsLogging || t.Selectors == nil {
		return false
	}
	all, _ := t.Selectors.ManagementCoverage()
	return all
}

// ManagementCoverage reports whether the selectors record all management
// events, and whether some selector doing so also records KMS events.
//
// Classic: a selector with IncludeManagementEvents and ReadWriteType "All"
// (the CIS audit). Advanced: a selector with eventCategory = Management and
// no readOnly condition (the CIS "CloudTrail enabled in all regions"
// wording; treating it as equivalent for the monitoring controls is an
// interpretation, see the fact sheet §4).
func (s Selectors) ManagementCoverage() (all, kms bool) {
	for _, c := range s.Classic {
		if c.IncludeManagementEvents && c.ReadWriteType == "All" {
			all = true
			if !slices.Contains(c.ExcludeManagementEventSources, KMSEventSource) {
				kms = true
			}
		}
	}
	for _, a := range s.Advanced {
		if !a.IsManagement() || a.HasField("readOnly") {
			continue
		}
		all = true
		if !a.excludesKMS() {
			kms = true
		}
	}
	return all, kms
}

// IsManagement reports whether a selects management events.
func (a AdvancedSelector) IsManagement() bool {
	return slices.ContainsFunc(a.FieldSelectors, func(fs FieldSelector) bool {
		return fs.Field == "eventCategory" && slices.Contains(fs.Equals, "Management")
	})
}

// HasField reports whether a has a condition on field.
func (a AdvancedSelector) HasField(field string) bool {
	return slices.ContainsFunc(a.FieldSelectors, func(fs FieldSelector) bool { return fs.Field == field })
}

func (a AdvancedSelector) excludesKMS() bool {
	return slices.ContainsFunc(a.FieldSelectors, func(fs FieldSelector) bool {
		return fs.Field == "eventSource" && slices.Contains(fs.NotEquals, KMSEventSource)
	})
}

// TrailStatus is the part of GetTrailStatus that matters.
type TrailStatus struct {
	IsLogging bool `json:"isLogging"`
	// LatestCloudWatchLogsDeliveryError is the last delivery error, if any.
	LatestCloudWatchLogsDeliveryError string `json:"latestCloudWatchLogsDeliveryError,omitempty"`
	// LatestCloudWatchLogsDeliveryTime is RFC 3339, or "" if never delivered.
	LatestCloudWatchLogsDeliveryTime string `json:"latestCloudWatchLogsDeliveryTime,omitempty"`
}

// Selectors are a trail's event selectors. A trail has either classic or
// advanced selectors, never both.
type Selectors struct {
	Classic  []ClassicSelector  `json:"classic,omitempty"`
	Advanced []AdvancedSelector `json:"advanced,omitempty"`
}

// ClassicSelector is a CloudTrail EventSelector.
type ClassicSelector struct {
	ReadWriteType                 string         `json:"readWriteType"` // "ReadOnly", "WriteOnly", "All"
	IncludeManagementEvents       bool           `json:"includeManagementEvents"`
	ExcludeManagementEventSources []string       `json:"excludeManagementEventSources,omitempty"`
	DataResources                 []DataResource `json:"dataResources,omitempty"`
}

// DataResource is a classic selector's data-event resource.
type DataResource struct {
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// AdvancedSelector is a CloudTrail AdvancedEventSelector.
type AdvancedSelector struct {
	Name           string          `json:"name,omitempty"`
	FieldSelectors []FieldSelector `json:"fieldSelectors"`
}

// FieldSelector is one field condition of an advanced selector.
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	NotEquals     []string `json:"notEquals,omitempty"`
	StartsWith    []string `json:"startsWith,omitempty"`
	NotStartsWith []string `json:"notStartsWith,omitempty"`
	EndsWith      []string `json:"endsWith,omitempty"`
	NotEndsWith   []string `json:"notEndsWith,omitempty"`
}

// LogGroup is a log group a candidate trail delivers to, with its metric
// filters and the alarms on their metrics.
type LogGroup struct {
	ARN     string `json:"arn"`
	Name    string `json:"name"`
	Region  string `json:"region"`
	Account string `json:"account"`
	// Exists is false when the trail points at a log group that is gone.
	Exists bool `json:"exists"`
	// Error is set when the log group's filters or alarms could not be read.
	Error   string         `json:"error,omitempty"`
	Filters []MetricFilter `json:"filters"`
	// Alarms are the alarms in the log group's region on the metrics of
	// Filters (and Watchkeeper's own alarms), sorted by name.
	Alarms []Alarm `json:"alarms"`
}

// MetricFilter is a CloudWatch Logs metric filter.
type MetricFilter struct {
	Name    string `json:"name"`
	Pattern string `json:"pattern"`
	// Transformations are the metrics the filter publishes.
	Transformations []MetricTransformation `json:"transformations"`
}

// MetricTransformation is one metric a filter publishes.
type MetricTransformation struct {
	MetricName      string `json:"metricName"`
	MetricNamespace string `json:"metricNamespace"`
	MetricValue     string `json:"metricValue"` // "1" counts events
	// DefaultValue is nil when unset.
	DefaultValue *float64 `json:"defaultValue,omitempty"`
	// Dimensions are the metric's dimensions (name to the event field that
	// fills it), nil when it publishes none. A filter with dimensions
	// publishes one series per dimension value and none without
	// dimensions, so an alarm on the dimensionless metric never fires.
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Unit is the unit the metric is published with; "" means the
	// PutMetricFilter default, None. An alarm that names another unit
	// watches a series that never gets data.
	Unit string `json:"unit,omitempty"`
}

// Alarm is a CloudWatch metric alarm: every field that decides whether one
// matching event becomes a notification (the planner simulates it).
type Alarm struct {
	Name       string `json:"name"`
	ARN        string `json:"arn"`
	Region     string `json:"region"`
	MetricName string `json:"metricName"`
	Namespace  string `json:"namespace"`
	// Dimensions are the metric dimensions the alarm selects, nil for none.
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Statistic is Sum, SampleCount, Average, Minimum or Maximum; "" when
	// ExtendedStatistic (a percentile such as p99) is used instead.
	Statistic         string `json:"statistic,omitempty"`
	ExtendedStatistic string `json:"extendedStatistic,omitempty"`
	// EvaluateLowSampleCountPercentile is "evaluate", "ignore" or "" (a
	// percentile alarm's treatment of periods with few datapoints).
	EvaluateLowSampleCountPercentile string `json:"evaluateLowSampleCountPercentile,omitempty"`
	// Unit is the unit the alarm asks for, "" when none is specified.
	Unit              string `json:"unit,omitempty"`
	Period            int32  `json:"period"`
	EvaluationPeriods int32  `json:"evaluationPeriods"`
	// DatapointsToAlarm is 0 when unset (then it equals EvaluationPeriods).
	DatapointsToAlarm  int32   `json:"datapointsToAlarm,omitempty"`
	Threshold          float64 `json:"threshold"`
	ComparisonOperator string  `json:"comparisonOperator"`
	// ThresholdMetricID is set for anomaly-detection alarms, whose
	// threshold is a band computed by a metric-math expression.
	ThresholdMetricID string `json:"thresholdMetricId,omitempty"`
	// MetricMath is true when the alarm is defined by Metrics (metric math
	// or anomaly detection) rather than by one MetricName.
	MetricMath       bool     `json:"metricMath,omitempty"`
	TreatMissingData string   `json:"treatMissingData,omitempty"`
	ActionsEnabled   bool     `json:"actionsEnabled"`
	AlarmActions     []string `json:"alarmActions"`
	// StateValue is the alarm's current state: OK, ALARM or
	// INSUFFICIENT_DATA ("" when not reported).
	StateValue string `json:"stateValue,omitempty"`
	// Tags are not read: ownership is by name (NamePrefix).
}

// Topic is an SNS topic an alarm notifies.
type Topic struct {
	ARN     string `json:"arn"`
	Region  string `json:"region"`
	Account string `json:"account"`
	// Exists is false when an alarm names a topic that is gone.
	Exists bool `json:"exists"`
	// Error is set when the topic could not be read (e.g. cross-account,
	// access denied). The planner reports it; it does not guess.
	Error string `json:"error,omitempty"`
	// ConfirmedSubscriptions counts subscriptions whose ARN is a real ARN
	// (not "PendingConfirmation" or "Deleted").
	ConfirmedSubscriptions int `json:"confirmedSubscriptions"`
	// PendingSubscriptions counts subscriptions awaiting confirmation.
	PendingSubscriptions int `json:"pendingSubscriptions"`
	// Subscriptions lists every subscription (protocol and endpoint), so the
	// planner never subscribes the same endpoint twice.
	Subscriptions []Subscription `json:"subscriptions"`
	// Policy is the topic's access policy document (the Policy attribute),
	// "" when it has none.
	Policy string `json:"policy,omitempty"`
	// KMSKeyID is the topic's KmsMasterKeyId attribute, "" if unencrypted.
	KMSKeyID string `json:"kmsKeyId,omitempty"`
	// KMS is what was observed of the key; nil when unencrypted.
	KMS *TopicKey `json:"kms,omitempty"`
}

// Subscription is one SNS subscription.
type Subscription struct {
	ARN      string `json:"arn"` // "PendingConfirmation" while unconfirmed
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
}

// Confirmed reports whether the subscription is confirmed: its ARN is a
// real ARN rather than a placeholder such as "PendingConfirmation".
func (s Subscription) Confirmed() bool {
	return len(s.ARN) > 4 && s.ARN[:4] == "arn:"
}

// TopicKey is what Watchkeeper observed of a topic's KMS key.
type TopicKey struct {
	KeyARN string `json:"keyArn,omitempty"`
	// AWSManaged is true for alias/aws/sns (and any key whose KeyManager
	// is AWS), whose policy CloudWatch can never use: alarm notifications
	// to such a topic are silently dropped.
	AWSManaged bool `json:"awsManaged"`
	// KeyState is DescribeKey's KeyState (Enabled, Disabled,
	// PendingDeletion, PendingImport, ...); "" when not read.
	KeyState string `json:"keyState,omitempty"`
	// Policy is the key's "default" key policy document; "" when not read
	// (AWS managed keys, keys of another account).
	Policy string `json:"policy,omitempty"`
	// Error is set when the key or its policy could not be read.
	Error string `json:"error,omitempty"`
}
