package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

var threeRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// wantCompliant is the snapshot of a world.Compliant account in us-east-1
// observed over regions: the trail seen from us-east-1 covers every
// region, so only us-east-1's trails are listed.
func wantCompliant(acct world.Account, regions []string) account.Snapshot {
	lgARN := acct.Trail.LogGroupARN
	var filters []account.MetricFilter
	var alarms []account.Alarm
	for _, c := range acct.Benchmark.Controls {
		filters = append(filters, account.MetricFilter{
			Name:    acct.Prefix + c.Key,
			Pattern: c.PatternFor(catalog.ProfileBenchmark),
			Transformations: []account.MetricTransformation{{
				MetricName: c.MetricName, MetricNamespace: acct.Namespace, MetricValue: "1",
			}},
		})
		alarms = append(alarms, account.Alarm{
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
			StateValue:         "OK", // as moto 5.2.1 reports a new alarm; AWS starts in INSUFFICIENT_DATA
		})
	}
	slices.SortFunc(filters, func(a, b account.MetricFilter) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(alarms, func(a, b account.Alarm) int { return strings.Compare(a.Name, b.Name) })
	var want []account.Region
	for _, r := range slices.Sorted(slices.Values(regions)) {
		rg := account.Region{Name: r, TrailARNs: []string{}, CoveredBy: acct.Trail.ARN}
		if r == "us-east-1" {
			rg.TrailARNs = []string{acct.Trail.ARN}
		}
		want = append(want, rg)
	}
	return account.Snapshot{
		Account:   moto.Account,
		Partition: "aws",
		Regions:   want,
		Trails: []account.Trail{{
			ARN:           acct.Trail.ARN,
			Name:          acct.Trail.Name,
			HomeRegion:    "us-east-1",
			OwnerAccount:  moto.Account,
			IsMultiRegion: true,
			LogGroupARN:   lgARN,
			LogsRoleARN:   acct.Trail.RoleARN,
			Status:        &account.TrailStatus{IsLogging: true},
			Selectors: &account.Selectors{Classic: []account.ClassicSelector{{
				ReadWriteType: "All", IncludeManagementEvents: true,
			}}},
		}},
		LogGroups: map[string]account.LogGroup{lgARN: {
			ARN: lgARN, Name: acct.Trail.LogGroupName, Region: "us-east-1", Account: moto.Account,
			Exists: true, Filters: filters, Alarms: alarms,
		}},
		Topics: map[string]account.Topic{acct.TopicARN: {
			ARN: acct.TopicARN, Region: "us-east-1", Account: moto.Account, Exists: true,
			ConfirmedSubscriptions: 1,
			Subscriptions:          []account.Subscription{{Protocol: "email", Endpoint: "security@example.com"}},
		}},
	}
}

// ignoreVolatile ignores what moto generates at random (subscription ids)
// or from the clock (delivery times).
// ignoreTopicPolicy ignores topics' access policies (moto's default
// document), for tests about something else.
var ignoreTopicPolicy = cmpopts.IgnoreFields(account.Topic{}, "Policy")

var ignoreVolatile = cmp.Options{
	cmpopts.IgnoreFields(account.Subscription{}, "ARN"),
	cmpopts.IgnoreFields(account.TrailStatus{}, "LatestCloudWatchLogsDeliveryTime"),
	cmpopts.EquateEmpty(),
}

// compliantCalls are the calls observing a world.Compliant account makes
// whatever the number of regions: identity, regions and the home region's
// trails; then the covering trail's status and selectors, its log group's
// filters, Watchkeeper's alarms, and Watchkeeper's topic (the one the
// alarms notify) with its subscriptions.
var compliantCalls = map[string]int{
	"STS.GetCallerIdentity":                 1,
	"EC2.DescribeRegions":                   1,
	"CloudTrail.DescribeTrails":             1,
	"CloudTrail.GetTrailStatus":             1,
	"CloudTrail.GetEventSelectors":          1,
	"CloudWatch Logs.DescribeMetricFilters": 1,
	"CloudWatch.DescribeAlarms":             1,
	"SNS.GetTopicAttributes":                1,
	"SNS.ListSubscriptionsByTopic":          1,
}

// maxCalls is the budget of a compliant account's full observation, at any
// number of regions.
const maxCalls = 12

func TestObserveCompliantAccount(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	acct := e.compliant(t)
	req := inspect.Request{Regions: threeRegions, HomeRegion: "us-east-1"}
	opts := e.options(nil)
	opts.AlarmNotifies = notifies

	snap := e.observe(t, opts, req)
	want := wantCompliant(acct, threeRegions)
	topicAttrs, err := sns.NewFromConfig(e.srv.Config("us-east-1")).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(acct.TopicARN)})
	if err != nil {
		t.Fatal(err)
	}
	tp := want.Topics[acct.TopicARN]
	tp.Policy = topicAttrs.Attributes["Policy"] // moto's default access policy
	want.Topics[acct.TopicARN] = tp
	if diff := cmp.Diff(want, snap, ignoreVolatile); diff != "" {
		t.Errorf("snapshot mismatch (-want +got):\n%s", diff)
	}
	if snap.Topics[acct.TopicARN].Policy == "" {
		t.Error("topic policy not recorded")
	}
	for _, s := range snap.Topics[acct.TopicARN].Subscriptions {
		if !s.Confirmed() {
			t.Errorf("subscription %+v not confirmed; moto confirms every subscription", s)
		}
	}
	calls := e.calls.take()
	if diff := cmp.Diff(compliantCalls, calls); diff != "" {
		t.Errorf("API calls for a compliant account (-want +got):\n%s", diff)
	}
	if n := total(calls); n > maxCalls {
		t.Errorf("total calls = %d, want at most %d", n, maxCalls)
	}

	// Unrelated alarms, log groups, filters and topics (an encrypted one
	// too: key state and policy are read only for topics alarms use), and
	// a single-region trail in another region (the covering trail makes
	// listing that region unnecessary), change neither the calls nor the
	// snapshot.
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if err := e.world.Noise(ctx, r, 150, 5, 2); err != nil {
			t.Fatalf("noise: %v", err)
		}
	}
	if _, err := e.world.Topic(ctx, "us-east-1", "unrelated-topic", "email:other@example.com"); err != nil {
		t.Fatal(err)
	}
	key, err := e.world.Key(ctx, "us-east-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.world.EncryptedTopic(ctx, "us-east-1", "unrelated-encrypted", key, "email:other@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.world.Trail(ctx, world.TrailSpec{Name: "regional", HomeRegion: "eu-west-1", SingleRegion: true, LogGroupName: "regional-logs"}); err != nil {
		t.Fatal(err)
	}
	snap2 := e.observe(t, opts, req)
	if diff := cmp.Diff(calls, e.calls.take()); diff != "" {
		t.Errorf("API calls changed with unrelated resources (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(snap, snap2); diff != "" {
		t.Errorf("snapshot changed with unrelated resources (-before +after):\n%s", diff)
	}

	// One call at a time still completes (stages never hold a slot while
	// waiting on another) and observes the same account.
	serial := opts
	serial.Concurrency = 1
	if diff := cmp.Diff(snap, e.observe(t, serial, req)); diff != "" {
		t.Errorf("snapshot with Concurrency 1 differs (-default +serial):\n%s", diff)
	}

	// Without AlarmNotifies, whether an own alarm notifies is unknown: the
	// other alarms on every control's metric are read too, and the Region's
	// alarms are listed once. The snapshot is the same (no other alarm
	// exists); only the calls grow.
	unknown := opts
	unknown.AlarmNotifies = nil
	if diff := cmp.Diff(snap, e.observe(t, unknown, req)); diff != "" {
		t.Errorf("snapshot without AlarmNotifies differs (-with +without):\n%s", diff)
	}
	wantUnknown := maps.Clone(compliantCalls)
	wantUnknown["CloudWatch.DescribeAlarmsForMetric"] = len(catalog.Default().Controls)
	wantUnknown["CloudWatch.DescribeAlarms"]++
	if diff := cmp.Diff(wantUnknown, e.calls.take()); diff != "" {
		t.Errorf("API calls without AlarmNotifies (-want +got):\n%s", diff)
	}
}

// TestObserveBudget: a compliant account's full observation costs at most
// maxCalls calls and a fixed number of sequential round trips at 3, 20 and
// 38 regions, with a plain topic and a KMS-encrypted one.
func TestObserveBudget(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	acct := e.compliant(t)
	// A customer managed key whose policy lets CloudWatch use it, so the
	// encrypted topic still delivers (no other alarm is looked up).
	allowed, err := os.ReadFile(filepath.Join("testdata", "keypolicy", "cloudwatch-allowed.json"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.world.Key(ctx, "us-east-1", string(allowed))
	if err != nil {
		t.Fatal(err)
	}
	kc := kms.NewFromConfig(e.srv.Config("us-east-1"))
	if _, err := kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/budget"), TargetKeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	opts := e.options(nil)
	opts.AlarmNotifies = notifies
	opts.RegionLister = allRegions(opts.RegionLister)
	sizes := map[int][]string{
		3:  threeRegions,
		20: commercialRegions(t, ec2.NewFromConfig(e.srv.Config("us-east-1")), 20), // moto's enabled regions
		38: commercialRegions(t, opts.RegionLister, 38),                            // moto's 34 opted in, and futureRegions
	}
	withKMS := maps.Clone(compliantCalls)
	withKMS["KMS.DescribeKey"] = 1
	withKMS["KMS.GetKeyPolicy"] = 1
	for _, topic := range []struct {
		name      string
		keyID     string
		wantCalls map[string]int
		// wantTrips: identity ‖ regions ‖ home trails; trail status ‖
		// selectors ‖ filters ‖ own alarms ‖ topic attributes ‖
		// subscriptions; the key (DescribeKey ‖ GetKeyPolicy, or
		// DescribeKey then GetKeyPolicy for an alias).
		wantTrips int
	}{
		{"plain topic", "", compliantCalls, 2},
		{"topic encrypted, key by ARN", key, withKMS, 3},
		{"topic encrypted, key by alias", "alias/budget", withKMS, 4},
	} {
		if _, err := sns.NewFromConfig(e.srv.Config("us-east-1")).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
			TopicArn: aws.String(acct.TopicARN), AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String(topic.keyID),
		}); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{3, 20, 38} {
			t.Run(fmt.Sprintf("%s, %d regions", topic.name, n), func(t *testing.T) {
				regions := sizes[n]
				if len(regions) != n {
					t.Fatalf("%d regions, want %d", len(regions), n)
				}
				e.calls.setLatency(50 * time.Millisecond)
				t.Cleanup(func() { e.calls.setLatency(0) })
				snap := e.observe(t, opts, inspect.Request{Regions: regions, HomeRegion: "us-east-1"})
				trips := e.calls.trips()
				calls := e.calls.take()
				if diff := cmp.Diff(topic.wantCalls, calls); diff != "" {
					t.Errorf("API calls (-want +got):\n%s", diff)
				}
				if got := total(calls); got > maxCalls {
					t.Errorf("%d calls, want at most %d", got, maxCalls)
				}
				if trips != topic.wantTrips {
					t.Errorf("%d sequential round trips, want %d", trips, topic.wantTrips)
				}
				if len(snap.Regions) != n {
					t.Errorf("%d regions observed, want %d", len(snap.Regions), n)
				}
				for _, r := range snap.Regions {
					if r.Error != "" || r.CoveredBy != acct.Trail.ARN {
						t.Errorf("region %+v: want covered by %s", r, acct.Trail.ARN)
					}
				}
			})
		}
	}
}

// TestObserveNoCoveringTrail: when no trail seen from the home region
// covers every region (here the multi-region trail is stopped), every
// region's trails are listed, each region reports what it sees, and the
// single-region trail found elsewhere is read with its log group.
func TestObserveNoCoveringTrail(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	stopped, err := e.world.Trail(ctx, world.TrailSpec{Name: "stopped", HomeRegion: "us-east-1", NotLogging: true, LogGroupName: "stopped-logs"})
	if err != nil {
		t.Fatal(err)
	}
	regional, err := e.world.Trail(ctx, world.TrailSpec{Name: "regional", HomeRegion: "eu-west-1", SingleRegion: true, LogGroupName: "regional-logs"})
	if err != nil {
		t.Fatal(err)
	}
	opts := e.options(nil)
	opts.AlarmNotifies = notifies
	snap := e.observe(t, opts, inspect.Request{Regions: threeRegions, HomeRegion: "us-east-1"})
	calls := e.calls.take()

	wantRegions := []account.Region{
		{Name: "ap-southeast-2", TrailARNs: []string{stopped.ARN}},
		{Name: "eu-west-1", TrailARNs: slices.Sorted(slices.Values([]string{stopped.ARN, regional.ARN}))},
		{Name: "us-east-1", TrailARNs: []string{stopped.ARN}},
	}
	if diff := cmp.Diff(wantRegions, snap.Regions); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
	byARN := map[string]account.Trail{}
	for _, tr := range snap.Trails {
		byARN[tr.ARN] = tr
	}
	if tr := byARN[stopped.ARN]; tr.Status == nil || tr.Status.IsLogging {
		t.Errorf("stopped trail = %+v; want read, not logging", tr)
	}
	if tr := byARN[regional.ARN]; tr.Status == nil || !tr.Status.IsLogging || tr.Selectors == nil {
		t.Errorf("single-region trail found in eu-west-1 = %+v; want its status and selectors read", tr)
	}
	for _, arn := range []string{stopped.LogGroupARN, regional.LogGroupARN} {
		if lg := snap.LogGroups[arn]; !lg.Exists || lg.Error != "" {
			t.Errorf("log group %s = %+v; want read", arn, lg)
		}
	}
	// Two trails and two log groups in two regions, each read once; the
	// configured topic, which does not exist, is looked for in both.
	want := map[string]int{
		"STS.GetCallerIdentity":                 1,
		"EC2.DescribeRegions":                   1,
		"CloudTrail.DescribeTrails":             len(threeRegions),
		"CloudTrail.GetTrailStatus":             2,
		"CloudTrail.GetEventSelectors":          2,
		"CloudWatch Logs.DescribeMetricFilters": 2,
		"CloudWatch.DescribeAlarms":             2,
		"SNS.GetTopicAttributes":                2,
		"SNS.ListSubscriptionsByTopic":          2,
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("API calls (-want +got):\n%s", diff)
	}
}

// TestObserveCoverage: which trails, seen from the home region, make
// listing the other regions unnecessary: multi-region, logging, and
// recording read and write management events (classic or advanced).
func TestObserveCoverage(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	mgmt := cttypes.AdvancedFieldSelector{Field: aws.String("eventCategory"), Equals: []string{"Management"}}
	for _, tc := range []struct {
		name   string
		spec   world.TrailSpec
		covers bool
	}{
		{"classic, all management events", world.TrailSpec{}, true},
		{"classic, write-only", world.TrailSpec{Classic: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true)}}}, false},
		{"classic, data events only", world.TrailSpec{Classic: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(false),
			DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3"}}}}}}, false},
		{"classic, all management events but KMS", world.TrailSpec{Classic: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true),
			ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}, true},
		{"advanced, management", world.TrailSpec{Advanced: []cttypes.AdvancedEventSelector{{Name: aws.String("mgmt"), FieldSelectors: []cttypes.AdvancedFieldSelector{mgmt}}}}, true},
		{"advanced, management read-only", world.TrailSpec{Advanced: []cttypes.AdvancedEventSelector{{Name: aws.String("reads"), FieldSelectors: []cttypes.AdvancedFieldSelector{
			mgmt, {Field: aws.String("readOnly"), Equals: []string{"true"}}}}}}, false},
		{"stopped", world.TrailSpec{NotLogging: true}, false},
		{"single-region", world.TrailSpec{SingleRegion: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Name, spec.HomeRegion = "coverage", "us-east-1"
			tr, err := e.world.Trail(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				// t.Context() is done by the time cleanups run.
				if _, err := cloudtrail.NewFromConfig(e.srv.Config("us-east-1")).DeleteTrail(context.Background(), &cloudtrail.DeleteTrailInput{Name: aws.String(tr.Name)}); err != nil {
					t.Error(err)
				}
			})
			snap := e.observe(t, e.options(nil), inspect.Request{Regions: threeRegions, HomeRegion: "us-east-1"})
			wantCovered, wantListings := "", len(threeRegions)
			if tc.covers {
				wantCovered, wantListings = tr.ARN, 1
			}
			for _, r := range snap.Regions {
				if r.CoveredBy != wantCovered {
					t.Errorf("region %s covered by %q, want %q", r.Name, r.CoveredBy, wantCovered)
				}
			}
			if got := e.calls.take()["CloudTrail.DescribeTrails"]; got != wantListings {
				t.Errorf("DescribeTrails calls = %d, want %d", got, wantListings)
			}
		})
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
		want := []account.Region{
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
	acct := e.compliant(t)
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: cloudtrail:DescribeTrails"}

	// denyTrails denies DescribeTrails in the regions in deny and records
	// the regions whose trails were asked for (the fake answers without
	// the SDK, so the call counter does not see denied calls).
	denyTrails := func(deny map[string]bool) (inspect.Options, *[]string) {
		var (
			mu    sync.Mutex
			asked []string
		)
		opts := e.options(func(region string, c inspect.Clients) inspect.Clients {
			real := c.CloudTrail
			c.CloudTrail = trailFake{TrailReader: real, describeTrails: func(ctx context.Context, in *cloudtrail.DescribeTrailsInput, o ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
				mu.Lock()
				asked = append(asked, region)
				mu.Unlock()
				if deny[region] {
					return nil, denied
				}
				return real.DescribeTrails(ctx, in, o...)
			}}
			return c
		})
		opts.AlarmNotifies = notifies
		return opts, &asked
	}
	deniedTrails := "describe trails: AccessDeniedException: User is not authorized to perform: cloudtrail:DescribeTrails"

	t.Run("another region's listing denied: not needed while a trail covers every region", func(t *testing.T) {
		opts, asked := denyTrails(map[string]bool{"eu-west-1": true})
		snap := e.observe(t, opts, inspect.Request{Regions: threeRegions, HomeRegion: "us-east-1"})
		if diff := cmp.Diff([]string{"us-east-1"}, *asked); diff != "" {
			t.Errorf("regions whose trails were listed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantCompliant(acct, threeRegions), snap, ignoreVolatile, ignoreTopicPolicy); diff != "" {
			t.Errorf("snapshot (-want +got):\n%s", diff)
		}
	})

	t.Run("home region's listing denied: every other region is listed", func(t *testing.T) {
		opts, asked := denyTrails(map[string]bool{"us-east-1": true, "eu-west-1": true})
		snap := e.observe(t, opts, inspect.Request{Regions: threeRegions, HomeRegion: "us-east-1"})
		if diff := cmp.Diff(slices.Sorted(slices.Values(threeRegions)), slices.Sorted(slices.Values(*asked))); diff != "" {
			t.Errorf("regions whose trails were listed (-want +got):\n%s", diff)
		}
		want := wantCompliant(acct, threeRegions)
		for i := range want.Regions {
			r := &want.Regions[i]
			r.CoveredBy = ""
			switch r.Name {
			case "ap-southeast-2": // sees the trail's shadow copy
				r.TrailARNs = []string{acct.Trail.ARN}
			default:
				r.TrailARNs, r.Error = []string{}, deniedTrails
			}
		}
		if diff := cmp.Diff(want, snap, ignoreVolatile, ignoreTopicPolicy); diff != "" {
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

	byARN := map[string]account.Trail{}
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
	wantAdv := &account.Selectors{Advanced: []account.AdvancedSelector{{Name: "read only", FieldSelectors: []account.FieldSelector{
		{Field: "eventCategory", Equals: []string{"Management"}},
		{Field: "readOnly", Equals: []string{"true"}},
	}}}}
	if diff := cmp.Diff(wantAdv, byARN[adv.ARN].Selectors); diff != "" {
		t.Errorf("advanced selectors (-want +got):\n%s", diff)
	}
	wantClassic := &account.Selectors{Classic: []account.ClassicSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}
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
	if !slices.IsSortedFunc(lg.Filters, func(a, b account.MetricFilter) int { return strings.Compare(a.Name, b.Name) }) {
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
	acct := e.compliant(t, []string{"email:a@example.com", "email:b@example.com"}...)
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

// TestObserveAlarmFields: every field that decides whether an alarm turns
// an event into a notification is recorded as CloudWatch reports it.
func TestObserveAlarmFields(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	tr, err := e.world.Trail(ctx, world.TrailSpec{Name: "main", HomeRegion: region, LogGroupName: "trail-logs"})
	if err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(e.srv.Config(region))
	metric := func(id string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(true), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{MetricName: aws.String("RootUsage"), Namespace: aws.String("CISBenchmark")},
			Period: aws.Int32(300), Stat: aws.String("Sum"),
		}}
	}
	for _, in := range []*cloudwatch.PutMetricAlarmInput{
		{
			AlarmName: aws.String("watchkeeper-percentile"), MetricName: aws.String("RootUsage"), Namespace: aws.String("CISBenchmark"),
			ExtendedStatistic: aws.String("p99"), Unit: cwtypes.StandardUnitCount,
			Dimensions: []cwtypes.Dimension{{Name: aws.String("EventName"), Value: aws.String("ConsoleLogin")}},
			Period:     aws.Int32(60), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, ActionsEnabled: aws.Bool(false),
		},
		{
			AlarmName: aws.String("watchkeeper-math"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
			Metrics: []cwtypes.MetricDataQuery{
				func() cwtypes.MetricDataQuery { m := metric("m1"); m.ReturnData = aws.Bool(false); return m }(),
				{Id: aws.String("e1"), Expression: aws.String("m1 * 2"), ReturnData: aws.Bool(true)},
			},
		},
		{
			AlarmName: aws.String("watchkeeper-anomaly"), EvaluationPeriods: aws.Int32(1), ThresholdMetricId: aws.String("ad1"),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanUpperThreshold,
			Metrics: []cwtypes.MetricDataQuery{
				metric("m1"),
				{Id: aws.String("ad1"), Expression: aws.String("ANOMALY_DETECTION_BAND(m1, 2)"), ReturnData: aws.Bool(true)},
			},
		},
	} {
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			t.Fatalf("put %s: %v", aws.ToString(in.AlarmName), err)
		}
	}
	snap := e.observe(t, e.options(nil), inspect.Request{Regions: []string{region}, HomeRegion: region})
	alarmARN := func(name string) string {
		return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, moto.Account, name)
	}
	want := []account.Alarm{
		{
			Name: "watchkeeper-anomaly", ARN: alarmARN("watchkeeper-anomaly"), Region: region,
			EvaluationPeriods: 1, ComparisonOperator: "GreaterThanUpperThreshold", ThresholdMetricID: "ad1", MetricMath: true,
			ActionsEnabled: true, AlarmActions: []string{},
		},
		{
			Name: "watchkeeper-math", ARN: alarmARN("watchkeeper-math"), Region: region,
			EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", MetricMath: true,
			ActionsEnabled: true, AlarmActions: []string{},
		},
		{
			Name: "watchkeeper-percentile", ARN: alarmARN("watchkeeper-percentile"), Region: region,
			MetricName: "RootUsage", Namespace: "CISBenchmark", Dimensions: map[string]string{"EventName": "ConsoleLogin"},
			ExtendedStatistic: "p99", Unit: "Count", Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1,
			ComparisonOperator: "GreaterThanOrEqualToThreshold", AlarmActions: []string{},
		},
	}
	got := snap.LogGroups[tr.LogGroupARN].Alarms
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(account.Alarm{}, "StateValue")); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
	for _, a := range got {
		if !slices.Contains([]string{"OK", "ALARM", "INSUFFICIENT_DATA"}, a.StateValue) {
			t.Errorf("alarm %s state %q, want one of CloudWatch's states", a.Name, a.StateValue)
		}
	}
}

// TestObserveAlarmNotifies: the predicate is asked about each own alarm
// with the transformation that feeds it and the observed topics; where it
// says an own alarm would not notify, the other alarms on that metric (and
// only that one) are read; and where none of those notifies either, the
// Region's alarms are listed once, for alarms on dimensioned series.
func TestObserveAlarmNotifies(t *testing.T) {
	e := newEnv(t)
	const region = "us-east-1"
	acct := e.compliant(t)
	failing := acct.Benchmark.Controls[0]
	var asked []string
	opts := e.options(nil)
	opts.AlarmNotifies = func(a account.Alarm, mt account.MetricTransformation, topic func(string) (account.Topic, bool)) bool {
		asked = append(asked, a.Name) // called from one goroutine: no lock
		if mt.MetricName != a.MetricName || mt.MetricNamespace != a.Namespace || mt.MetricValue != "1" {
			t.Errorf("alarm %s asked with transformation %+v, want the one publishing its metric", a.Name, mt)
		}
		if tp, ok := topic(acct.TopicARN); !ok || tp.ConfirmedSubscriptions != 1 {
			t.Errorf("topic lookup = %+v, %v; want the observed topic", tp, ok)
		}
		return a.Name != acct.Prefix+failing.Key
	}
	e.observe(t, opts, inspect.Request{Regions: []string{region}, HomeRegion: region})
	if got, want := len(asked), len(acct.Benchmark.Controls); got < want {
		t.Errorf("predicate asked %d times, want at least once per own alarm (%d)", got, want)
	}
	want := maps.Clone(compliantCalls)
	want["CloudWatch.DescribeAlarmsForMetric"] = 1
	want["CloudWatch.DescribeAlarms"]++
	if diff := cmp.Diff(want, e.calls.take()); diff != "" {
		t.Errorf("API calls (-want +got):\n%s", diff)
	}
}
