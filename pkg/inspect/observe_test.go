package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

var threeRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// wantCompliant is the snapshot of a world.Compliant account in us-east-1
// observed over threeRegions.
func wantCompliant(acct world.Account) inspect.Snapshot {
	lgARN := acct.Trail.LogGroupARN
	var filters []inspect.MetricFilter
	var alarms []inspect.Alarm
	for _, c := range acct.Benchmark.Controls {
		filters = append(filters, inspect.MetricFilter{
			Name:    acct.Prefix + c.Key,
			Pattern: c.PatternFor(catalog.ProfileBenchmark),
			Transformations: []inspect.MetricTransformation{{
				MetricName: c.MetricName, MetricNamespace: acct.Namespace, MetricValue: "1",
			}},
		})
		alarms = append(alarms, inspect.Alarm{
			Name:               acct.Prefix + c.Key,
			ARN:                fmt.Sprintf("arn:aws:cloudwatch:us-east-1:%s:alarm:%s%s", moto.Account, acct.Prefix, c.Key),
			Region:             "us-east-1",
			MetricName:         c.MetricName,
			Namespace:          acct.Namespace,
			Statistic:          "Sum",
			Period:             300,
			EvaluationPeriods:  1,
			Threshold:          1,
			ComparisonOperator: "GreaterThanOrEqualToThreshold",
			TreatMissingData:   "notBreaching",
			ActionsEnabled:     true,
			AlarmActions:       []string{acct.TopicARN},
		})
	}
	slices.SortFunc(filters, func(a, b inspect.MetricFilter) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(alarms, func(a, b inspect.Alarm) int { return strings.Compare(a.Name, b.Name) })
	var regions []inspect.Region
	for _, r := range slices.Sorted(slices.Values(threeRegions)) {
		regions = append(regions, inspect.Region{Name: r, TrailARNs: []string{acct.Trail.ARN}})
	}
	return inspect.Snapshot{
		Account:   moto.Account,
		Partition: "aws",
		Regions:   regions,
		Trails: []inspect.Trail{{
			ARN:           acct.Trail.ARN,
			Name:          acct.Trail.Name,
			HomeRegion:    "us-east-1",
			OwnerAccount:  moto.Account,
			IsMultiRegion: true,
			LogGroupARN:   lgARN,
			LogsRoleARN:   acct.Trail.RoleARN,
			Status:        &inspect.TrailStatus{IsLogging: true},
			Selectors: &inspect.Selectors{Classic: []inspect.ClassicSelector{{
				ReadWriteType: "All", IncludeManagementEvents: true,
			}}},
		}},
		LogGroups: map[string]inspect.LogGroup{lgARN: {
			ARN: lgARN, Name: acct.Trail.LogGroupName, Region: "us-east-1", Account: moto.Account,
			Exists: true, Filters: filters, Alarms: alarms,
		}},
		Topics: map[string]inspect.Topic{acct.TopicARN: {
			ARN: acct.TopicARN, Region: "us-east-1", Account: moto.Account, Exists: true,
			ConfirmedSubscriptions: 1,
			Subscriptions:          []inspect.Subscription{{Protocol: "email", Endpoint: "security@example.com"}},
		}},
	}
}

// ignoreVolatile ignores what moto generates at random (subscription ids)
// or from the clock (delivery times).
var ignoreVolatile = cmp.Options{
	cmpopts.IgnoreFields(inspect.Subscription{}, "ARN"),
	cmpopts.IgnoreFields(inspect.TrailStatus{}, "LatestCloudWatchLogsDeliveryTime"),
	cmpopts.EquateEmpty(),
}

func TestObserveCompliantAccount(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	acct, err := e.world.Compliant(ctx, world.CompliantSpec{HomeRegion: "us-east-1", Benchmark: catalog.Default()})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	req := inspect.Request{Regions: threeRegions, HomeRegion: "us-east-1"}
	opts := e.options(nil)

	snap := e.observe(t, opts, req)
	if diff := cmp.Diff(wantCompliant(acct), snap, ignoreVolatile); diff != "" {
		t.Errorf("snapshot mismatch (-want +got):\n%s", diff)
	}
	for _, s := range snap.Topics[acct.TopicARN].Subscriptions {
		if !s.Confirmed() {
			t.Errorf("subscription %+v not confirmed; moto confirms every subscription", s)
		}
	}
	calls := e.calls.take()

	// The call count is regions + a constant: identity, regions, one
	// DescribeTrails per region, then one call each for the trail status,
	// selectors, filters, own alarms, topic attributes and subscriptions.
	want := map[string]int{
		"STS.GetCallerIdentity":                 1,
		"EC2.DescribeRegions":                   1,
		"CloudTrail.DescribeTrails":             len(threeRegions),
		"CloudTrail.GetTrailStatus":             1,
		"CloudTrail.GetEventSelectors":          1,
		"CloudWatch Logs.DescribeMetricFilters": 1,
		"CloudWatch.DescribeAlarms":             1,
		"SNS.GetTopicAttributes":                1,
		"SNS.ListSubscriptionsByTopic":          1,
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("API calls for a compliant account (-want +got):\n%s", diff)
	}
	if n := total(calls); n > len(threeRegions)+12 {
		t.Errorf("total calls = %d, want at most regions + 12 = %d", n, len(threeRegions)+12)
	}

	// Unrelated alarms, log groups and filters change neither the calls
	// nor the snapshot.
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if err := e.world.Noise(ctx, r, 150, 5, 2); err != nil {
			t.Fatalf("noise: %v", err)
		}
	}
	if _, err := e.world.Topic(ctx, "us-east-1", "unrelated-topic", "email:other@example.com"); err != nil {
		t.Fatal(err)
	}
	snap2 := e.observe(t, opts, req)
	if diff := cmp.Diff(calls, e.calls.take()); diff != "" {
		t.Errorf("API calls changed with 300 unrelated alarms and 10 unrelated log groups (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(snap, snap2); diff != "" {
		t.Errorf("snapshot changed with unrelated resources (-before +after):\n%s", diff)
	}

	// One call at a time still completes (stages never hold a slot while
	// waiting on another) and observes the same account.
	opts.Concurrency = 1
	if diff := cmp.Diff(snap, e.observe(t, opts, req)); diff != "" {
		t.Errorf("snapshot with Concurrency 1 differs (-default +serial):\n%s", diff)
	}
}

func TestObserveRegionSelection(t *testing.T) {
	e := newEnv(t)
	opts := e.options(nil)

	t.Run("all enabled regions of the caller's partition", func(t *testing.T) {
		snap := e.observe(t, opts, inspect.Request{HomeRegion: "us-east-1"})
		var names []string
		for _, r := range snap.Regions {
			names = append(names, r.Name)
			if r.Error != "" {
				t.Errorf("region %s: unexpected error %q", r.Name, r.Error)
			}
		}
		// moto lists ap-east-1 as not-opted-in, and lists other partitions'
		// regions, which AWS never does.
		for _, want := range []string{"us-east-1", "eu-west-1", "sa-east-1"} {
			if !slices.Contains(names, want) {
				t.Errorf("regions %v lack %s", names, want)
			}
		}
		for _, absent := range []string{"ap-east-1", "cn-north-1", "us-gov-west-1"} {
			if slices.Contains(names, absent) {
				t.Errorf("regions %v include %s", names, absent)
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("regions %v not sorted", names)
		}
		if got := e.calls.take()["CloudTrail.DescribeTrails"]; got != len(names) {
			t.Errorf("DescribeTrails calls = %d, want one per region (%d)", got, len(names))
		}
	})

	t.Run("requested regions that are not enabled", func(t *testing.T) {
		snap := e.observe(t, opts, inspect.Request{Regions: []string{"us-east-1", "ap-east-1", "xx-nowhere-1", "us-east-1"}, HomeRegion: "us-east-1"})
		want := []inspect.Region{
			{Name: "ap-east-1", Error: "region not enabled (opt-in status: not-opted-in)", TrailARNs: []string{}},
			{Name: "us-east-1", TrailARNs: []string{}},
			{Name: "xx-nowhere-1", Error: "region not enabled (not offered to this account)", TrailARNs: []string{}},
		}
		if diff := cmp.Diff(want, snap.Regions); diff != "" {
			t.Errorf("regions (-want +got):\n%s", diff)
		}
		if got := e.calls.take()["CloudTrail.DescribeTrails"]; got != 1 {
			t.Errorf("DescribeTrails calls = %d, want 1 (disabled regions are not called)", got)
		}
	})
}

func TestObserveErrors(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	acct, err := e.world.Compliant(ctx, world.CompliantSpec{HomeRegion: "us-east-1", Benchmark: catalog.Default()})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: cloudtrail:DescribeTrails"}

	t.Run("one region denied, the others observed", func(t *testing.T) {
		opts := e.options(func(region string, c inspect.Clients) inspect.Clients {
			if region == "eu-west-1" {
				c.CloudTrail = trailFake{TrailReader: c.CloudTrail, describeTrails: func(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
					return nil, denied
				}}
			}
			return c
		})
		snap := e.observe(t, opts, inspect.Request{Regions: threeRegions, HomeRegion: "us-east-1"})
		want := wantCompliant(acct)
		for i := range want.Regions {
			if want.Regions[i].Name == "eu-west-1" {
				want.Regions[i] = inspect.Region{Name: "eu-west-1", TrailARNs: []string{},
					Error: "describe trails: AccessDeniedException: User is not authorized to perform: cloudtrail:DescribeTrails"}
			}
		}
		if diff := cmp.Diff(want, snap, ignoreVolatile); diff != "" {
			t.Errorf("snapshot (-want +got):\n%s", diff)
		}
	})

	t.Run("trail status denied is recorded on the trail", func(t *testing.T) {
		opts := e.options(func(region string, c inspect.Clients) inspect.Clients {
			c.CloudTrail = trailFake{TrailReader: c.CloudTrail, getTrailStatus: func(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
				return nil, denied
			}}
			return c
		})
		snap := e.observe(t, opts, inspect.Request{Regions: []string{"us-east-1"}, HomeRegion: "us-east-1"})
		if len(snap.Trails) != 1 || snap.Trails[0].Status != nil || !strings.Contains(snap.Trails[0].StatusError, "AccessDeniedException") {
			t.Errorf("trails = %+v; want status nil with an AccessDenied StatusError", snap.Trails)
		}
		if snap.Trails[0].Selectors == nil {
			t.Error("selectors not read when only the status was denied")
		}
	})

	t.Run("identity failure means nothing can be evaluated", func(t *testing.T) {
		opts := e.options(nil)
		opts.Identity = identityFunc(func(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
			return nil, &smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
		})
		_, err := inspect.New(opts).Observe(t.Context(), inspect.Request{HomeRegion: "us-east-1"})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
			t.Errorf("Observe error = %v; want the wrapped InvalidClientTokenId", err)
		}
	})

	t.Run("region list failure with no regions requested is fatal", func(t *testing.T) {
		opts := e.options(nil)
		opts.RegionLister = regionsFunc(func(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
			return nil, denied
		})
		if _, err := inspect.New(opts).Observe(t.Context(), inspect.Request{HomeRegion: "us-east-1"}); err == nil {
			t.Error("Observe succeeded without a region list; want an error")
		}
		// With explicit regions the audit goes on unverified.
		snap, err := inspect.New(opts).Observe(t.Context(), inspect.Request{Regions: []string{"us-east-1"}, HomeRegion: "us-east-1"})
		if err != nil || len(snap.Regions) != 1 || len(snap.Trails) != 1 {
			t.Errorf("Observe with explicit regions = %+v, %v; want the region observed", snap.Regions, err)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := inspect.New(e.options(nil)).Observe(ctx, inspect.Request{HomeRegion: "us-east-1"}); !errors.Is(err, context.Canceled) {
			t.Errorf("Observe error = %v, want context.Canceled", err)
		}
	})
}

type identityFunc func(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)

func (f identityFunc) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return f(ctx, in, o...)
}

type regionsFunc func(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)

func (f regionsFunc) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, o ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	return f(ctx, in, o...)
}

func TestObserveTrails(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	single, err := e.world.Trail(ctx, world.TrailSpec{Name: "single", HomeRegion: "eu-west-1", SingleRegion: true, NotLogging: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.world.Trail(ctx, world.TrailSpec{Name: "plain-single", HomeRegion: "us-east-1", SingleRegion: true, LogGroupName: "single-lg"})
	if err != nil {
		t.Fatal(err)
	}
	// A second trail delivering to the same log group: the group is read once.
	second, err := e.world.Trail(ctx, world.TrailSpec{Name: "second", HomeRegion: "us-east-1", SingleRegion: true, LogGroupName: "single-lg"})
	if err != nil {
		t.Fatal(err)
	}
	adv, err := e.world.Trail(ctx, world.TrailSpec{Name: "advanced", HomeRegion: "us-east-1", Advanced: []cttypes.AdvancedEventSelector{{
		Name: aws.String("read only"),
		FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Management"}},
			{Field: aws.String("readOnly"), Equals: []string{"true"}},
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	const foreign = "210987654321"
	central := "arn:aws:logs:us-east-1:" + foreign + ":log-group:central"
	cross, err := e.world.Trail(ctx, world.TrailSpec{Name: "to-central", HomeRegion: "us-east-1", LogGroupARN: central + ":*",
		Classic: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true), ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}})
	if err != nil {
		t.Fatal(err)
	}
	// An organization trail owned by the management account appears in a
	// member account's DescribeTrails; moto cannot create one in another
	// account, so a fake adds it to moto's answer.
	orgARN := "arn:aws:cloudtrail:us-east-1:" + foreign + ":trail/org-trail"
	orgTrail := cttypes.Trail{
		TrailARN: aws.String(orgARN), Name: aws.String("org-trail"), HomeRegion: aws.String("us-east-1"),
		IsMultiRegionTrail: aws.Bool(true), IsOrganizationTrail: aws.Bool(true),
		CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:" + foreign + ":log-group:org:*"),
	}
	var (
		mu          sync.Mutex
		statusAsked []string
	)
	opts := e.options(func(region string, c inspect.Clients) inspect.Clients {
		real := c.CloudTrail
		c.CloudTrail = trailFake{TrailReader: real,
			describeTrails: func(ctx context.Context, in *cloudtrail.DescribeTrailsInput, o ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
				out, err := real.DescribeTrails(ctx, in, o...)
				if err == nil {
					out.TrailList = append(out.TrailList, orgTrail)
				}
				return out, err
			},
			getTrailStatus: func(ctx context.Context, in *cloudtrail.GetTrailStatusInput, o ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
				mu.Lock()
				statusAsked = append(statusAsked, aws.ToString(in.Name))
				mu.Unlock()
				return real.GetTrailStatus(ctx, in, o...)
			},
		}
		return c
	})
	snap := e.observe(t, opts, inspect.Request{Regions: []string{"us-east-1", "eu-west-1"}, HomeRegion: "us-east-1"})

	byARN := map[string]inspect.Trail{}
	for _, tr := range snap.Trails {
		byARN[tr.ARN] = tr
	}
	if got, want := sortedKeys(byARN), slices.Sorted(slices.Values([]string{single.ARN, plain.ARN, second.ARN, adv.ARN, cross.ARN, orgARN})); !slices.Equal(got, want) {
		t.Fatalf("trails = %v, want %v", got, want)
	}
	// Regions see their own trails plus every multi-region trail.
	wantRegions := map[string][]string{
		"eu-west-1": slices.Sorted(slices.Values([]string{single.ARN, adv.ARN, cross.ARN, orgARN})),
		"us-east-1": slices.Sorted(slices.Values([]string{plain.ARN, second.ARN, adv.ARN, cross.ARN, orgARN})),
	}
	for _, r := range snap.Regions {
		if diff := cmp.Diff(wantRegions[r.Name], r.TrailARNs); diff != "" {
			t.Errorf("region %s trails (-want +got):\n%s", r.Name, diff)
		}
	}
	// Only candidates are read: trails with logs or multi-region. The
	// stopped single-region trail without logs is not.
	if tr := byARN[single.ARN]; tr.Status != nil || tr.StatusError != "" || tr.Selectors != nil {
		t.Errorf("non-candidate trail was read: %+v", tr)
	}
	if tr := byARN[plain.ARN]; tr.Status == nil || !tr.Status.IsLogging || tr.IsMultiRegion {
		t.Errorf("single-region trail with logs = %+v; want read, logging, not multi-region", tr)
	}
	wantAdv := &inspect.Selectors{Advanced: []inspect.AdvancedSelector{{Name: "read only", FieldSelectors: []inspect.FieldSelector{
		{Field: "eventCategory", Equals: []string{"Management"}},
		{Field: "readOnly", Equals: []string{"true"}},
	}}}}
	if diff := cmp.Diff(wantAdv, byARN[adv.ARN].Selectors); diff != "" {
		t.Errorf("advanced selectors (-want +got):\n%s", diff)
	}
	wantClassic := &inspect.Selectors{Classic: []inspect.ClassicSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}
	if diff := cmp.Diff(wantClassic, byARN[cross.ARN].Selectors); diff != "" {
		t.Errorf("classic selectors (-want +got):\n%s", diff)
	}
	org := byARN[orgARN]
	if !org.IsOrganizationTrail || org.Status != nil || !strings.Contains(org.StatusError, foreign) || !strings.Contains(org.SelectorsError, "organization trail") {
		t.Errorf("org trail = %+v; want unread, with the owner account as the reason", org)
	}
	if slices.Contains(statusAsked, orgARN) {
		t.Error("GetTrailStatus was called for another account's trail")
	}
	// Log groups in another account are recorded, not read.
	for _, arn := range []string{central, "arn:aws:logs:us-east-1:" + foreign + ":log-group:org"} {
		lg, ok := snap.LogGroups[arn]
		if !ok || lg.Account != foreign || !strings.Contains(lg.Error, "must be enforced in account "+foreign) {
			t.Errorf("log group %s = %+v, %v; want a cross-account error", arn, lg, ok)
		}
	}
	if lg := snap.LogGroups[plain.LogGroupARN]; !lg.Exists || lg.Name != "single-lg" || lg.Error != "" {
		t.Errorf("own log group = %+v; want existing and read", lg)
	}
	if got := e.calls.take()["CloudWatch Logs.DescribeMetricFilters"]; got != 1 {
		t.Errorf("DescribeMetricFilters calls = %d, want 1 (a shared log group is read once; cross-account ones not at all)", got)
	}
}

func TestObserveLogGroups(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	tr, err := e.world.Trail(ctx, world.TrailSpec{Name: "main", HomeRegion: region, LogGroupName: "trail-logs"})
	if err != nil {
		t.Fatal(err)
	}
	// 100 filters (the CloudWatch Logs maximum per log group) publishing 5
	// metrics; a user's own alarm, not named with Watchkeeper's prefix,
	// watches one of them and notifies the user's topic.
	logs := cloudwatchlogs.NewFromConfig(e.srv.Config(region))
	for i := range 100 {
		if _, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String("trail-logs"), FilterName: aws.String(fmt.Sprintf("user-filter-%03d", i)),
			FilterPattern: aws.String(`{ $.eventName = "X` + fmt.Sprint(i) + `" }`),
			MetricTransformations: []logtypes.MetricTransformation{{
				MetricName: aws.String(fmt.Sprintf("UserMetric%d", i%5)), MetricNamespace: aws.String("Security"), MetricValue: aws.String("1"),
			}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	userTopic, err := e.world.Topic(ctx, region, "user-topic", "email:a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatch.NewFromConfig(e.srv.Config(region)).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("user-alarm"), MetricName: aws.String("UserMetric1"), Namespace: aws.String("Security"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		AlarmActions:       []string{userTopic, "arn:aws:sns:us-east-1:" + moto.Account + ":deleted-topic"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.world.Noise(ctx, region, 20, 2, 3); err != nil {
		t.Fatal(err)
	}

	paged := func(_ string, c inspect.Clients) inspect.Clients { c.Logs = pagedFilters(c.Logs); return c }
	snap := e.observe(t, e.options(paged), inspect.Request{Regions: []string{region}, HomeRegion: region})
	calls := e.calls.take()

	lg := snap.LogGroups[tr.LogGroupARN]
	if !lg.Exists || lg.Error != "" || len(lg.Filters) != 100 {
		t.Fatalf("log group = exists %v, error %q, %d filters; want all 100 filters", lg.Exists, lg.Error, len(lg.Filters))
	}
	if calls["CloudWatch Logs.DescribeMetricFilters"] != 2 {
		t.Errorf("DescribeMetricFilters calls = %d, want 2 pages of 50", calls["CloudWatch Logs.DescribeMetricFilters"])
	}
	if !slices.IsSortedFunc(lg.Filters, func(a, b inspect.MetricFilter) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("filters not sorted by name")
	}
	// No own alarm exists, so each of the 5 distinct metrics is looked up
	// once, whatever the number of filters publishing it.
	if got := calls["CloudWatch.DescribeAlarmsForMetric"]; got != 5 {
		t.Errorf("DescribeAlarmsForMetric calls = %d, want 5 (one per distinct metric)", got)
	}
	if len(lg.Alarms) != 1 || lg.Alarms[0].Name != "user-alarm" || lg.Alarms[0].ActionsEnabled != true {
		t.Errorf("alarms = %+v; want the user's alarm only", lg.Alarms)
	}
	if tp := snap.Topics[userTopic]; !tp.Exists || tp.ConfirmedSubscriptions != 1 {
		t.Errorf("user topic = %+v; want read through the alarm found by metric", tp)
	}
	if tp, ok := snap.Topics["arn:aws:sns:us-east-1:"+moto.Account+":deleted-topic"]; !ok || tp.Exists || tp.Error != "" {
		t.Errorf("deleted topic = %+v (present %v); want Exists=false", tp, ok)
	}
	if _, ok := snap.Topics["arn:aws:sns:us-east-1:"+moto.Account+":watchkeeper-cis-alarms"]; ok {
		t.Error("the configured topic does not exist but is in the snapshot")
	}

	t.Run("missing log group", func(t *testing.T) {
		if _, err := logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("trail-logs")}); err != nil {
			t.Fatal(err)
		}
		// moto 5.2.1 answers DescribeMetricFilters on a missing log group
		// with an empty list; AWS answers ResourceNotFoundException
		// ("The specified resource does not exist", CloudWatch Logs API
		// reference, DescribeMetricFilters, Errors). The fake restores
		// AWS's behaviour by asking moto whether the group exists.
		notFound := func(_ string, c inspect.Clients) inspect.Clients {
			c.Logs = logsFake{describe: func(ctx context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error) {
				out, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: in.LogGroupName})
				if err != nil {
					return nil, err
				}
				if !slices.ContainsFunc(out.LogGroups, func(g logtypes.LogGroup) bool { return aws.ToString(g.LogGroupName) == aws.ToString(in.LogGroupName) }) {
					return nil, &logtypes.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
				}
				return pagedFilters(logs).DescribeMetricFilters(ctx, in, o...)
			}}
			return c
		}
		snap := e.observe(t, e.options(notFound), inspect.Request{Regions: []string{region}, HomeRegion: region})
		lg := snap.LogGroups[tr.LogGroupARN]
		if lg.Exists || lg.Error != "" || len(lg.Filters) != 0 || lg.Name != "trail-logs" {
			t.Errorf("missing log group = %+v; want Exists=false and no error", lg)
		}
		if got := e.calls.take()["CloudWatch.DescribeAlarmsForMetric"]; got != 0 {
			t.Errorf("DescribeAlarmsForMetric calls = %d for a missing log group, want 0", got)
		}
	})
}

func TestObserveSubscriptions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	acct, err := e.world.Compliant(ctx, world.CompliantSpec{HomeRegion: "us-east-1", Benchmark: catalog.Default(),
		Endpoints: []string{"email:a@example.com", "email:b@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("pending subscriptions are not confirmed", func(t *testing.T) {
		// moto confirms every subscription at once. AWS lists an
		// unconfirmed one with SubscriptionArn "PendingConfirmation"
		// (SNS API reference, ListSubscriptionsByTopic / Subscription;
		// SNS developer guide: "the subscription ARN is
		// PendingConfirmation until the subscription is confirmed"). The
		// fake rewrites b@example.com's ARN accordingly.
		opts := e.options(func(_ string, c inspect.Clients) inspect.Clients {
			real := c.SNS
			c.SNS = snsFake{TopicReader: real, list: func(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, o ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
				out, err := real.ListSubscriptionsByTopic(ctx, in, o...)
				if err != nil {
					return nil, err
				}
				for i, s := range out.Subscriptions {
					if aws.ToString(s.Endpoint) == "b@example.com" {
						out.Subscriptions[i].SubscriptionArn = aws.String("PendingConfirmation")
					}
				}
				return out, nil
			}}
			return c
		})
		snap := e.observe(t, opts, inspect.Request{Regions: []string{"us-east-1"}, HomeRegion: "us-east-1"})
		tp := snap.Topics[acct.TopicARN]
		if tp.ConfirmedSubscriptions != 1 || tp.PendingSubscriptions != 1 || len(tp.Subscriptions) != 2 {
			t.Errorf("topic = %+v; want 1 confirmed and 1 pending of 2", tp)
		}
	})
	t.Run("subscriptions are paginated", func(t *testing.T) {
		for i := range 148 {
			if _, err := e.world.Topic(ctx, "us-east-1", world.DefaultTopicName, fmt.Sprintf("email:user%03d@example.com", i)); err != nil {
				t.Fatal(err)
			}
		}
		snap := e.observe(t, e.options(nil), inspect.Request{Regions: []string{"us-east-1"}, HomeRegion: "us-east-1"})
		tp := snap.Topics[acct.TopicARN]
		if tp.ConfirmedSubscriptions != 150 || len(tp.Subscriptions) != 150 {
			t.Errorf("topic has %d confirmed of %d; want 150 of 150", tp.ConfirmedSubscriptions, len(tp.Subscriptions))
		}
		if got := e.calls.take()["SNS.ListSubscriptionsByTopic"]; got != 2 {
			t.Errorf("ListSubscriptionsByTopic calls = %d, want 2 pages", got)
		}
	})
}
