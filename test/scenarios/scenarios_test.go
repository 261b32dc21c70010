package scenarios_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/test/cisaudit"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

var bench = catalog.Default()

// seedCompliant builds an account as Watchkeeper leaves it, in home.
func seedCompliant(t *testing.T, w *world.World) world.Account {
	t.Helper()
	acct, err := w.Compliant(t.Context(), world.CompliantSpec{HomeRegion: home, Benchmark: bench, Endpoints: []string{subscriber}})
	if err != nil {
		t.Fatalf("seed compliant account: %v", err)
	}
	return acct
}

// seedTrailed builds an account with only an active multi-region trail
// recording all management events into a log group: nothing else.
func seedTrailed(t *testing.T, w *world.World) world.Trail {
	t.Helper()
	tr, err := w.Trail(t.Context(), world.TrailSpec{Name: world.DefaultTrailName, HomeRegion: home, LogGroupName: world.DefaultLogGroupName})
	if err != nil {
		t.Fatalf("seed trail: %v", err)
	}
	return tr
}

func logsClient() *cloudwatchlogs.Client { return cloudwatchlogs.NewFromConfig(cfg(home)) }
func alarmClient() *cloudwatch.Client    { return cloudwatch.NewFromConfig(cfg(home)) }
func snsClient() *sns.Client             { return sns.NewFromConfig(cfg(home)) }
func trailClient() *cloudtrail.Client    { return cloudtrail.NewFromConfig(cfg(home)) }

func mustControl(t *testing.T, id string) catalog.Control {
	t.Helper()
	c, ok := bench.Control(id)
	if !ok {
		t.Fatalf("benchmark %s has no control %s", bench.ID, id)
	}
	return c
}

// assertOnlyFailing checks that exactly the controls in ids FAIL (each with
// a reason) and every other control PASSes.
func assertOnlyFailing(t *testing.T, r report, ids ...string) {
	t.Helper()
	if len(r.Controls) != len(bench.Controls) {
		t.Errorf("report has %d controls, want %d", len(r.Controls), len(bench.Controls))
	}
	for _, c := range r.Controls {
		want := "PASS"
		if slices.Contains(ids, c.ID) {
			want = "FAIL"
		}
		if c.Status != want {
			t.Errorf("control %s: status %s, want %s (reasons %q)", c.ID, c.Status, want, c.Reasons)
		}
		if c.Status == "FAIL" && len(c.Reasons) == 0 {
			t.Errorf("control %s fails without a reason", c.ID)
		}
	}
}

func TestCompliantAccount(t *testing.T) {
	w := fresh(t)
	seedCompliant(t, w)
	before := readState(t, home, other)

	audit := run(t, 0, "audit")
	if !audit.Compliant || audit.Account != "123456789012" || audit.Benchmark != bench.ID || audit.HomeRegion != home {
		t.Errorf("audit header: account %q benchmark %q home %q compliant %t", audit.Account, audit.Benchmark, audit.HomeRegion, audit.Compliant)
	}
	assertOnlyFailing(t, audit)
	if len(audit.Regions) != 2 {
		t.Errorf("audit evaluated %d regions, want 2 (--regions)", len(audit.Regions))
	}
	for _, r := range audit.Regions {
		if r.Status != "PASS" {
			t.Errorf("region %s: %s %q", r.Region, r.Status, r.Reasons)
		}
	}
	if p := run(t, 0, "plan"); len(p.Actions) != 0 {
		t.Errorf("plan on a compliant account: %d actions, want 0: %s", len(p.Actions), summary(p))
	}
	if a := run(t, 0, "apply"); len(a.Actions) != 0 {
		t.Errorf("apply on a compliant account: %d actions, want 0: %s", len(a.Actions), summary(a))
	}
	if diff := cmp.Diff(before, readState(t, home, other)); diff != "" {
		t.Errorf("apply on a compliant account changed it (-before +after):\n%s", diff)
	}
}

func TestEmptyAccount(t *testing.T) {
	fresh(t)
	audit := run(t, 2, "audit")
	if audit.Compliant {
		t.Error("an account without any trail reported compliant")
	}
	for _, c := range audit.Controls {
		if c.Status != "FAIL" || len(c.Reasons) == 0 {
			t.Errorf("control %s: %s %q, want FAIL with a reason", c.ID, c.Status, c.Reasons)
		}
	}
	for _, r := range audit.Regions {
		if r.Status != "FAIL" || len(r.Reasons) == 0 {
			t.Errorf("region %s: %s %q, want FAIL with a reason", r.Region, r.Status, r.Reasons)
		}
	}
	// Under safe healing nothing can make a trail, so apply cannot reach
	// compliance; it must say so (exit 2), fail no action, and put no
	// filter anywhere (there is no trail log group to put it on).
	applied := run(t, 2, "apply")
	if failed := applied.ActionsWith("failed"); len(failed) > 0 {
		t.Errorf("apply on an empty account: failed actions %+v", failed)
	}
	after := readState(t, home, other)
	if len(after.Filters) != 0 || len(after.Alarms) != 0 || len(after.Trails) != 0 {
		t.Errorf("apply on an empty account created filters %v alarms %v trails %v", after.Filters, after.Alarms, after.Trails)
	}
	// A second apply does not duplicate whatever the first one created.
	run(t, 2, "apply")
	if diff := cmp.Diff(after, readState(t, home, other)); diff != "" {
		t.Errorf("second apply on an empty account changed it (-first +second):\n%s", diff)
	}
}

func TestTrailedAccountHealsFully(t *testing.T) {
	w := fresh(t)
	tr := seedTrailed(t, w)
	before := readState(t, home, other)

	p := run(t, 2, "plan")
	// One filter and one alarm per control, one topic, one subscription.
	want := map[string]int{"PutMetricFilter": len(bench.Controls), "PutMetricAlarm": len(bench.Controls), "CreateTopic": 1, "Subscribe": 1}
	got := map[string]int{}
	for _, a := range p.Actions {
		got[a.Action]++
		if a.Status != "planned" {
			t.Errorf("plan: action %s %s has status %q, want planned", a.Action, a.Target, a.Status)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan on a trailed account: action counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, readState(t, home, other)); diff != "" {
		t.Errorf("plan changed the account (-before +after):\n%s", diff)
	}

	applied := converge(t)
	if n := len(applied.ActionsWith("applied")); n != len(p.Actions) {
		t.Errorf("apply: %d actions applied, want %d: %s", n, len(p.Actions), summary(applied))
	}
	after := readState(t, home, other)
	assertNoDuplicates(t, after, home, tr.LogGroupName)
	assertUnownedUnchanged(t, before, after)
	filters := filtersOn(t, after, home, tr.LogGroupName)
	if len(filters) != len(bench.Controls) {
		t.Fatalf("after apply: %d filters on %s, want %d", len(filters), tr.LogGroupName, len(bench.Controls))
	}
	for _, c := range bench.Controls {
		i := slices.IndexFunc(filters, func(f filterDef) bool { return f.FilterName == prefix+c.Key })
		if i < 0 {
			t.Errorf("control %s: no filter %s%s", c.ID, prefix, c.Key)
			continue
		}
		if f := filters[i]; f.FilterPattern != c.PatternFor(catalog.ProfileBenchmark) {
			t.Errorf("control %s: filter pattern %q, want the benchmark text %q", c.ID, f.FilterPattern, c.PatternFor(catalog.ProfileBenchmark))
		}
	}
	for _, a := range alarms(t, after, home) {
		if !a.ActionsEnabled || len(a.AlarmActions) != 1 || !strings.HasSuffix(a.AlarmActions[0], ":"+topicName) {
			t.Errorf("alarm %s: actions enabled %t, actions %v; want enabled, notifying %s", a.AlarmName, a.ActionsEnabled, a.AlarmActions, topicName)
		}
	}
}

func TestFilterDeleted(t *testing.T) {
	for _, c := range bench.Controls {
		t.Run(c.ID, func(t *testing.T) {
			w := fresh(t)
			acct := seedCompliant(t, w)
			lg := acct.Trail.LogGroupName
			before := readState(t, home)
			if _, err := logsClient().DeleteMetricFilter(t.Context(), &cloudwatchlogs.DeleteMetricFilterInput{
				LogGroupName: aws.String(lg), FilterName: aws.String(prefix + c.Key),
			}); err != nil {
				t.Fatal(err)
			}
			p := run(t, 2, "plan")
			assertOnlyFailing(t, p, c.ID)
			assertCode(t, p, c.ID, "CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT")
			if len(p.Actions) != 1 || p.Actions[0].Action != "PutMetricFilter" || p.Actions[0].Region != home {
				t.Fatalf("plan: want exactly one PutMetricFilter in %s, got %s", home, summary(p))
			}
			converge(t)
			after := readState(t, home)
			// The restored filter is exactly the one Watchkeeper wrote
			// before, and nothing else (alarms included) was touched.
			if diff := cmp.Diff(before.Filters, after.Filters); diff != "" {
				t.Errorf("filters after healing differ from before the deletion (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(before.Alarms, after.Alarms); diff != "" {
				t.Errorf("healing a filter changed alarms (-before +after):\n%s", diff)
			}
			assertNoDuplicates(t, after, home, lg)
		})
	}
}

func TestFilterPatterns(t *testing.T) {
	cmk := mustControl(t, "4.7")
	root := mustControl(t, "4.3")
	// A pattern that drops ScheduleKeyDeletion no longer covers the control.
	narrowed := `{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }`

	t.Run("own filter rewritten with a wrong pattern is restored", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		before := readState(t, home)
		putFilter(t, acct.Trail.LogGroupName, prefix+cmk.Key, narrowed, cmk.MetricName, world.DefaultNamespace)
		p := run(t, 2, "plan")
		assertOnlyFailing(t, p, cmk.ID)
		converge(t)
		after := readState(t, home)
		if diff := cmp.Diff(before.Filters, after.Filters); diff != "" {
			t.Errorf("filters after healing (-want +got):\n%s", diff)
		}
		assertNoDuplicates(t, after, home, acct.Trail.LogGroupName)
	})

	t.Run("user filter with a wrong pattern is left alone", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		lg := acct.Trail.LogGroupName
		deleteFilter(t, lg, prefix+cmk.Key)
		deleteAlarm(t, prefix+cmk.Key)
		putFilter(t, lg, "SecOps-CMK", narrowed, "SecOpsCMK", "SecOps")
		before := readState(t, home)
		p := run(t, 2, "plan")
		assertOnlyFailing(t, p, cmk.ID)
		converge(t)
		after := readState(t, home)
		assertUnownedUnchanged(t, before, after)
		if _, ok := after.Filters[home+" "+lg+"/"+prefix+cmk.Key]; !ok {
			t.Errorf("Watchkeeper did not add its own filter for %s beside the user's narrower one", cmk.ID)
		}
		assertNoDuplicates(t, after, home, lg)
	})

	t.Run("user equivalent filter under another name is not duplicated", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		lg := acct.Trail.LogGroupName
		deleteFilter(t, lg, prefix+root.Key)
		deleteAlarm(t, prefix+root.Key)
		// The same terms, re-spaced and re-ordered: equivalent, not equal.
		equivalent := `{$.eventType!="AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type="Root"}`
		putFilter(t, lg, "SecOps-RootUsage", equivalent, "RootUsage", "SecOps")
		in := world.AlarmSpec(root, "SecOps", "SecOps-", acct.TopicARN)
		in.AlarmName = aws.String("SecOps-RootUsage-alarm")
		in.MetricName = aws.String("RootUsage")
		in.Tags = nil
		if _, err := alarmClient().PutMetricAlarm(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		before := readState(t, home)
		audit := run(t, 0, "audit")
		assertOnlyFailing(t, audit)
		if p := run(t, 0, "plan"); len(p.Actions) != 0 {
			t.Errorf("plan with a user's equivalent filter: want 0 actions, got %s", summary(p))
		}
		run(t, 0, "apply")
		after := readState(t, home)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("apply changed an account whose user filter satisfies %s (-before +after):\n%s", root.ID, diff)
		}
		if _, ok := after.Filters[home+" "+lg+"/"+prefix+root.Key]; ok {
			t.Errorf("Watchkeeper duplicated the user's filter for %s", root.ID)
		}
	})
}

func putFilter(t *testing.T, logGroup, name, pattern, metric, namespace string) {
	t.Helper()
	if _, err := logsClient().PutMetricFilter(t.Context(), &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(logGroup), FilterName: aws.String(name), FilterPattern: aws.String(pattern),
		MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String(metric), MetricNamespace: aws.String(namespace), MetricValue: aws.String("1")}},
	}); err != nil {
		t.Fatalf("put filter %s: %v", name, err)
	}
}

func deleteFilter(t *testing.T, logGroup, name string) {
	t.Helper()
	if _, err := logsClient().DeleteMetricFilter(t.Context(), &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String(logGroup), FilterName: aws.String(name)}); err != nil {
		t.Fatalf("delete filter %s: %v", name, err)
	}
}

func deleteAlarm(t *testing.T, name string) {
	t.Helper()
	if _, err := alarmClient().DeleteAlarms(t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}}); err != nil {
		t.Fatalf("delete alarm %s: %v", name, err)
	}
}

func TestAlarms(t *testing.T) {
	iam := mustControl(t, "4.4")

	t.Run("alarm deleted", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		before := readState(t, home)
		deleteAlarm(t, prefix+iam.Key)
		p := run(t, 2, "plan")
		assertOnlyFailing(t, p, iam.ID)
		assertCode(t, p, iam.ID, "CLOUDWATCH_ALARMS_NOT_PRESENT")
		if len(p.Actions) != 1 || p.Actions[0].Action != "PutMetricAlarm" {
			t.Fatalf("plan: want one PutMetricAlarm, got %s", summary(p))
		}
		converge(t)
		after := readState(t, home)
		assertNoDuplicates(t, after, home, acct.Trail.LogGroupName)
		if diff := cmp.Diff(before.Filters, after.Filters); diff != "" {
			t.Errorf("healing an alarm changed filters:\n%s", diff)
		}
		got := alarms(t, after, home)
		if len(got) != len(bench.Controls) {
			t.Errorf("%d alarms after healing, want %d", len(got), len(bench.Controls))
		}
	})

	t.Run("alarm actions disabled", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		in := world.AlarmSpec(iam, acct.Namespace, acct.Prefix, acct.TopicARN)
		in.ActionsEnabled = aws.Bool(false)
		if _, err := alarmClient().PutMetricAlarm(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		p := run(t, 2, "plan")
		assertOnlyFailing(t, p, iam.ID)
		assertCode(t, p, iam.ID, "CLOUDWATCH_ALARM_ACTIONS_NOT_VALID")
		// Re-enabling actions is the whole fix: the alarm is not rewritten.
		if len(p.Actions) != 1 || p.Actions[0].Action != "EnableAlarmActions" {
			t.Fatalf("plan: want one EnableAlarmActions, got %s", summary(p))
		}
		converge(t)
		for _, a := range alarms(t, readState(t, home), home) {
			if !a.ActionsEnabled {
				t.Errorf("alarm %s: actions still disabled after apply", a.AlarmName)
			}
		}
	})

	t.Run("user alarm with actions disabled is left alone and Watchkeeper adds its own", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		deleteAlarm(t, prefix+iam.Key)
		in := world.AlarmSpec(iam, acct.Namespace, "", acct.TopicARN)
		in.AlarmName = aws.String("SecOps-IAM-changes")
		in.ActionsEnabled = aws.Bool(false)
		in.Tags = nil
		if _, err := alarmClient().PutMetricAlarm(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		before := readState(t, home)
		p := run(t, 2, "plan")
		assertOnlyFailing(t, p, iam.ID)
		if len(p.Actions) != 1 || p.Actions[0].Action != "PutMetricAlarm" || !strings.HasSuffix(p.Actions[0].Target, ":"+prefix+iam.Key) {
			t.Fatalf("plan: want one PutMetricAlarm of Watchkeeper's own alarm, got %s", summary(p))
		}
		converge(t)
		after := readState(t, home)
		// The user's alarm is byte-for-byte as it was, still disabled.
		assertUnownedUnchanged(t, before, after)
		got := alarms(t, after, home)
		i := slices.IndexFunc(got, func(a alarmDef) bool { return a.AlarmName == prefix+iam.Key })
		if i < 0 || !got[i].ActionsEnabled || !slices.Equal(got[i].AlarmActions, []string{acct.TopicARN}) {
			t.Errorf("Watchkeeper's own alarm for %s missing or not notifying %s: %+v", iam.ID, acct.TopicARN, got)
		}
		assertNoDuplicates(t, after, home, acct.Trail.LogGroupName)
	})

	t.Run("alarm notifies a deleted topic", func(t *testing.T) {
		w := fresh(t)
		acct := seedCompliant(t, w)
		gone, err := w.Topic(t.Context(), home, "team-pager")
		if err != nil {
			t.Fatal(err)
		}
		in := world.AlarmSpec(iam, acct.Namespace, acct.Prefix, gone)
		if _, err := alarmClient().PutMetricAlarm(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		if _, err := snsClient().DeleteTopic(t.Context(), &sns.DeleteTopicInput{TopicArn: aws.String(gone)}); err != nil {
			t.Fatal(err)
		}
		p := run(t, 2, "plan")
		assertOnlyFailing(t, p, iam.ID)
		converge(t)
		after := readState(t, home)
		for _, a := range alarms(t, after, home) {
			if a.AlarmName == prefix+iam.Key && !slices.Equal(a.AlarmActions, []string{acct.TopicARN}) {
				t.Errorf("alarm %s notifies %v after healing, want [%s]", a.AlarmName, a.AlarmActions, acct.TopicARN)
			}
		}
		if _, ok := after.Topics[gone]; ok {
			t.Errorf("healing re-created the deleted topic %s", gone)
		}
	})
}

func TestTopicWithoutSubscription(t *testing.T) {
	seed := func(t *testing.T) world.Account {
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
		return acct
	}

	t.Run("with a configured subscriber", func(t *testing.T) {
		acct := seed(t)
		p := run(t, 2, "plan")
		for _, c := range p.Controls {
			if c.Status != "FAIL" {
				t.Errorf("control %s: %s, want FAIL (its topic has no subscriber)", c.ID, c.Status)
			}
		}
		assertCode(t, p, "4.1", "SNS_SUBSCRIPTION_NOT_PRESENT")
		if len(p.Actions) != 1 || p.Actions[0].Action != "Subscribe" {
			t.Fatalf("plan: want exactly one Subscribe, got %s", summary(p))
		}
		converge(t)
		after := readState(t, home)
		assertNoDuplicates(t, after, home, acct.Trail.LogGroupName)
		key := acct.TopicARN + " " + subscriber
		if after.SubscriptionCount[key] != 1 {
			t.Errorf("subscriptions %v, want exactly one %s", after.SubscriptionCount, key)
		}
	})

	t.Run("without a configured subscriber", func(t *testing.T) {
		seed(t)
		// Nothing to subscribe: apply cannot heal and says so.
		res := cli(t, "apply", "--regions", home, "--home-region", home)
		if res.Code != 2 {
			t.Fatalf("apply without --subscribe on a topic without subscribers: exit %d, want 2\n%s", res.Code, res.Stderr)
		}
		for _, c := range res.Report.Controls {
			if c.Status != "FAIL" || len(c.Reasons) == 0 {
				t.Errorf("control %s: %s %q, want FAIL with a reason", c.ID, c.Status, c.Reasons)
			}
		}
	})
}

// trailHealing covers the trail problems: each seeds a compliant account
// whose trail is then broken one way, and heals it at the level given.
func TestTrailHealing(t *testing.T) {
	ctx := t.Context
	dataSel := cttypes.EventSelector{
		ReadWriteType:           cttypes.ReadWriteTypeAll,
		IncludeManagementEvents: aws.Bool(false),
		DataResources:           []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::audit-bucket/"}}},
	}
	for _, tc := range []struct {
		name string
		// breakIt breaks the compliant account's trail.
		breakIt func(t *testing.T, acct world.Account)
		// level is the --trail-healing that heals it.
		level string
		// check inspects the healed trail.
		check func(t *testing.T, d trailDef)
	}{
		{
			name: "logging stopped",
			breakIt: func(t *testing.T, acct world.Account) {
				if _, err := trailClient().StopLogging(ctx(), &cloudtrail.StopLoggingInput{Name: aws.String(acct.Trail.Name)}); err != nil {
					t.Fatal(err)
				}
			},
			level: "safe",
			check: func(t *testing.T, d trailDef) {
				if !d.IsLogging {
					t.Error("trail not logging after healing")
				}
			},
		},
		{
			name: "management events off, data events kept",
			breakIt: func(t *testing.T, acct world.Account) {
				putSelectors(t, acct.Trail.ARN, []cttypes.EventSelector{dataSel}, nil)
			},
			level: "safe",
			check: func(t *testing.T, d trailDef) {
				mgmt, data := false, false
				for _, s := range d.Classic {
					if aws.ToBool(s.IncludeManagementEvents) && s.ReadWriteType == "All" && len(s.ExcludeManagementEventSources) == 0 {
						mgmt = true
					}
					for _, r := range s.DataResources {
						if aws.ToString(r.Type) == "AWS::S3::Object" && slices.Equal(r.Values, []string{"arn:aws:s3:::audit-bucket/"}) {
							data = true
						}
					}
				}
				if !mgmt || !data {
					t.Errorf("selectors after healing: management events %t, data selector kept %t: %+v", mgmt, data, d.Classic)
				}
			},
		},
		{
			name: "kms.amazonaws.com excluded",
			breakIt: func(t *testing.T, acct world.Account) {
				putSelectors(t, acct.Trail.ARN, []cttypes.EventSelector{{
					ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true),
					ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
				}}, nil)
			},
			level: "safe",
			check: func(t *testing.T, d trailDef) {
				for _, s := range d.Classic {
					if slices.Contains(s.ExcludeManagementEventSources, "kms.amazonaws.com") {
						t.Errorf("kms.amazonaws.com still excluded: %+v", d.Classic)
					}
				}
			},
		},
		{
			name: "advanced selectors read-only",
			breakIt: func(t *testing.T, acct world.Account) {
				putSelectors(t, acct.Trail.ARN, nil, []cttypes.AdvancedEventSelector{{
					Name: aws.String("Management read-only"),
					FieldSelectors: []cttypes.AdvancedFieldSelector{
						{Field: aws.String("eventCategory"), Equals: []string{"Management"}},
						{Field: aws.String("readOnly"), Equals: []string{"true"}},
					},
				}})
			},
			level: "safe",
			check: func(t *testing.T, d trailDef) {
				ok := false
				for _, s := range d.Advanced {
					mgmt, readOnly := false, false
					for _, f := range s.FieldSelectors {
						switch aws.ToString(f.Field) {
						case "eventCategory":
							mgmt = slices.Contains(f.Equals, "Management")
						case "readOnly":
							readOnly = true
						}
					}
					ok = ok || (mgmt && !readOnly)
				}
				for _, s := range d.Classic {
					ok = ok || (aws.ToBool(s.IncludeManagementEvents) && s.ReadWriteType == "All")
				}
				if !ok {
					t.Errorf("no selector records all management events after healing: advanced %+v classic %+v", d.Advanced, d.Classic)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := fresh(t)
			acct := seedCompliant(t, w)
			tc.breakIt(t, acct)
			broken := readState(t, home, other)

			// At level none, the problem is reported and nothing changes.
			none := run(t, 2, "apply", "--trail-healing", "none")
			if none.Compliant {
				t.Errorf("broken trail (%s) reported compliant", tc.name)
			}
			if n := len(none.ActionsWith("applied")); n != 0 {
				t.Errorf("--trail-healing none applied %d actions: %s", n, summary(none))
			}
			if diff := cmp.Diff(broken, readState(t, home, other)); diff != "" {
				t.Errorf("--trail-healing none changed the account (-before +after):\n%s", diff)
			}

			convergeChanging(t, []string{acct.Trail.ARN}, "--trail-healing", tc.level)
			after := readState(t, home, other)
			tc.check(t, trailOf(t, after, acct.Trail.ARN))
			assertUnownedUnchanged(t, broken, after, acct.Trail.ARN)
			assertNoDuplicates(t, after, home, acct.Trail.LogGroupName)
		})
	}
}

func putSelectors(t *testing.T, trail string, classic []cttypes.EventSelector, advanced []cttypes.AdvancedEventSelector) {
	t.Helper()
	in := &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(trail), EventSelectors: classic, AdvancedEventSelectors: advanced}
	if _, err := trailClient().PutEventSelectors(t.Context(), in); err != nil {
		t.Fatalf("put event selectors: %v", err)
	}
}

func TestSingleRegionTrail(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	if _, err := trailClient().UpdateTrail(t.Context(), &cloudtrail.UpdateTrailInput{Name: aws.String(acct.Trail.ARN), IsMultiRegionTrail: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	audit := run(t, 2, "audit")
	for _, r := range audit.Regions {
		if r.Region == other && (r.Status != "FAIL" || len(r.Reasons) == 0) {
			t.Errorf("region %s not covered by a single-region trail in %s: %s %q, want FAIL with a reason", other, home, r.Status, r.Reasons)
		}
	}
	// Making a trail multi-region is beyond safe healing.
	safe := run(t, 2, "apply")
	if safe.Compliant {
		t.Error("safe healing claimed to fix a single-region trail")
	}
	convergeChanging(t, []string{acct.Trail.ARN}, "--trail-healing", "full")
	if d := trailOf(t, readState(t, home), acct.Trail.ARN); !d.Trail.IsMultiRegionTrail {
		t.Error("trail still single-region after full healing")
	}
}

func TestTrailWithoutCloudWatchLogs(t *testing.T) {
	w := fresh(t)
	ctx := t.Context()
	tr, err := w.Trail(ctx, world.TrailSpec{Name: "no-logs", HomeRegion: home})
	if err != nil {
		t.Fatal(err)
	}
	audit := run(t, 2, "audit")
	for _, c := range audit.Controls {
		if c.Status != "FAIL" || len(c.Reasons) == 0 {
			t.Errorf("control %s on a trail without CloudWatch Logs: %s %q, want FAIL with a reason", c.ID, c.Status, c.Reasons)
		}
	}
	// Full healing attaches the configured log group and role, then the
	// filters and alarms go on that log group.
	const lgName = "/watchkeeper/cloudtrail"
	if err := w.LogGroup(ctx, home, lgName); err != nil {
		t.Fatal(err)
	}
	role, err := w.Role(ctx, "watchkeeper-trail-logs", "cloudtrail.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	lgARN := "arn:aws:logs:" + home + ":123456789012:log-group:" + lgName
	flags := []string{"--trail-healing", "full", "--trail-log-group-arn", lgARN, "--trail-logs-role-arn", role}
	convergeChanging(t, []string{tr.ARN}, flags...)
	after := readState(t, home)
	d := trailOf(t, after, tr.ARN)
	if !strings.HasPrefix(d.Trail.CloudWatchLogsLogGroupArn, lgARN) {
		t.Errorf("trail log group %q after full healing, want %s", d.Trail.CloudWatchLogsLogGroupArn, lgARN)
	}
	if n := len(filtersOn(t, after, home, lgName)); n != len(bench.Controls) {
		t.Errorf("%d filters on %s, want %d", n, lgName, len(bench.Controls))
	}
	assertNoDuplicates(t, after, home, lgName)
}

func TestSeveralTrailsOneQualifies(t *testing.T) {
	w := fresh(t)
	ctx := t.Context()
	acct := seedCompliant(t, w)
	if _, err := w.Trail(ctx, world.TrailSpec{Name: "regional", HomeRegion: other, SingleRegion: true, LogGroupName: "/regional"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Trail(ctx, world.TrailSpec{Name: "stopped", HomeRegion: home, NotLogging: true, LogGroupName: "/stopped"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Trail(ctx, world.TrailSpec{Name: "no-logs", HomeRegion: home}); err != nil {
		t.Fatal(err)
	}
	before := readState(t, home, other)
	audit := run(t, 0, "audit")
	assertOnlyFailing(t, audit)
	if p := run(t, 0, "plan"); len(p.Actions) != 0 {
		t.Errorf("plan: want 0 actions when one trail qualifies, got %s", summary(p))
	}
	run(t, 0, "apply")
	if diff := cmp.Diff(before, readState(t, home, other)); diff != "" {
		t.Errorf("apply changed an account with one qualifying trail (%s) (-before +after):\n%s", acct.Trail.Name, diff)
	}
}

func TestAllEnabledRegions(t *testing.T) {
	w := fresh(t)
	tr := seedTrailed(t, w)
	allRegionsOptedIn.Store(true)
	t.Cleanup(func() { allRegionsOptedIn.Store(false) })
	// No --regions: every region moto reports enabled.
	p := cli(t, "plan", "--home-region", home, "--subscribe", subscriber)
	if p.Code != 2 {
		t.Fatalf("plan: exit %d, want 2\n%s", p.Code, p.Stderr)
	}
	if len(p.Report.Regions) < 30 {
		t.Fatalf("plan evaluated %d regions, want every enabled region (moto has 30+)", len(p.Report.Regions))
	}
	for _, r := range p.Report.Regions {
		if r.Status != "PASS" {
			t.Errorf("region %s: %s %q; the multi-region trail covers it", r.Region, r.Status, r.Reasons)
		}
	}
	applied := cli(t, "apply", "--home-region", home, "--subscribe", subscriber)
	if applied.Code != 0 {
		t.Fatalf("apply over every region: exit %d\n%s\n%s", applied.Code, applied.Stderr, summary(applied.Report))
	}
	again := cli(t, "plan", "--home-region", home, "--subscribe", subscriber)
	if again.Code != 0 || len(again.Report.Actions) != 0 {
		t.Errorf("plan after apply over every region: exit %d, %s", again.Code, summary(again.Report))
	}
	assertNoDuplicates(t, readState(t, home), home, tr.LogGroupName)
}

func TestUnrelatedResourcesUntouched(t *testing.T) {
	w := fresh(t)
	tr := seedTrailed(t, w)
	// Past one page of every listing (DescribeAlarms 100, DescribeMetricFilters 50).
	const nAlarms, nGroups, perGroup = 250, 4, 60
	if err := w.Noise(t.Context(), home, nAlarms, nGroups, perGroup); err != nil {
		t.Fatal(err)
	}
	before := readState(t, home)
	if len(before.Alarms) != nAlarms || len(before.Filters) != nGroups*perGroup {
		t.Fatalf("seeded %d alarms and %d filters, want %d and %d", len(before.Alarms), len(before.Filters), nAlarms, nGroups*perGroup)
	}
	converge(t)
	after := readState(t, home)
	assertUnownedUnchanged(t, before, after)
	if got, want := len(after.Alarms), nAlarms+len(bench.Controls); got != want {
		t.Errorf("%d alarms after apply, want %d (noise + one per control)", got, want)
	}
	if got, want := len(after.Filters), nGroups*perGroup+len(bench.Controls); got != want {
		t.Errorf("%d filters after apply, want %d (noise + one per control)", got, want)
	}
	assertNoDuplicates(t, after, home, tr.LogGroupName)
}

func TestCLIErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown exclude", nil, []string{"audit", "--exclude", "4.99"}, "4.99"},
		{"bad healing level", nil, []string{"plan", "--trail-healing", "aggressive"}, "aggressive"},
		{"no credentials", []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, []string{"audit"}, "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh(t)
			env := withEnv(tc.env)
			res := cliEnv(t, env, append(tc.args, "--regions", home)...)
			if res.Code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
			}
			if !strings.Contains(strings.ToLower(res.Stderr), tc.want) {
				t.Errorf("stderr %q does not name the problem (%q)", res.Stderr, tc.want)
			}
			if res.Stdout != "" {
				t.Errorf("stdout on error: %q, want nothing", res.Stdout)
			}
		})
	}
}

// TestCISAuditAfterApply runs the benchmark's own audit procedure with the
// aws CLI (test/cisaudit) after Watchkeeper healed an account that had
// only a trail: every control must pass it, for the default benchmark and
// for v1.2.0 written with the Security Hub strings.
func TestCISAuditAfterApply(t *testing.T) {
	for _, tc := range []struct {
		benchmark string
		profile   catalog.Profile
	}{
		{"cis-aws-v3.0.0", catalog.ProfileBenchmark},
		{"cis-aws-v1.2.0", catalog.ProfileSecurityHub},
	} {
		t.Run(tc.benchmark+"/"+string(tc.profile), func(t *testing.T) {
			b, err := catalog.Lookup(tc.benchmark)
			if err != nil {
				t.Fatal(err)
			}
			w := fresh(t)
			seedTrailed(t, w)
			flags := []string{"--benchmark", tc.benchmark, "--pattern-profile", string(tc.profile)}
			opts := cisaudit.Options{Env: moto.Env(os.Environ(), endpoint, home), Region: home, Profile: tc.profile}

			before, err := cisaudit.Run(t.Context(), b, opts)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(before.Failed()); n != len(b.Controls) {
				t.Fatalf("before apply the CIS audit failed %d of %d controls, want all", n, len(b.Controls))
			}
			converge(t, flags...)
			after, err := cisaudit.Run(t.Context(), b, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Results) != len(b.Controls) {
				t.Fatalf("CIS audit covered %d controls, want %d", len(after.Results), len(b.Controls))
			}
			for _, r := range after.Failed() {
				t.Errorf("CIS %s %s fails its audit after apply: %s", tc.benchmark, r.ID, r.Why)
			}
			t.Logf("CIS audit of %s: %d aws CLI commands", tc.benchmark, after.Commands)
		})
	}
}

// TestCallsIndependentOfUnrelatedResources counts the API calls of a full
// audit of a compliant account (through the proxy) before and after
// adding thousands of unrelated alarms and filters, dozens of log groups
// and 30 unrelated metric filters on the trail's own log group: the count
// must not change (issue #3, Observe).
func TestCallsIndependentOfUnrelatedResources(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	regions := []string{home, other, "ap-southeast-2", "sa-east-1"}
	audit := func() (int, map[string]int) {
		proxy.Reset()
		res := cli(t, "audit", "--regions", strings.Join(regions, ","), "--home-region", home, "--subscribe", subscriber)
		if res.Code != 0 {
			t.Fatalf("audit of a compliant account: exit %d\n%s\n%s", res.Code, res.Stderr, summary(res.Report))
		}
		byOp := map[string]int{}
		for c, n := range proxy.Counts() {
			byOp[c.Service+":"+c.Operation] += n
		}
		return proxy.Total(), byOp
	}
	quiet, quietOps := audit()
	if err := w.Noise(t.Context(), home, 300, 20, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Topic(t.Context(), home, "unrelated-topic", "email:ops@example.com"); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		putFilter(t, acct.Trail.LogGroupName, fmt.Sprintf("app-errors-%02d", i), fmt.Sprintf(`{ $.errorCode = "AppError%d" }`, i), fmt.Sprintf("AppErrors%d", i), "App")
	}
	noisy, noisyOps := audit()
	if diff := cmp.Diff(quietOps, noisyOps); diff != "" {
		t.Errorf("API calls by operation changed with unrelated resources (-quiet +noisy):\n%s", diff)
	}
	if limit := len(regions) + 12; quiet > limit {
		t.Errorf("full audit of a compliant %d-region account made %d calls, goal at most %d: %v", len(regions), quiet, limit, quietOps)
	}
	t.Logf("full audit of a compliant %d-region account: %d calls (goal: at most regions+12 = %d); with 300 unrelated alarms, 20 log groups and 30 unrelated filters on the trail's log group: %d calls",
		len(regions), quiet, len(regions)+12, noisy)
}

// TestPendingSubscription: a subscription awaiting confirmation does not
// make a control pass (the benchmark wants a "valid" SubscriptionArn), and
// Watchkeeper neither re-subscribes the endpoint on every run nor claims
// success; once the recipient confirms, the account is compliant with no
// further action.
func TestPendingSubscription(t *testing.T) {
	const pending = "email:pending@example.com"
	proxy.MarkPending("email", "pending@example.com")
	t.Cleanup(func() { proxy.Confirm("email", "pending@example.com") })
	w := fresh(t)
	seedTrailed(t, w)
	flags := []string{"--regions", home, "--home-region", home, "--subscribe", pending}

	first := cli(t, append([]string{"apply"}, flags...)...)
	if first.Code != 2 {
		t.Fatalf("apply with an unconfirmed subscriber: exit %d, want 2 (not compliant until confirmed)\n%s", first.Code, first.Stderr)
	}
	if failed := first.Report.ActionsWith("failed"); len(failed) > 0 {
		t.Errorf("apply: failed actions %+v", failed)
	}
	for _, c := range first.Report.Controls {
		if c.Status != "FAIL" {
			t.Errorf("control %s: %s with only a pending subscriber, want FAIL", c.ID, c.Status)
		}
	}
	second := cli(t, append([]string{"apply"}, flags...)...)
	for _, a := range second.Report.Actions {
		if a.Action == "Subscribe" && a.Status == "applied" {
			t.Errorf("second apply subscribed again: %+v", a)
		}
	}
	after := readState(t, home)
	subs := 0
	for k, n := range after.SubscriptionCount {
		if strings.HasSuffix(k, " "+pending) {
			subs += n
		}
	}
	if subs != 1 {
		t.Errorf("%d subscriptions of %s after two applies, want 1", subs, pending)
	}

	proxy.Confirm("email", "pending@example.com")
	confirmed := cli(t, append([]string{"plan"}, flags...)...)
	if confirmed.Code != 0 || len(confirmed.Report.Actions) != 0 {
		t.Errorf("plan after confirmation: exit %d, %s; want 0 and no actions", confirmed.Code, summary(confirmed.Report))
	}
}

// TestTopicKeyCloudWatchCannotUse: alarm notifications to a topic encrypted
// with a KMS key whose policy does not let cloudwatch.amazonaws.com use it
// are silently dropped. Every control must fail with a reason that names
// the key; Watchkeeper does not rewrite a key policy it does not own.
func TestTopicKeyCloudWatchCannotUse(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`
	key, err := w.Key(t.Context(), home, policy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsClient().SetTopicAttributes(t.Context(), &sns.SetTopicAttributesInput{
		TopicArn: aws.String(acct.TopicARN), AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String(key),
	}); err != nil {
		t.Fatal(err)
	}
	before := readState(t, home)
	audit := run(t, 2, "audit")
	for _, c := range audit.Controls {
		if c.Status != "FAIL" || !strings.Contains(strings.ToLower(strings.Join(c.Reasons, " ")), "kms") {
			t.Errorf("control %s: %s %q; want FAIL naming the KMS key", c.ID, c.Status, c.Reasons)
		}
	}
	applied := run(t, 2, "apply")
	if failed := applied.ActionsWith("failed"); len(failed) > 0 {
		t.Errorf("apply: failed actions %+v", failed)
	}
	assertUnownedUnchanged(t, before, readState(t, home))
}

// TestConcurrentApplies: two applies racing on the same account (a nightly
// run and a drift-triggered run, say) converge without duplicates.
func TestConcurrentApplies(t *testing.T) {
	w := fresh(t)
	tr := seedTrailed(t, w)
	before := readState(t, home, other)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	outs := make([][]byte, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not cli(): t.Fatal must not be called off the test goroutine.
			cmd := exec.CommandContext(t.Context(), bin, append([]string{"apply", "--output", "json"}, defaultFlags...)...)
			cmd.Env = moto.Env(os.Environ(), endpoint, home)
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var exit *exec.ExitError
		// Exit 2 is allowed: a run may see the other's half-done work.
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 2) {
			t.Errorf("concurrent apply %d: %v\n%s", i, err, outs[i])
		}
	}
	again := run(t, 0, "plan")
	if len(again.Actions) != 0 {
		t.Errorf("plan after concurrent applies: %s", summary(again))
	}
	after := readState(t, home, other)
	assertNoDuplicates(t, after, home, tr.LogGroupName)
	assertUnownedUnchanged(t, before, after)
	if n := len(filtersOn(t, after, home, tr.LogGroupName)); n != len(bench.Controls) {
		t.Errorf("%d filters after concurrent applies, want %d", n, len(bench.Controls))
	}
	if n := len(alarms(t, after, home)); n != len(bench.Controls) {
		t.Errorf("%d alarms after concurrent applies, want %d", n, len(bench.Controls))
	}
}

// TestExclude: an excluded control is reported EXCLUDED, is never healed,
// and does not make the account non-compliant.
func TestExclude(t *testing.T) {
	w := fresh(t)
	acct := seedCompliant(t, w)
	root := mustControl(t, "4.3")
	deleteFilter(t, acct.Trail.LogGroupName, prefix+root.Key)
	before := readState(t, home)
	applied := run(t, 0, "apply", "--exclude", root.ID)
	if got := control(t, applied, root.ID).Status; got != "EXCLUDED" {
		t.Errorf("excluded control %s: status %s, want EXCLUDED", root.ID, got)
	}
	if len(applied.Actions) != 0 {
		t.Errorf("apply healed an excluded control: %s", summary(applied))
	}
	if diff := cmp.Diff(before, readState(t, home)); diff != "" {
		t.Errorf("apply with %s excluded changed the account (-before +after):\n%s", root.ID, diff)
	}
}

// TestTextOutputAndTimeout: the default text output is a table for people
// with the same exit codes, and --timeout bounds the run.
func TestTextOutputAndTimeout(t *testing.T) {
	w := fresh(t)
	seedTrailed(t, w)
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"plan"}, defaultFlags...)...)
	cmd.Env = moto.Env(os.Environ(), endpoint, home)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("text plan: %v, want exit 2", err)
	}
	for _, want := range []string{"NOT COMPLIANT", "4.15", "PutMetricFilter", "CreateTopic"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if json.Valid(out) {
		t.Error("text output is JSON")
	}

	res := cli(t, append([]string{"audit", "--timeout", "1ms"}, defaultFlags...)...)
	if res.Code != 1 || !strings.Contains(res.Stderr, "deadline") {
		t.Errorf("audit --timeout 1ms: exit %d, stderr %q; want 1 naming the deadline", res.Code, res.Stderr)
	}
}

// TestLogGroupInAnotherAccount: a trail delivering to a log group in
// another account (the usual organization set-up) cannot be healed from
// here; the report must say so and apply must touch nothing.
func TestLogGroupInAnotherAccount(t *testing.T) {
	w := fresh(t)
	const remote = "arn:aws:logs:us-east-1:210987654321:log-group:org-trail"
	if _, err := w.Trail(t.Context(), world.TrailSpec{Name: "org", HomeRegion: home, LogGroupARN: remote}); err != nil {
		t.Skipf("moto cannot seed a trail with a cross-account log group: %v", err)
	}
	before := readState(t, home, other)
	audit := cli(t, append([]string{"audit"}, defaultFlags...)...)
	if audit.Code == 0 || audit.Code == 1 {
		t.Fatalf("audit: exit %d, want 2\n%s", audit.Code, audit.Stderr)
	}
	for _, c := range audit.Report.Controls {
		if c.Status == "PASS" || !strings.Contains(strings.Join(c.Reasons, " "), "210987654321") {
			t.Errorf("control %s: %s %q; want a failure naming the account that owns the log group", c.ID, c.Status, c.Reasons)
		}
	}
	applied := cli(t, append([]string{"apply"}, defaultFlags...)...)
	if applied.Code != 2 {
		t.Errorf("apply: exit %d, want 2", applied.Code)
	}
	after := readState(t, home, other)
	assertUnownedUnchanged(t, before, after)
	if len(after.Filters) != 0 || len(after.Alarms) != 0 {
		t.Errorf("apply created filters %v / alarms %v for a log group it cannot reach", after.Filters, after.Alarms)
	}
}

// TestTrailDecidesRegion: when the qualifying trail and its log group live
// in another region than --home-region, filters and alarms go where the
// log group is (metric filters and alarms are regional), and nothing is
// written in the home region.
func TestTrailDecidesRegion(t *testing.T) {
	w := fresh(t)
	tr, err := w.Trail(t.Context(), world.TrailSpec{Name: "eu-trail", HomeRegion: other, LogGroupName: "/ct/eu"})
	if err != nil {
		t.Fatal(err)
	}
	converge(t)
	after := readState(t, home, other)
	if n := len(filtersOn(t, after, other, tr.LogGroupName)); n != len(bench.Controls) {
		t.Errorf("%d filters on %s in %s, want %d", n, tr.LogGroupName, other, len(bench.Controls))
	}
	if n := len(alarms(t, after, other)); n != len(bench.Controls) {
		t.Errorf("%d alarms in %s, want %d", n, other, len(bench.Controls))
	}
	if n := len(alarms(t, after, home)); n != 0 {
		t.Errorf("%d alarms in the home region %s, want 0", n, home)
	}
}
