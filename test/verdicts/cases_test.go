package verdicts_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// Reason codes, as the README's JSON report publishes them (declared here
// so the tests pin the contract, not whatever pkg/plan exports).
const (
	multiRegionNotPresent  = "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT"
	filtersNotPresent      = "CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT"
	filterNotValid         = "CLOUDTRAIL_METRIC_FILTER_NOT_VALID"
	alarmsNotPresent       = "CLOUDWATCH_ALARMS_NOT_PRESENT"
	actionsNotValid        = "CLOUDWATCH_ALARM_ACTIONS_NOT_VALID"
	subscriptionNotPresent = "SNS_SUBSCRIPTION_NOT_PRESENT"
	filterTooBroad         = "CLOUDTRAIL_METRIC_FILTER_TOO_BROAD"
	transformationNotValid = "CLOUDTRAIL_METRIC_TRANSFORMATION_NOT_VALID"
	metricMismatch         = "CLOUDWATCH_ALARM_METRIC_MISMATCH"
	conditionNotValid      = "CLOUDWATCH_ALARM_CONDITION_NOT_VALID"
	topicPolicyDenies      = "SNS_TOPIC_POLICY_DENIES_CLOUDWATCH"
	topicKeyNotUsable      = "SNS_TOPIC_KMS_KEY_NOT_USABLE"
)

// dimensions are the links of the verdict rule; every one gets at least
// one PASS and one FAIL case (TestCorpusCoverage).
var dimensions = []string{
	multiRegionNotPresent, filtersNotPresent, filterNotValid, filterTooBroad, transformationNotValid,
	alarmsNotPresent, metricMismatch, conditionNotValid, actionsNotValid,
	subscriptionNotPresent, topicPolicyDenies, topicKeyNotUsable,
}

const (
	pass = "PASS"
	fail = "FAIL"
)

// verdictCase is one account of the corpus.
type verdictCase struct {
	name string
	// dim is the link of the verdict rule the case is about (a reason code).
	dim string
	// why justifies the expected verdict from the benchmark text or the AWS
	// documentation (page title).
	why string
	// benchmark and profile select the catalog the compliant account is
	// built for ("" = cis-aws-v3.0.0, benchmark profile); flags are added
	// to every run.
	benchmark string
	profile   catalog.Profile
	flags     []string
	// homeRegion is where the compliant account lives ("" = us-east-1).
	homeRegion string
	// key is the catalog key of the varied control; "" means the variation
	// reaches every control, which then all expect want and codes.
	key  string
	seed func(e *env)
	// want is the varied control's status; every other control must PASS.
	want string
	// codes must all appear in the varied control's codes when it FAILs;
	// also lists the other codes it may carry (every other code is an
	// error).
	codes, also []string
	// heal runs apply on the case and proves convergence (heal in
	// verdicts_test.go); cisAudit then also runs the benchmark's own audit.
	heal, cisAudit bool
	// healActions are action kinds apply must have applied.
	healActions []string
	// drift marks a PASS case whose Watchkeeper-owned resources differ from
	// their definition, so the plan may rewrite them; any other PASS
	// account must plan nothing.
	drift bool
	// afterHeal checks the healed account further.
	afterHeal func(t *testing.T, e *env, after state)
}

// A few texts the cases use.
const (
	// kmsNarrowed drops ScheduleKeyDeletion from 4.7's pattern.
	kmsNarrowed = `{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }`
	// rootReordered is 4.3's pattern re-spaced and re-ordered: equivalent.
	rootReordered = `{$.eventType!="AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type="Root"}`
	everyEvent    = `{ $.eventName = * }`
	// rootOrReadOnly is 4.3's pattern OR'd with every read-only call.
	rootOrReadOnly = `{ ($.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent") || ($.readOnly IS TRUE) }`

	scalingPolicy = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0b6a3b5c-7d3e-4f7a-9c1d-2e4f6a8b0c1d:autoScalingGroupName/web:policyName/scale-out"
	ec2Reboot     = "arn:aws:automate:us-east-1:ec2:reboot"

	// Topic policies (SetTopicAttributes Policy).
	denyCloudWatch = `{"Version":"2012-10-17","Statement":[{"Sid":"NoCloudWatch","Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}]}`
	// confusedDeputy is the SNS guidance against the confused deputy: deny
	// publishing on behalf of another account.
	confusedDeputy = `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"AllowCloudWatch","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"},` +
		`{"Sid":"ConfusedDeputy","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}}]}`
	allowCloudWatch = `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Owner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"*"},` +
		`{"Sid":"AllowCloudWatch","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`
)

// accepted returns c's accepted variant whose source contains src.
func (e *env) accepted(key, src string) string {
	e.t.Helper()
	c := e.ctl(key)
	for _, v := range c.Accepted {
		if strings.Contains(v.Source, src) {
			return v.Pattern
		}
	}
	e.t.Fatalf("control %s has no accepted variant from %q", c.ID, src)
	return ""
}

func withDims(d map[string]string) func(*cloudwatchlogs.PutMetricFilterInput) {
	return func(in *cloudwatchlogs.PutMetricFilterInput) { in.MetricTransformations[0].Dimensions = d }
}

func withUnit(u logtypes.StandardUnit) func(*cloudwatchlogs.PutMetricFilterInput) {
	return func(in *cloudwatchlogs.PutMetricFilterInput) { in.MetricTransformations[0].Unit = u }
}

func alarmDims(name, value string) func(*cloudwatch.PutMetricAlarmInput) {
	return func(in *cloudwatch.PutMetricAlarmInput) {
		in.Dimensions = []cwtypes.Dimension{{Name: aws.String(name), Value: aws.String(value)}}
	}
}

func alarmUnit(u cwtypes.StandardUnit) func(*cloudwatch.PutMetricAlarmInput) {
	return func(in *cloudwatch.PutMetricAlarmInput) { in.Unit = u }
}

func datapoints(m, n int32) func(*cloudwatch.PutMetricAlarmInput) {
	return func(in *cloudwatch.PutMetricAlarmInput) {
		in.DatapointsToAlarm, in.EvaluationPeriods = aws.Int32(m), aws.Int32(n)
	}
}

func actions(arns ...string) func(*cloudwatch.PutMetricAlarmInput) {
	return func(in *cloudwatch.PutMetricAlarmInput) { in.AlarmActions = arns }
}

func disabled(in *cloudwatch.PutMetricAlarmInput) { in.ActionsEnabled = aws.Bool(false) }

// topicEdit applies f to the person's topic.
func topicEdit(f func(e *env, arn string)) func(e *env, arn string) { return f }

func encryptWith(policy string, then func(e *env, key string)) func(e *env, arn string) {
	return func(e *env, arn string) {
		k := e.key(policy)
		e.must(e.w.EncryptTopic(e.t.Context(), arn, k))
		if then != nil {
			then(e, k)
		}
	}
}

func cases() []verdictCase {
	cwKey := world.CloudWatchKeyPolicy(account)
	return []verdictCase{
		// ---- The baseline.
		{
			name: "compliant account", dim: "", want: pass,
			why:  "world.Compliant builds the benchmark's chain for every control (CIS v3.0.0 4.1-4.15 remediation: trail, metric filter, alarm, topic, confirmed subscription).",
			seed: func(e *env) {},
		},

		// ---- The trail: "an active multi-region trail recording all management events".
		{
			name: "trail is single-region", dim: multiRegionNotPresent, want: fail, codes: []string{multiRegionNotPresent},
			why: "CIS 4.x audit step 1 keeps only trails with IsMultiRegionTrail true; Security Hub CloudWatch.x: CLOUDTRAIL_MULTI_REGION_NOT_PRESENT.",
			seed: func(e *env) {
				_, err := e.trails().UpdateTrail(e.t.Context(), &cloudtrail.UpdateTrailInput{Name: aws.String(e.acct.Trail.Name), IsMultiRegionTrail: aws.Bool(false)})
				e.must(err)
			},
		},
		{
			name: "trail logging stopped", dim: multiRegionNotPresent, want: fail, codes: []string{multiRegionNotPresent},
			why: "CIS 4.x audit step 1: get-trail-status must show IsLogging true; a stopped trail records nothing.",
			seed: func(e *env) {
				_, err := e.trails().StopLogging(e.t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String(e.acct.Trail.Name)})
				e.must(err)
			},
		},
		{
			name: "trail excludes kms.amazonaws.com", dim: multiRegionNotPresent, key: "cmk-disable-or-delete", want: fail, codes: []string{multiRegionNotPresent},
			why: "Security Hub CloudWatch.7: \"The control also fails if ExcludeManagementEventSources contains kms.amazonaws.com\"; DisableKey and ScheduleKeyDeletion never reach the log group.",
			seed: func(e *env) {
				e.putSelectors([]cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true), ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}})
			},
		},
		{
			name: "trail excludes only rdsdata.amazonaws.com", dim: multiRegionNotPresent, want: pass,
			why: "CIS 4.x audit step 1 asks for IncludeManagementEvents true and ReadWriteType All, which hold; no control's events come from the RDS Data API (CloudTrail User Guide, \"Logging management events\": only AWS KMS and RDS Data API events can be excluded).",
			seed: func(e *env) {
				e.putSelectors([]cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true), ExcludeManagementEventSources: []string{"rdsdata.amazonaws.com"}}})
			},
		},
		{
			name: "a single-region trail beside the multi-region one", dim: multiRegionNotPresent, want: pass,
			why: "CIS 4.x audit step 1: one qualifying multi-region trail suffices; other trails do not matter.",
			seed: func(e *env) {
				_, err := e.w.Trail(e.t.Context(), world.TrailSpec{Name: "app-local", HomeRegion: e.region(), SingleRegion: true})
				e.must(err)
			},
		},
		{
			name: "trail, log group and chain live in another region", dim: multiRegionNotPresent, homeRegion: other, want: pass,
			flags: []string{"--regions", home + "," + other},
			why:   "A multi-region trail \"applies to all Regions\" (CloudTrail User Guide, \"Creating a trail\"); the benchmark's audit reads filters and alarms where the trail's log group is.",
			seed:  func(e *env) {},
		},

		// ---- Metric filter present (pattern covers the control).
		{
			name: "own filter deleted", dim: filtersNotPresent, key: "config-changes", want: fail, codes: []string{filtersNotPresent}, heal: true,
			why:  "CIS 4.9 audit step 3: describe-metric-filters must contain the prescribed filterPattern.",
			seed: func(e *env) { e.dropOwnFilter("config-changes") },
		},
		{
			name: "user filter narrowed to DisableKey", dim: filtersNotPresent, key: "cmk-disable-or-delete", want: fail, codes: []string{filtersNotPresent},
			why: "CIS 4.7: the pattern must match DisableKey and ScheduleKeyDeletion; a filter missing ScheduleKeyDeletion is not the control's filter.",
			seed: func(e *env) {
				e.userChain("cmk-disable-or-delete", chainSpec{filter: pattern(kmsNarrowed)})
			},
		},
		{
			name: "user equivalent filter under own name and namespace", dim: filtersNotPresent, key: "root-account-usage", want: pass,
			why: "The same terms re-spaced and re-ordered match exactly the same events (CloudWatch Logs User Guide, \"Filter pattern syntax\"), so one root event still becomes a notification.",
			seed: func(e *env) {
				e.userChain("root-account-usage", chainSpec{filter: pattern(rootReordered)})
			},
		},

		// ---- Filter valid: Watchkeeper's filter rewritten; every accepted variant passes.
		{
			name: "own filter rewritten narrower", dim: filterNotValid, key: "cmk-disable-or-delete", want: fail, codes: []string{filterNotValid}, also: []string{filtersNotPresent}, heal: true,
			why:  "CIS 4.7 audit step 3: the filter must carry the prescribed pattern; Security Hub: CLOUDTRAIL_METRIC_FILTER_NOT_VALID.",
			seed: func(e *env) { e.ownFilter("cmk-disable-or-delete", pattern(kmsNarrowed)) },
		},
		{
			name: "own filter carries another control's pattern", dim: filterNotValid, key: "route-table-changes", want: fail, codes: []string{filterNotValid}, also: []string{filtersNotPresent},
			why: "CIS 4.13: route-table events (CreateRoute, ...) do not match the VPC pattern of 4.14.",
			seed: func(e *env) {
				e.ownFilter("route-table-changes", pattern(e.ctl("vpc-changes").PatternFor(catalog.ProfileBenchmark)))
			},
		},
		{
			name: "user filter with the Security Hub string (4.5)", dim: filterNotValid, key: "cloudtrail-config-changes", want: pass,
			why: "Security Hub CloudWatch.5's exact string is an accepted variant (fact sheet §3.5); it matches the same five CloudTrail events.",
			seed: func(e *env) {
				e.userChain("cloudtrail-config-changes", chainSpec{filter: pattern(e.ctl("cloudtrail-config-changes").PatternFor(catalog.ProfileSecurityHub))})
			},
		},
		{
			name: "user filter with the Security Hub string (4.1)", dim: filterNotValid, key: "unauthorized-api-calls", want: pass,
			why: "Security Hub CloudWatch.2's exact string is an accepted variant (fact sheet §3.1).",
			seed: func(e *env) {
				e.userChain("unauthorized-api-calls", chainSpec{filter: pattern(e.ctl("unauthorized-api-calls").PatternFor(catalog.ProfileSecurityHub))})
			},
		},
		{
			name: "user filter with the v1.4 SSO variant of 4.2", dim: filterNotValid, key: "console-signin-without-mfa", want: pass,
			why: "CIS v1.4.0+ 4.2 audit: \"Or (To reduce false positives incase Single Sign-On (SSO) is used in organization)\" gives the IAMUser/Success pattern (fact sheet §3.2).",
			seed: func(e *env) {
				e.userChain("console-signin-without-mfa", chainSpec{filter: pattern(e.accepted("console-signin-without-mfa", "SSO"))})
			},
		},
		{
			name: "user filter with the v3.0.0 4.13 audit text", dim: filterNotValid, key: "route-table-changes", want: pass,
			why: "CIS v3.0.0 4.13's audit prints an eventSource-prefixed pattern; a filter made from the benchmark's own audit text passes its audit (fact sheet §3.13).",
			seed: func(e *env) {
				e.userChain("route-table-changes", chainSpec{filter: pattern(e.accepted("route-table-changes", "v3.0.0 audit"))})
			},
		},
		{
			name: "user filter with Security Hub's IAM-scoped 4.4 recommendation", dim: filterNotValid, key: "iam-policy-changes", want: pass,
			why: "Security Hub CloudWatch.4 now recommends the same 16 IAM events scoped to iam.amazonaws.com (fact sheet §3.4); every 4.4 event has that source.",
			seed: func(e *env) {
				e.userChain("iam-policy-changes", chainSpec{filter: pattern(e.accepted("iam-policy-changes", "current recommendation"))})
			},
		},
		{
			name: "own filter with the Security Hub string (4.6)", dim: filterNotValid, key: "console-auth-failures", want: pass, drift: true,
			why: "Security Hub CloudWatch.6's string is an accepted variant; the verdict does not depend on whose name the filter has.",
			seed: func(e *env) {
				e.ownFilter("console-auth-failures", pattern(e.ctl("console-auth-failures").PatternFor(catalog.ProfileSecurityHub)))
			},
		},

		// ---- Too broad: covers the pattern but counts routine activity.
		{
			name: "user filter matching every event", dim: filterTooBroad, key: "security-group-changes", want: fail, codes: []string{filterTooBroad}, also: []string{filtersNotPresent},
			why: "Its metric gets data all day, so the alarm sits in ALARM; \"Alarms invoke actions only when the alarm changes state\" (CloudWatch User Guide, \"Using Amazon CloudWatch alarms\").",
			seed: func(e *env) {
				e.userChain("security-group-changes", chainSpec{filter: pattern(everyEvent)})
			},
		},
		{
			name: "user filter: root pattern OR any read-only call", dim: filterTooBroad, key: "root-account-usage", want: fail, codes: []string{filterTooBroad}, also: []string{filtersNotPresent},
			why: "Read-only calls (Describe*, List*, Get*) happen constantly; the alarm stays in ALARM and a root sign-in changes no state (CloudWatch User Guide, \"Using Amazon CloudWatch alarms\").",
			seed: func(e *env) {
				e.userChain("root-account-usage", chainSpec{filter: pattern(rootOrReadOnly)})
			},
		},
		{
			name: "own filter matching every event", dim: filterTooBroad, key: "network-gateway-changes", want: fail, codes: []string{filterTooBroad}, also: []string{filtersNotPresent}, heal: true,
			why:  "As for a person's filter: a metric fed by every event keeps the alarm in ALARM (CloudWatch User Guide, \"Using Amazon CloudWatch alarms\").",
			seed: func(e *env) { e.ownFilter("network-gateway-changes", pattern(everyEvent)) },
		},
		{
			name: "user filter: IAM pattern OR CreateUser (rare superset)", dim: filterTooBroad, key: "iam-policy-changes", want: pass,
			why: "CreateUser is a rare configuration change, not routine activity: the alarm still goes OK -> ALARM on one policy change.",
			seed: func(e *env) {
				p := e.ctl("iam-policy-changes").PatternFor(catalog.ProfileBenchmark)
				e.userChain("iam-policy-changes", chainSpec{filter: pattern(strings.TrimSuffix(p, "}") + "||($.eventName=CreateUser)}")})
			},
		},

		// ---- Metric transformation.
		{
			name: "user filter metricValue from an event field", dim: transformationNotValid, key: "s3-bucket-policy-changes", want: fail, codes: []string{transformationNotValid},
			why: "A metricValue $.field publishes that field's numeric value (CloudWatch Logs User Guide, \"Publishing numerical values found in log events\"); PutBucketPolicy records carry no such number, so no datapoint.",
			seed: func(e *env) {
				e.userChain("s3-bucket-policy-changes", chainSpec{filter: metricValue("$.requestParameters.bucketCount")})
			},
		},
		{
			name: "own filter metricValue from an event field", dim: transformationNotValid, key: "nacl-changes", want: fail, codes: []string{transformationNotValid}, heal: true,
			why:  "As above (CloudWatch Logs User Guide, \"Publishing numerical values found in log events\").",
			seed: func(e *env) { e.ownFilter("nacl-changes", metricValue("$.x")) },
		},
		{
			name: "user filter metricValue 5", dim: transformationNotValid, key: "nacl-changes", want: pass,
			why: "Each matching event publishes 5; Sum >= 1 trips on one event (PutMetricFilter, MetricTransformation.metricValue).",
			seed: func(e *env) {
				e.userChain("nacl-changes", chainSpec{filter: metricValue("5")})
			},
		},

		// ---- Alarm present (found by MetricName, as the benchmark's audit does).
		{
			name: "own alarm deleted", dim: alarmsNotPresent, key: "iam-policy-changes", want: fail, codes: []string{alarmsNotPresent}, heal: true,
			why:  "CIS 4.4 audit step 5: describe-alarms --query \"MetricAlarms[?MetricName == ...]\" must find an alarm.",
			seed: func(e *env) { e.dropOwnAlarm("iam-policy-changes") },
		},
		{
			name: "user metric-math alarm", dim: alarmsNotPresent, key: "vpc-changes", want: fail, codes: []string{alarmsNotPresent},
			why: "The benchmark's audit selects alarms by MetricName; a metric-math alarm has none (PutMetricAlarm: Metrics \"If you use the Metrics parameter, you cannot include the MetricName...\").",
			seed: func(e *env) {
				ch := e.userChain("vpc-changes", chainSpec{})
				e.dropAlarm(ch.AlarmName)
				_, err := e.cw().PutMetricAlarm(e.t.Context(), world.MetricMathAlarmSpec(e.ctl("vpc-changes"), userNamespace, ch.Metric, "SecOps-vpc-math", ch.TopicARN))
				e.must(err)
			},
		},
		{
			name: "user anomaly-detection alarm", dim: alarmsNotPresent, key: "organizations-changes", want: fail, codes: []string{alarmsNotPresent},
			why: "An anomaly-detection alarm is a metric-math alarm (ThresholdMetricId) with no MetricName, so the benchmark's audit step 5 does not find it.",
			seed: func(e *env) {
				ch := e.userChain("organizations-changes", chainSpec{})
				e.dropAlarm(ch.AlarmName)
				_, err := e.cw().PutMetricAlarm(e.t.Context(), world.AnomalyDetectionAlarmSpec(e.ctl("organizations-changes"), userNamespace, ch.Metric, "SecOps-org-anomaly", ch.TopicARN))
				e.must(err)
			},
		},
		{
			name: "user alarm on the metric name in other case", dim: alarmsNotPresent, key: "root-account-usage", want: fail, codes: []string{alarmsNotPresent},
			why: "Metric names are case-sensitive (CloudWatch User Guide, \"Metrics\"; the audit's JMESPath == is exact): an alarm on rootusage watches nothing RootUsage publishes.",
			seed: func(e *env) {
				e.userChain("root-account-usage", chainSpec{
					filter: func(in *cloudwatchlogs.PutMetricFilterInput) {
						in.MetricTransformations[0].MetricName = aws.String("RootUsage")
					},
					alarm: func(in *cloudwatch.PutMetricAlarmInput) { in.MetricName = aws.String("rootusage") },
				})
			},
		},
		{
			name: "own alarm replaced by a metric-math alarm", dim: alarmsNotPresent, key: "console-auth-failures", want: fail, codes: []string{alarmsNotPresent}, heal: true,
			why: "As for a person's metric-math alarm: the audit selects by MetricName.",
			seed: func(e *env) {
				c := e.ctl("console-auth-failures")
				in := world.MetricMathAlarmSpec(c, e.acct.Namespace, c.MetricName, prefix+c.Key, e.acct.TopicARN)
				_, err := e.cw().PutMetricAlarm(e.t.Context(), in)
				e.must(err)
			},
		},
		{
			name: "user chain: own names, namespace and sqs subscriber", dim: alarmsNotPresent, key: "root-account-usage", want: pass,
			why:  "The benchmark prescribes the pattern, not names: \"<cloudtrail_log_group_name>\", \"<root_usage_metric>\", \"<sns_topic_arn>\" are the user's (CIS 4.3 remediation).",
			seed: func(e *env) { e.userChain("root-account-usage", chainSpec{}) },
		},

		// ---- Alarm watches the metric the filter publishes (dimensions, unit).
		{
			name: "own filter publishes with dimensions", dim: metricMismatch, key: "unauthorized-api-calls", want: fail, codes: []string{metricMismatch}, heal: true,
			why: "\"Each unique combination of dimensions is a separate metric\" (CloudWatch User Guide, \"Dimensions\"); a filter with dimensions publishes only dimensioned series, so the dimensionless alarm gets no data.",
			seed: func(e *env) {
				e.ownFilter("unauthorized-api-calls", withDims(map[string]string{"EventName": "$.eventName"}))
			},
		},
		{
			name: "user filter with dimensions, alarm without", dim: metricMismatch, key: "security-group-changes", want: fail, codes: []string{metricMismatch},
			why: "CloudWatch User Guide, \"Dimensions\"; CloudWatch Logs User Guide, \"Publishing dimensions with metrics from values in JSON or space-delimited log events\".",
			seed: func(e *env) {
				e.userChain("security-group-changes", chainSpec{filter: withDims(map[string]string{"EventName": "$.eventName"})})
			},
		},
		{
			name: "user alarm with a dimension the filter does not publish", dim: metricMismatch, key: "cloudtrail-config-changes", want: fail, codes: []string{metricMismatch},
			why: "The alarm watches the series EventSource=cloudtrail.amazonaws.com, which a dimensionless filter never publishes (CloudWatch User Guide, \"Dimensions\").",
			seed: func(e *env) {
				e.userChain("cloudtrail-config-changes", chainSpec{alarm: alarmDims("EventSource", "cloudtrail.amazonaws.com")})
			},
		},
		{
			name: "user filter and alarm with the same dimension", dim: metricMismatch, key: "cloudtrail-config-changes", want: pass,
			why: "Every 4.5 event has eventSource cloudtrail.amazonaws.com, so the filter publishes them all to the series EventSource=cloudtrail.amazonaws.com the alarm watches (CloudWatch Logs User Guide, \"Publishing dimensions with metrics from values in JSON or space-delimited log events\").",
			seed: func(e *env) {
				e.userChain("cloudtrail-config-changes", chainSpec{
					filter: withDims(map[string]string{"EventSource": "$.eventSource"}),
					alarm:  alarmDims("EventSource", "cloudtrail.amazonaws.com"),
				})
			},
		},
		{
			name: "user alarm Unit Count on a filter without unit", dim: metricMismatch, key: "network-gateway-changes", want: fail, codes: []string{metricMismatch},
			why: "PutMetricAlarm, Unit: \"If you specify a unit, you must use a unit that is appropriate for the metric. Otherwise, the CloudWatch alarm can get stuck in the INSUFFICIENT DATA state\"; a filter without unit publishes None (PutMetricFilter, MetricTransformation.unit).",
			seed: func(e *env) {
				e.userChain("network-gateway-changes", chainSpec{alarm: alarmUnit(cwtypes.StandardUnitCount)})
			},
		},
		{
			name: "user filter unit Count and alarm Unit Count", dim: metricMismatch, key: "network-gateway-changes", want: pass,
			why: "The alarm's Unit matches the unit the filter publishes (PutMetricAlarm, Unit; PutMetricFilter, MetricTransformation.unit).",
			seed: func(e *env) {
				e.userChain("network-gateway-changes", chainSpec{filter: withUnit(logtypes.StandardUnitCount), alarm: alarmUnit(cwtypes.StandardUnitCount)})
			},
		},
		{
			name: "own alarm Unit Count", dim: metricMismatch, key: "config-changes", want: fail, codes: []string{metricMismatch}, heal: true,
			why:  "PutMetricAlarm, Unit (see above): Watchkeeper's filter publishes no unit.",
			seed: func(e *env) { e.ownAlarm("config-changes", alarmUnit(cwtypes.StandardUnitCount)) },
		},

		// ---- Alarm condition: one event trips it, and it is not already in ALARM.
		{
			name: "own alarm threshold 2", dim: conditionNotValid, key: "unauthorized-api-calls", want: fail, codes: []string{conditionNotValid}, heal: true,
			why: "Sum of one event is 1 < 2: a single occurrence never trips it (CloudWatch User Guide, \"Using Amazon CloudWatch alarms\", evaluating an alarm).",
			seed: func(e *env) {
				e.ownAlarm("unauthorized-api-calls", threshold(cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, 2))
			},
		},
		{
			name: "user alarm GreaterThanThreshold 1", dim: conditionNotValid, key: "console-auth-failures", want: fail, codes: []string{conditionNotValid}, heal: true,
			afterHeal: keepsUserChain("console-auth-failures", false),
			why:       "1 > 1 is false: one failed sign-in never trips it (PutMetricAlarm, ComparisonOperator).",
			seed: func(e *env) {
				e.userChain("console-auth-failures", chainSpec{alarm: threshold(cwtypes.ComparisonOperatorGreaterThanThreshold, 1)})
			},
		},
		{
			name: "user alarm 2 of 3 datapoints, missing data not breaching", dim: conditionNotValid, key: "s3-bucket-policy-changes", want: fail, codes: []string{conditionNotValid},
			why: "One event breaches one datapoint; the other two periods are missing and treated as not breaching, so 2 of 3 is never reached (CloudWatch User Guide, \"Configuring how CloudWatch alarms treat missing data\").",
			seed: func(e *env) {
				e.userChain("s3-bucket-policy-changes", chainSpec{alarm: both(datapoints(2, 3), missingData("notBreaching"))})
			},
		},
		{
			name: "own alarm treats missing data as breaching", dim: conditionNotValid, key: "console-signin-without-mfa", want: fail, codes: []string{conditionNotValid}, heal: true,
			why:  "With no events every period is missing and counted as breaching, so the alarm sits in ALARM and an event changes no state (CloudWatch User Guide, \"Configuring how CloudWatch alarms treat missing data\").",
			seed: func(e *env) { e.ownAlarm("console-signin-without-mfa", missingData("breaching")) },
		},
		{
			name: "user filter defaultValue 1 with Sum >= 1", dim: conditionNotValid, key: "vpc-changes", want: fail, codes: []string{conditionNotValid},
			why: "defaultValue is published for log events that do not match (PutMetricFilter, MetricTransformation.defaultValue); CloudTrail delivers all day, so Sum >= 1 holds without any VPC change and the alarm sits in ALARM.",
			seed: func(e *env) {
				e.userChain("vpc-changes", chainSpec{filter: defaultValue(1)})
			},
		},
		{
			name: "own filter defaultValue 1", dim: conditionNotValid, key: "security-group-changes", want: fail, codes: []string{conditionNotValid}, heal: true,
			why:  "As above (PutMetricFilter, MetricTransformation.defaultValue).",
			seed: func(e *env) { e.ownFilter("security-group-changes", defaultValue(1)) },
		},
		{
			name: "user alarm SampleCount >= 1 on a filter with defaultValue 0", dim: conditionNotValid, key: "organizations-changes", want: fail, codes: []string{conditionNotValid},
			why: "defaultValue 0 is a datapoint for every non-matching log event, so SampleCount >= 1 holds all the time (CloudWatch User Guide, \"Statistics\": SampleCount is the number of data points).",
			seed: func(e *env) {
				e.userChain("organizations-changes", chainSpec{filter: defaultValue(0), alarm: statistic(cwtypes.StatisticSampleCount)})
			},
		},
		{
			name: "user alarm ignores missing data and is in ALARM", dim: conditionNotValid, key: "root-account-usage", want: fail, codes: []string{conditionNotValid},
			why: "With treat-missing-data ignore \"the current alarm state is maintained\" (CloudWatch User Guide, \"Configuring how CloudWatch alarms treat missing data\"): left in ALARM (SetAlarmState), the next event changes no state.",
			seed: func(e *env) {
				ch := e.userChain("root-account-usage", chainSpec{alarm: missingData("ignore")})
				e.must(e.w.SetAlarmState(e.t.Context(), e.region(), ch.AlarmName, cwtypes.StateValueAlarm))
			},
		},
		{
			name: "user alarm SampleCount >= 1 on metricValue 0", dim: conditionNotValid, key: "config-changes", want: pass,
			why: "Each event publishes one datapoint (value 0), and SampleCount counts datapoints (CloudWatch User Guide, \"Statistics\"): one event trips it; no defaultValue, so nothing without events.",
			seed: func(e *env) {
				e.userChain("config-changes", chainSpec{filter: metricValue("0"), alarm: statistic(cwtypes.StatisticSampleCount)})
			},
		},
		{
			name: "user alarm Average >= 1", dim: conditionNotValid, key: "nacl-changes", want: pass,
			why:  "Every datapoint is 1, so the Average of a period with an event is 1 (CloudWatch User Guide, \"Statistics\").",
			seed: func(e *env) { e.userChain("nacl-changes", chainSpec{alarm: statistic(cwtypes.StatisticAverage)}) },
		},
		{
			name: "user alarm GreaterThanThreshold 0", dim: conditionNotValid, key: "route-table-changes", want: pass,
			why: "1 > 0: one event trips it (PutMetricAlarm, ComparisonOperator).",
			seed: func(e *env) {
				e.userChain("route-table-changes", chainSpec{alarm: threshold(cwtypes.ComparisonOperatorGreaterThanThreshold, 0)})
			},
		},
		{
			name: "user alarm Maximum >= 1", dim: conditionNotValid, key: "vpc-changes", want: pass,
			why:  "The Maximum of a period with an event is 1 (CloudWatch User Guide, \"Statistics\").",
			seed: func(e *env) { e.userChain("vpc-changes", chainSpec{alarm: statistic(cwtypes.StatisticMaximum)}) },
		},
		{
			name: "user alarm p99 >= 1", dim: conditionNotValid, key: "organizations-changes", want: pass,
			why: "The 99th percentile of datapoints that are all 1 is 1 (CloudWatch User Guide, \"Percentiles\"; PutMetricAlarm, ExtendedStatistic).",
			seed: func(e *env) {
				e.userChain("organizations-changes", chainSpec{alarm: func(in *cloudwatch.PutMetricAlarmInput) {
					in.Statistic, in.ExtendedStatistic = "", aws.String("p99")
				}})
			},
		},
		{
			name: "user alarm ignores missing data, not in ALARM", dim: conditionNotValid, key: "console-auth-failures", want: pass,
			why:  "From OK or INSUFFICIENT_DATA, one breaching datapoint moves the alarm to ALARM (CloudWatch User Guide, \"Configuring how CloudWatch alarms treat missing data\").",
			seed: func(e *env) { e.userChain("console-auth-failures", chainSpec{alarm: missingData("ignore")}) },
		},
		{
			name: "user filter defaultValue 0 with Sum >= 1", dim: conditionNotValid, key: "cmk-disable-or-delete", want: pass,
			why:  "Quiet periods sum to 0 < 1; a period with one event sums to 1 (PutMetricFilter, MetricTransformation.defaultValue).",
			seed: func(e *env) { e.userChain("cmk-disable-or-delete", chainSpec{filter: defaultValue(0)}) },
		},
		{
			name: "user alarm 1 of 3 datapoints", dim: conditionNotValid, key: "s3-bucket-policy-changes", want: pass,
			why: "One breaching datapoint out of 3 reaches DatapointsToAlarm 1 (CloudWatch User Guide, \"Evaluating an alarm\").",
			seed: func(e *env) {
				e.userChain("s3-bucket-policy-changes", chainSpec{alarm: both(datapoints(1, 3), missingData("notBreaching"))})
			},
		},

		// ---- Alarm actions: enabled, and an SNS topic in the alarm's Region among them.
		{
			name: "own alarm actions disabled", dim: actionsNotValid, key: "iam-policy-changes", want: fail, codes: []string{actionsNotValid}, heal: true,
			healActions: []string{"EnableAlarmActions"},
			why:         "DisableAlarmActions: the alarm changes state but runs no action; Security Hub: CLOUDWATCH_ALARM_ACTIONS_NOT_VALID.",
			seed:        func(e *env) { e.ownAlarm("iam-policy-changes", disabled) },
		},
		{
			name: "user alarm actions disabled", dim: actionsNotValid, key: "network-gateway-changes", want: fail, codes: []string{actionsNotValid}, heal: true,
			afterHeal: keepsUserChain("network-gateway-changes", false),
			why:       "PutMetricAlarm, ActionsEnabled: \"Indicates whether actions should be executed during any changes to the alarm state\".",
			seed:      func(e *env) { e.userChain("network-gateway-changes", chainSpec{alarm: disabled}) },
		},
		{
			name: "user alarm with only an Auto Scaling action", dim: actionsNotValid, key: "vpc-changes", want: fail, codes: []string{actionsNotValid},
			why:  "CIS 4.14 audit step 6-7: the alarm's AlarmActions must be an SNS topic with a subscriber; a scaling policy notifies no one.",
			seed: func(e *env) { e.userChain("vpc-changes", chainSpec{alarm: actions(scalingPolicy)}) },
		},
		{
			name: "user alarm notifies its topic only on OK", dim: actionsNotValid, key: "config-changes", want: fail, codes: []string{actionsNotValid},
			why: "OKActions run on the transition to OK, not to ALARM (PutMetricAlarm, OKActions); the audit reads AlarmActions.",
			seed: func(e *env) {
				e.userChain("config-changes", chainSpec{alarm: func(in *cloudwatch.PutMetricAlarmInput) {
					in.OKActions, in.AlarmActions = in.AlarmActions, nil
				}})
			},
		},
		{
			name: "user alarm notifies a deleted topic", dim: actionsNotValid, key: "console-signin-without-mfa", want: fail, codes: []string{actionsNotValid},
			why: "CIS 4.2 audit step 7: list-subscriptions-by-topic on the alarm's topic must show a subscriber; a deleted topic delivers nothing.",
			seed: func(e *env) {
				ch := e.userChain("console-signin-without-mfa", chainSpec{})
				e.deleteTopic(ch.TopicARN)
			},
		},
		{
			name: "disabled user alarm beside an enabled working one", dim: actionsNotValid, key: "security-group-changes", want: pass,
			why: "One working alarm on the metric suffices (CIS 4.10 audit step 5 lists every alarm on the metric).",
			seed: func(e *env) {
				ch := e.userChain("security-group-changes", chainSpec{})
				e.extraAlarm(ch, "SecOps-sg-muted", disabled)
			},
		},
		{
			name: "user alarm with Auto Scaling and EC2 actions beside the topic", dim: actionsNotValid, key: "route-table-changes", want: pass,
			why: "AlarmActions may hold up to 5 actions (PutMetricAlarm, AlarmActions); the SNS topic among them is notified.",
			seed: func(e *env) {
				e.userChain("route-table-changes", chainSpec{alarm: func(in *cloudwatch.PutMetricAlarmInput) {
					in.AlarmActions = []string{scalingPolicy, ec2Reboot, in.AlarmActions[0]}
				}})
			},
		},

		// ---- Subscription: a confirmed subscriber of any protocol.
		{
			name: "user topic without subscriptions", dim: subscriptionNotPresent, key: "cloudtrail-config-changes", want: fail, codes: []string{subscriptionNotPresent},
			why:  "CIS 4.5 audit step 7: \"at least one subscription should have 'SubscriptionArn' with valid aws ARN\".",
			seed: func(e *env) { e.userChain("cloudtrail-config-changes", chainSpec{endpoints: []string{}}) },
		},
		{
			name: "user topic with only a pending subscription", dim: subscriptionNotPresent, key: "organizations-changes", want: fail, codes: []string{subscriptionNotPresent},
			why: "An unconfirmed subscription's SubscriptionArn is \"PendingConfirmation\", not an ARN (SNS API reference, ListSubscriptionsByTopic); SNS delivers nothing to it.",
			seed: func(e *env) {
				proxy.MarkPending("email", "soc-pending@example.com")
				e.t.Cleanup(func() { proxy.Confirm("email", "soc-pending@example.com") })
				e.userChain("organizations-changes", chainSpec{endpoints: []string{"email:soc-pending@example.com"}})
			},
		},
		{
			name: "Watchkeeper's topic lost its subscriptions", dim: subscriptionNotPresent, want: fail, codes: []string{subscriptionNotPresent}, heal: true,
			healActions: []string{"Subscribe"},
			why:         "CIS 4.x audit step 7 on the topic every alarm notifies.",
			seed:        func(e *env) { e.unsubscribeAll(e.acct.TopicARN) },
		},
		{
			name: "user topic with a confirmed lambda subscription", dim: subscriptionNotPresent, key: "cmk-disable-or-delete", want: pass,
			why: "Any protocol counts: the audit asks for a subscription with a valid ARN (CIS 4.7 audit step 7).",
			seed: func(e *env) {
				e.userChain("cmk-disable-or-delete", chainSpec{endpoints: []string{"lambda:arn:aws:lambda:us-east-1:123456789012:function:soc-pager"}})
			},
		},
		{
			name: "user topic with a confirmed https subscription", dim: subscriptionNotPresent, key: "s3-bucket-policy-changes", want: pass,
			why: "Any protocol counts (CIS 4.8 audit step 7).",
			seed: func(e *env) {
				e.userChain("s3-bucket-policy-changes", chainSpec{endpoints: []string{"https:https://hooks.example.com/soc"}})
			},
		},
		{
			name: "user topic with a confirmed sqs subscription", dim: subscriptionNotPresent, key: "console-auth-failures", want: pass,
			why:  "Any protocol counts (CIS 4.6 audit step 7).",
			seed: func(e *env) { e.userChain("console-auth-failures", chainSpec{}) },
		},

		// ---- Topic access policy.
		{
			name: "Watchkeeper's topic denies CloudWatch", dim: topicPolicyDenies, want: fail, codes: []string{topicPolicyDenies},
			why:  "\"An explicit deny in any of these policies overrides the allow\" (IAM User Guide, \"Policy evaluation logic\"): sns:Publish by cloudwatch.amazonaws.com is refused.",
			seed: func(e *env) { e.must(e.w.SetTopicPolicy(e.t.Context(), e.acct.TopicARN, denyCloudWatch)) },
		},
		{
			name: "user topic denies CloudWatch", dim: topicPolicyDenies, key: "nacl-changes", want: fail, codes: []string{topicPolicyDenies},
			why: "IAM User Guide, \"Policy evaluation logic\" (explicit deny).",
			seed: func(e *env) {
				e.userChain("nacl-changes", chainSpec{topic: topicEdit(func(e *env, arn string) { e.must(e.w.SetTopicPolicy(e.t.Context(), arn, denyCloudWatch)) })})
			},
		},
		{
			name: "user topic with a confused-deputy deny", dim: topicPolicyDenies, key: "nacl-changes", want: pass,
			why: "The Deny applies only when aws:SourceAccount is not this account; the alarm is in this account, so the condition is false and CloudWatch is allowed (IAM User Guide, \"The confused deputy problem\"; \"Policy evaluation logic\").",
			seed: func(e *env) {
				e.userChain("nacl-changes", chainSpec{topic: topicEdit(func(e *env, arn string) { e.must(e.w.SetTopicPolicy(e.t.Context(), arn, confusedDeputy)) })})
			},
		},
		{
			name: "Watchkeeper's topic allows CloudWatch explicitly", dim: topicPolicyDenies, want: pass,
			why:  "An Allow for cloudwatch.amazonaws.com conditioned on this account (SNS Developer Guide, \"Amazon SNS access control\" examples).",
			seed: func(e *env) { e.must(e.w.SetTopicPolicy(e.t.Context(), e.acct.TopicARN, allowCloudWatch)) },
		},

		// ---- Topic KMS key.
		{
			name: "user topic key disabled", dim: topicKeyNotUsable, key: "unauthorized-api-calls", want: fail, codes: []string{topicKeyNotUsable},
			why: "A Disabled key cannot be used in cryptographic operations (AWS KMS Developer Guide, \"Key states of AWS KMS keys\"), so SNS cannot encrypt the notification.",
			seed: func(e *env) {
				e.userChain("unauthorized-api-calls", chainSpec{topic: encryptWith(cwKey, func(e *env, k string) { e.must(e.w.DisableKey(e.t.Context(), k)) })})
			},
		},
		{
			name: "user topic key pending deletion", dim: topicKeyNotUsable, key: "console-signin-without-mfa", want: fail, codes: []string{topicKeyNotUsable},
			why: "A key PendingDeletion cannot be used (AWS KMS Developer Guide, \"Key states of AWS KMS keys\").",
			seed: func(e *env) {
				e.userChain("console-signin-without-mfa", chainSpec{topic: encryptWith(cwKey, func(e *env, k string) { e.must(e.w.ScheduleKeyDeletion(e.t.Context(), k, 7)) })})
			},
		},
		{
			name: "user topic under the AWS managed key alias/aws/sns", dim: topicKeyNotUsable, key: "root-account-usage", want: fail, codes: []string{topicKeyNotUsable},
			why: "CloudWatch needs kms:Decrypt and kms:GenerateDataKey* on the topic's key, which the AWS managed key's policy cannot grant (SNS Developer Guide, \"Configure AWS KMS permissions for AWS services\").",
			seed: func(e *env) {
				e.userChain("root-account-usage", chainSpec{topic: topicEdit(func(e *env, arn string) { e.must(e.w.EncryptTopic(e.t.Context(), arn, "alias/aws/sns")) })})
			},
		},
		{
			name: "user topic key policy without CloudWatch", dim: topicKeyNotUsable, key: "iam-policy-changes", want: fail, codes: []string{topicKeyNotUsable},
			why: "SNS Developer Guide, \"Configure AWS KMS permissions for AWS services\": the key policy must allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*.",
			seed: func(e *env) {
				e.userChain("iam-policy-changes", chainSpec{topic: encryptWith(world.AccountOnlyKeyPolicy(account), nil)})
			},
		},
		{
			name: "user topic key that CloudWatch may use", dim: topicKeyNotUsable, key: "cloudtrail-config-changes", want: pass,
			why:  "SNS Developer Guide, \"Configure AWS KMS permissions for AWS services\": the key policy allows cloudwatch.amazonaws.com.",
			seed: func(e *env) { e.userChain("cloudtrail-config-changes", chainSpec{topic: encryptWith(cwKey, nil)}) },
		},
		{
			name: "Watchkeeper's topic key disabled", dim: topicKeyNotUsable, want: fail, codes: []string{topicKeyNotUsable}, heal: true,
			healActions: []string{"EnableKey"},
			why:         "AWS KMS Developer Guide, \"Key states of AWS KMS keys\"; the key is the one configured with --topic-kms-key, so Watchkeeper re-enables it (KMS EnableKey).",
			seed:        func(e *env) { e.ownTopicKey(func(k string) { e.must(e.w.DisableKey(e.t.Context(), k)) }) },
		},
		{
			name: "Watchkeeper's topic key pending deletion", dim: topicKeyNotUsable, want: fail, codes: []string{topicKeyNotUsable}, heal: true,
			healActions: []string{"CancelKeyDeletion", "EnableKey"},
			why:         "AWS KMS Developer Guide, \"Key states of AWS KMS keys\"; CancelKeyDeletion leaves the key Disabled (KMS API reference, CancelKeyDeletion), so Watchkeeper also enables it.",
			seed:        func(e *env) { e.ownTopicKey(func(k string) { e.must(e.w.ScheduleKeyDeletion(e.t.Context(), k, 7)) }) },
		},
		{
			name: "Watchkeeper's topic under a key CloudWatch may use", dim: topicKeyNotUsable, want: pass,
			why:  "SNS Developer Guide, \"Configure AWS KMS permissions for AWS services\".",
			seed: func(e *env) { e.ownTopicKey(nil) },
		},

		// ---- CIS v1.2.0 (section 3).
		{
			name: "v1.2.0: compliant account", benchmark: "cis-aws-v1.2.0", dim: "", want: pass,
			why:  "world.Compliant with the v1.2.0 texts (fact sheet §3, v1.2.0 audit = remediation).",
			seed: func(e *env) {},
		},
		{
			name: "v1.2.0: compliant account with the Security Hub strings", benchmark: "cis-aws-v1.2.0", profile: catalog.ProfileSecurityHub,
			flags: []string{"--pattern-profile", "securityhub"}, dim: filterNotValid, want: pass,
			why:  "Security Hub's CIS v1.2.0 standard checks its exact strings (fact sheet §2-3); they are accepted variants.",
			seed: func(e *env) {},
		},
		{
			name: "v1.2.0: own root alarm threshold 2", benchmark: "cis-aws-v1.2.0", dim: conditionNotValid, key: "root-account-usage", want: fail, codes: []string{conditionNotValid}, heal: true, cisAudit: true,
			why: "CIS v1.2.0 3.3: one root event must notify; Sum 1 < 2 never trips.",
			seed: func(e *env) {
				e.ownAlarm("root-account-usage", threshold(cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, 2))
			},
		},
		{
			name: "v1.2.0: user filter with the Security Hub string (3.1)", benchmark: "cis-aws-v1.2.0", dim: filterNotValid, key: "unauthorized-api-calls", want: pass,
			why: "Security Hub CloudWatch.2 (CIS v1.2.0 3.1) exact string.",
			seed: func(e *env) {
				e.userChain("unauthorized-api-calls", chainSpec{filter: pattern(e.ctl("unauthorized-api-calls").PatternFor(catalog.ProfileSecurityHub))})
			},
		},
		{
			name: "v1.2.0: user filter matching every event (3.10)", benchmark: "cis-aws-v1.2.0", dim: filterTooBroad, key: "security-group-changes", want: fail, codes: []string{filterTooBroad}, also: []string{filtersNotPresent},
			why:  "CloudWatch User Guide, \"Using Amazon CloudWatch alarms\" (actions only on state change).",
			seed: func(e *env) { e.userChain("security-group-changes", chainSpec{filter: pattern(everyEvent)}) },
		},
		{
			name: "v1.2.0: user filter with the SSO variant (3.2)", benchmark: "cis-aws-v1.2.0", dim: filterNotValid, key: "console-signin-without-mfa", want: pass,
			why: "Security Hub CloudWatch.3 (CIS v1.2.0 3.2) checks the IAMUser/Success form since 2022 (fact sheet §3.2).",
			seed: func(e *env) {
				e.userChain("console-signin-without-mfa", chainSpec{filter: pattern(e.ctl("console-signin-without-mfa").PatternFor(catalog.ProfileSecurityHub))})
			},
		},
		{
			name: "user filter metricValue $.x in a chain Watchkeeper must complete", dim: transformationNotValid, key: "s3-bucket-policy-changes", want: fail, codes: []string{transformationNotValid}, heal: true,
			afterHeal: keepsUserChain("s3-bucket-policy-changes", true),
			why:       "CloudWatch Logs User Guide, \"Publishing numerical values found in log events\"; Watchkeeper adds its own filter and alarm beside the person's.",
			seed: func(e *env) {
				e.userChain("s3-bucket-policy-changes", chainSpec{filter: metricValue("$.x")})
			},
		},
		// ---- Every accepted variant of every v3.0.0 control, one per control
		// per account (rounds), each as a person's filter.
		variantRound(0), variantRound(1), variantRound(2), variantRound(3),
		{
			name: "Watchkeeper's filters carry the Security Hub strings", dim: filterNotValid, profile: catalog.ProfileSecurityHub, want: pass, drift: true,
			why:  "Every Security Hub CloudWatch.x string is an accepted variant (fact sheet §3); Watchkeeper, configured with the benchmark profile, rewrites its own filters but the verdict is PASS.",
			seed: func(e *env) {},
		},
		{
			name: "user metric in Watchkeeper's namespace differing only in case", dim: alarmsNotPresent, key: "root-account-usage", want: pass,
			why: "Metric names are case-sensitive (CloudWatch User Guide, \"Metrics\"): rootaccountusage is a separate metric from Watchkeeper's RootAccountUsage, and the person's chain on it works.",
			seed: func(e *env) {
				e.userChain("root-account-usage", chainSpec{
					filter: func(in *cloudwatchlogs.PutMetricFilterInput) {
						in.MetricTransformations[0].MetricName, in.MetricTransformations[0].MetricNamespace = aws.String("rootaccountusage"), aws.String(e.acct.Namespace)
					},
					alarm: func(in *cloudwatch.PutMetricAlarmInput) {
						in.MetricName, in.Namespace = aws.String("rootaccountusage"), aws.String(e.acct.Namespace)
					},
				})
			},
		},
		{
			name: "user alarm notifies a topic in another Region", dim: actionsNotValid, key: "cmk-disable-or-delete", want: fail, codes: []string{actionsNotValid},
			why: "An alarm action names an SNS topic of the alarm's own Region (PutMetricAlarm, AlarmActions: arn:aws:sns:region:account-id:sns-topic-name); CloudWatch does not publish across Regions.",
			seed: func(e *env) {
				far, err := e.w.Topic(e.t.Context(), other, "secops-alerts-eu", userEndpoint)
				e.must(err)
				e.userChain("cmk-disable-or-delete", chainSpec{alarm: actions(far)})
			},
		},
		{
			name: "user topic key policy lets CloudWatch only decrypt", dim: topicKeyNotUsable, key: "vpc-changes", want: fail, codes: []string{topicKeyNotUsable},
			why: "SNS Developer Guide, \"Configure AWS KMS permissions for AWS services\": the publisher needs kms:GenerateDataKey* as well as kms:Decrypt.",
			seed: func(e *env) {
				e.userChain("vpc-changes", chainSpec{topic: encryptWith(strings.Replace(cwKey, `["kms:Decrypt","kms:GenerateDataKey*"]`, `["kms:Decrypt"]`, 1), nil)})
			},
		},
		{
			name: "user filter unit Count, alarm without unit", dim: metricMismatch, key: "console-signin-without-mfa", want: pass,
			why: "An alarm that names no Unit watches the metric whatever unit its datapoints carry (PutMetricAlarm, Unit: \"If you don't specify Unit, CloudWatch retrieves all unit types that have been published for the metric\").",
			seed: func(e *env) {
				e.userChain("console-signin-without-mfa", chainSpec{filter: withUnit(logtypes.StandardUnitCount)})
			},
		},
	}
}

// variantRound replaces, for every v3.0.0 control with more than round
// accepted variants, Watchkeeper's chain with a person's chain whose filter
// carries variant number round: four rounds cover every variant of every
// control, each proven on its own (the controls are independent).
func variantRound(round int) verdictCase {
	return verdictCase{
		name: "accepted variants, round " + string(rune('1'+round)), dim: filterNotValid, want: pass,
		why: "Every catalog variant is a text from the benchmark's audit or remediation, or Security Hub's exact string (fact sheet §3); each matches the control's events and nothing routine.",
		seed: func(e *env) {
			for _, c := range e.bench.Controls {
				if len(c.Accepted) > round {
					e.userChain(c.Key, chainSpec{filter: pattern(c.Accepted[round].Pattern)})
				}
			}
		},
	}
}

// keepsUserChain checks that healing a person's broken chain for key left
// the person's filter and alarm in place and added Watchkeeper's own alarm
// beside them (and, when ownFilter, Watchkeeper's own filter too: the
// person's filter cannot feed an alarm). Byte-identity of the person's
// resources is checked for every heal by assertUnownedUnchanged.
func keepsUserChain(key string, ownFilter bool) func(t *testing.T, e *env, after state) {
	return func(t *testing.T, e *env, after state) {
		t.Helper()
		region, lg := e.region(), e.acct.Trail.LogGroupName
		if _, ok := after.Filters[region+" "+lg+"/SecOps-"+key]; !ok {
			t.Errorf("the person's filter SecOps-%s is gone after apply", key)
		}
		if _, ok := after.Alarms[region+" SecOps-"+key+"-alarm"]; !ok {
			t.Errorf("the person's alarm SecOps-%s-alarm is gone after apply", key)
		}
		if _, ok := after.Alarms[region+" "+prefix+key]; !ok {
			t.Errorf("Watchkeeper did not add its own alarm %s%s beside the person's", prefix, key)
		}
		if _, ok := after.Filters[region+" "+lg+"/"+prefix+key]; ok != ownFilter {
			t.Errorf("Watchkeeper's own filter %s%s present %t after apply, want %t", prefix, key, ok, ownFilter)
		}
	}
}
