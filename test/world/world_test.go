package world_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

func TestCompliantReadsBack(t *testing.T) {
	srv := moto.Start(t)
	w := world.New(srv.Config)
	ctx := t.Context()
	b := catalog.Default()
	const region = "eu-west-1"
	acct, err := w.Compliant(ctx, world.CompliantSpec{HomeRegion: region, Benchmark: b})
	if err != nil {
		t.Fatalf("Compliant: %v", err)
	}
	if acct.ID != moto.Account {
		t.Errorf("account = %q, want %q", acct.ID, moto.Account)
	}
	cfg := srv.Config(region)

	// The trail is multi-region, logging, delivers to the log group, and is
	// visible as a shadow trail from another region.
	ct := cloudtrail.NewFromConfig(srv.Config("us-west-2"))
	trails, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		t.Fatalf("DescribeTrails: %v", err)
	}
	if len(trails.TrailList) != 1 {
		t.Fatalf("trails seen from us-west-2 = %d, want 1", len(trails.TrailList))
	}
	tr := trails.TrailList[0]
	if !aws.ToBool(tr.IsMultiRegionTrail) || aws.ToString(tr.HomeRegion) != region ||
		aws.ToString(tr.CloudWatchLogsLogGroupArn) != acct.Trail.LogGroupARN+":*" || aws.ToString(tr.TrailARN) != acct.Trail.ARN {
		t.Errorf("trail = %+v, want multi-region in %s delivering to %s", tr, region, acct.Trail.LogGroupARN)
	}
	if !strings.HasPrefix(acct.Trail.RoleARN, "arn:aws:iam::"+moto.Account+":role/") || aws.ToString(tr.CloudWatchLogsRoleArn) != acct.Trail.RoleARN {
		t.Errorf("role = %q (trail has %q)", acct.Trail.RoleARN, aws.ToString(tr.CloudWatchLogsRoleArn))
	}
	ctHome := cloudtrail.NewFromConfig(cfg)
	st, err := ctHome.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(acct.Trail.Name)})
	if err != nil || !aws.ToBool(st.IsLogging) {
		t.Errorf("GetTrailStatus = %+v, %v; want logging", st, err)
	}
	sel, err := ctHome.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(acct.Trail.Name)})
	if err != nil {
		t.Fatalf("GetEventSelectors: %v", err)
	}
	if len(sel.EventSelectors) != 1 || sel.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll || !aws.ToBool(sel.EventSelectors[0].IncludeManagementEvents) {
		t.Errorf("event selectors = %+v, want all management events", sel.EventSelectors)
	}

	// One filter per control, named and shaped as Watchkeeper writes them.
	filters, err := cloudwatchlogs.NewFromConfig(cfg).DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{
		LogGroupName: aws.String(world.DefaultLogGroupName),
	})
	if err != nil {
		t.Fatalf("DescribeMetricFilters: %v", err)
	}
	type fv struct{ Name, Pattern, Metric, Namespace, Value string }
	var gotF, wantF []fv
	for _, f := range filters.MetricFilters {
		mt := f.MetricTransformations[0]
		gotF = append(gotF, fv{aws.ToString(f.FilterName), aws.ToString(f.FilterPattern), aws.ToString(mt.MetricName), aws.ToString(mt.MetricNamespace), aws.ToString(mt.MetricValue)})
	}
	for _, c := range b.Controls {
		wantF = append(wantF, fv{"watchkeeper-" + c.Key, c.PatternFor(catalog.ProfileBenchmark), c.MetricName, "CISBenchmark", "1"})
	}
	less := func(a, b fv) bool { return a.Name < b.Name }
	sort.Slice(gotF, func(i, j int) bool { return less(gotF[i], gotF[j]) })
	sort.Slice(wantF, func(i, j int) bool { return less(wantF[i], wantF[j]) })
	if diff := cmp.Diff(wantF, gotF); diff != "" {
		t.Errorf("filters mismatch (-want +got):\n%s", diff)
	}

	// One alarm per control notifying the topic.
	alarms, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("watchkeeper-")})
	if err != nil {
		t.Fatalf("DescribeAlarms: %v", err)
	}
	if len(alarms.MetricAlarms) != len(b.Controls) {
		t.Errorf("alarms = %d, want %d", len(alarms.MetricAlarms), len(b.Controls))
	}
	for _, a := range alarms.MetricAlarms {
		if !aws.ToBool(a.ActionsEnabled) || len(a.AlarmActions) != 1 || a.AlarmActions[0] != acct.TopicARN ||
			aws.ToInt32(a.Period) != 300 || aws.ToFloat64(a.Threshold) != 1 || aws.ToString(a.TreatMissingData) != "notBreaching" {
			t.Errorf("alarm %s = %+v, not as Watchkeeper writes it", aws.ToString(a.AlarmName), a)
		}
	}

	// The topic has a confirmed subscriber.
	subs, err := sns.NewFromConfig(cfg).ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.TopicARN)})
	if err != nil {
		t.Fatalf("ListSubscriptionsByTopic: %v", err)
	}
	if len(subs.Subscriptions) != 1 || !strings.HasPrefix(aws.ToString(subs.Subscriptions[0].SubscriptionArn), "arn:") ||
		aws.ToString(subs.Subscriptions[0].Endpoint) != "security@example.com" {
		t.Errorf("subscriptions = %+v, want one confirmed email subscriber", subs.Subscriptions)
	}
	if !strings.HasSuffix(acct.TopicARN, ":"+world.DefaultTopicName) {
		t.Errorf("topic ARN = %q", acct.TopicARN)
	}
}

func TestTrailVariants(t *testing.T) {
	srv := moto.Start(t)
	w := world.New(srv.Config)
	ctx := t.Context()
	for _, tc := range []struct {
		name        string
		spec        world.TrailSpec
		wantMulti   bool
		wantLogging bool
		wantLogs    bool
	}{
		{"single region, no logs, stopped", world.TrailSpec{Name: "plain", HomeRegion: "us-east-2", SingleRegion: true, NotLogging: true}, false, false, false},
		{"multi region with logs", world.TrailSpec{Name: "full", HomeRegion: "ap-south-1", LogGroupName: "lg"}, true, true, true},
		{"advanced selectors", world.TrailSpec{Name: "adv", HomeRegion: "us-east-1", Advanced: []cttypes.AdvancedEventSelector{{
			Name:           aws.String("mgmt"),
			FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}},
		}}}, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := w.Trail(ctx, tc.spec)
			if err != nil {
				t.Fatalf("Trail: %v", err)
			}
			ct := cloudtrail.NewFromConfig(srv.Config(tc.spec.HomeRegion))
			got, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(tr.ARN)})
			if err != nil {
				t.Fatalf("GetTrail: %v", err)
			}
			if m := aws.ToBool(got.Trail.IsMultiRegionTrail); m != tc.wantMulti {
				t.Errorf("multi-region = %v, want %v", m, tc.wantMulti)
			}
			if l := aws.ToString(got.Trail.CloudWatchLogsLogGroupArn) != ""; l != tc.wantLogs {
				t.Errorf("delivers to logs = %v, want %v", l, tc.wantLogs)
			}
			st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(tr.Name)})
			if err != nil {
				t.Fatalf("GetTrailStatus: %v", err)
			}
			if aws.ToBool(st.IsLogging) != tc.wantLogging {
				t.Errorf("logging = %v, want %v", aws.ToBool(st.IsLogging), tc.wantLogging)
			}
			sel, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(tr.Name)})
			if err != nil {
				t.Fatalf("GetEventSelectors: %v", err)
			}
			if n := len(sel.AdvancedEventSelectors); n != len(tc.spec.Advanced) {
				t.Errorf("advanced selectors = %d, want %d", n, len(tc.spec.Advanced))
			}
		})
	}
}

func TestNoise(t *testing.T) {
	srv := moto.Start(t)
	w := world.New(srv.Config)
	ctx := t.Context()
	const region = "us-east-1"
	if err := w.Noise(ctx, region, 120, 3, 2); err != nil {
		t.Fatalf("Noise: %v", err)
	}
	cw := cloudwatch.NewFromConfig(srv.Config(region))
	n := 0
	for p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(world.NoiseAlarmPrefix)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeAlarms: %v", err)
		}
		n += len(out.MetricAlarms)
	}
	if n != 120 {
		t.Errorf("noise alarms = %d, want 120", n)
	}
	logs := cloudwatchlogs.NewFromConfig(srv.Config(region))
	groups, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(world.NoiseLogGroupPrefix)})
	if err != nil {
		t.Fatalf("DescribeLogGroups: %v", err)
	}
	if len(groups.LogGroups) != 3 {
		t.Errorf("noise log groups = %d, want 3", len(groups.LogGroups))
	}
	f, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: groups.LogGroups[0].LogGroupName})
	if err != nil || len(f.MetricFilters) != 2 {
		t.Errorf("filters on %s = %d, %v; want 2", aws.ToString(groups.LogGroups[0].LogGroupName), len(f.MetricFilters), err)
	}
}

func TestTopics(t *testing.T) {
	srv := moto.Start(t)
	w := world.New(srv.Config)
	ctx := t.Context()
	if _, err := w.Topic(ctx, "us-east-1", "t", "no-colon"); err == nil {
		t.Error("Topic with endpoint without protocol succeeded; want an error")
	}
	key, err := w.Key(ctx, "eu-west-1", "")
	if err != nil {
		t.Fatalf("Key: %v", err)
	}
	arn, err := w.EncryptedTopic(ctx, "eu-west-1", "enc", key, "https:https://hooks.example.com/x", "email:a@example.com")
	if err != nil {
		t.Fatalf("EncryptedTopic: %v", err)
	}
	c := sns.NewFromConfig(srv.Config("eu-west-1"))
	attrs, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetTopicAttributes: %v", err)
	}
	if got := attrs.Attributes["KmsMasterKeyId"]; got != key {
		t.Errorf("KmsMasterKeyId = %q, want %q", got, key)
	}
	subs, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListSubscriptionsByTopic: %v", err)
	}
	var got []string
	for _, s := range subs.Subscriptions {
		got = append(got, aws.ToString(s.Protocol)+":"+aws.ToString(s.Endpoint))
	}
	sort.Strings(got)
	if want := []string{"email:a@example.com", "https:https://hooks.example.com/x"}; !cmp.Equal(want, got) {
		t.Errorf("subscriptions = %v, want %v", got, want)
	}
}

// TestAlertPathHelpers reads back what the alert-path helpers set: the
// topic's policy and key, the key's state, the alarm's state and a
// metric-math alarm's Metrics.
func TestAlertPathHelpers(t *testing.T) {
	srv := moto.Start(t)
	w := world.New(srv.Config)
	ctx := t.Context()
	const region = "us-east-1"
	topic, err := w.Topic(ctx, region, "alerts", "email:a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	key, err := w.Key(ctx, region, world.CloudWatchKeyPolicy(moto.Account))
	if err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}]}`
	if err := w.SetTopicPolicy(ctx, topic, policy); err != nil {
		t.Fatal(err)
	}
	if err := w.EncryptTopic(ctx, topic, key); err != nil {
		t.Fatal(err)
	}
	attrs, err := sns.NewFromConfig(srv.Config(region)).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["Policy"] != policy || attrs.Attributes["KmsMasterKeyId"] != key {
		t.Errorf("topic attributes: Policy %q, KmsMasterKeyId %q; want %q, %q", attrs.Attributes["Policy"], attrs.Attributes["KmsMasterKeyId"], policy, key)
	}
	for _, step := range []struct {
		do   func() error
		want string
	}{
		{func() error { return nil }, "Enabled"},
		{func() error { return w.DisableKey(ctx, key) }, "Disabled"},
		{func() error { return w.ScheduleKeyDeletion(ctx, key, 7) }, "PendingDeletion"},
	} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		if got, err := w.KeyState(ctx, key); err != nil || got != step.want {
			t.Errorf("KeyState = %q, %v; want %s", got, err, step.want)
		}
	}

	b := catalog.Default()
	root, _ := b.Control("4.3")
	cw := cloudwatch.NewFromConfig(srv.Config(region))
	for _, in := range []*cloudwatch.PutMetricAlarmInput{
		world.AlarmSpec(root, world.DefaultNamespace, world.DefaultPrefix, topic),
		world.MetricMathAlarmSpec(root, world.DefaultNamespace, root.MetricName, "math", topic),
		world.AnomalyDetectionAlarmSpec(root, world.DefaultNamespace, root.MetricName, "anomaly", topic),
	} {
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.SetAlarmState(ctx, region, world.DefaultPrefix+root.Key, cwtypes.StateValueAlarm); err != nil {
		t.Fatal(err)
	}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cwtypes.MetricAlarm{}
	for _, a := range out.MetricAlarms {
		got[aws.ToString(a.AlarmName)] = a
	}
	if a := got[world.DefaultPrefix+root.Key]; a.StateValue != cwtypes.StateValueAlarm {
		t.Errorf("alarm state after SetAlarmState: %s, want ALARM", a.StateValue)
	}
	if a := got["math"]; len(a.Metrics) != 2 || a.MetricName != nil {
		t.Errorf("metric-math alarm: Metrics %d, MetricName %v; want 2 and none", len(a.Metrics), aws.ToString(a.MetricName))
	}
	if a := got["anomaly"]; aws.ToString(a.ThresholdMetricId) != "ad1" {
		t.Errorf("anomaly-detection alarm: ThresholdMetricId %q, want ad1", aws.ToString(a.ThresholdMetricId))
	}
}
