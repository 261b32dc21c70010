package notify_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// heartbeat returns the Heartbeat value and its directive's dimension sets
// in an EMF document, or ok=false when the document names no heartbeat.
func heartbeat(t *testing.T, line []byte) (value float64, dims [][]string, ok bool) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatal(err)
	}
	for _, d := range doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
		dir := d.(map[string]any)
		for _, m := range dir["Metrics"].([]any) {
			if m.(map[string]any)["Name"] != notify.HeartbeatMetric {
				continue
			}
			for _, set := range dir["Dimensions"].([]any) {
				var names []string
				for _, n := range set.([]any) {
					names = append(names, n.(string))
					if _, isString := doc[n.(string)].(string); !isString {
						t.Errorf("heartbeat dimension %v is not a string root member", n)
					}
				}
				dims = append(dims, names)
			}
			v, _ := doc[notify.HeartbeatMetric].(float64)
			return v, dims, true
		}
	}
	if _, present := doc[notify.HeartbeatMetric]; present {
		t.Error("Heartbeat is a root member without a directive")
	}
	return 0, nil, false
}

// Only a run that evaluated the account to the end beats the heartbeat,
// and it does so on exactly the series the dead man's switch alarm watches
// (one dimension, the account).
func TestHeartbeatOnlyForSucceededRuns(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 1, 0, time.UTC)
	run := healed(t)
	run.Succeeded = true
	v, dims, ok := heartbeat(t, notify.EMF(run, now))
	if !ok || v != 1 || !slices.EqualFunc(dims, [][]string{{notify.HeartbeatDimension}}, slices.Equal) {
		t.Errorf("succeeded run: heartbeat %v value %v dimensions %v, want 1 on [[%s]]", ok, v, dims, notify.HeartbeatDimension)
	}
	run.Succeeded = false
	if _, _, ok := heartbeat(t, notify.EMF(run, now)); ok {
		t.Error("a run that did not succeed beats the heartbeat")
	}
	run.Succeeded, run.Report.Account = true, ""
	if _, _, ok := heartbeat(t, notify.EMF(run, now)); ok {
		t.Error("a run without an account (no dimension value) beats the heartbeat")
	}
}

func selfTrigger(t *testing.T, c trigger.APICall, params map[string]any) trigger.Trigger {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "trigger", "testdata", "events", "disable-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["source"] = c.Source
	d := m["detail"].(map[string]any)
	d["eventSource"], d["eventName"], d["requestParameters"] = c.EventSource, c.Name, params
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	tr, err := trigger.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func call(t *testing.T, name string) trigger.APICall {
	t.Helper()
	for _, c := range trigger.SelfWatched() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s is not a self-watch call", name)
	return trigger.APICall{}
}

// sectionItems returns the items of one titled section of a summary.
func sectionItems(msg, title string) []string {
	_, rest, ok := strings.Cut(msg, "\n"+title+":\n")
	if !ok {
		return nil
	}
	var out []string
	for _, l := range strings.Split(rest, "\n") {
		item, ok := strings.CutPrefix(l, "  - ")
		if !ok {
			break
		}
		out = append(out, item)
	}
	return out
}

func anyContains(items []string, s string) bool {
	return slices.ContainsFunc(items, func(it string) bool { return strings.Contains(it, s) })
}

// A change to Watchkeeper itself that the run cannot undo reaches a person
// even when every control passes: the summary is published, says what
// changed (the change sentence) and who changed it (the actor's ARN).
func TestSelfChangeTheRunCannotUndoNeedsAPerson(t *testing.T) {
	run := healed(t)
	run.Report.Actions = nil // a quiet, compliant run
	run.Trigger = selfTrigger(t, call(t, "UpdateFunctionConfiguration20150331v2"), map[string]any{"functionName": "Watchkeeper-Remediator", "timeout": 3})
	run.Self = []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Enabled}}
	if notify.ShouldPublish(run.Report) {
		t.Fatal("fixture: the report alone should not be worth publishing")
	}
	if !notify.ShouldPublishRun(run) {
		t.Fatal("a change to Watchkeeper itself is not published")
	}
	person := sectionItems(notify.Message(run), "What needs a person")
	if !anyContains(person, run.Trigger.Change) || !anyContains(person, run.Trigger.Actor.ARN) {
		t.Errorf("needs-a-person items %q lack the change %q or the actor %s", person, run.Trigger.Change, run.Trigger.Actor.ARN)
	}
	if !strings.Contains(notify.Subject(run), run.Trigger.Call.Name) {
		t.Errorf("subject %q does not name the call", notify.Subject(run))
	}
}

// A disabled own rule that the run re-enabled is listed as restored and
// needs no person; one it could not re-enable (report-only) needs one.
func TestDisabledOwnRule(t *testing.T) {
	run := healed(t)
	run.Report.Actions = nil
	run.Trigger = selfTrigger(t, call(t, "DisableRule"), map[string]any{"name": selfwatch.ScheduleRule})
	run.Self = []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Restored}}
	msg := notify.Message(run)
	if !anyContains(sectionItems(msg, "What was restored"), selfwatch.ScheduleRule) {
		t.Errorf("restored rule not listed as restored:\n%s", msg)
	}
	if anyContains(sectionItems(msg, "What needs a person"), selfwatch.ScheduleRule) {
		t.Errorf("restored rule listed as needing a person:\n%s", msg)
	}

	run.Self = []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Disabled, Error: "report-only run: not enabled"}}
	person := sectionItems(notify.Message(run), "What needs a person")
	if !anyContains(person, selfwatch.ScheduleRule) || !anyContains(person, run.Trigger.Actor.ARN) {
		t.Errorf("rule left disabled: needs-a-person items %q lack the rule or the actor", person)
	}
}

// The nightly run's check of the own rules is worth a message only when
// something about them changed.
func TestQuietRunWithEnabledRulesStaysQuiet(t *testing.T) {
	run := healed(t)
	run.Report.Actions = nil
	run.Trigger = trigger.Trigger{Kind: trigger.Scheduled}
	run.Self = []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Enabled}, {Name: selfwatch.DriftRule, Status: selfwatch.Enabled}}
	if notify.ShouldPublishRun(run) {
		t.Error("a quiet compliant run with its rules enabled is published")
	}
	run.Self[1].Status = selfwatch.Missing
	if !notify.ShouldPublishRun(run) {
		t.Error("a missing own rule is not published")
	}
}

// In a batch of drift events, every change to Watchkeeper itself is
// published and listed for a person, whichever event heads the summary.
func TestBatchListsEverySelfChange(t *testing.T) {
	run := healed(t)
	run.Report.Actions = nil
	fn := selfTrigger(t, call(t, "DeleteFunctionConcurrency20171031"), map[string]any{"functionName": "Watchkeeper-Remediator"})
	rule := selfTrigger(t, call(t, "RemoveTargets"), map[string]any{"rule": selfwatch.DriftRule, "ids": []any{"Target0"}})
	run.Trigger = drift(t)
	run.Events = []trigger.Trigger{drift(t), fn, rule}
	if !notify.ShouldPublishRun(run) {
		t.Fatal("a batch with changes to Watchkeeper itself is not published")
	}
	person := sectionItems(notify.Message(run), "What needs a person")
	for _, e := range []trigger.Trigger{fn, rule} {
		if !anyContains(person, e.Change) {
			t.Errorf("needs-a-person items %q lack %q", person, e.Change)
		}
	}
}
