package scenarios_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// TestDataSelectorNeverWidened: healing a trail whose only selector logs
// write management events plus S3 data events adds a management-only
// selector and leaves the data selector exactly as it was; widening it to
// All would log read data events of every bucket.
func TestDataSelectorNeverWidened(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	seeded := cttypes.EventSelector{
		ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true),
		DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3"}}},
	}
	putSelectors(t, acct.Trail.ARN, []cttypes.EventSelector{seeded}, nil)
	convergeChanging(t, []string{acct.Trail.ARN})
	d := trailOf(t, readState(t, home), acct.Trail.ARN)
	kept, mgmtOnly := false, false
	for _, s := range d.Classic {
		switch {
		case len(s.DataResources) > 0:
			kept = s.ReadWriteType == "WriteOnly" && aws.ToBool(s.IncludeManagementEvents) &&
				len(s.DataResources) == 1 && slices.Equal(s.DataResources[0].Values, []string{"arn:aws:s3"})
		case s.ReadWriteType == "All" && aws.ToBool(s.IncludeManagementEvents):
			mgmtOnly = true
		}
	}
	if !kept || !mgmtOnly || len(d.Classic) != 2 {
		t.Errorf("selectors after healing %+v: data selector kept unchanged %t, management-only selector added %t", d.Classic, kept, mgmtOnly)
	}
}

// TestUserAlarmBehindBrokenOwnAlarm: our topic lost its subscriber, but a
// person's alarm on the same metric notifies a confirmed subscriber: that
// control passes.
func TestUserAlarmBehindBrokenOwnAlarm(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	subs, err := snsClient().ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.TopicARN)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs.Subscriptions {
		if _, err := snsClient().Unsubscribe(t.Context(), &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn}); err != nil {
			t.Fatal(err)
		}
	}
	team, err := w.Topic(t.Context(), home, "team-alerts", "email:team@example.com")
	if err != nil {
		t.Fatal(err)
	}
	c := mustControl(t, "4.7")
	if _, err := alarmClient().PutMetricAlarm(t.Context(), world.AlarmSpec(c, acct.Namespace, "team-", team)); err != nil {
		t.Fatal(err)
	}
	res := cli(t, "audit", "--regions", home, "--home-region", home)
	if res.Code != 2 {
		t.Fatalf("audit: exit %d, want 2\n%s", res.Code, res.Stderr)
	}
	for _, r := range res.Report.Controls {
		want := "FAIL"
		if r.ID == c.ID {
			want = "PASS"
		}
		if r.Status != want {
			t.Errorf("control %s: %s %q, want %s", r.ID, r.Status, r.Reasons, want)
		}
	}
}

// TestFilterWithDimensions: a person's equivalent filter that publishes
// only with dimensions, and no alarm selecting them, does not count (no
// alarm watches its series); Watchkeeper adds its own filter and converges.
func TestFilterWithDimensions(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	c := mustControl(t, "4.7")
	deleteFilter(t, acct.Trail.LogGroupName, prefix+c.Key)
	if _, err := logsClient().PutMetricFilter(t.Context(), &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(acct.Trail.LogGroupName), FilterName: aws.String("team-kms"),
		FilterPattern: aws.String(c.PatternFor(catalog.ProfileBenchmark)),
		MetricTransformations: []logtypes.MetricTransformation{{
			MetricName: aws.String("KMS"), MetricNamespace: aws.String("Team"), MetricValue: aws.String("1"),
			Dimensions: map[string]string{"EventName": "$.eventName"},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	audit := run(t, 2, "audit")
	assertCode(t, audit, c.ID, "CLOUDWATCH_ALARMS_NOT_PRESENT")
	if r := control(t, audit, c.ID); !strings.Contains(strings.Join(r.Reasons, " "), "dimensions") {
		t.Errorf("control %s reasons %q do not name the dimensions", c.ID, r.Reasons)
	}
	converge(t)
	if !slices.ContainsFunc(filtersOn(t, readState(t, home), home, acct.Trail.LogGroupName), func(f filterDef) bool { return f.FilterName == prefix+c.Key }) {
		t.Errorf("Watchkeeper's filter %s%s was not added", prefix, c.Key)
	}
}

// TestPatternProfileSwitch: healing with the securityhub profile rewrites
// Watchkeeper's own filters to the exact Security Hub strings, and back.
func TestPatternProfileSwitch(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	sh := run(t, 2, "plan", "--pattern-profile", "securityhub")
	if len(sh.Actions) == 0 {
		t.Fatalf("plan --pattern-profile securityhub on a benchmark-profile account: no rewrite: %s", summary(sh))
	}
	for _, a := range sh.Actions {
		if a.Action != "PutMetricFilter" || !strings.Contains(a.Reason, "exact Security Hub string") {
			t.Errorf("unexpected action %+v", a)
		}
	}
	converge(t, "--pattern-profile", "securityhub")
	patterns := func() map[string]string {
		out := map[string]string{}
		for _, f := range filtersOn(t, readState(t, home), home, acct.Trail.LogGroupName) {
			out[f.FilterName] = f.FilterPattern
		}
		return out
	}
	got := patterns()
	for _, c := range bench.Controls {
		if got[prefix+c.Key] != c.PatternFor(catalog.ProfileSecurityHub) {
			t.Errorf("filter %s%s = %q, want the Security Hub string %q", prefix, c.Key, got[prefix+c.Key], c.PatternFor(catalog.ProfileSecurityHub))
		}
	}
	converge(t)
	got = patterns()
	for _, c := range bench.Controls {
		if got[prefix+c.Key] != c.PatternFor(catalog.ProfileBenchmark) {
			t.Errorf("after switching back: filter %s%s = %q, want the benchmark text", prefix, c.Key, got[prefix+c.Key])
		}
	}
}

// TestExitCodes: audit exits 2 while an action is pending, region coverage
// is healed even when every control is excluded, and a region that cannot
// be evaluated is named on stderr (exit 2, not 1).
func TestExitCodes(t *testing.T) {
	t.Run("audit with a pending subscription", func(t *testing.T) {
		w := fresh(t)
		seedCompliant(t, w)
		res := cli(t, "audit", "--regions", home, "--home-region", home, "--subscribe", subscriber, "--subscribe", "email:oncall@example.com")
		if res.Code != 2 || !res.Report.Compliant || len(res.Report.Actions) != 1 {
			t.Errorf("audit: exit %d, %s; want 2 with the Subscribe pending", res.Code, summary(res.Report))
		}
	})
	t.Run("every control excluded, logging stopped", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		if _, err := trailClient().StopLogging(t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String(acct.Trail.Name)}); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range bench.Controls {
			ids = append(ids, c.ID)
		}
		exclude := []string{"--exclude", strings.Join(ids, ",")}
		run(t, 2, "audit", exclude...)
		convergeChanging(t, []string{acct.Trail.ARN}, exclude...)
		if !trailOf(t, readState(t, home), acct.Trail.ARN).IsLogging {
			t.Error("trail not logging after apply")
		}
	})
	t.Run("region not enabled", func(t *testing.T) {
		w := fresh(t)
		seedCompliant(t, w)
		res := cli(t, "audit", "--regions", home+",us-fake-9", "--home-region", home, "--subscribe", subscriber)
		if res.Code != 2 {
			t.Fatalf("audit with a region that is not enabled: exit %d, want 2\n%s", res.Code, res.Stderr)
		}
		if !strings.Contains(res.Stderr, "region us-fake-9 could not be evaluated") || !strings.Contains(res.Stderr, "not enabled") {
			t.Errorf("stderr %q does not say which region could not be evaluated and why", res.Stderr)
		}
	})
}
