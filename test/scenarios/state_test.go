package scenarios_test

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/test/world"
)

// state is everything the monitoring controls touch in some regions, read
// back through the SDK (world.State: topic ARNs without attributes, no KMS
// keys).
type state = world.State

// readState reads regions' filters, alarms, topics, subscriptions and
// trails.
func readState(t *testing.T, regions ...string) state {
	return h.State(t, world.StateOptions{}, regions...)
}

// assertUnownedUnchanged fails if any filter, alarm, topic or subscription
// Watchkeeper does not own differs between before and after, or if a trail
// changed other than those listed in mayChange.
func assertUnownedUnchanged(t *testing.T, before, after state, mayChange ...string) {
	t.Helper()
	for name, pair := range map[string][2]any{
		"filters":       {world.Unowned(before.Filters), world.Unowned(after.Filters)},
		"alarms":        {world.Unowned(before.Alarms), world.Unowned(after.Alarms)},
		"topics":        {world.Unowned(before.Topics), world.Unowned(after.Topics)},
		"subscriptions": {world.Unowned(before.Subscriptions), world.Unowned(after.Subscriptions)},
	} {
		if diff := cmp.Diff(pair[0], pair[1]); diff != "" {
			t.Errorf("%s Watchkeeper does not own changed (-before +after):\n%s", name, diff)
		}
	}
	trailsBefore, trailsAfter := map[string]string{}, map[string]string{}
	for k, v := range before.Trails {
		if !slices.Contains(mayChange, k) {
			trailsBefore[k] = v
		}
	}
	for k, v := range after.Trails {
		if !slices.Contains(mayChange, k) {
			trailsAfter[k] = v
		}
	}
	if diff := cmp.Diff(trailsBefore, trailsAfter); diff != "" {
		t.Errorf("trails changed (-before +after):\n%s", diff)
	}
}

// filtersOn returns the filters of logGroup in region, decoded.
func filtersOn(t *testing.T, s state, region, logGroup string) []filterDef {
	t.Helper()
	var out []filterDef
	for k, v := range s.Filters {
		if strings.HasPrefix(k, region+" "+logGroup+"/") {
			var f filterDef
			if err := json.Unmarshal([]byte(v), &f); err != nil {
				t.Fatal(err)
			}
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FilterName < out[j].FilterName })
	return out
}

// filterDef is the part of a metric filter the assertions read.
type filterDef struct {
	FilterName            string
	FilterPattern         string
	MetricTransformations []struct {
		MetricName      string
		MetricNamespace string
		MetricValue     string
	}
}

// alarmDef is the part of an alarm the assertions read.
type alarmDef struct {
	AlarmName      string
	MetricName     string
	Namespace      string
	ActionsEnabled bool
	AlarmActions   []string
}

// alarms returns region's alarms, decoded.
func alarms(t *testing.T, s state, region string) []alarmDef {
	t.Helper()
	var out []alarmDef
	for k, v := range s.Alarms {
		if strings.HasPrefix(k, region+" ") {
			var a alarmDef
			if err := json.Unmarshal([]byte(v), &a); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AlarmName < out[j].AlarmName })
	return out
}

// trailDef is the part of a trail's state the assertions read.
type trailDef struct {
	Trail struct {
		Name                      string
		IsMultiRegionTrail        bool
		CloudWatchLogsLogGroupArn string
	} `json:"trail"`
	IsLogging bool `json:"isLogging"`
	Classic   []struct {
		ReadWriteType                 string
		IncludeManagementEvents       *bool
		ExcludeManagementEventSources []string
		DataResources                 []struct {
			Type   *string
			Values []string
		}
	} `json:"classic"`
	Advanced []struct {
		Name           *string
		FieldSelectors []struct {
			Field  *string
			Equals []string
		}
	} `json:"advanced"`
}

func trailOf(t *testing.T, s state, arn string) trailDef {
	t.Helper()
	raw, ok := s.Trails[arn]
	if !ok {
		t.Fatalf("no trail %s in state", arn)
	}
	var d trailDef
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// assertNoDuplicates checks the convergence invariants on a log group:
// at most one Watchkeeper filter per control, every Watchkeeper filter's
// metric watched by exactly one Watchkeeper alarm, one Watchkeeper topic,
// and no endpoint subscribed twice.
func assertNoDuplicates(t *testing.T, s state, region, logGroup string) {
	t.Helper()
	metrics := map[string]int{}
	for _, f := range filtersOn(t, s, region, logGroup) {
		for _, m := range f.MetricTransformations {
			metrics[m.MetricNamespace+"/"+m.MetricName]++
		}
	}
	for m, n := range metrics {
		if n > 1 {
			t.Errorf("metric %s is published by %d filters on %s, want 1", m, n, logGroup)
		}
	}
	perMetric := map[string]int{}
	for _, a := range alarms(t, s, region) {
		if strings.HasPrefix(a.AlarmName, prefix) {
			perMetric[a.Namespace+"/"+a.MetricName]++
		}
	}
	for m, n := range perMetric {
		if n > 1 {
			t.Errorf("%d Watchkeeper alarms watch %s, want 1", n, m)
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

// logGroups returns the (region, log group) pairs that have filters in s.
func logGroups(s state) [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	for k := range s.Filters {
		region, rest, _ := strings.Cut(k, " ")
		lg := rest[:strings.LastIndex(rest, "/")]
		if p := [2]string{region, lg}; !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0]+out[i][1] < out[j][0]+out[j][1] })
	return out
}
