package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

const (
	region  = "us-east-1"
	account = moto.Account
	group   = "cloudtrail-logs"
)

// sdkClients builds real SDK writers for endpoint; tune adjusts the
// configuration (e.g. a faster retryer).
func sdkClients(endpoint string, tune ...func(*aws.Config)) func(string) apply.Clients {
	return func(r string) apply.Clients {
		cfg := moto.Config(endpoint, r)
		for _, f := range tune {
			f(&cfg)
		}
		return apply.Clients{
			CloudTrail: cloudtrail.NewFromConfig(cfg),
			Logs:       cloudwatchlogs.NewFromConfig(cfg),
			CloudWatch: cloudwatch.NewFromConfig(cfg),
			SNS:        sns.NewFromConfig(cfg),
			KMS:        kms.NewFromConfig(cfg),
		}
	}
}

// world is the AWS state the moto test starts from: a log group, a
// disabled alarm, and two single-region trails that are not logging.
type world struct {
	classicTrail, advancedTrail string // ARNs
	logGroupARN                 string
}

func seed(t *testing.T, endpoint string) world {
	t.Helper()
	ctx := t.Context()
	cfg := moto.Config(endpoint, region)
	// CreateTrail needs the bucket; go.mod has no S3 client, and moto takes
	// an unsigned path-style PUT.
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, endpoint+"/trail-bucket", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket: HTTP %d", resp.StatusCode)
	}
	logs := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(cfg)
	var w world
	for _, name := range []string{"classic", "advanced"} {
		out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String("trail-bucket")})
		if err != nil {
			t.Fatal(err)
		}
		if name == "classic" {
			w.classicTrail = aws.ToString(out.TrailARN)
		} else {
			w.advancedTrail = aws.ToString(out.TrailARN)
		}
	}
	w.logGroupARN = "arn:aws:logs:" + region + ":" + account + ":log-group:" + group
	_, err = cloudwatch.NewFromConfig(cfg).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("watchkeeper-disabled"), MetricName: aws.String("M"), Namespace: aws.String("CISBenchmark"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, ActionsEnabled: aws.Bool(false),
		AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var classicSelectors = &model.Selectors{Classic: []model.ClassicSelector{
	{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"rdsdata.amazonaws.com"}},
	{ReadWriteType: "WriteOnly", IncludeManagementEvents: false, DataResources: []model.DataResource{
		{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::bucket-a/", "arn:aws:s3:::bucket-b/logs"}},
		{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}},
	}},
}}

var advancedSelectors = &model.Selectors{Advanced: []model.AdvancedSelector{
	{Name: "management", FieldSelectors: []model.FieldSelector{
		{Field: "eventCategory", Equals: []string{"Management"}},
		{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}},
	}},
	{Name: "s3 data", FieldSelectors: []model.FieldSelector{
		{Field: "eventCategory", Equals: []string{"Data"}},
		{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
		{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::bucket-a/"}, NotStartsWith: []string{"arn:aws:s3:::bucket-a/tmp/"},
			EndsWith: []string{".json"}, NotEndsWith: []string{".tmp.json"}},
	}},
}}

func testPlan(w world) []plan.Action {
	topicARN := "arn:aws:sns:" + region + ":" + account + ":watchkeeper-cis-alarms"
	return []plan.Action{
		{Kind: plan.PutMetricAlarm, Region: region, Target: "alarm", Controls: []string{"4.3"}, Alarm: &plan.AlarmSpec{
			AlarmName: "watchkeeper-root-usage", Description: "CIS 4.3 root account usage", MetricName: "watchkeeper-root-usage",
			Namespace: "CISBenchmark", Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 1,
			ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching", TopicARN: topicARN,
			Tags: map[string]string{"Control": "4.3"},
		}},
		{Kind: plan.EnableAlarmActions, Region: region, Target: "watchkeeper-disabled", Alarm: &plan.AlarmSpec{AlarmName: "watchkeeper-disabled"}},
		{Kind: plan.PutMetricFilter, Region: region, Target: group + "/watchkeeper-root-usage", Filter: &plan.FilterSpec{
			LogGroupName: group, FilterName: "watchkeeper-root-usage",
			Pattern:    `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
			MetricName: "watchkeeper-root-usage", Namespace: "CISBenchmark", MetricValue: "1",
		}},
		{Kind: plan.Subscribe, Region: region, Target: topicARN, Subscription: &plan.SubscriptionSpec{TopicARN: topicARN, Protocol: "email", Endpoint: "sec@example.com"}},
		{Kind: plan.CreateTopic, Region: region, Target: topicARN, Topic: &plan.TopicSpec{Name: "watchkeeper-cis-alarms", KMSKeyID: "alias/watchkeeper", Tags: map[string]string{"Team": "security"}}},
		{Kind: plan.StartLogging, Region: region, Target: w.classicTrail, Trail: &plan.TrailSpec{TrailARN: w.classicTrail, HomeRegion: region}},
		{Kind: plan.PutEventSelectors, Region: region, Target: w.classicTrail, Trail: &plan.TrailSpec{TrailARN: w.classicTrail, HomeRegion: region, Selectors: classicSelectors}},
		{Kind: plan.PutEventSelectors, Region: region, Target: w.advancedTrail, Trail: &plan.TrailSpec{TrailARN: w.advancedTrail, HomeRegion: region, Selectors: advancedSelectors}},
		{Kind: plan.UpdateTrail, Region: region, Target: w.classicTrail, Trail: &plan.TrailSpec{
			TrailARN: w.classicTrail, HomeRegion: region, MakeMultiRegion: true,
			LogGroupARN: w.logGroupARN, LogsRoleARN: "arn:aws:iam::123456789012:role/CloudTrailToLogs",
		}},
	}
}

// start starts moto behind a proxy that emulates what moto 5.2.1 lacks or
// gets wrong (see awsproxy): EnableAlarmActions, StartLogging by ARN, and
// PutMetricFilter as an upsert.
func start(t *testing.T) (*moto.Server, *awsproxy.Proxy) {
	t.Helper()
	srv := moto.Start(t)
	proxy := awsproxy.New(srv.URL)
	t.Cleanup(proxy.Close)
	proxy.ShimAll()
	return srv, proxy
}

func TestRunAgainstMoto(t *testing.T) {
	srv, proxy := start(t)
	w := seed(t, srv.URL)
	actions := testPlan(w)
	opts := apply.Options{Clients: sdkClients(proxy.URL)}

	first, err := apply.Run(t.Context(), actions, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, o := range first.Outcomes {
		if o.Status != apply.StatusApplied {
			t.Errorf("%s %s: status %s (%v), want applied", o.Action.Kind, o.Action.Target, o.Status, o.Err)
		}
	}
	check(t, srv.URL, w)

	// A second run changes nothing: same topic, no duplicate subscription,
	// filter or alarm.
	second, err := apply.Run(t.Context(), actions, opts)
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	topicOutcome := func(r apply.Result) string {
		for _, o := range r.Outcomes {
			if o.Action.Kind == plan.CreateTopic {
				return o.ARN
			}
		}
		return ""
	}
	if a, b := topicOutcome(first), topicOutcome(second); a == "" || a != b {
		t.Errorf("CreateTopic ARNs = %q then %q, want the same", a, b)
	}
	subOutcome := func(r apply.Result) string {
		for _, o := range r.Outcomes {
			if o.Action.Kind == plan.Subscribe {
				return o.ARN
			}
		}
		return ""
	}
	if a, b := subOutcome(first), subOutcome(second); a == "" || a != b {
		t.Errorf("Subscribe ARNs = %q then %q, want the same", a, b)
	}
	check(t, srv.URL, w)
}

// check reads the state back through the SDK, directly from moto.
func check(t *testing.T, endpoint string, w world) {
	t.Helper()
	ctx := t.Context()
	cfg := moto.Config(endpoint, region)
	topicARN := "arn:aws:sns:" + region + ":" + account + ":watchkeeper-cis-alarms"

	// Topic: one, tagged, encrypted.
	sc := sns.NewFromConfig(cfg)
	topics, err := sc.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(topics.Topics) != 1 || aws.ToString(topics.Topics[0].TopicArn) != topicARN {
		t.Errorf("topics = %+v, want exactly %s", topics.Topics, topicARN)
	}
	tags, err := sc.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(topicARN)})
	if err != nil {
		t.Fatal(err)
	}
	gotTags := map[string]string{}
	for _, tg := range tags.Tags {
		gotTags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if diff := cmp.Diff(map[string]string{"ManagedBy": "watchkeeper", "Team": "security"}, gotTags); diff != "" {
		t.Errorf("topic tags (-want +got):\n%s", diff)
	}
	attrs, err := sc.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topicARN)})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["KmsMasterKeyId"]; got != "alias/watchkeeper" {
		t.Errorf("KmsMasterKeyId = %q, want alias/watchkeeper", got)
	}
	subs, err := sc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs.Subscriptions) != 1 || aws.ToString(subs.Subscriptions[0].Endpoint) != "sec@example.com" || aws.ToString(subs.Subscriptions[0].Protocol) != "email" {
		t.Errorf("subscriptions = %+v, want one email:sec@example.com", subs.Subscriptions)
	}

	// Filter: exactly as planned.
	filters, err := cloudwatchlogs.NewFromConfig(cfg).DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	wantFilter := []logstypes.MetricFilter{{
		FilterName:    aws.String("watchkeeper-root-usage"),
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`),
		MetricTransformations: []logstypes.MetricTransformation{{
			MetricName: aws.String("watchkeeper-root-usage"), MetricNamespace: aws.String("CISBenchmark"), MetricValue: aws.String("1"),
		}},
	}}
	if diff := cmp.Diff(wantFilter, filters.MetricFilters,
		cmpopts.IgnoreUnexported(logstypes.MetricFilter{}, logstypes.MetricTransformation{}),
		cmpopts.IgnoreFields(logstypes.MetricFilter{}, "CreationTime"),
		cmpopts.IgnoreFields(logstypes.MetricTransformation{}, "DefaultValue", "Unit"),
	); diff != "" {
		t.Errorf("metric filters (-want +got):\n%s", diff)
	}

	// Alarms: every field of the new one; the disabled one re-enabled.
	cw := cloudwatch.NewFromConfig(cfg)
	alarms, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"watchkeeper-root-usage", "watchkeeper-disabled"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms.MetricAlarms) != 2 {
		t.Fatalf("alarms = %d, want 2", len(alarms.MetricAlarms))
	}
	for _, a := range alarms.MetricAlarms {
		if !aws.ToBool(a.ActionsEnabled) {
			t.Errorf("alarm %s: actions disabled", aws.ToString(a.AlarmName))
		}
		if aws.ToString(a.AlarmName) != "watchkeeper-root-usage" {
			continue
		}
		got := cwtypes.MetricAlarm{
			AlarmName: a.AlarmName, AlarmDescription: a.AlarmDescription, MetricName: a.MetricName, Namespace: a.Namespace,
			Statistic: a.Statistic, Period: a.Period, EvaluationPeriods: a.EvaluationPeriods, Threshold: a.Threshold,
			ComparisonOperator: a.ComparisonOperator, TreatMissingData: a.TreatMissingData, AlarmActions: a.AlarmActions,
			ActionsEnabled: a.ActionsEnabled,
		}
		want := cwtypes.MetricAlarm{
			AlarmName: aws.String("watchkeeper-root-usage"), AlarmDescription: aws.String("CIS 4.3 root account usage"),
			MetricName: aws.String("watchkeeper-root-usage"), Namespace: aws.String("CISBenchmark"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
			AlarmActions: []string{topicARN}, ActionsEnabled: aws.Bool(true),
		}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(cwtypes.MetricAlarm{})); diff != "" {
			t.Errorf("alarm (-want +got):\n%s", diff)
		}
		tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
		if err != nil {
			t.Fatal(err)
		}
		gotTags := map[string]string{}
		for _, tg := range tags.Tags {
			gotTags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if diff := cmp.Diff(map[string]string{"ManagedBy": "watchkeeper", "Control": "4.3"}, gotTags); diff != "" {
			t.Errorf("alarm tags (-want +got):\n%s", diff)
		}
	}

	// Trails: selectors round-trip, UpdateTrail fields, logging started.
	ct := cloudtrail.NewFromConfig(cfg)
	for _, tc := range []struct {
		arn  string
		want *model.Selectors
	}{{w.classicTrail, classicSelectors}, {w.advancedTrail, advancedSelectors}} {
		out, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(tc.arn)})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, fromSDK(out), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("selectors of %s (-want +got):\n%s", tc.arn, diff)
		}
	}
	trails, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{w.classicTrail}})
	if err != nil {
		t.Fatal(err)
	}
	// moto 5.2.1 ignores an ARN in TrailNameList and returns every trail.
	var tr cttypes.Trail
	for _, x := range trails.TrailList {
		if aws.ToString(x.TrailARN) == w.classicTrail {
			tr = x
		}
	}
	if !aws.ToBool(tr.IsMultiRegionTrail) || aws.ToString(tr.CloudWatchLogsLogGroupArn) != w.logGroupARN+":*" ||
		aws.ToString(tr.CloudWatchLogsRoleArn) != "arn:aws:iam::123456789012:role/CloudTrailToLogs" {
		t.Errorf("trail after UpdateTrail: multi-region %v, log group %q, role %q", aws.ToBool(tr.IsMultiRegionTrail),
			aws.ToString(tr.CloudWatchLogsLogGroupArn), aws.ToString(tr.CloudWatchLogsRoleArn))
	}
	if aws.ToString(tr.S3BucketName) != "trail-bucket" {
		t.Errorf("UpdateTrail changed S3BucketName to %q", aws.ToString(tr.S3BucketName))
	}
	status, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(w.classicTrail)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(status.IsLogging) {
		t.Error("classic trail is not logging after StartLogging")
	}
}

// fromSDK converts GetEventSelectors output back to inspect types.
func fromSDK(out *cloudtrail.GetEventSelectorsOutput) *model.Selectors {
	s := &model.Selectors{}
	for _, e := range out.EventSelectors {
		c := model.ClassicSelector{
			ReadWriteType: string(e.ReadWriteType), IncludeManagementEvents: aws.ToBool(e.IncludeManagementEvents),
			ExcludeManagementEventSources: e.ExcludeManagementEventSources,
		}
		for _, d := range e.DataResources {
			c.DataResources = append(c.DataResources, model.DataResource{Type: aws.ToString(d.Type), Values: d.Values})
		}
		s.Classic = append(s.Classic, c)
	}
	for _, a := range out.AdvancedEventSelectors {
		sel := model.AdvancedSelector{Name: aws.ToString(a.Name)}
		for _, f := range a.FieldSelectors {
			sel.FieldSelectors = append(sel.FieldSelectors, model.FieldSelector{
				Field: aws.ToString(f.Field), Equals: f.Equals, NotEquals: f.NotEquals, StartsWith: f.StartsWith,
				NotStartsWith: f.NotStartsWith, EndsWith: f.EndsWith, NotEndsWith: f.NotEndsWith,
			})
		}
		s.Advanced = append(s.Advanced, sel)
	}
	return s
}

// TestConcurrentRunsConverge: five applies of one plan at once end in the
// state one apply gives, without duplicates (issue #6, item 3).
func TestConcurrentRunsConverge(t *testing.T) {
	srv, proxy := start(t)
	w := seed(t, srv.URL)
	actions := testPlan(w)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := apply.Run(t.Context(), actions, apply.Options{Clients: sdkClients(proxy.URL)}); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	wg.Wait()
	check(t, srv.URL, w)
	if got := proxy.MaxInFlight(); got < 2 {
		t.Errorf("max requests in flight = %d, want the runs to overlap", got)
	}
}

// TestRunThroughFaults drives real SDK clients through injected AWS faults:
// a transient throttle is retried by the SDK and applied; a persistent one
// fails as retryable; a region that denies everything fails as terminal,
// its dependants are skipped, and the other region is still healed.
func TestRunThroughFaults(t *testing.T) {
	srv, proxy := start(t)
	ctx := t.Context()
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if _, err := cloudwatchlogs.NewFromConfig(moto.Config(srv.URL, r)).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
			t.Fatal(err)
		}
	}
	proxy.Inject(awsproxy.Fault{Service: awsproxy.ServiceLogs, Operation: "PutMetricFilter", Region: "us-east-1", Kind: awsproxy.FaultThrottle, Times: 1})
	proxy.Inject(awsproxy.Fault{Service: awsproxy.ServiceCloudWatch, Operation: "PutMetricAlarm", Region: "us-east-1", Kind: awsproxy.FaultThrottle})
	proxy.Inject(awsproxy.Fault{Region: "eu-west-1", Kind: awsproxy.FaultAccessDenied})

	toTopic := func(a plan.Action) plan.Action {
		a.Alarm.TopicARN = topicARN(a.Region)
		return a
	}
	actions := []plan.Action{
		createTopic("us-east-1"), filter("us-east-1", group, "f"), toTopic(alarm("us-east-1", "a", "")), subscribe("us-east-1", "s@example.com"),
		createTopic("eu-west-1"), filter("eu-west-1", group, "f"), toTopic(alarm("eu-west-1", "a", "")), subscribe("eu-west-1", "s@example.com"),
	}
	// The standard retryer (3 attempts) with short backoffs keeps the test fast.
	fastRetry := func(cfg *aws.Config) {
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3; o.MaxBackoff = 20 * time.Millisecond })
		}
	}
	res, err := apply.Run(ctx, actions, apply.Options{Clients: sdkClients(proxy.URL, fastRetry)})
	if err == nil {
		t.Fatal("Run returned no error")
	}
	for _, tc := range []struct {
		i         int
		status    apply.Status
		code      string // API error code, "" if none
		retryable bool
	}{
		{0, apply.StatusApplied, "", false},
		{1, apply.StatusApplied, "", false}, // throttled once, retried by the SDK
		{2, apply.StatusFailed, "Throttling", true},
		{3, apply.StatusApplied, "", false},
		{4, apply.StatusFailed, "AuthorizationError", false},
		{5, apply.StatusFailed, "AccessDeniedException", false},
		{6, apply.StatusSkipped, "AuthorizationError", false}, // topic not created
		{7, apply.StatusSkipped, "AuthorizationError", false},
	} {
		o := res.Outcomes[tc.i]
		name := fmt.Sprintf("%s %s", o.Action.Kind, o.Action.Region)
		if o.Status != tc.status {
			t.Errorf("%s: status %s (%v), want %s", name, o.Status, o.Err, tc.status)
		}
		if tc.code == "" {
			continue
		}
		var ae *apply.ActionError
		var apiErr smithy.APIError
		if !errors.As(o.Err, &ae) || !errors.As(o.Err, &apiErr) || apiErr.ErrorCode() != tc.code {
			t.Errorf("%s: Err = %v, want an *ActionError with code %s", name, o.Err, tc.code)
			continue
		}
		if ae.Retryable() != tc.retryable {
			t.Errorf("%s: Retryable() = %v, want %v", name, ae.Retryable(), tc.retryable)
		}
	}
	counts := proxy.Counts()
	if got := counts[awsproxy.Call{Service: "logs", Operation: "PutMetricFilter", Region: "us-east-1"}]; got != 2 {
		t.Errorf("PutMetricFilter us-east-1 sent %d times, want 2 (one throttled, one retry)", got)
	}
	if got := counts[awsproxy.Call{Service: "monitoring", Operation: "PutMetricAlarm", Region: "us-east-1"}]; got != 3 {
		t.Errorf("PutMetricAlarm us-east-1 sent %d times, want 3 (the SDK's attempts)", got)
	}
	if got := counts[awsproxy.Call{Service: "sns", Operation: "Subscribe", Region: "eu-west-1"}]; got != 0 {
		t.Errorf("Subscribe in the denied region was sent %d times, want 0", got)
	}
}

// TestRunCutShortIsFinishedByTheNextRun: a run whose deadline arrives after
// the first round of calls reports the rest as skipped (left for the next
// run), and the next run completes them (issue #6, item 5). Each call takes
// at least the proxy's latency, so only the first round starts before the
// reserve is reached: the independent first-phase actions, and the first
// of the classic trail's three changes (one trail's changes are serial).
func TestRunCutShortIsFinishedByTheNextRun(t *testing.T) {
	srv, proxy := start(t)
	w := seed(t, srv.URL)
	actions := testPlan(w)
	opts := apply.Options{Clients: sdkClients(proxy.URL), Reserve: 1500 * time.Millisecond}

	proxy.SetLatency(time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	res, err := apply.Run(ctx, actions, opts)
	if err != nil {
		t.Fatalf("cut-short Run: %v (skips are not failures)", err)
	}
	firstRound := map[string]bool{
		"CreateTopic " + topicARN(region): true, "UpdateTrail " + w.classicTrail: true, "PutEventSelectors " + w.advancedTrail: true,
	}
	for _, o := range res.Outcomes {
		want := apply.StatusSkipped
		if firstRound[string(o.Action.Kind)+" "+o.Action.Target] {
			want = apply.StatusApplied
		}
		if o.Status != want {
			t.Errorf("%s %s: %s (%v), want %s", o.Action.Kind, o.Action.Target, o.Status, o.Err, want)
		}
		if o.Status == apply.StatusSkipped && !errors.Is(o.Err, apply.ErrDeadline) {
			t.Errorf("%s skipped with %v, want ErrDeadline", o.Action.Kind, o.Err)
		}
	}
	for _, c := range proxy.Calls() {
		if c.Operation == "PutMetricFilter" || c.Operation == "PutMetricAlarm" || c.Operation == "Subscribe" {
			t.Errorf("cut-short run started %s after the reserve", c.Operation)
		}
	}

	proxy.SetLatency(0)
	if _, err := apply.Run(t.Context(), actions, opts); err != nil {
		t.Fatalf("next Run: %v", err)
	}
	check(t, srv.URL, w)
}

// TestMotoKeyStateGap pins the moto behaviour awsproxy.ShimKeyStates corrects, so
// the shim can go when moto changes: moto fails EnableKey by key ARN, its
// CancelKeyDeletion disables an enabled key, and its EnableKey enables a
// key pending deletion.
func TestMotoKeyStateGap(t *testing.T) {
	srv := moto.Start(t)
	ctx := t.Context()
	c := kms.NewFromConfig(moto.Config(srv.URL, region), func(o *kms.Options) { o.RetryMaxAttempts = 1 })
	key, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := key.KeyMetadata.KeyId
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: key.KeyMetadata.Arn}); err == nil {
		t.Error("moto EnableKey by key ARN succeeded; awsproxy.ShimKeyStates assumes it fails (moto changed, revisit the ARN rewrite)")
	}
	if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id}); err != nil {
		t.Fatalf("moto CancelKeyDeletion on an enabled key: %v (AWS: KMSInvalidStateException; moto changed, revisit awsproxy.ShimKeyStates)", err)
	}
	if got := keyState(t, srv.URL, aws.ToString(id)); got != kmstypes.KeyStateDisabled {
		t.Errorf("moto CancelKeyDeletion left an enabled key %s; awsproxy.ShimKeyStates assumes moto disables it", got)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
		t.Fatalf("moto EnableKey on a key pending deletion: %v (AWS: KMSInvalidStateException; moto changed, revisit awsproxy.ShimKeyStates)", err)
	}
}

func keyState(t *testing.T, endpoint, keyID string) kmstypes.KeyState {
	t.Helper()
	out, err := kms.NewFromConfig(moto.Config(endpoint, region)).DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyState
}

// TestKeyActionsAgainstMoto restores a topic key scheduled for deletion and
// one that was disabled, through real SDK clients; a second run of the same
// plan (the keys now enabled) changes nothing and still succeeds, the
// cancellation counting as done on KMSInvalidStateException.
func TestKeyActionsAgainstMoto(t *testing.T) {
	srv := moto.Start(t)
	proxy := awsproxy.New(srv.URL)
	t.Cleanup(proxy.Close)
	proxy.ShimKeyStates()
	ctx := t.Context()
	c := kms.NewFromConfig(moto.Config(srv.URL, region))
	// Seeding talks to moto directly, so it names keys by id (see
	// awsproxy.ShimKeyStates); the plan names them by ARN, as the planner does.
	newKey := func() (id, arn string) {
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("watchkeeper topic key")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
	}
	pendingID, pending := newKey()
	disabledID, disabled := newKey()
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(pendingID), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(disabledID)}); err != nil {
		t.Fatal(err)
	}
	if got := keyState(t, srv.URL, pending); got != kmstypes.KeyStatePendingDeletion {
		t.Fatalf("seeded key state %s, want PendingDeletion", got)
	}
	// An EnableKey alone cannot restore a key pending deletion.
	res, err := apply.Run(ctx, []plan.Action{{Kind: plan.EnableKey, Region: region, Target: pending, KMSKey: &plan.KeySpec{KeyARN: pending}}},
		apply.Options{Clients: sdkClients(proxy.URL)})
	var invalid *kmstypes.KMSInvalidStateException
	if res.Outcomes[0].Status != apply.StatusFailed || !errors.As(err, &invalid) || apply.Retryable(err) {
		t.Errorf("EnableKey on a key pending deletion: %s %v, want a terminal KMSInvalidStateException", res.Outcomes[0].Status, err)
	}

	actions := []plan.Action{
		{Kind: plan.EnableKey, Region: region, Target: pending, KMSKey: &plan.KeySpec{KeyARN: pending}},
		{Kind: plan.CancelKeyDeletion, Region: region, Target: pending, KMSKey: &plan.KeySpec{KeyARN: pending}},
		{Kind: plan.EnableKey, Region: region, Target: disabled, KMSKey: &plan.KeySpec{KeyARN: disabled}},
	}
	for run := range 2 {
		res, err := apply.Run(ctx, actions, apply.Options{Clients: sdkClients(proxy.URL)})
		if err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		for _, o := range res.Outcomes {
			if o.Status != apply.StatusApplied {
				t.Errorf("run %d: %s %s: %s (%v)", run+1, o.Action.Kind, o.Action.Target, o.Status, o.Err)
			}
		}
		for _, k := range []string{pending, disabled} {
			if got := keyState(t, srv.URL, k); got != kmstypes.KeyStateEnabled {
				t.Errorf("run %d: key %s is %s, want Enabled", run+1, k, got)
			}
		}
	}
	// The second run's CancelKeyDeletion reached KMS and was refused.
	if got := proxy.Counts()[awsproxy.Call{Service: awsproxy.ServiceKMS, Operation: "CancelKeyDeletion", Region: region}]; got != 2 {
		t.Errorf("CancelKeyDeletion sent %d times, want 2", got)
	}
}
