package trigger_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// selfEvent is a realistic self-watch event: the disable-key fixture's
// envelope and identity with another call and its requestParameters.
func selfEvent(t *testing.T, c trigger.APICall, params map[string]any) []byte {
	t.Helper()
	return mutate(t, "disable-key.json", func(m map[string]any) {
		m["source"] = c.Source
		d := detail(m)
		d["eventSource"], d["eventName"] = c.EventSource, c.Name
		d["requestParameters"] = params
	})
}

func selfCall(t *testing.T, name string) trigger.APICall {
	t.Helper()
	i := slices.IndexFunc(trigger.SelfWatched(), func(c trigger.APICall) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("%s is not a self-watch call", name)
	}
	return trigger.SelfWatched()[i]
}

// Each self-watch event decodes to a drift trigger marked SelfWatch that
// names the resource it changed and says what changed, with the values a
// person needs (the new concurrency, the policy) and without the ones that
// may be secret (environment variables).
func TestSelfWatchEventsSayWhatChanged(t *testing.T) {
	const fn = "Watchkeeper-RemediatorF10C6561-AbCdEf"
	for _, tc := range []struct {
		call      string
		params    map[string]any
		resources []string
		mention   []string // values the change sentence must carry
		never     []string // values it must not
	}{
		{call: "DisableRule", params: map[string]any{"name": "watchkeeper-nightly"},
			resources: []string{"rule watchkeeper-nightly"}, mention: []string{"watchkeeper-nightly"}},
		{call: "DeleteRule", params: map[string]any{"name": "watchkeeper-drift", "eventBusName": "default"},
			resources: []string{"rule watchkeeper-drift", "event bus default"}, mention: []string{"watchkeeper-drift"}},
		{call: "RemoveTargets", params: map[string]any{"rule": "watchkeeper-selfwatch", "ids": []any{"Target0", "Target1"}},
			resources: []string{"rule watchkeeper-selfwatch"}, mention: []string{"watchkeeper-selfwatch", "Target0", "Target1"}},
		{call: "PutFunctionConcurrency20171031", params: map[string]any{"functionName": fn, "reservedConcurrentExecutions": 0},
			resources: []string{"function " + fn}, mention: []string{fn, "0"}},
		{call: "UpdateFunctionConfiguration20150331v2",
			params:    map[string]any{"functionName": fn, "timeout": 3, "environment": map[string]any{"variables": map[string]any{"WATCHKEEPER_MODE": "report"}}},
			resources: []string{"function " + fn}, mention: []string{fn, "timeout=3", "environment"}, never: []string{"WATCHKEEPER_MODE", "report"}},
		{call: "DeleteFunction20150331", params: map[string]any{"functionName": fn},
			resources: []string{"function " + fn}, mention: []string{fn}},
		{call: "DeleteRolePolicy", params: map[string]any{"roleName": "Watchkeeper-TrailLogsRole", "policyName": "LogsRoleDefaultPolicy"},
			resources: []string{"role Watchkeeper-TrailLogsRole", "policy LogsRoleDefaultPolicy"}, mention: []string{"Watchkeeper-TrailLogsRole", "LogsRoleDefaultPolicy"}},
	} {
		t.Run(tc.call, func(t *testing.T) {
			c := selfCall(t, tc.call)
			got, err := trigger.Decode(selfEvent(t, c, tc.params))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Kind != trigger.Drift || got.Call != c || !got.SelfWatch() {
				t.Errorf("decoded kind %s call %+v self-watch %v, want a self-watch drift of %+v", got.Kind, got.Call, got.SelfWatch(), c)
			}
			if !slices.Equal(got.Resources, tc.resources) {
				t.Errorf("Resources = %q, want %q", got.Resources, tc.resources)
			}
			if got.Target == "" || !strings.HasSuffix(tc.resources[0], " "+got.Target) {
				t.Errorf("Target = %q, want the name in %q", got.Target, tc.resources[0])
			}
			for _, m := range tc.mention {
				if !strings.Contains(got.Change, m) {
					t.Errorf("Change %q does not mention %q", got.Change, m)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(got.Change, n) {
					t.Errorf("Change %q reveals %q", got.Change, n)
				}
			}
		})
	}
}

// A control call is never a self-watch event, and has no change sentence:
// its run summary says what the run found.
func TestControlCallsAreNotSelfWatch(t *testing.T) {
	got, err := trigger.Decode(load(t, "disable-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.SelfWatch() || got.Change != "" {
		t.Errorf("DisableKey: SelfWatch %v Change %q, want false and empty", got.SelfWatch(), got.Change)
	}
}

// Every self-watch call names the requestParameters member the drift rule
// matches against Watchkeeper's own names; no control call does, so the
// rule never narrows a control call to some resources.
func TestEverySelfWatchCallHasAResourceParameter(t *testing.T) {
	for _, c := range append(trigger.Handled(), trigger.SelfWatched()...) {
		if got := c.ResourceParameter(); (got != "") != (c.Scope != trigger.AnyResource) {
			t.Errorf("%s (scope %q): ResourceParameter = %q", c.Name, c.Scope, got)
		}
	}
	if len(trigger.SelfWatched()) == 0 {
		t.Error("no self-watch calls")
	}
}

// A self-watch event with odd requestParameters still decodes: they are
// informational, and the event must still reach a person.
func TestSelfWatchEventWithOddParametersDecodes(t *testing.T) {
	c := selfCall(t, "PutFunctionConcurrency20171031")
	for _, params := range []map[string]any{nil, {"functionName": 7}, {"reservedConcurrentExecutions": "lots"}} {
		got, err := trigger.Decode(selfEvent(t, c, params))
		if err != nil || !got.SelfWatch() || got.Change == "" {
			t.Errorf("params %v: err %v self-watch %v change %q", params, err, got.SelfWatch(), got.Change)
		}
	}
}
