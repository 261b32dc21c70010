package verdicts_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"
)

// state is everything the alert path touches in some regions, read back
// through the SDK, each resource as its API representation marshalled to
// JSON: "unchanged" means byte-for-byte equal as the API returns it.
type state struct {
	Filters map[string]string // "region logGroup/filterName" -> DescribeMetricFilters item
	Alarms  map[string]string // "region alarmName" -> DescribeAlarms item (metric alarms)
	// Topics maps a topic ARN to its Policy and KmsMasterKeyId attributes.
	Topics        map[string]string
	Subscriptions map[string]string // "topicARN protocol:endpoint" -> ListSubscriptions item
	// SubscriptionCount counts ListSubscriptions entries per key, so a
	// duplicate subscription (which would collapse in Subscriptions) shows.
	SubscriptionCount map[string]int
	Keys              map[string]string // key ARN -> KeyState, Enabled and the default key policy
	Trails            map[string]string // trail ARN -> trail, logging status and selectors
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readState reads regions' filters, alarms, topics, subscriptions, keys and
// trails.
func readState(t *testing.T, regions ...string) state {
	t.Helper()
	ctx := t.Context()
	s := state{Filters: map[string]string{}, Alarms: map[string]string{}, Topics: map[string]string{},
		Subscriptions: map[string]string{}, SubscriptionCount: map[string]int{}, Keys: map[string]string{}, Trails: map[string]string{}}
	for _, r := range regions {
		c := cfg(r)
		fp := cloudwatchlogs.NewDescribeMetricFiltersPaginator(cloudwatchlogs.NewFromConfig(c), &cloudwatchlogs.DescribeMetricFiltersInput{})
		for fp.HasMorePages() {
			out, err := fp.NextPage(ctx)
			if err != nil {
				t.Fatalf("describe metric filters in %s: %v", r, err)
			}
			for _, f := range out.MetricFilters {
				f.CreationTime = nil // moto stamps reads; the definition is what matters
				s.Filters[r+" "+aws.ToString(f.LogGroupName)+"/"+aws.ToString(f.FilterName)] = mustJSON(t, f)
			}
		}
		ap := cloudwatch.NewDescribeAlarmsPaginator(cloudwatch.NewFromConfig(c), &cloudwatch.DescribeAlarmsInput{})
		for ap.HasMorePages() {
			out, err := ap.NextPage(ctx)
			if err != nil {
				t.Fatalf("describe alarms in %s: %v", r, err)
			}
			for _, a := range out.MetricAlarms {
				s.Alarms[r+" "+aws.ToString(a.AlarmName)] = mustJSON(t, a)
			}
		}
		sn := sns.NewFromConfig(c)
		tp := sns.NewListTopicsPaginator(sn, &sns.ListTopicsInput{})
		for tp.HasMorePages() {
			out, err := tp.NextPage(ctx)
			if err != nil {
				t.Fatalf("list topics in %s: %v", r, err)
			}
			for _, tpc := range out.Topics {
				attrs, err := sn.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: tpc.TopicArn})
				if err != nil {
					t.Fatalf("get attributes of %s: %v", aws.ToString(tpc.TopicArn), err)
				}
				s.Topics[aws.ToString(tpc.TopicArn)] = mustJSON(t, map[string]string{
					"Policy": attrs.Attributes["Policy"], "KmsMasterKeyId": attrs.Attributes["KmsMasterKeyId"],
				})
			}
		}
		sp := sns.NewListSubscriptionsPaginator(sn, &sns.ListSubscriptionsInput{})
		for sp.HasMorePages() {
			out, err := sp.NextPage(ctx)
			if err != nil {
				t.Fatalf("list subscriptions in %s: %v", r, err)
			}
			for _, sub := range out.Subscriptions {
				key := aws.ToString(sub.TopicArn) + " " + aws.ToString(sub.Protocol) + ":" + aws.ToString(sub.Endpoint)
				s.Subscriptions[key] = mustJSON(t, sub)
				s.SubscriptionCount[key]++
			}
		}
		km := kms.NewFromConfig(c)
		kp := kms.NewListKeysPaginator(km, &kms.ListKeysInput{})
		for kp.HasMorePages() {
			out, err := kp.NextPage(ctx)
			if err != nil {
				t.Fatalf("list keys in %s: %v", r, err)
			}
			for _, k := range out.Keys {
				meta, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyArn})
				if err != nil {
					t.Fatalf("describe key %s: %v", aws.ToString(k.KeyArn), err)
				}
				pol, err := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyArn, PolicyName: aws.String("default")})
				if err != nil {
					t.Fatalf("get key policy of %s: %v", aws.ToString(k.KeyArn), err)
				}
				s.Keys[aws.ToString(k.KeyArn)] = mustJSON(t, map[string]any{
					"KeyState": meta.KeyMetadata.KeyState, "Enabled": meta.KeyMetadata.Enabled, "Policy": aws.ToString(pol.Policy),
				})
			}
		}
		ct := cloudtrail.NewFromConfig(c)
		trails, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
		if err != nil {
			t.Fatalf("describe trails in %s: %v", r, err)
		}
		for _, tr := range trails.TrailList {
			st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: tr.TrailARN})
			if err != nil {
				t.Fatalf("get trail status %s: %v", aws.ToString(tr.Name), err)
			}
			sel, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: tr.TrailARN})
			if err != nil {
				t.Fatalf("get event selectors %s: %v", aws.ToString(tr.Name), err)
			}
			s.Trails[aws.ToString(tr.TrailARN)] = mustJSON(t, map[string]any{
				"trail": tr, "isLogging": st.IsLogging, "classic": sel.EventSelectors, "advanced": sel.AdvancedEventSelectors,
			})
		}
	}
	return s
}

// owned reports whether a state key names something Watchkeeper owns (and
// may therefore rewrite): its prefixed filters and alarms, its topic and
// the topic's subscriptions.
func owned(key string) bool {
	name := key[strings.LastIndexAny(key, " /:")+1:]
	if strings.HasPrefix(name, prefix) {
		return true
	}
	return strings.Contains(key, ":"+topicName+" ") || strings.HasSuffix(key, ":"+topicName)
}

// unowned returns the part of m Watchkeeper does not own, less the keys in
// mayChange.
func unowned[V any](m map[string]V, mayChange ...string) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		if !owned(k) && !slices.Contains(mayChange, k) {
			out[k] = v
		}
	}
	return out
}

// assertUnownedUnchanged fails if any filter, alarm, topic, subscription,
// key or trail Watchkeeper does not own differs between before and after.
// mayChange lists keys (e.g. the configured topic key) healing may change.
func assertUnownedUnchanged(t *testing.T, before, after state, mayChange ...string) {
	t.Helper()
	for name, pair := range map[string][2]any{
		"filters":       {unowned(before.Filters), unowned(after.Filters)},
		"alarms":        {unowned(before.Alarms), unowned(after.Alarms)},
		"topics":        {unowned(before.Topics), unowned(after.Topics)},
		"subscriptions": {unowned(before.Subscriptions), unowned(after.Subscriptions)},
		"keys":          {unowned(before.Keys, mayChange...), unowned(after.Keys, mayChange...)},
		"trails":        {unowned(before.Trails, mayChange...), unowned(after.Trails, mayChange...)},
	} {
		if diff := cmp.Diff(pair[0], pair[1]); diff != "" {
			t.Errorf("%s Watchkeeper does not own changed (-before +after):\n%s", name, diff)
		}
	}
}

// filterDef and alarmDef are the parts of a filter and an alarm the
// invariants read.
type filterDef struct {
	LogGroupName          string
	FilterName            string
	MetricTransformations []struct{ MetricName, MetricNamespace string }
}

type alarmDef struct {
	AlarmName, MetricName, Namespace string
	AlarmActions                     []string
	ActionsEnabled                   bool
}

func decode[T any](t *testing.T, raw string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// assertNoDuplicates checks the convergence invariants in region: no two
// Watchkeeper filters publish one metric on a log group, no two
// Watchkeeper alarms watch one metric, one Watchkeeper topic, and no
// endpoint subscribed twice to a topic.
func assertNoDuplicates(t *testing.T, s state, region string) {
	t.Helper()
	published := map[string][]string{}
	for k, raw := range s.Filters {
		if !strings.HasPrefix(k, region+" ") || !owned(k) {
			continue
		}
		f := decode[filterDef](t, raw)
		for _, m := range f.MetricTransformations {
			key := f.LogGroupName + " " + m.MetricNamespace + "/" + m.MetricName
			published[key] = append(published[key], f.FilterName)
		}
	}
	for m, names := range published {
		if len(names) > 1 {
			t.Errorf("Watchkeeper filters %v all publish %s", names, m)
		}
	}
	watched := map[string][]string{}
	for k, raw := range s.Alarms {
		if !strings.HasPrefix(k, region+" ") || !owned(k) {
			continue
		}
		a := decode[alarmDef](t, raw)
		watched[a.Namespace+"/"+a.MetricName] = append(watched[a.Namespace+"/"+a.MetricName], a.AlarmName)
	}
	for m, names := range watched {
		if len(names) > 1 {
			t.Errorf("Watchkeeper alarms %v all watch %s", names, m)
		}
	}
	topics := 0
	for arn := range s.Topics {
		if strings.HasSuffix(arn, ":"+topicName) {
			topics++
		}
	}
	if topics > 1 {
		t.Errorf("%d topics named %s, want 1", topics, topicName)
	}
	for k, n := range s.SubscriptionCount {
		if n > 1 {
			t.Errorf("subscription %s exists %d times", k, n)
		}
	}
}
