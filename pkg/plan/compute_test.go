package plan_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// scenario is one account state with what Compute must conclude about it.
type scenario struct {
	name  string
	opts  func(*plan.Options) // nil: options()
	snap  func() model.Snapshot
	check func(t *testing.T, p plan.Plan)
	// failsAfterApply is true when the account cannot become compliant by
	// Watchkeeper's actions alone (a person must act); convergence then
	// means zero actions, not compliance.
	failsAfterApply bool
}

func (sc scenario) options() plan.Options {
	o := options()
	if sc.opts != nil {
		sc.opts(&o)
	}
	return o
}

// --- assertion helpers ---

func actionLines(p plan.Plan) []string {
	out := []string{}
	for _, a := range p.Actions {
		line := fmt.Sprintf("%s %s %s", a.Kind, a.Region, a.Target)
		if a.Subscription != nil {
			line += " " + a.Subscription.Protocol + ":" + a.Subscription.Endpoint
		}
		out = append(out, line)
	}
	return out
}

func wantActions(t *testing.T, p plan.Plan, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if diff := gocmp.Diff(want, actionLines(p)); diff != "" {
		t.Errorf("actions mismatch (-want +got):\n%s", diff)
	}
}

func result(t *testing.T, p plan.Plan, key string) plan.ControlResult {
	t.Helper()
	id := control(t, key).ID
	for _, r := range p.Controls {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for control %s (%s)", id, key)
	return plan.ControlResult{}
}

// wantStatus asserts the status of the controls named by key and that every
// other control has status others ("" skips the others).
func wantStatus(t *testing.T, p plan.Plan, others plan.Status, want map[string]plan.Status) {
	t.Helper()
	if len(p.Controls) != len(bench().Controls) {
		t.Fatalf("got %d control results, want %d", len(p.Controls), len(bench().Controls))
	}
	for _, c := range bench().Controls {
		r := result(t, p, c.Key)
		w, named := want[c.Key]
		if !named {
			if others == "" {
				continue
			}
			w = others
		}
		if r.Status != w {
			t.Errorf("control %s (%s): status %s, want %s; reasons: %q", c.ID, c.Key, r.Status, w, r.Reasons)
		}
	}
}

func wantCode(t *testing.T, r plan.ControlResult, code string) {
	t.Helper()
	if !slices.Contains(r.Codes, code) {
		t.Errorf("control %s: codes %q, want %s among them; reasons: %q", r.ID, r.Codes, code, r.Reasons)
	}
}

func wantReason(t *testing.T, r plan.ControlResult, substrs ...string) {
	t.Helper()
	all := strings.Join(r.Reasons, "\n")
	for _, s := range substrs {
		if !strings.Contains(all, s) {
			t.Errorf("control %s: reasons do not mention %q:\n%s", r.ID, s, all)
		}
	}
}

func action(t *testing.T, p plan.Plan, kind plan.Kind) plan.Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Kind == kind {
			return a
		}
	}
	t.Fatalf("no %s action in %q", kind, actionLines(p))
	return plan.Action{}
}

func filterTarget(c catalog.Control) string {
	return "PutMetricFilter us-east-1 /aws/cloudtrail/main/" + prefix + c.Key
}

func alarmTarget(c catalog.Control) string {
	return "PutMetricAlarm us-east-1 arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + prefix + c.Key
}

// fullSetup is every action that sets monitoring up from scratch on the log
// group /aws/cloudtrail/main, sorted as Compute sorts them.
func fullSetup(lgName string) []string {
	out := []string{"CreateTopic us-east-1 " + ourTopic}
	var filters, alarms []string
	for _, c := range bench().Controls {
		filters = append(filters, "PutMetricFilter us-east-1 "+lgName+"/"+prefix+c.Key)
		alarms = append(alarms, "PutMetricAlarm us-east-1 arn:aws:cloudwatch:us-east-1:123456789012:alarm:"+prefix+c.Key)
	}
	slices.Sort(filters)
	slices.Sort(alarms)
	out = append(out, filters...)
	out = append(out, "Subscribe us-east-1 "+ourTopic+" email:"+email)
	return append(out, alarms...)
}

// --- scenarios ---

func scenarios(t *testing.T) []scenario {
	cmk := control(t, "cmk-disable-or-delete")
	root := control(t, "root-account-usage")
	orgs := control(t, "organizations-changes")
	sgc := control(t, "security-group-changes")

	var out []scenario
	out = append(out,
		scenario{
			name:            "empty account",
			snap:            emptyAccount,
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				r := result(t, p, "cmk-disable-or-delete")
				wantCode(t, r, plan.CodeMultiRegionNotPresent)
				wantReason(t, r, "has no CloudTrail trail", "create a multi-region trail")
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusFail {
						t.Errorf("region %s: %s, want FAIL", reg.Region, reg.Status)
					}
				}
				wantActions(t, p)
				if p.Compliant() {
					t.Error("empty account reported compliant")
				}
			},
		},
		scenario{
			name: "compliant account",
			snap: compliantAccount,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p)
				if !p.Compliant() {
					t.Errorf("compliant account reported non-compliant: %+v", p.Controls)
				}
				if r := result(t, p, "cmk-disable-or-delete"); r.Where != mainLG || len(r.Codes) != 0 {
					t.Errorf("PASS result: where %q codes %q, want where %s and no codes", r.Where, r.Codes, mainLG)
				}
				if len(p.Regions) != 3 || p.Regions[0].Region != "eu-west-1" || p.Regions[2].Region != "us-west-2" {
					t.Errorf("regions not sorted by name: %+v", p.Regions)
				}
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusPass {
						t.Errorf("region %s: %s, want PASS", reg.Region, reg.Status)
					}
				}
			},
		},
		scenario{
			name:            "trail with an empty log group: full setup",
			failsAfterApply: true, // the email subscription awaits confirmation
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "main")
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantCode(t, result(t, p, "root-account-usage"), plan.CodeFiltersNotPresent)
				wantActions(t, p, fullSetup("/aws/cloudtrail/main")...)
				c := bench().Controls[0]
				var f *plan.FilterSpec
				for _, a := range p.Actions {
					if a.Filter != nil && a.Filter.FilterName == prefix+c.Key {
						f = a.Filter
					}
				}
				if f == nil || f.Pattern != c.PatternFor(catalog.ProfileBenchmark) || f.Namespace != "CISBenchmark" || f.MetricValue != "1" {
					t.Errorf("first filter %+v, want the benchmark pattern of %s in CISBenchmark counting 1", f, c.ID)
				}
				ct := action(t, p, plan.CreateTopic)
				if ct.Topic.Name != "watchkeeper-cis-alarms" || len(ct.Controls) != len(bench().Controls) {
					t.Errorf("CreateTopic %+v controls %q, want watchkeeper-cis-alarms for every control", ct.Topic, ct.Controls)
				}
			},
		},
	)

	// Each control's filter missing.
	for _, c := range bench().Controls {
		out = append(out, scenario{
			name: "filter missing " + c.ID,
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropFilter(&s, mainLG, prefix+c.Key)
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{c.Key: plan.StatusFail})
				wantCode(t, result(t, p, c.Key), plan.CodeFiltersNotPresent)
				wantActions(t, p, filterTarget(c))
			},
		})
	}

	out = append(out,
		scenario{
			name: "our filter rewritten with a wrong pattern",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) {
					for i := range g.Filters {
						if g.Filters[i].Name == prefix+cmk.Key {
							g.Filters[i].Pattern = `{ $.eventName = DisableKey }`
						}
					}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusFail})
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeFilterNotValid)
				wantReason(t, r, "Watchkeeper's metric filter "+prefix+cmk.Key)
				wantActions(t, p, filterTarget(cmk))
				if a := action(t, p, plan.PutMetricFilter); !strings.Contains(a.Reason, "rewrite") || a.Filter.Pattern != cmk.PatternFor(catalog.ProfileBenchmark) {
					t.Errorf("PutMetricFilter %q pattern %q, want a rewrite to the benchmark pattern", a.Reason, a.Filter.Pattern)
				}
			},
		},
		scenario{
			name: "foreign filter with a wrong pattern is left alone",
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropFilter(&s, mainLG, prefix+cmk.Key)
				editLG(&s, mainLG, func(g *model.LogGroup) {
					g.Filters = append(g.Filters, model.MetricFilter{Name: "team-kms", Pattern: `{ $.eventName = DisableKey }`,
						Transformations: []model.MetricTransformation{{MetricName: "KMS", MetricNamespace: "Team", MetricValue: "1"}}})
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusFail})
				wantActions(t, p, filterTarget(cmk))
			},
		},
		scenario{
			name: "user's equivalent filter and alarm under other names pass",
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropFilter(&s, mainLG, prefix+cmk.Key)
				dropAlarm(&s, mainLG, prefix+cmk.Key)
				team := "arn:aws:sns:us-east-1:123456789012:team-alerts"
				addTopic(&s, team, model.Subscription{ARN: team + ":1", Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:q"})
				editLG(&s, mainLG, func(g *model.LogGroup) {
					// Operand order, spacing and grouping differ from the CIS text.
					g.Filters = append(g.Filters, model.MetricFilter{Name: "team-kms",
						Pattern:         `{ ($.eventName = ScheduleKeyDeletion || $.eventName = DisableKey) && $.eventSource = "kms.amazonaws.com" }`,
						Transformations: []model.MetricTransformation{{MetricName: "KMS", MetricNamespace: "Team", MetricValue: "1"}}})
					a := ownAlarm(cmk, "Team", "KMS")
					a.Name, a.AlarmActions, a.Statistic = "team-kms-alarm", []string{team}, "SampleCount"
					g.Alarms = append(g.Alarms, a)
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantReason(t, result(t, p, cmk.Key), "team-kms", "team-kms-alarm")
				wantActions(t, p)
			},
		},
		scenario{
			// Reviewer's D4: a filter publishing with dimensions emits only
			// per-dimension series; a dimensionless alarm never fires.
			name: "user's equivalent filter with dimensions does not count: our own filter and alarm are added",
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropFilter(&s, mainLG, prefix+cmk.Key)
				dropAlarm(&s, mainLG, prefix+cmk.Key)
				team := "arn:aws:sns:us-east-1:123456789012:team-alerts"
				addTopic(&s, team, model.Subscription{ARN: team + ":1", Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:q"})
				editLG(&s, mainLG, func(g *model.LogGroup) {
					g.Filters = append(g.Filters, model.MetricFilter{Name: "team-kms",
						Pattern: `{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}`,
						Transformations: []model.MetricTransformation{{MetricName: "KMS", MetricNamespace: "Team", MetricValue: "1",
							Dimensions: map[string]string{"EventName": "$.eventName"}}}})
					a := ownAlarm(cmk, "Team", "KMS")
					a.Name, a.AlarmActions = "team-kms-alarm", []string{team}
					g.Alarms = append(g.Alarms, a)
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusFail})
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeMetricMismatch)
				wantReason(t, r, "team-kms-alarm", "without dimensions", "EventName=$.eventName", "gets no data")
				wantActions(t, p, filterTarget(cmk), alarmTarget(cmk))
				if a := action(t, p, plan.PutMetricAlarm).Alarm; a.MetricName != cmk.MetricName || a.Namespace != "CISBenchmark" {
					t.Errorf("alarm %+v, want it on Watchkeeper's own dimensionless metric", a)
				}
			},
		},
		scenario{
			name: "user's equivalent filter without alarm: our alarm on their metric, no duplicate filter",
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropFilter(&s, mainLG, prefix+cmk.Key)
				dropAlarm(&s, mainLG, prefix+cmk.Key)
				editLG(&s, mainLG, func(g *model.LogGroup) {
					g.Filters = append(g.Filters, model.MetricFilter{Name: "team-kms",
						Pattern:         `{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}`,
						Transformations: []model.MetricTransformation{{MetricName: "KMS", MetricNamespace: "Team", MetricValue: "1"}}})
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeAlarmsNotPresent)
				wantActions(t, p, alarmTarget(cmk))
				if a := action(t, p, plan.PutMetricAlarm).Alarm; a.MetricName != "KMS" || a.Namespace != "Team" || a.TopicARN != ourTopic {
					t.Errorf("alarm %+v, want it on Team/KMS notifying %s", a, ourTopic)
				}
			},
		},
		scenario{
			name: "over-broad foreign filter does not count",
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropFilter(&s, mainLG, prefix+root.Key)
				dropAlarm(&s, mainLG, prefix+root.Key)
				editLG(&s, mainLG, func(g *model.LogGroup) {
					g.Filters = append(g.Filters, model.MetricFilter{Name: "everything", Pattern: `{ $.eventName = * }`,
						Transformations: []model.MetricTransformation{{MetricName: "All", MetricNamespace: "Team", MetricValue: "1"}}})
					a := ownAlarm(root, "Team", "All")
					a.Name = "everything"
					g.Alarms = append(g.Alarms, a)
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{root.Key: plan.StatusFail})
				r := result(t, p, root.Key)
				wantCode(t, r, plan.CodeFilterTooBroad)
				wantReason(t, r, "everything", "routine activity", "sits in ALARM")
				wantActions(t, p, filterTarget(root), alarmTarget(root))
			},
		},
		scenario{
			name: "filter counting something other than events does not count",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) {
					for i := range g.Filters {
						if g.Filters[i].Name == prefix+sgc.Key {
							g.Filters[i].Transformations[0].MetricValue = "$.requestParameters.count"
						}
					}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{sgc.Key: plan.StatusFail})
				wantCode(t, result(t, p, sgc.Key), plan.CodeTransformationNotValid)
				wantActions(t, p, filterTarget(sgc))
			},
		},
		scenario{
			name: "alarm missing",
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropAlarm(&s, mainLG, prefix+orgs.Key)
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{orgs.Key: plan.StatusFail})
				wantCode(t, result(t, p, orgs.Key), plan.CodeAlarmsNotPresent)
				wantActions(t, p, alarmTarget(orgs))
			},
		},
		scenario{
			name: "our alarm's actions disabled",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editAlarm(&s, mainLG, prefix+cmk.Key, func(a *model.Alarm) { a.ActionsEnabled = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusFail})
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeAlarmActionsNotValid)
				wantReason(t, r, "actions disabled")
				wantActions(t, p, "EnableAlarmActions us-east-1 arn:aws:cloudwatch:us-east-1:123456789012:alarm:"+prefix+cmk.Key)
			},
		},
		scenario{
			name: "foreign alarm with actions disabled is not touched",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editAlarm(&s, mainLG, prefix+cmk.Key, func(a *model.Alarm) { a.Name = "team-kms"; a.ActionsEnabled = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantActions(t, p, alarmTarget(cmk))
			},
		},
		scenario{
			name: "our alarm notifies a deleted topic",
			snap: func() model.Snapshot {
				s := compliantAccount()
				gone := "arn:aws:sns:us-east-1:123456789012:old-alerts"
				s.Topics[gone] = model.Topic{ARN: gone, Region: home, Account: account, Exists: false}
				editAlarm(&s, mainLG, prefix+cmk.Key, func(a *model.Alarm) { a.AlarmActions = []string{gone} })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeAlarmActionsNotValid)
				wantReason(t, r, "old-alerts, which does not exist")
				wantActions(t, p, alarmTarget(cmk))
			},
		},
		scenario{
			name: "our topic deleted: recreate and resubscribe, alarms untouched",
			snap: func() model.Snapshot {
				s := compliantAccount()
				s.Topics[ourTopic] = model.Topic{ARN: ourTopic, Region: home, Account: account, Exists: false}
				return s
			},
			failsAfterApply: true, // the new email subscription awaits confirmation
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantActions(t, p, "CreateTopic us-east-1 "+ourTopic, "Subscribe us-east-1 "+ourTopic+" email:"+email)
			},
		},
		scenario{
			name: "topic without subscription, endpoint configured",
			snap: func() model.Snapshot {
				s := compliantAccount()
				addTopic(&s, ourTopic)
				return s
			},
			opts: func(o *plan.Options) {
				o.Subscriptions = []plan.Endpoint{{Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:alerts"}}
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantCode(t, result(t, p, cmk.Key), plan.CodeSubscriptionNotPresent)
				wantActions(t, p, "Subscribe us-east-1 "+ourTopic+" sqs:arn:aws:sqs:us-east-1:123456789012:alerts")
				if a := action(t, p, plan.Subscribe); len(a.Controls) != len(bench().Controls) {
					t.Errorf("Subscribe serves %q, want every control", a.Controls)
				}
			},
		},
		scenario{
			name: "topic without subscription, none configured",
			snap: func() model.Snapshot {
				s := compliantAccount()
				addTopic(&s, ourTopic)
				return s
			},
			opts:            func(o *plan.Options) { o.Subscriptions = nil },
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeSubscriptionNotPresent)
				wantReason(t, r, "none is configured", "WATCHKEEPER_SUBSCRIPTIONS")
				wantActions(t, p)
			},
		},
		scenario{
			name: "pending-only subscription is never re-subscribed",
			snap: func() model.Snapshot {
				s := compliantAccount()
				addTopic(&s, ourTopic, pending("email", email))
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeSubscriptionNotPresent)
				wantReason(t, r, "confirm the subscription sent to "+email)
				wantActions(t, p)
				if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "awaiting confirmation") }) {
					t.Errorf("warnings %q do not mention the pending subscription", p.Warnings)
				}
			},
		},
		scenario{
			name: "KMS topic whose key policy does not let CloudWatch use it",
			snap: func() model.Snapshot {
				s := compliantAccount()
				tp := s.Topics[ourTopic]
				tp.KMSKeyID = "arn:aws:kms:us-east-1:123456789012:key/1234"
				tp.KMS = &model.TopicKey{KeyARN: tp.KMSKeyID, KeyState: "Enabled", Policy: rootOnlyKeyPolicy}
				s.Topics[ourTopic] = tp
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeTopicKeyNotUsable)
				wantReason(t, r, "key/1234", "cloudwatch.amazonaws.com", "kms:GenerateDataKey*")
				wantActions(t, p)
			},
		},
		scenario{
			name: "topic encrypted with the AWS managed SNS key",
			snap: func() model.Snapshot {
				s := compliantAccount()
				tp := s.Topics[ourTopic]
				tp.KMSKeyID = "alias/aws/sns"
				tp.KMS = &model.TopicKey{AWSManaged: true}
				s.Topics[ourTopic] = tp
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				r := result(t, p, root.Key)
				wantCode(t, r, plan.CodeTopicKeyNotUsable)
				wantReason(t, r, "alias/aws/sns", "customer managed key")
			},
		},
		scenario{
			name: "KMS key policy unreadable is ERROR, not FAIL",
			snap: func() model.Snapshot {
				s := compliantAccount()
				tp := s.Topics[ourTopic]
				tp.KMSKeyID = "arn:aws:kms:us-east-1:123456789012:key/1234"
				tp.KMS = &model.TopicKey{Error: "AccessDeniedException: kms:GetKeyPolicy"}
				s.Topics[ourTopic] = tp
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusError, nil)
				wantReason(t, result(t, p, cmk.Key), "AccessDeniedException")
				wantActions(t, p)
			},
		},
		scenario{
			name: "logging stopped, safe healing",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.Status.IsLogging = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantCode(t, result(t, p, cmk.Key), plan.CodeMultiRegionNotPresent)
				wantReason(t, result(t, p, cmk.Key), "is not logging")
				wantActions(t, p, "StartLogging us-east-1 "+trailARN(home, account, "main"))
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusFail {
						t.Errorf("region %s: %s, want FAIL while the only trail is stopped", reg.Region, reg.Status)
					}
				}
			},
		},
		scenario{
			name:            "logging stopped, no healing",
			opts:            func(o *plan.Options) { o.TrailHealing = plan.HealNone },
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.Status.IsLogging = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantReason(t, result(t, p, cmk.Key), "trail healing is none", "start-logging")
				wantActions(t, p)
			},
		},
		scenario{
			name:            "single-region trail, safe healing",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.IsMultiRegion = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				r := result(t, p, cmk.Key)
				wantCode(t, r, plan.CodeMultiRegionNotPresent)
				wantReason(t, r, "single-region", "trail healing full would", "--is-multi-region-trail")
				wantActions(t, p)
			},
		},
		scenario{
			name: "single-region trail, full healing",
			opts: func(o *plan.Options) { o.TrailHealing = plan.HealFull },
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.IsMultiRegion = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantActions(t, p, "UpdateTrail us-east-1 "+trailARN(home, account, "main"))
				if a := action(t, p, plan.UpdateTrail); !a.Trail.MakeMultiRegion || a.Trail.LogGroupARN != "" {
					t.Errorf("UpdateTrail spec %+v, want MakeMultiRegion only", a.Trail)
				}
			},
		},
		scenario{
			name: "management events off: a management selector is added, the data selector kept",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Selectors = &model.Selectors{Classic: []model.ClassicSelector{{
						ReadWriteType: "All", IncludeManagementEvents: false,
						DataResources: []model.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::bucket/"}}},
					}}}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantReason(t, result(t, p, root.Key), "does not record all (read and write) management events")
				wantActions(t, p, "PutEventSelectors us-east-1 "+trailARN(home, account, "main"))
				want := &model.Selectors{Classic: []model.ClassicSelector{{
					ReadWriteType: "All", IncludeManagementEvents: false,
					DataResources: []model.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::bucket/"}}},
				}, {ReadWriteType: "All", IncludeManagementEvents: true}}}
				if diff := gocmp.Diff(want, action(t, p, plan.PutEventSelectors).Trail.Selectors); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
			},
		},
		scenario{
			// Reviewer's D1: a write-only selector with S3 data events was
			// widened to All, logging read data events of every bucket.
			name: "write-only management plus S3 data events in one selector: never widened, a management selector is added",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Selectors = &model.Selectors{Classic: []model.ClassicSelector{{
						ReadWriteType: "WriteOnly", IncludeManagementEvents: true,
						DataResources: []model.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}},
					}}}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantActions(t, p, "PutEventSelectors us-east-1 "+trailARN(home, account, "main"))
				a := action(t, p, plan.PutEventSelectors)
				want := &model.Selectors{Classic: []model.ClassicSelector{{
					ReadWriteType: "WriteOnly", IncludeManagementEvents: true,
					DataResources: []model.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}},
				}, {ReadWriteType: "All", IncludeManagementEvents: true}}}
				if diff := gocmp.Diff(want, a.Trail.Selectors); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
				if !strings.Contains(a.Reason, "add a management-events-only selector") || !strings.Contains(a.Reason, "kept unchanged") {
					t.Errorf("reason %q does not say a selector is added and the others kept", a.Reason)
				}
			},
		},
		scenario{
			name:            "write-only data selectors filling all five slots: a person must act",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					var sel []model.ClassicSelector
					for i := range 5 {
						sel = append(sel, model.ClassicSelector{ReadWriteType: "WriteOnly", IncludeManagementEvents: true,
							DataResources: []model.DataResource{{Type: "AWS::S3::Object", Values: []string{fmt.Sprintf("arn:aws:s3:::b%d/", i)}}}})
					}
					tr.Selectors = &model.Selectors{Classic: sel}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantReason(t, result(t, p, cmk.Key), "maximum of 5 event selectors", "never changes a data-event selector")
				wantActions(t, p)
			},
		},
		scenario{
			name: "write-only management events plus a data selector: management selector fixed, others kept",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Selectors = &model.Selectors{Classic: []model.ClassicSelector{
						{ReadWriteType: "ReadOnly", DataResources: []model.DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}}}},
						{ReadWriteType: "WriteOnly", IncludeManagementEvents: true},
					}}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				want := &model.Selectors{Classic: []model.ClassicSelector{
					{ReadWriteType: "ReadOnly", DataResources: []model.DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}}}},
					{ReadWriteType: "All", IncludeManagementEvents: true},
				}}
				if diff := gocmp.Diff(want, action(t, p, plan.PutEventSelectors).Trail.Selectors); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
			},
		},
		scenario{
			name: "kms.amazonaws.com excluded: only the CMK control fails",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Selectors.Classic[0].ExcludeManagementEventSources = []string{"rdsdata.amazonaws.com", "kms.amazonaws.com"}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusFail})
				wantReason(t, result(t, p, cmk.Key), "excludes kms.amazonaws.com")
				wantActions(t, p, "PutEventSelectors us-east-1 "+trailARN(home, account, "main"))
				a := action(t, p, plan.PutEventSelectors)
				want := &model.Selectors{Classic: []model.ClassicSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
					ExcludeManagementEventSources: []string{"rdsdata.amazonaws.com"}}}}
				if diff := gocmp.Diff(want, a.Trail.Selectors); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
				if diff := gocmp.Diff([]string{cmk.ID}, a.Controls); diff != "" {
					t.Errorf("PutEventSelectors controls (-want +got):\n%s", diff)
				}
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusPass {
						t.Errorf("region %s: %s, want PASS (KMS exclusion does not uncover regions)", reg.Region, reg.Status)
					}
				}
			},
		},
		scenario{
			// Reviewer's D6b: with every control excluded, nothing needed
			// the trail, so the regions stayed FAIL forever.
			name: "every control excluded, logging stopped and write-only selectors: region coverage still healed",
			opts: func(o *plan.Options) {
				for _, c := range bench().Controls {
					o.Exclude = append(o.Exclude, c.ID)
				}
			},
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Status.IsLogging = false
					tr.Selectors.Classic[0].ReadWriteType = "WriteOnly"
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusExcluded, nil)
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusFail {
						t.Errorf("region %s: %s, want FAIL before healing", reg.Region, reg.Status)
					}
				}
				wantActions(t, p, "PutEventSelectors us-east-1 "+trailARN(home, account, "main"), "StartLogging us-east-1 "+trailARN(home, account, "main"))
				for _, a := range p.Actions {
					if !a.Coverage || len(a.Controls) != 0 {
						t.Errorf("%s: Coverage=%t controls=%v, want an action for region coverage only", a.Kind, a.Coverage, a.Controls)
					}
				}
			},
		},
		scenario{
			name:            "every control excluded, single-region trail, safe healing: the region reasons say what full would do",
			failsAfterApply: true,
			opts: func(o *plan.Options) {
				for _, c := range bench().Controls {
					o.Exclude = append(o.Exclude, c.ID)
				}
			},
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.IsMultiRegion = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantActions(t, p)
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusFail || !slices.ContainsFunc(reg.Reasons, func(r string) bool { return strings.Contains(r, "trail healing full would") }) {
						t.Errorf("region %s: %s %q, want FAIL saying what full healing would do", reg.Region, reg.Status, reg.Reasons)
					}
				}
			},
		},
		scenario{
			name:            "kms.amazonaws.com excluded, CMK control excluded: nothing to do",
			opts:            func(o *plan.Options) { o.Exclude = []string{cmk.ID} },
			snap:            func() model.Snapshot { s := compliantAccount(); excludeKMS(&s); return s },
			failsAfterApply: false,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusExcluded})
				wantActions(t, p)
				if !p.Compliant() {
					t.Error("excluded control made the account non-compliant")
				}
			},
		},
		scenario{
			name: "advanced selectors read-only, with a data selector",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.Selectors = advancedReadOnly() })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				want := &model.Selectors{Advanced: []model.AdvancedSelector{
					{Name: "S3 data", FieldSelectors: []model.FieldSelector{
						{Field: "eventCategory", Equals: []string{"Data"}},
						{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
					}},
					{Name: "Management", FieldSelectors: []model.FieldSelector{
						{Field: "eventCategory", Equals: []string{"Management"}},
					}},
				}}
				if diff := gocmp.Diff(want, action(t, p, plan.PutEventSelectors).Trail.Selectors); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
			},
		},
		scenario{
			name: "advanced selectors excluding kms: only CMK fails",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Selectors = &model.Selectors{Advanced: []model.AdvancedSelector{{Name: "Management", FieldSelectors: []model.FieldSelector{
						{Field: "eventCategory", Equals: []string{"Management"}},
						{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}},
					}}}}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusFail})
				want := &model.Selectors{Advanced: []model.AdvancedSelector{{Name: "Management", FieldSelectors: []model.FieldSelector{
					{Field: "eventCategory", Equals: []string{"Management"}},
				}}}}
				if diff := gocmp.Diff(want, action(t, p, plan.PutEventSelectors).Trail.Selectors); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
			},
		},
		scenario{
			name:            "advanced selectors read-only, no healing: reason says what safe would do",
			opts:            func(o *plan.Options) { o.TrailHealing = plan.HealNone },
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.Selectors = advancedReadOnly() })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantReason(t, result(t, p, cmk.Key), "trail healing is none", "would restore read and write management events")
				wantActions(t, p)
			},
		},
		scenario{
			name: "trail without CloudWatch Logs, full healing with a configured log group",
			opts: func(o *plan.Options) {
				o.TrailHealing = plan.HealFull
				o.TrailLogGroupARN = lgARN(home, account, "watchkeeper-trail") + ":*"
				o.TrailLogsRoleARN = "arn:aws:iam::123456789012:role/watchkeeper-trail-logs"
			},
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "main", func(tr *model.Trail) { tr.LogGroupARN, tr.LogsRoleARN = "", "" })
				return s
			},
			failsAfterApply: true, // email subscription pending
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				want := append([]string{"UpdateTrail us-east-1 " + trailARN(home, account, "main")}, fullSetup("watchkeeper-trail")...)
				sortLines(want)
				wantActions(t, p, want...)
				a := action(t, p, plan.UpdateTrail)
				if a.Trail.MakeMultiRegion || a.Trail.LogGroupARN != lgARN(home, account, "watchkeeper-trail")+":*" || a.Trail.LogsRoleARN == "" {
					t.Errorf("UpdateTrail spec %+v, want the configured log group and role attached", a.Trail)
				}
			},
		},
		scenario{
			name:            "trail without CloudWatch Logs, safe healing",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "main", func(tr *model.Trail) { tr.LogGroupARN, tr.LogsRoleARN = "", "" })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantReason(t, result(t, p, cmk.Key), "does not deliver to CloudWatch Logs", "--trail-log-group-arn", "--trail-logs-role-arn", "WATCHKEEPER_TRAIL_LOG_GROUP_ARN")
				wantActions(t, p)
			},
		},
		scenario{
			name: "several trails, one qualifies: it is the target",
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "a-single", func(tr *model.Trail) { tr.IsMultiRegion = false })
				addTrail(&s, "b-stopped", func(tr *model.Trail) { tr.Status.IsLogging = false })
				addTrail(&s, "c-good")
				addTrail(&s, "d-nologs", func(tr *model.Trail) { tr.LogGroupARN = "" })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantActions(t, p, fullSetup("/aws/cloudtrail/c-good")...)
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusPass {
						t.Errorf("region %s: %s, want PASS (c-good covers it)", reg.Region, reg.Status)
					}
				}
			},
			failsAfterApply: true,
		},
		scenario{
			name: "configured trail name wins over a better trail",
			opts: func(o *plan.Options) { o.TrailName = "watchkeeper" },
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "a-good")
				addTrail(&s, "watchkeeper", func(tr *model.Trail) { tr.Status.IsLogging = false })
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				want := append([]string{"StartLogging us-east-1 " + trailARN(home, account, "watchkeeper")}, fullSetup("/aws/cloudtrail/watchkeeper")...)
				sortLines(want)
				wantActions(t, p, want...)
			},
		},
		scenario{
			name:            "organization trail of another account only",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := emptyAccount()
				s.Trails = append(s.Trails, orgTrail())
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusError, nil)
				wantReason(t, result(t, p, cmk.Key), "account "+other, "enforced there")
				wantActions(t, p)
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusPass {
						t.Errorf("region %s: %s, want PASS (the organization trail covers it)", reg.Region, reg.Status)
					}
				}
			},
		},
		scenario{
			name: "organization trail plus our own compliant trail",
			snap: func() model.Snapshot {
				s := compliantAccount()
				s.Trails = append(s.Trails, orgTrail())
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p)
			},
		},
		scenario{
			name: "region with an error: that region ERROR, others evaluated",
			snap: func() model.Snapshot {
				s := compliantAccount()
				s.Regions[2].Error = "UnrecognizedClientException: The security token included in the request is invalid"
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				got := map[string]plan.Status{}
				for _, r := range p.Regions {
					got[r.Region] = r.Status
				}
				want := map[string]plan.Status{"eu-west-1": plan.StatusPass, "us-east-1": plan.StatusPass, "us-west-2": plan.StatusError}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("region statuses (-want +got):\n%s", diff)
				}
				if !strings.Contains(strings.Join(p.Regions[2].Reasons, " "), "UnrecognizedClientException") {
					t.Errorf("region reasons %q do not carry the cause", p.Regions[2].Reasons)
				}
				wantActions(t, p)
			},
			failsAfterApply: true,
		},
		scenario{
			name: "log group unreadable: ERROR, nothing planned blind",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) {
					g.Error = "AccessDeniedException: logs:DescribeMetricFilters"
					g.Filters = nil
					g.Alarms = nil
				})
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusError, nil)
				wantReason(t, result(t, p, cmk.Key), "logs:DescribeMetricFilters")
				wantActions(t, p)
			},
		},
		scenario{
			name: "excluded controls get nothing planned",
			opts: func(o *plan.Options) { o.Exclude = []string{cmk.ID, root.ID} },
			snap: func() model.Snapshot {
				s := compliantAccount()
				dropFilter(&s, mainLG, prefix+cmk.Key)
				dropAlarm(&s, mainLG, prefix+root.Key)
				dropFilter(&s, mainLG, prefix+orgs.Key)
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{
					cmk.Key: plan.StatusExcluded, root.Key: plan.StatusExcluded, orgs.Key: plan.StatusFail,
				})
				wantActions(t, p, filterTarget(orgs))
			},
		},
		scenario{
			name: "securityhub profile writes the Security Hub string",
			opts: func(o *plan.Options) { o.Profile = catalog.ProfileSecurityHub },
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "main")
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				for _, a := range p.Actions {
					if a.Kind != plan.PutMetricFilter {
						continue
					}
					c := control(t, strings.TrimPrefix(a.Filter.FilterName, prefix))
					if a.Filter.Pattern != c.PatternFor(catalog.ProfileSecurityHub) {
						t.Errorf("filter %s pattern %q, want the securityhub profile's %q", a.Filter.FilterName, a.Filter.Pattern, c.PatternFor(catalog.ProfileSecurityHub))
					}
				}
				c := control(t, "cmk-disable-or-delete")
				if c.PatternFor(catalog.ProfileSecurityHub) == c.PatternFor(catalog.ProfileBenchmark) {
					t.Fatalf("catalog: CMK control has the same pattern in both profiles; this test needs them to differ")
				}
			},
		},
		scenario{
			// Reviewer's D5: our filters kept the benchmark text, so Security
			// Hub's exact-string check kept failing.
			name: "securityhub profile on a benchmark-profile account: our filters rewritten to the Security Hub strings, still PASS",
			opts: func(o *plan.Options) { o.Profile = catalog.ProfileSecurityHub },
			snap: compliantAccount,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				var want []string
				for _, c := range bench().Controls {
					if c.PatternFor(catalog.ProfileSecurityHub) != c.PatternFor(catalog.ProfileBenchmark) {
						want = append(want, filterTarget(c))
					}
				}
				if len(want) == 0 {
					t.Fatal("catalog: no control differs between profiles; this test needs one")
				}
				slices.Sort(want)
				wantActions(t, p, want...)
				for _, a := range p.Actions {
					c := control(t, strings.TrimPrefix(a.Filter.FilterName, prefix))
					if a.Filter.Pattern != c.PatternFor(catalog.ProfileSecurityHub) || a.Filter.MetricName != c.MetricName || a.Filter.Namespace != plan.DefaultNamespace {
						t.Errorf("filter %+v, want the Security Hub string on the same metric", a.Filter)
					}
					if !strings.Contains(a.Reason, "exact Security Hub string") {
						t.Errorf("reason %q", a.Reason)
					}
				}
			},
		},
		scenario{
			name: "benchmark profile on a securityhub-profile account: our filters rewritten back",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) {
					for i := range g.Filters {
						c := control(t, strings.TrimPrefix(g.Filters[i].Name, prefix))
						g.Filters[i].Pattern = c.PatternFor(catalog.ProfileSecurityHub)
					}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				if len(p.Actions) == 0 {
					t.Fatal("no rewrite back to the benchmark text")
				}
				for _, a := range p.Actions {
					c := control(t, strings.TrimPrefix(a.Filter.FilterName, prefix))
					if a.Kind != plan.PutMetricFilter || a.Filter.Pattern != c.PatternFor(catalog.ProfileBenchmark) {
						t.Errorf("action %s %+v, want our filter rewritten to the benchmark text", a.Kind, a.Filter)
					}
				}
			},
		},
		scenario{
			name: "securityhub profile never rewrites a person's filter",
			opts: func(o *plan.Options) { o.Profile = catalog.ProfileSecurityHub },
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) {
					for i := range g.Filters {
						c := control(t, strings.TrimPrefix(g.Filters[i].Name, prefix))
						if c.PatternFor(catalog.ProfileSecurityHub) != c.PatternFor(catalog.ProfileBenchmark) {
							g.Filters[i].Name = "team-" + c.Key
						}
					}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				for _, a := range p.Actions {
					if a.Filter != nil && strings.HasPrefix(a.Filter.FilterName, "team-") {
						t.Errorf("rewrote a person's filter: %+v", a.Filter)
					}
				}
			},
		},
		scenario{
			name: "new endpoint configured on a compliant account: subscribe only",
			opts: func(o *plan.Options) {
				o.Subscriptions = append(o.Subscriptions, plan.Endpoint{Protocol: "lambda", Endpoint: "arn:aws:lambda:us-east-1:123456789012:function:pager"})
			},
			snap: compliantAccount,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p, "Subscribe us-east-1 "+ourTopic+" lambda:arn:aws:lambda:us-east-1:123456789012:function:pager")
			},
		},
		scenario{
			name:            "our topic unreadable: nothing created or subscribed blind",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				s.Topics[ourTopic] = model.Topic{ARN: ourTopic, Region: home, Account: account, Error: "AuthorizationError: sns:GetTopicAttributes"}
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusError, nil)
				wantReason(t, result(t, p, cmk.Key), "AuthorizationError")
				wantActions(t, p)
			},
		},
		scenario{
			name: "unparseable filters: ours is rewritten and named, a foreign one is ignored",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) {
					for i := range g.Filters {
						if g.Filters[i].Name == prefix+cmk.Key {
							g.Filters[i].Pattern = `DisableKey`
						}
					}
					g.Filters = append(g.Filters, model.MetricFilter{Name: "app-errors", Pattern: `[ip, user, status=5*]`,
						Transformations: []model.MetricTransformation{{MetricName: "Errors", MetricNamespace: "App", MetricValue: "1"}}})
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{cmk.Key: plan.StatusFail})
				r := result(t, p, cmk.Key)
				wantReason(t, r, prefix+cmk.Key, "does not parse")
				if strings.Contains(strings.Join(r.Reasons, " "), "app-errors") {
					t.Errorf("reasons mention the unrelated foreign filter: %q", r.Reasons)
				}
				wantActions(t, p, filterTarget(cmk))
			},
		},
		scenario{
			name: "our alarm drifted to a threshold one event never reaches and breaching missing data: FAIL, rewritten",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editAlarm(&s, mainLG, prefix+sgc.Key, func(a *model.Alarm) { a.Threshold = 5; a.TreatMissingData = "breaching" })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				// One event never reaches a Sum of 5, and breaching missing
				// data keeps the alarm in ALARM (CloudWatch User Guide,
				// "Configuring how CloudWatch alarms treat missing data").
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{sgc.Key: plan.StatusFail})
				wantCode(t, result(t, p, sgc.Key), plan.CodeAlarmConditionNotValid)
				wantActions(t, p, alarmTarget(sgc))
			},
		},
		scenario{
			name: "our alarm drifted but it still notifies: PASS, and restored to its definition",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editAlarm(&s, mainLG, prefix+sgc.Key, func(a *model.Alarm) { a.Period = 60 })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p, alarmTarget(sgc))
			},
		},
		scenario{
			name: "our alarm's definition drifted and its actions are disabled: rewritten, not just enabled",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editAlarm(&s, mainLG, prefix+sgc.Key, func(a *model.Alarm) { a.Period = 3600; a.ActionsEnabled = false })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, map[string]plan.Status{sgc.Key: plan.StatusFail})
				wantActions(t, p, alarmTarget(sgc))
				if a := action(t, p, plan.PutMetricAlarm); !strings.Contains(a.Reason, "3600") {
					t.Errorf("rewrite reason %q does not say what drifted", a.Reason)
				}
			},
		},
		scenario{
			name:            "five classic data selectors: management events cannot be added",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					var sel []model.ClassicSelector
					for i := range 5 {
						sel = append(sel, model.ClassicSelector{ReadWriteType: "WriteOnly", DataResources: []model.DataResource{{Type: "AWS::S3::Object", Values: []string{fmt.Sprintf("arn:aws:s3:::b%d/", i)}}}})
					}
					tr.Selectors = &model.Selectors{Classic: sel}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantReason(t, result(t, p, cmk.Key), "maximum of 5 event selectors")
				wantActions(t, p)
			},
		},
		scenario{
			name: "no selectors at all: a management selector is added",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.Selectors = &model.Selectors{} })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				want := &model.Selectors{Classic: []model.ClassicSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}
				if diff := gocmp.Diff(want, action(t, p, plan.PutEventSelectors).Trail.Selectors); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
			},
		},
		scenario{
			name:            "trail status unreadable: ERROR, nothing guessed",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Status, tr.StatusError = nil, "AccessDeniedException: cloudtrail:GetTrailStatus"
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusError, nil)
				wantReason(t, result(t, p, cmk.Key), "cloudtrail:GetTrailStatus")
				wantActions(t, p)
				for _, reg := range p.Regions {
					if reg.Status != plan.StatusError {
						t.Errorf("region %s: %s, want ERROR while the only trail's status is unknown", reg.Region, reg.Status)
					}
				}
			},
		},
		scenario{
			name: "CloudWatch Logs delivery error is a warning, not a failure",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) { tr.Status.LatestCloudWatchLogsDeliveryError = "AccessDeniedException" })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p)
				if !slices.ContainsFunc(p.Warnings, func(w string) bool {
					return strings.Contains(w, "delivery error") && strings.Contains(w, "not by itself a failure")
				}) {
					t.Errorf("warnings %q do not report the delivery error", p.Warnings)
				}
			},
		},
		scenario{
			name: "trail's log group deleted, safe healing: FAIL, nothing planned",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) { g.Exists, g.Filters, g.Alarms = false, nil, nil })
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				wantReason(t, result(t, p, cmk.Key), "which does not exist")
				wantActions(t, p)
			},
		},
		scenario{
			name: "organization trail whose log group this account can read and is compliant",
			snap: func() model.Snapshot {
				s := emptyAccount()
				tr := orgTrail()
				s.Trails = append(s.Trails, tr)
				lg := model.LogGroup{ARN: tr.LogGroupARN, Name: lgName(tr.LogGroupARN), Region: home, Account: other, Exists: true}
				topic := "arn:aws:sns:us-east-1:999988887777:org-alerts"
				for _, c := range bench().Controls {
					lg.Filters = append(lg.Filters, ownFilter(c, catalog.ProfileSecurityHub))
					a := ownAlarm(c, plan.DefaultNamespace, c.MetricName)
					a.Name, a.AlarmActions = "org-"+c.Key, []string{topic}
					lg.Alarms = append(lg.Alarms, a)
				}
				s.LogGroups[lg.ARN] = lg
				addTopic(&s, topic, model.Subscription{ARN: topic + ":1", Protocol: "email", Endpoint: "soc@example.com"})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p)
			},
		},
		scenario{
			name: "pending subscription on someone else's topic is a warning",
			snap: func() model.Snapshot {
				s := compliantAccount()
				addTopic(&s, "arn:aws:sns:us-east-1:123456789012:team", pending("email", "team@example.com"))
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantActions(t, p)
				if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "team@example.com") }) {
					t.Errorf("warnings %q do not mention the pending subscription", p.Warnings)
				}
			},
		},
		scenario{
			name: "single-region trail without logs, full healing: one UpdateTrail does both",
			opts: func(o *plan.Options) {
				o.TrailHealing = plan.HealFull
				o.TrailLogGroupARN = lgARN(home, account, "watchkeeper-trail")
				o.TrailLogsRoleARN = "arn:aws:iam::123456789012:role/watchkeeper-trail-logs"
				o.TopicKMSKeyID = "alias/watchkeeper"
				o.Subscriptions = []plan.Endpoint{{Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:alerts"}}
			},
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "main", func(tr *model.Trail) { tr.IsMultiRegion, tr.LogGroupARN = false, "" })
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				var ups []plan.Action
				for _, a := range p.Actions {
					if a.Kind == plan.UpdateTrail {
						ups = append(ups, a)
					}
				}
				if len(ups) != 1 || !ups[0].Trail.MakeMultiRegion || ups[0].Trail.LogGroupARN != lgARN(home, account, "watchkeeper-trail")+":*" {
					t.Fatalf("UpdateTrail actions %+v, want one that makes the trail multi-region and attaches the log group (\":*\" form)", ups)
				}
				if ct := action(t, p, plan.CreateTopic); ct.Topic.KMSKeyID != "alias/watchkeeper" || ct.Topic.Tags["ManagedBy"] != "watchkeeper" {
					t.Errorf("CreateTopic spec %+v, want the configured KMS key and the ManagedBy tag", ct.Topic)
				}
			},
		},
		scenario{
			name: "trail's log group deleted, full healing with a configured log group: attached",
			opts: func(o *plan.Options) {
				o.TrailHealing = plan.HealFull
				o.TrailLogGroupARN = lgARN(home, account, "watchkeeper-trail")
				o.TrailLogsRoleARN = "arn:aws:iam::123456789012:role/watchkeeper-trail-logs"
			},
			snap: func() model.Snapshot {
				s := compliantAccount()
				editLG(&s, mainLG, func(g *model.LogGroup) { g.Exists, g.Filters, g.Alarms = false, nil, nil })
				return s
			},
			failsAfterApply: true, // email subscription pending
			check: func(t *testing.T, p plan.Plan) {
				if a := action(t, p, plan.UpdateTrail); a.Trail.LogGroupARN == "" || a.Trail.MakeMultiRegion {
					t.Errorf("UpdateTrail spec %+v, want the configured log group attached", a.Trail)
				}
				if a := action(t, p, plan.PutMetricFilter); a.Filter.LogGroupName != "watchkeeper-trail" {
					t.Errorf("filters go to %q, want the attached log group", a.Filter.LogGroupName)
				}
			},
		},
		scenario{
			name: "two qualifying trails: the home region's is the target",
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "a-abroad", inEU)
				addTrail(&s, "b-home")
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				wantActions(t, p, fullSetup("/aws/cloudtrail/b-home")...)
			},
		},
		scenario{
			name: "two qualifying trails: the one holding Watchkeeper's filters is the target",
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "a-abroad", inEU)
				addTrail(&s, "b-home")
				euLG := lgARN("eu-west-1", account, "/aws/cloudtrail/a-abroad")
				editLG(&s, euLG, func(g *model.LogGroup) { g.Filters = append(g.Filters, ownFilter(cmk, catalog.ProfileBenchmark)) })
				return s
			},
			failsAfterApply: true,
			check: func(t *testing.T, p plan.Plan) {
				for _, a := range p.Actions {
					if a.Region != "eu-west-1" {
						t.Errorf("action %s %s in %s, want every action on the trail in eu-west-1", a.Kind, a.Target, a.Region)
					}
				}
				for _, a := range p.Actions {
					if a.Kind == plan.PutMetricFilter && a.Filter.FilterName == prefix+cmk.Key {
						t.Errorf("the existing filter %s is written again", a.Filter.FilterName)
					}
				}
			},
		},
		scenario{
			name:            "topic key ARN of another region: the topic there is created without it, warned",
			failsAfterApply: true, // the new email subscription awaits confirmation
			opts: func(o *plan.Options) {
				o.TopicKMSKeyID = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			},
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "main", inEU)
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				ct := action(t, p, plan.CreateTopic)
				if ct.Region != "eu-west-1" || ct.Topic.KMSKeyID != "" {
					t.Errorf("CreateTopic in %s with key %q, want eu-west-1 without the us-east-1 key", ct.Region, ct.Topic.KMSKeyID)
				}
				if !slices.ContainsFunc(p.Warnings, func(w string) bool {
					return strings.Contains(w, "is in us-east-1") && strings.Contains(w, "configure a key in eu-west-1")
				}) {
					t.Errorf("warnings %q do not say the topic in eu-west-1 needs a key there", p.Warnings)
				}
			},
		},
		scenario{
			name:            "topic key ARN of the topic's region: used",
			failsAfterApply: true, // the new email subscription awaits confirmation
			opts: func(o *plan.Options) {
				o.TopicKMSKeyID = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			},
			snap: func() model.Snapshot {
				s := emptyAccount()
				addTrail(&s, "main")
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				if ct := action(t, p, plan.CreateTopic); ct.Topic.KMSKeyID != "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" {
					t.Errorf("CreateTopic key %q, want the configured key of its region", ct.Topic.KMSKeyID)
				}
				if slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "regional") }) {
					t.Errorf("unexpected key-region warning: %q", p.Warnings)
				}
			},
		},
		scenario{
			name:            "configured topic key is the AWS managed SNS key: warned",
			opts:            func(o *plan.Options) { o.TopicKMSKeyID = "alias/aws/sns" },
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				delete(s.Topics, ourTopic)
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "alias/aws/sns") }) {
					t.Errorf("warnings %q do not flag the unusable key", p.Warnings)
				}
			},
		},
		scenario{
			name: "advanced data selector only: a management selector is appended",
			snap: func() model.Snapshot {
				s := compliantAccount()
				editTrail(&s, "main", func(tr *model.Trail) {
					tr.Selectors = &model.Selectors{Advanced: advancedReadOnly().Advanced[:1]}
				})
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusFail, nil)
				got := action(t, p, plan.PutEventSelectors).Trail.Selectors
				want := &model.Selectors{Advanced: []model.AdvancedSelector{
					advancedReadOnly().Advanced[0],
					{Name: "Management events", FieldSelectors: []model.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}},
				}}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("selectors (-want +got):\n%s", diff)
				}
			},
		},
		scenario{
			name: "a second, empty qualifying trail does not distract from the compliant one",
			snap: func() model.Snapshot {
				s := compliantAccount()
				addTrail(&s, "a-other")
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p)
			},
		},
		scenario{
			name: "configured trail name that does not exist: warned, best trail targeted",
			opts: func(o *plan.Options) { o.TrailName = "gone" },
			snap: compliantAccount,
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusPass, nil)
				wantActions(t, p)
				if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "configured trail gone does not exist") }) {
					t.Errorf("warnings %q do not flag the missing trail", p.Warnings)
				}
			},
		},
		scenario{
			name:            "trail's log group not observed: ERROR, nothing planned blind",
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := compliantAccount()
				delete(s.LogGroups, mainLG)
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantStatus(t, p, plan.StatusError, nil)
				wantReason(t, result(t, p, cmk.Key), "was not observed")
				wantActions(t, p)
			},
		},
		scenario{
			name:            "configured trail owned by another account is never targeted",
			opts:            func(o *plan.Options) { o.TrailName = "org"; o.TrailHealing = plan.HealFull },
			failsAfterApply: true,
			snap: func() model.Snapshot {
				s := emptyAccount()
				tr := orgTrail()
				tr.Status.IsLogging = false
				s.Trails = append(s.Trails, tr)
				addTrail(&s, "main")
				return s
			},
			check: func(t *testing.T, p plan.Plan) {
				wantActions(t, p, fullSetup("/aws/cloudtrail/main")...)
				if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "owned by account "+other) }) {
					t.Errorf("warnings %q do not explain why the configured trail is not targeted", p.Warnings)
				}
			},
		},
	)
	return out
}

// inEU moves a trail (and its log group) to eu-west-1.
func inEU(tr *model.Trail) {
	tr.HomeRegion = "eu-west-1"
	tr.ARN = trailARN("eu-west-1", account, tr.Name)
	tr.LogGroupARN = lgARN("eu-west-1", account, "/aws/cloudtrail/"+tr.Name)
}

func excludeKMS(s *model.Snapshot) {
	editTrail(s, "main", func(tr *model.Trail) {
		tr.Selectors.Classic[0].ExcludeManagementEventSources = []string{"kms.amazonaws.com"}
	})
}

func advancedReadOnly() *model.Selectors {
	return &model.Selectors{Advanced: []model.AdvancedSelector{
		{Name: "S3 data", FieldSelectors: []model.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}},
			{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
		}},
		{Name: "Management", FieldSelectors: []model.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}},
			{Field: "readOnly", Equals: []string{"false"}},
		}},
	}}
}

// orgTrail is an organization trail owned by the management account, whose
// log group lives there and so is not observed from this account.
func orgTrail() model.Trail {
	return model.Trail{
		ARN: trailARN(home, other, "org"), Name: "org", HomeRegion: home, OwnerAccount: other,
		IsMultiRegion: true, IsOrganizationTrail: true,
		LogGroupARN: lgARN(home, other, "aws-controltower/CloudTrailLogs"),
		Status:      &model.TrailStatus{IsLogging: true},
		Selectors:   &model.Selectors{Classic: []model.ClassicSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}},
	}
}

// sortLines orders expected action lines ("Kind Region Target ...") the way
// the plan contract says: by (Phase, Region, Kind, Target).
func sortLines(lines []string) {
	key := func(l string) (int, string, string, string) {
		f := strings.SplitN(l, " ", 3)
		return plan.Kind(f[0]).Phase(), f[1], f[0], f[2]
	}
	slices.SortStableFunc(lines, func(a, b string) int {
		ap, ar, ak, at := key(a)
		bp, br, bk, bt := key(b)
		return cmp.Or(cmp.Compare(ap, bp), cmp.Compare(ar, br), cmp.Compare(ak, bk), cmp.Compare(at, bt))
	})
}

func TestCompute(t *testing.T) {
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			s := sc.snap()
			before := clone(t, s)
			p := plan.Compute(sc.options(), s)
			if diff := gocmp.Diff(before, s); diff != "" {
				t.Fatalf("Compute mutated its snapshot (-before +after):\n%s", diff)
			}
			sc.check(t, p)
			checkInvariants(t, p)
		})
	}
}

// checkInvariants holds for every plan.
func checkInvariants(t *testing.T, p plan.Plan) {
	t.Helper()
	for i := 1; i < len(p.Controls); i++ {
		if plan.CompareIDs(p.Controls[i-1].ID, p.Controls[i].ID) >= 0 {
			t.Errorf("controls not sorted numerically: %s before %s", p.Controls[i-1].ID, p.Controls[i].ID)
		}
	}
	for _, r := range p.Controls {
		if r.Reasons == nil {
			t.Errorf("control %s: nil reasons", r.ID)
		}
		if r.Status == plan.StatusFail && len(r.Codes) == 0 {
			t.Errorf("control %s: FAIL without a Security Hub reason code: %q", r.ID, r.Reasons)
		}
		if (r.Status == plan.StatusFail || r.Status == plan.StatusError) && len(r.Reasons) == 0 {
			t.Errorf("control %s: %s without reasons", r.ID, r.Status)
		}
	}
	for _, r := range p.Regions {
		if r.Reasons == nil {
			t.Errorf("region %s: nil reasons", r.Region)
		}
	}
	for i, a := range p.Actions {
		if (len(a.Controls) == 0) != a.Coverage || (a.Coverage && a.Trail == nil) || a.Reason == "" {
			t.Errorf("action %s %s without controls or reason", a.Kind, a.Target)
		}
		if i > 0 {
			b := p.Actions[i-1]
			if b.Kind.Phase() > a.Kind.Phase() || (b.Kind.Phase() == a.Kind.Phase() && b.Region > a.Region) {
				t.Errorf("actions not sorted: %s %s before %s %s", b.Kind, b.Region, a.Kind, a.Region)
			}
		}
	}
}

// TestDeterministic: the same account, observed in any order, gives the same plan.
func TestDeterministic(t *testing.T) {
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			want := plan.Compute(sc.options(), sc.snap())
			for seed := range uint64(3) {
				s := shuffled(sc.snap(), seed)
				if diff := gocmp.Diff(want, plan.Compute(sc.options(), s)); diff != "" {
					t.Fatalf("plan differs for shuffled input (seed %d) (-first +again):\n%s", seed, diff)
				}
			}
		})
	}
}

func shuffled(s model.Snapshot, seed uint64) model.Snapshot {
	r := rand.New(rand.NewPCG(seed, 42))
	r.Shuffle(len(s.Trails), func(i, j int) { s.Trails[i], s.Trails[j] = s.Trails[j], s.Trails[i] })
	r.Shuffle(len(s.Regions), func(i, j int) { s.Regions[i], s.Regions[j] = s.Regions[j], s.Regions[i] })
	for k, lg := range s.LogGroups {
		r.Shuffle(len(lg.Filters), func(i, j int) { lg.Filters[i], lg.Filters[j] = lg.Filters[j], lg.Filters[i] })
		r.Shuffle(len(lg.Alarms), func(i, j int) { lg.Alarms[i], lg.Alarms[j] = lg.Alarms[j], lg.Alarms[i] })
		s.LogGroups[k] = lg
	}
	return s
}

// TestConverges: applying a plan and planning again yields zero actions,
// and, unless a person must act, a compliant account.
func TestConverges(t *testing.T) {
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			opts := sc.options()
			p := plan.Compute(opts, sc.snap())
			after := applyActions(t, sc.snap(), p.Actions)
			again := plan.Compute(opts, after)
			if len(again.Actions) != 0 {
				t.Fatalf("after applying %d actions, the next plan still has %q", len(p.Actions), actionLines(again))
			}
			if !sc.failsAfterApply && !again.Compliant() {
				var bad []string
				for _, r := range again.Controls {
					if r.Status != plan.StatusPass && r.Status != plan.StatusExcluded {
						bad = append(bad, fmt.Sprintf("%s %s %q", r.ID, r.Status, r.Reasons))
					}
				}
				t.Fatalf("not compliant after apply: %s", strings.Join(bad, "\n"))
			}
		})
	}
}

// TestConvergesWithConfirmation: once a person confirms the pending email
// subscription, every scenario that only waited on that is compliant with
// zero actions.
func TestConvergesWithConfirmation(t *testing.T) {
	for _, name := range []string{
		"trail with an empty log group: full setup",
		"our topic deleted: recreate and resubscribe, alarms untouched",
		"trail without CloudWatch Logs, full healing with a configured log group",
		"several trails, one qualifies: it is the target",
	} {
		t.Run(name, func(t *testing.T) {
			sc := find(t, name)
			opts := sc.options()
			after := applyActions(t, sc.snap(), plan.Compute(opts, sc.snap()).Actions)
			tp := after.Topics[ourTopic]
			for i := range tp.Subscriptions {
				tp.Subscriptions[i].ARN = ourTopic + ":confirmed"
			}
			tp.ConfirmedSubscriptions, tp.PendingSubscriptions = len(tp.Subscriptions), 0
			after.Topics[ourTopic] = tp
			again := plan.Compute(opts, after)
			if len(again.Actions) != 0 || !again.Compliant() {
				t.Fatalf("after confirmation: %d actions %q, compliant %t: %+v", len(again.Actions), actionLines(again), again.Compliant(), again.Controls)
			}
		})
	}
}

func find(t *testing.T, name string) scenario {
	t.Helper()
	for _, sc := range scenarios(t) {
		if sc.name == name {
			return sc
		}
	}
	t.Fatalf("no scenario %q", name)
	return scenario{}
}

func TestCompareIDs(t *testing.T) {
	ids := []string{"4.10", "4.2", "4.1", "5.1", "3.14", "4.15", "4.9"}
	slices.SortFunc(ids, plan.CompareIDs)
	want := []string{"3.14", "4.1", "4.2", "4.9", "4.10", "4.15", "5.1"}
	if diff := gocmp.Diff(want, ids); diff != "" {
		t.Errorf("sorted ids (-want +got):\n%s", diff)
	}
}

// TestComputeConcurrently: Compute shares only immutable, catalog-derived
// caches between calls, so concurrent calls are safe (run with -race).
func TestComputeConcurrently(t *testing.T) {
	want := plan.Compute(options(), compliantAccount())
	done := make(chan plan.Plan)
	for range 4 {
		go func() { done <- plan.Compute(options(), compliantAccount()) }()
	}
	for range 4 {
		if diff := gocmp.Diff(want, <-done); diff != "" {
			t.Errorf("concurrent Compute differs (-want +got):\n%s", diff)
		}
	}
}

// TestPartition: ARNs Watchkeeper makes up follow the snapshot's partition.
func TestPartition(t *testing.T) {
	s := emptyAccount()
	s.Partition = "aws-us-gov"
	addTrail(&s, "main")
	p := plan.Compute(options(), s)
	for _, a := range p.Actions {
		if a.Kind == plan.PutMetricFilter {
			continue // its target is logGroupName/filterName, not an ARN
		}
		if !strings.HasPrefix(a.Target, "arn:aws-us-gov:") {
			t.Errorf("%s target %s, want an aws-us-gov ARN", a.Kind, a.Target)
		}
		if a.Alarm != nil && !strings.HasPrefix(a.Alarm.TopicARN, "arn:aws-us-gov:sns:") {
			t.Errorf("alarm notifies %s, want an aws-us-gov topic", a.Alarm.TopicARN)
		}
	}
}
