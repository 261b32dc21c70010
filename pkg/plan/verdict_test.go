package plan_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// verdictCase varies one link of the alert path of one control in an
// otherwise compliant account. A person's chain is added under the person's
// own names (userChain) where the case is about a person's resources.
type verdictCase struct {
	name string
	// why cites the benchmark or AWS documentation the verdict follows.
	why  string
	key  string // the control varied
	edit func(s *model.Snapshot, c catalog.Control)
	want plan.Status
	code string // the code expected on FAIL
	// heal lists the kinds the plan must contain (FAIL cases); a PASS case
	// must plan nothing.
	heal []plan.Kind
	opts func(*plan.Options)
}

const (
	userFilter = "team-root-usage"
	userAlarm  = "team-root-alarm"
	userTopic  = "arn:aws:sns:us-east-1:123456789012:team-alerts"
	userNS     = "TeamSecurity"
	userMetric = "RootUse"
)

// userChain replaces Watchkeeper's filter and alarm for c with a person's
// chain (own names, own namespace, own topic with a confirmed subscriber),
// which the edit then varies.
func userChain(s *model.Snapshot, c catalog.Control) {
	dropFilter(s, mainLG, prefix+c.Key)
	dropAlarm(s, mainLG, prefix+c.Key)
	addTopic(s, userTopic, confirmed("sqs", "arn:aws:sqs:us-east-1:123456789012:soc"))
	editLG(s, mainLG, func(g *model.LogGroup) {
		g.Filters = append(g.Filters, model.MetricFilter{Name: userFilter, Pattern: c.PatternFor(catalog.ProfileBenchmark),
			Transformations: []model.MetricTransformation{{MetricName: userMetric, MetricNamespace: userNS, MetricValue: "1"}}})
		a := ownAlarm(c, userNS, userMetric)
		a.Name, a.ARN, a.AlarmActions = userAlarm, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"+userAlarm, []string{userTopic}
		a.TreatMissingData = ""
		g.Alarms = append(g.Alarms, a)
	})
}

func userAlarmEdit(f func(*model.Alarm)) func(*model.Snapshot, catalog.Control) {
	return func(s *model.Snapshot, c catalog.Control) {
		userChain(s, c)
		editAlarm(s, mainLG, userAlarm, f)
	}
}

func userFilterEdit(f func(*model.MetricFilter)) func(*model.Snapshot, catalog.Control) {
	return func(s *model.Snapshot, c catalog.Control) {
		userChain(s, c)
		editLG(s, mainLG, func(g *model.LogGroup) {
			for i := range g.Filters {
				if g.Filters[i].Name == userFilter {
					f(&g.Filters[i])
				}
			}
		})
	}
}

func ownAlarmEdit(f func(*model.Alarm)) func(*model.Snapshot, catalog.Control) {
	return func(s *model.Snapshot, c catalog.Control) { editAlarm(s, mainLG, prefix+c.Key, f) }
}

func ownFilterEdit(f func(*model.MetricTransformation)) func(*model.Snapshot, catalog.Control) {
	return func(s *model.Snapshot, c catalog.Control) {
		editLG(s, mainLG, func(g *model.LogGroup) {
			for i := range g.Filters {
				if g.Filters[i].Name == prefix+c.Key {
					f(&g.Filters[i].Transformations[0])
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func editTopic(arn string, f func(*model.Topic)) func(*model.Snapshot, catalog.Control) {
	return func(s *model.Snapshot, c catalog.Control) {
		t := s.Topics[arn]
		f(&t)
		s.Topics[arn] = t
	}
}

const (
	ourKey              = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	denyCWSNS           = `{"Version":"2012-10-17","Statement":[{"Sid":"NoCloudWatch","Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}]}`
	denyForeignAccounts = `{"Version":"2012-10-17","Statement":[{"Sid":"ConfusedDeputy","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}}]}`
	rootOnlyKeyPolicy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`
)

func encrypted(state, policy string) func(*model.Topic) {
	return func(t *model.Topic) {
		t.KMSKeyID = ourKey
		t.KMS = &model.TopicKey{KeyARN: ourKey, KeyState: state, Policy: policy}
	}
}

func verdictCases() []verdictCase {
	return []verdictCase{
		// Filters: breadth (CloudWatch User Guide, "Using Amazon CloudWatch
		// alarms": actions run only on state changes).
		{name: "filter matching every event", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeFilterTooBroad,
			why:  "{ $.eventName = * } covers 4.3 but counts routine reads: the alarm sits in ALARM",
			edit: userFilterEdit(func(f *model.MetricFilter) { f.Pattern = `{ $.eventName = * }` }), heal: []plan.Kind{plan.PutMetricFilter, plan.PutMetricAlarm}},
		{name: "pattern or read-only activity", key: "iam-policy-changes", want: plan.StatusFail, code: plan.CodeFilterTooBroad,
			why: "adding ($.readOnly IS TRUE) counts every Describe/List/Get",
			edit: userFilterEdit(func(f *model.MetricFilter) {
				f.Pattern = `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)||($.readOnly IS TRUE)}`
			}), heal: []plan.Kind{plan.PutMetricFilter, plan.PutMetricAlarm}},
		{name: "superset adding a rare configuration change", key: "iam-policy-changes", want: plan.StatusPass,
			why: "4.4's pattern plus CreateUser still singles out rare changes; the alarm returns to OK",
			edit: userFilterEdit(func(f *model.MetricFilter) {
				f.Pattern = `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)||($.eventName=CreateUser)}`
			})},
		// Metric transformation (CloudWatch Logs PutMetricFilter, MetricTransformation).
		{name: "defaultValue 1 counts every other event", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmConditionNotValid,
			why:  "defaultValue is emitted for every non-matching event, so Sum >= 1 holds in quiet periods",
			edit: userFilterEdit(func(f *model.MetricFilter) { f.Transformations[0].DefaultValue = ptr(1.0) }), heal: []plan.Kind{plan.PutMetricFilter, plan.PutMetricAlarm}},
		{name: "defaultValue 0 under Sum", key: "root-account-usage", want: plan.StatusPass,
			why:  "zeros do not change a Sum: quiet periods stay below 1, an event reaches 1",
			edit: userFilterEdit(func(f *model.MetricFilter) { f.Transformations[0].DefaultValue = ptr(0.0) })},
		{name: "metricValue from a field", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeTransformationNotValid,
			why:  "a $.field metricValue publishes that field, which CloudTrail records do not carry as a number",
			edit: userFilterEdit(func(f *model.MetricFilter) { f.Transformations[0].MetricValue = "$.requestParameters.count" }), heal: []plan.Kind{plan.PutMetricFilter, plan.PutMetricAlarm}},
		{name: "metricValue 0 counted with SampleCount", key: "root-account-usage", want: plan.StatusPass,
			why: "SampleCount counts datapoints whatever their value (CloudWatch statistics definitions)",
			edit: func(s *model.Snapshot, c catalog.Control) {
				userFilterEdit(func(f *model.MetricFilter) { f.Transformations[0].MetricValue = "0" })(s, c)
				editAlarm(s, mainLG, userAlarm, func(a *model.Alarm) { a.Statistic = "SampleCount" })
			}},
		// Metric identity: namespace, name and dimensions.
		{name: "filter dimension the alarm lacks", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeMetricMismatch,
			why: "a dimensioned filter publishes only dimensioned series; the dimensionless metric gets no data",
			edit: userFilterEdit(func(f *model.MetricFilter) {
				f.Transformations[0].Dimensions = map[string]string{"Source": "$.eventSource"}
			}), heal: []plan.Kind{plan.PutMetricFilter, plan.PutMetricAlarm}},
		{name: "alarm dimension the filter lacks", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeMetricMismatch,
			why:  "each combination of dimensions is a separate metric",
			edit: userAlarmEdit(func(a *model.Alarm) { a.Dimensions = map[string]string{"Source": "s3.amazonaws.com"} }), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "matching dimension every event carries", key: "cmk-disable-or-delete", want: plan.StatusPass,
			why: "every 4.7 event has eventSource kms.amazonaws.com, so the one series sees them all",
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				editLG(s, mainLG, func(g *model.LogGroup) {
					for i := range g.Filters {
						if g.Filters[i].Name == userFilter {
							g.Filters[i].Transformations[0].Dimensions = map[string]string{"Source": "$.eventSource"}
						}
					}
				})
				editAlarm(s, mainLG, userAlarm, func(a *model.Alarm) { a.Dimensions = map[string]string{"Source": "kms.amazonaws.com"} })
			}},
		{name: "alarm unit the filter does not publish", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeMetricMismatch,
			why:  "PutMetricAlarm Unit: an inappropriate unit keeps the alarm in INSUFFICIENT_DATA",
			edit: userAlarmEdit(func(a *model.Alarm) { a.Unit = "Count" }), heal: []plan.Kind{plan.PutMetricAlarm}},
		// Alarms, simulated on one event.
		{name: "threshold one event never reaches", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmConditionNotValid,
			edit: userAlarmEdit(func(a *model.Alarm) { a.Threshold = 2 }), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "treat missing data as breaching", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmConditionNotValid,
			why:  "breaching missing data keeps the alarm in ALARM; an event changes no state",
			edit: userAlarmEdit(func(a *model.Alarm) { a.TreatMissingData = "breaching" }), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "two of three datapoints, not breaching", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmConditionNotValid,
			edit: userAlarmEdit(func(a *model.Alarm) {
				a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData = 3, 2, "notBreaching"
			}), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "Average at least 1", key: "root-account-usage", want: plan.StatusPass,
			edit: userAlarmEdit(func(a *model.Alarm) { a.Statistic = "Average" })},
		{name: "greater than 0", key: "root-account-usage", want: plan.StatusPass,
			edit: userAlarmEdit(func(a *model.Alarm) { a.ComparisonOperator, a.Threshold = "GreaterThanThreshold", 0 })},
		{name: "p99 at least 1", key: "root-account-usage", want: plan.StatusPass,
			edit: userAlarmEdit(func(a *model.Alarm) { a.Statistic, a.ExtendedStatistic = "", "p99" })},
		{name: "metric math alarm", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmsNotPresent,
			why:  "the benchmark's audit selects alarms by MetricName",
			edit: ownAlarmEdit(func(a *model.Alarm) { a.MetricName, a.Namespace, a.MetricMath = "", "", true }), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "own filter drifted to defaultValue 1", key: "vpc-changes", want: plan.StatusFail, code: plan.CodeAlarmConditionNotValid,
			why:  "every non-matching event now adds 1 to the Sum, so Watchkeeper's alarm sits in ALARM",
			edit: ownFilterEdit(func(t *model.MetricTransformation) { t.DefaultValue = ptr(1.0) }), heal: []plan.Kind{plan.PutMetricFilter}},
		{name: "own filter drifted to dimensions", key: "vpc-changes", want: plan.StatusFail, code: plan.CodeMetricMismatch,
			edit: ownFilterEdit(func(t *model.MetricTransformation) { t.Dimensions = map[string]string{"Name": "$.eventName"} }), heal: []plan.Kind{plan.PutMetricFilter}},
		{name: "own alarm drifted to breaching", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmConditionNotValid,
			edit: ownAlarmEdit(func(a *model.Alarm) { a.TreatMissingData = "breaching" }), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "ignore while already in ALARM", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmConditionNotValid,
			why:  "ignore keeps the current state; an alarm in ALARM sends nothing on the next event",
			edit: userAlarmEdit(func(a *model.Alarm) { a.TreatMissingData, a.StateValue = "ignore", "ALARM" }), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "disabled alarm beside an enabled one", key: "root-account-usage", want: plan.StatusPass,
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				editLG(s, mainLG, func(g *model.LogGroup) {
					a := ownAlarm(c, userNS, userMetric)
					a.Name, a.ActionsEnabled, a.AlarmActions = "aaa-disabled", false, []string{userTopic}
					g.Alarms = append(g.Alarms, a)
				})
			}},
		{name: "Auto Scaling action beside the topic", key: "root-account-usage", want: plan.StatusPass,
			edit: userAlarmEdit(func(a *model.Alarm) {
				a.AlarmActions = []string{"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:autoScalingGroupName/g:policyName/p", userTopic}
			})},
		{name: "only an EC2 action", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmActionsNotValid,
			edit: userAlarmEdit(func(a *model.Alarm) { a.AlarmActions = []string{"arn:aws:automate:us-east-1:ec2:stop"} }), heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "topic in another region", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeAlarmActionsNotValid,
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				other := "arn:aws:sns:eu-west-1:123456789012:team-alerts"
				addTopic(s, other, confirmed("sqs", "arn:aws:sqs:eu-west-1:123456789012:soc"))
				editAlarm(s, mainLG, userAlarm, func(a *model.Alarm) { a.AlarmActions = []string{other} })
			}, heal: []plan.Kind{plan.PutMetricAlarm}},
		// Topics.
		{name: "topic policy denies CloudWatch", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeTopicPolicyDenies,
			why: "IAM policy evaluation: an explicit deny overrides any allow",
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				editTopic(userTopic, func(t *model.Topic) { t.Policy = denyCWSNS })(s, c)
			},
			heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "confused-deputy deny spares this account", key: "root-account-usage", want: plan.StatusPass,
			why: "aws:SourceAccount is this account for its own alarms, so StringNotEquals is false",
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				editTopic(userTopic, func(t *model.Topic) { t.Policy = denyForeignAccounts })(s, c)
			}},
		{name: "user topic key disabled", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeTopicKeyNotUsable,
			why: "KMS key states: a disabled key cannot be used, so SNS drops the notification",
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				editTopic(userTopic, encrypted("Disabled", cloudWatchKeyPolicy))(s, c)
			},
			heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "user topic key without CloudWatch grant", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeTopicKeyNotUsable,
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				editTopic(userTopic, encrypted("Enabled", rootOnlyKeyPolicy))(s, c)
			},
			heal: []plan.Kind{plan.PutMetricAlarm}},
		{name: "user topic key usable", key: "root-account-usage", want: plan.StatusPass,
			edit: func(s *model.Snapshot, c catalog.Control) {
				userChain(s, c)
				editTopic(userTopic, encrypted("Enabled", cloudWatchKeyPolicy))(s, c)
			}},
		{name: "own topic key scheduled for deletion", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeTopicKeyNotUsable,
			edit: editTopic(ourTopic, encrypted("PendingDeletion", cloudWatchKeyPolicy)), heal: []plan.Kind{plan.CancelKeyDeletion, plan.EnableKey},
			opts: func(o *plan.Options) { o.TopicKMSKeyID = ourKey }},
		{name: "own topic key disabled, other key configured", key: "root-account-usage", want: plan.StatusFail, code: plan.CodeTopicKeyNotUsable,
			why:  "Watchkeeper restores only the key it is configured with",
			edit: editTopic(ourTopic, encrypted("Disabled", cloudWatchKeyPolicy)), heal: []plan.Kind{}},
		{name: "subscription of another protocol", key: "root-account-usage", want: plan.StatusPass,
			why:  "any confirmed subscription delivers",
			edit: func(s *model.Snapshot, c catalog.Control) { userChain(s, c) }},
	}
}

// TestVerdicts judges each case and checks the code, that nothing is
// planned beside a working chain, what healing plans, and that healing
// converges: after the actions, every control passes and a second plan is
// empty, with the person's resources untouched.
func TestVerdicts(t *testing.T) {
	for _, tc := range verdictCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := control(t, tc.key)
			s := compliantAccount()
			tc.edit(&s, c)
			opts := options()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			p := plan.Compute(opts, clone(t, s))
			got := result(t, p, c.Key)
			if got.Status != tc.want {
				t.Fatalf("%s: status %s, want %s (%s); reasons %q", c.ID, got.Status, tc.want, tc.why, got.Reasons)
			}
			if tc.want == plan.StatusPass {
				if len(p.Actions) != 0 {
					t.Fatalf("a working chain, yet actions planned: %v", kinds(p.Actions))
				}
				return
			}
			if !slices.Contains(got.Codes, tc.code) || len(got.Reasons) == 0 {
				t.Fatalf("%s: codes %v, want %s; reasons %q", c.ID, got.Codes, tc.code, got.Reasons)
			}
			for _, k := range tc.heal {
				if !slices.Contains(kinds(p.Actions), k) {
					t.Errorf("plan %v lacks %s", kinds(p.Actions), k)
				}
			}
			if len(tc.heal) == 0 {
				if len(p.Actions) != 0 {
					t.Fatalf("nothing Watchkeeper may heal, yet actions planned: %v", kinds(p.Actions))
				}
				return
			}
			after := applyActions(t, clone(t, s), p.Actions)
			p2 := plan.Compute(opts, after)
			if r := result(t, p2, c.Key); r.Status != plan.StatusPass {
				t.Fatalf("after healing %s is %s: %q", c.ID, r.Status, r.Reasons)
			}
			if len(p2.Actions) != 0 {
				t.Fatalf("second plan not empty: %v", kinds(p2.Actions))
			}
			if b, a := userResources(s), userResources(after); !slices.EqualFunc(b, a, func(x, y string) bool { return x == y }) {
				t.Fatalf("a person's resources changed:\nbefore %v\nafter  %v", b, a)
			}
		})
	}
}

func kinds(as []plan.Action) []plan.Kind {
	var out []plan.Kind
	for _, a := range as {
		out = append(out, a.Kind)
	}
	return out
}

// userResources renders every filter and alarm not named with Watchkeeper's
// prefix, sorted, so a test can tell they were left byte-identical.
func userResources(s model.Snapshot) []string {
	var out []string
	for _, lg := range s.LogGroups {
		for _, f := range lg.Filters {
			if !startsWith(f.Name, prefix) {
				out = append(out, mustJSON(f))
			}
		}
		for _, a := range lg.Alarms {
			if !startsWith(a.Name, prefix) {
				out = append(out, mustJSON(a))
			}
		}
	}
	slices.Sort(out)
	return out
}

func startsWith(s, p string) bool { return strings.HasPrefix(s, p) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
