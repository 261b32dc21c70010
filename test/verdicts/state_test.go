package verdicts_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/test/world"
)

// state is everything the alert path touches in some regions, read back
// through the SDK (world.State, topic attributes and KMS keys included).
type state = world.State

// readState reads regions' filters, alarms, topics with their Policy and
// KmsMasterKeyId, subscriptions, keys and trails.
func readState(t *testing.T, regions ...string) state {
	return h.State(t, world.StateOptions{TopicAttributes: true, Keys: true}, regions...)
}

// assertUnownedUnchanged fails if any filter, alarm, topic, subscription,
// key or trail Watchkeeper does not own differs between before and after.
// mayChange lists keys (e.g. the configured topic key) healing may change.
func assertUnownedUnchanged(t *testing.T, before, after state, mayChange ...string) {
	t.Helper()
	for name, pair := range map[string][2]any{
		"filters":       {world.Unowned(before.Filters), world.Unowned(after.Filters)},
		"alarms":        {world.Unowned(before.Alarms), world.Unowned(after.Alarms)},
		"topics":        {world.Unowned(before.Topics), world.Unowned(after.Topics)},
		"subscriptions": {world.Unowned(before.Subscriptions), world.Unowned(after.Subscriptions)},
		"keys":          {world.Unowned(before.Keys, mayChange...), world.Unowned(after.Keys, mayChange...)},
		"trails":        {world.Unowned(before.Trails, mayChange...), world.Unowned(after.Trails, mayChange...)},
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
		if !strings.HasPrefix(k, region+" ") || !world.Owned(k) {
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
		if !strings.HasPrefix(k, region+" ") || !world.Owned(k) {
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
