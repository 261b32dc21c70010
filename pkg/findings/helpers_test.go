package findings_test

import (
	"fmt"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

const (
	acct     = "123456789012"
	home     = "us-east-1"
	lgName   = "/aws/cloudtrail/main"
	lgARN    = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/main"
	topicARN = "arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms"
)

// t0 is the first run's time; later runs are t0 plus whole hours.
var t0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

func at(hours int) time.Time { return t0.Add(time.Duration(hours) * time.Hour) }

// chainOf is the chain plan reports for control c: Watchkeeper's own
// filter and alarm on the main log group, and its topic.
func chainOf(c catalog.Control) *plan.Chain {
	name := "watchkeeper-" + c.Key
	return &plan.Chain{Region: home, LogGroupARN: lgARN, LogGroupName: lgName, FilterName: name, AlarmName: name,
		AlarmARN: fmt.Sprintf("arn:aws:cloudwatch:us-east-1:%s:alarm:%s", acct, name), TopicARN: topicARN}
}

// result is control c of b judged s, as plan.Compute reports it.
func result(c catalog.Control, s plan.Status) plan.ControlResult {
	r := plan.ControlResult{ID: c.ID, SecurityHubID: c.SecurityHubID, Title: c.Title, Status: s, Reasons: []string{}}
	switch s {
	case plan.StatusPass:
		r.Reasons = []string{fmt.Sprintf("metric filter watchkeeper-%s on log group %s (us-east-1) counts this control's events and alarm watchkeeper-%[1]s notifies topic %s (confirmed subscriptions: 1)", c.Key, lgName, topicARN)}
		r.Where, r.Chain = lgARN, chainOf(c)
	case plan.StatusFail:
		p := plan.Problem{Code: plan.CodeFiltersNotPresent, Reason: fmt.Sprintf("no metric filter on log group %s (us-east-1) matches this control's pattern", lgName)}
		r.Reasons, r.Codes, r.Problems, r.Chain = []string{p.Reason}, []string{p.Code}, []plan.Problem{p}, chainOf(c)
	case plan.StatusError:
		p := plan.Problem{Reason: "could not read the metric filters and alarms of log group " + lgName + " (us-east-1): AccessDeniedException"}
		r.Reasons, r.Problems = []string{p.Reason}, []plan.Problem{p}
	case plan.StatusExcluded:
		p := plan.Problem{Reason: "excluded by configuration"}
		r.Reasons, r.Problems = []string{p.Reason}, []plan.Problem{p}
	}
	return r
}

// reportOf is a report of benchmark b in mode whose controls are judged by
// status (by control id; PASS when absent), with, for every failing
// control, Watchkeeper's filter and alarm actions in state act.
func reportOf(b catalog.Benchmark, mode string, act report.Status, status map[string]plan.Status) report.Report {
	r := report.Report{Account: acct, Benchmark: b.ID, HomeRegion: home, Mode: mode, TopicARN: topicARN,
		Controls: []plan.ControlResult{}, Regions: []plan.RegionResult{}, Actions: []report.Action{}, Warnings: []string{}}
	for _, c := range b.Controls {
		s, ok := status[c.ID]
		if !ok {
			s = plan.StatusPass
		}
		r.Controls = append(r.Controls, result(c, s))
		if s == plan.StatusFail {
			ch := chainOf(c)
			r.Actions = append(r.Actions,
				report.Action{Action: string(plan.PutMetricFilter), Region: home, Target: lgName + "/" + ch.FilterName, Status: act, Controls: []string{c.ID}},
				report.Action{Action: string(plan.PutMetricAlarm), Region: home, Target: ch.AlarmARN, Status: act, Controls: []string{c.ID}})
		}
	}
	r.Compliant = len(status) == 0
	return r
}
