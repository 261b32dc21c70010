package inspect_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// TestObserveUnrelatedFiltersOnTrailLogGroup: filters about other things on
// the trail's own log group cost no DescribeAlarmsForMetric (reviewer's
// D3a: 9 calls became 39 after 30 unrelated filters).
func TestObserveUnrelatedFiltersOnTrailLogGroup(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	acct := e.compliant(t)
	opts := e.options(nil)
	opts.RelevantFilter = plan.RelevantFilter(plan.Options{Benchmark: catalog.Default()})
	opts.AlarmNotifies = notifies
	req := inspect.Request{Regions: []string{region}, HomeRegion: region}
	before := e.observe(t, opts, req)
	calls := e.calls.take()
	if diff := cmp.Diff(compliantCalls, calls); diff != "" {
		t.Errorf("compliant account, 1 region (-want +got):\n%s", diff)
	}

	logs := cloudwatchlogs.NewFromConfig(e.srv.Config(region))
	for i := range 30 {
		if _, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String(acct.Trail.LogGroupName), FilterName: aws.String(fmt.Sprintf("app-errors-%02d", i)),
			FilterPattern: aws.String(fmt.Sprintf(`{ $.errorCode = "AppError%d" }`, i)),
			MetricTransformations: []logtypes.MetricTransformation{{
				MetricName: aws.String(fmt.Sprintf("AppErrors%d", i)), MetricNamespace: aws.String("App"), MetricValue: aws.String("1"),
			}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	after := e.observe(t, opts, req)
	if diff := cmp.Diff(calls, e.calls.take()); diff != "" {
		t.Errorf("calls changed with 30 unrelated filters on the trail's log group (-before +after):\n%s", diff)
	}
	if got := len(after.LogGroups[acct.Trail.LogGroupARN].Filters); got != len(before.LogGroups[acct.Trail.LogGroupARN].Filters)+30 {
		t.Errorf("%d filters observed, want every filter still listed", got)
	}
}

// TestObserveUserAlarmBehindFailingOwnAlarm: when Watchkeeper's alarm on a
// metric would not notify anyone (its topic lost its subscription), a
// person's alarm on the same metric that notifies a confirmed subscriber is
// observed, and the control passes (reviewer's D2).
func TestObserveUserAlarmBehindFailingOwnAlarm(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	acct := e.compliant(t)
	sc := sns.NewFromConfig(e.srv.Config(region))
	subs, err := sc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.TopicARN)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs.Subscriptions {
		if _, err := sc.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn}); err != nil {
			t.Fatal(err)
		}
	}
	team, err := e.world.Topic(ctx, region, "team-alerts", "email:team@example.com")
	if err != nil {
		t.Fatal(err)
	}
	c := catalog.Default().Controls[0]
	in := world.AlarmSpec(c, acct.Namespace, "team-", team)
	if _, err := cloudwatch.NewFromConfig(e.srv.Config(region)).PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}

	opts := e.options(nil)
	popts := plan.Options{Benchmark: catalog.Default(), HomeRegion: region}
	opts.RelevantFilter = plan.RelevantFilter(popts)
	opts.AlarmNotifies = notifies
	snap := e.observe(t, opts, inspect.Request{Regions: []string{region}, HomeRegion: region})
	calls := e.calls.take()
	lg := snap.LogGroups[acct.Trail.LogGroupARN]
	found := false
	for _, a := range lg.Alarms {
		found = found || a.Name == "team-"+c.Key
	}
	if !found {
		t.Fatalf("the team's alarm on %s/%s was not observed; alarms: %d", acct.Namespace, c.MetricName, len(lg.Alarms))
	}
	if tp := snap.Topics[team]; tp.ConfirmedSubscriptions != 1 {
		t.Errorf("team topic %+v, want read with its confirmed subscription", tp)
	}
	// Every own alarm fails (the topic has no subscriber), so each control's
	// metric is looked up once.
	if got, want := calls["CloudWatch.DescribeAlarmsForMetric"], len(catalog.Default().Controls); got != want {
		t.Errorf("DescribeAlarmsForMetric calls = %d, want %d (one per control's metric)", got, want)
	}
	p := plan.Compute(popts, snap)
	for _, r := range p.Controls {
		want := plan.StatusFail
		if r.ID == c.ID {
			want = plan.StatusPass
		}
		if r.Status != want {
			t.Errorf("control %s: %s %q, want %s", r.ID, r.Status, r.Reasons, want)
		}
	}
}

// TestObserveFilterDimensions: a filter's metric dimensions and unit are
// recorded.
func TestObserveFilterDimensions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	tr, err := e.world.Trail(ctx, world.TrailSpec{Name: "main", HomeRegion: region, LogGroupName: "trail-logs"})
	if err != nil {
		t.Fatal(err)
	}
	logs := cloudwatchlogs.NewFromConfig(e.srv.Config(region))
	if _, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String("trail-logs"), FilterName: aws.String("by-event"),
		FilterPattern: aws.String(`{ $.eventSource = "kms.amazonaws.com" }`),
		MetricTransformations: []logtypes.MetricTransformation{{
			MetricName: aws.String("KMS"), MetricNamespace: aws.String("Team"), MetricValue: aws.String("1"),
			Dimensions: map[string]string{"EventName": "$.eventName"}, Unit: logtypes.StandardUnitCount,
		}},
	}); err != nil {
		t.Fatal(err)
	}
	snap := e.observe(t, e.options(nil), inspect.Request{Regions: []string{region}, HomeRegion: region})
	fs := snap.LogGroups[tr.LogGroupARN].Filters
	if len(fs) != 1 || len(fs[0].Transformations) != 1 {
		t.Fatalf("filters %+v", fs)
	}
	if diff := cmp.Diff(map[string]string{"EventName": "$.eventName"}, fs[0].Transformations[0].Dimensions); diff != "" {
		t.Errorf("dimensions (-want +got):\n%s", diff)
	}
	if got := fs[0].Transformations[0].Unit; got != "Count" {
		t.Errorf("unit = %q, want Count", got)
	}
}
