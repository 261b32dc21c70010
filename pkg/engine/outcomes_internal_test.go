package engine

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

func line(a plan.Action, st report.Status, err string) entry {
	return entry{action: a, outcome: report.Outcome{Status: st, Error: err}}
}

func TestMerge(t *testing.T) {
	filter := plan.Action{Kind: plan.PutMetricFilter, Region: "us-east-1", Target: "lg/watchkeeper-root-usage"}
	alarm := plan.Action{Kind: plan.PutMetricAlarm, Region: "us-east-1", Target: "arn:aws:cloudwatch:us-east-1:1:alarm:watchkeeper-root-usage"}
	topic := plan.Action{Kind: plan.CreateTopic, Region: "us-east-1", Target: "arn:aws:sns:us-east-1:1:watchkeeper-cis-alarms"}
	subA := plan.Action{Kind: plan.Subscribe, Region: "us-east-1", Target: topic.Target, Subscription: &plan.SubscriptionSpec{TopicARN: topic.Target, Protocol: "email", Endpoint: "a@example.com"}}
	subB := plan.Action{Kind: plan.Subscribe, Region: "us-east-1", Target: topic.Target, Subscription: &plan.SubscriptionSpec{TopicARN: topic.Target, Protocol: "email", Endpoint: "b@example.com"}}
	sameTargetOtherKind := plan.Action{Kind: plan.EnableAlarmActions, Region: alarm.Region, Target: alarm.Target}
	boom := errors.New("AccessDenied")

	for _, tc := range []struct {
		name  string
		run   []apply.Outcome
		still []plan.Action
		want  []entry
	}{
		{
			name: "converged: outcomes only",
			run:  []apply.Outcome{{Action: filter, Status: apply.StatusApplied}, {Action: alarm, Status: apply.StatusApplied}},
			want: []entry{line(filter, report.StatusApplied, ""), line(alarm, report.StatusApplied, "")},
		},
		{
			name:  "failed or skipped action still wanted is listed once, with its error",
			run:   []apply.Outcome{{Action: topic, Status: apply.StatusFailed, Err: boom}, {Action: subA, Status: apply.StatusSkipped, Err: boom}},
			still: []plan.Action{topic, subA},
			want:  []entry{line(topic, report.StatusFailed, "AccessDenied"), line(subA, report.StatusSkipped, "AccessDenied")},
		},
		{
			name:  "applied action wanted again becomes planned and says why",
			run:   []apply.Outcome{{Action: filter, Status: apply.StatusApplied}},
			still: []plan.Action{filter},
			want:  []entry{line(filter, report.StatusPlanned, notConverged)},
		},
		{
			name:  "a different kind on the same target is a different action",
			run:   []apply.Outcome{{Action: alarm, Status: apply.StatusFailed, Err: boom}},
			still: []plan.Action{sameTargetOtherKind},
			want:  []entry{line(alarm, report.StatusFailed, "AccessDenied"), line(sameTargetOtherKind, report.StatusPlanned, "")},
		},
		{
			name:  "another endpoint on the same topic is a different subscription",
			run:   []apply.Outcome{{Action: subA, Status: apply.StatusApplied}},
			still: []plan.Action{subB},
			want:  []entry{line(subA, report.StatusApplied, ""), line(subB, report.StatusPlanned, "")},
		},
		{
			name:  "new need discovered after apply",
			still: []plan.Action{alarm},
			want:  []entry{line(alarm, report.StatusPlanned, "")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := merge(tc.run, tc.still)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(entry{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("merge mismatch (-want +got):\n%s", diff)
			}
			// The report lists exactly these lines, in order.
			rep := assemble("apply", plan.Plan{}, got)
			if len(rep.Actions) != len(tc.want) {
				t.Fatalf("report has %d actions, want %d", len(rep.Actions), len(tc.want))
			}
			for i, w := range tc.want {
				if a := rep.Actions[i]; a.Action != string(w.action.Kind) || a.Status != w.outcome.Status || a.Error != w.outcome.Error {
					t.Errorf("report action %d = %s %s %q, want %s %s %q", i, a.Action, a.Status, a.Error, w.action.Kind, w.outcome.Status, w.outcome.Error)
				}
			}
		})
	}
}
