package verdicts_test

import (
	"encoding/json"
	"slices"
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
	t.Helper()
	s, err := world.New(cfg).State(t.Context(), world.StateOptions{TopicAttributes: true, Keys: true}, regions...)
	if err != nil {
		t.Fatalf("read state: %v", err)
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
