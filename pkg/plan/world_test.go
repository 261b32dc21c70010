package plan_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// The test account. Everything is in us-east-1 unless a test says otherwise.
const (
	account  = "123456789012"
	other    = "999988887777" // an organization's management account
	home     = "us-east-1"
	prefix   = plan.DefaultNamePrefix
	email    = "security@example.com"
	ourTopic = "arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms"
)

func trailARN(region, acct, name string) string {
	return fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, acct, name)
}

func lgARN(region, acct, name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, acct, name)
}

// bench is the benchmark every test uses unless it says otherwise.
func bench() catalog.Benchmark { return catalog.Default() }

func control(t *testing.T, key string) catalog.Control {
	t.Helper()
	for _, c := range bench().Controls {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("no control %q in %s", key, bench().ID)
	return catalog.Control{}
}

func options() plan.Options {
	return plan.Options{
		Benchmark:     bench(),
		HomeRegion:    home,
		Subscriptions: []plan.Endpoint{{Protocol: "email", Endpoint: email}},
	}
}

// emptyAccount has three enabled regions and nothing else.
func emptyAccount() model.Snapshot {
	return model.Snapshot{
		Account:   account,
		Partition: "aws",
		Regions: []model.Region{
			{Name: "eu-west-1", TrailARNs: []string{}},
			{Name: "us-east-1", TrailARNs: []string{}},
			{Name: "us-west-2", TrailARNs: []string{}},
		},
		Trails:    []model.Trail{},
		LogGroups: map[string]model.LogGroup{},
		Topics:    map[string]model.Topic{},
	}
}

// addTrail adds a qualifying multi-region trail named name, based in
// us-east-1 and delivering to an existing, empty log group
// /aws/cloudtrail/<name>, then lets mods change it. It returns the ARN.
func addTrail(s *model.Snapshot, name string, mods ...func(*model.Trail)) string {
	tr := model.Trail{
		ARN:           trailARN(home, account, name),
		Name:          name,
		HomeRegion:    home,
		OwnerAccount:  account,
		IsMultiRegion: true,
		LogGroupARN:   lgARN(home, account, "/aws/cloudtrail/"+name),
		LogsRoleARN:   "arn:aws:iam::123456789012:role/cloudtrail-logs",
		Status:        &model.TrailStatus{IsLogging: true, LatestCloudWatchLogsDeliveryTime: "2026-11-23T05:00:00Z"},
		Selectors:     &model.Selectors{Classic: []model.ClassicSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}},
	}
	for _, m := range mods {
		m(&tr)
	}
	if tr.LogGroupARN != "" {
		if _, ok := s.LogGroups[tr.LogGroupARN]; !ok {
			s.LogGroups[tr.LogGroupARN] = model.LogGroup{
				ARN: tr.LogGroupARN, Name: lgName(tr.LogGroupARN), Region: mustARN(tr.LogGroupARN).Region,
				Account: mustARN(tr.LogGroupARN).AccountID, Exists: true,
				Filters: []model.MetricFilter{}, Alarms: []model.Alarm{},
			}
		}
	}
	s.Trails = append(s.Trails, tr)
	for i := range s.Regions {
		if tr.IsMultiRegion || s.Regions[i].Name == tr.HomeRegion {
			s.Regions[i].TrailARNs = append(s.Regions[i].TrailARNs, tr.ARN)
		}
	}
	return tr.ARN
}

func lgName(arn string) string {
	_, n, _ := strings.Cut(arn, ":log-group:")
	return strings.TrimSuffix(n, ":*")
}

// mustARN parses s, an ARN the test itself wrote.
func mustARN(s string) arn.ARN {
	a, err := arn.Parse(s)
	if err != nil {
		panic(fmt.Sprintf("test ARN %q: %v", s, err))
	}
	return a
}

// addTopic adds an existing topic with the given subscriptions; an ARN of
// "PendingConfirmation" marks one unconfirmed.
func addTopic(s *model.Snapshot, arn string, subs ...model.Subscription) *model.Topic {
	t := model.Topic{ARN: arn, Region: mustARN(arn).Region, Account: mustARN(arn).AccountID, Exists: true, Subscriptions: []model.Subscription{}}
	for _, sub := range subs {
		t.Subscriptions = append(t.Subscriptions, sub)
		if sub.Confirmed() {
			t.ConfirmedSubscriptions++
		} else {
			t.PendingSubscriptions++
		}
	}
	s.Topics[arn] = t
	return &t
}

func confirmed(protocol, endpoint string) model.Subscription {
	return model.Subscription{ARN: ourTopic + ":0f1e2d3c", Protocol: protocol, Endpoint: endpoint}
}

func pending(protocol, endpoint string) model.Subscription {
	return model.Subscription{ARN: "PendingConfirmation", Protocol: protocol, Endpoint: endpoint}
}

// cloudWatchKeyPolicy is the key policy statement the Amazon SNS Developer
// Guide ("Configure AWS KMS permissions for AWS services") gives for
// CloudWatch alarms publishing to an encrypted topic.
const cloudWatchKeyPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Allow_CloudWatch_for_CMK","Effect":"Allow","Principal":{"Service":["cloudwatch.amazonaws.com"]},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}`

// ownFilter is the filter Watchkeeper writes for c.
func ownFilter(c catalog.Control, profile catalog.Profile) model.MetricFilter {
	return model.MetricFilter{
		Name:    prefix + c.Key,
		Pattern: c.PatternFor(profile),
		Transformations: []model.MetricTransformation{
			{MetricName: c.MetricName, MetricNamespace: plan.DefaultNamespace, MetricValue: "1"},
		},
	}
}

// ownAlarm is the alarm Watchkeeper writes for c on (namespace, metric).
func ownAlarm(c catalog.Control, namespace, metric string) model.Alarm {
	return model.Alarm{
		Name:               prefix + c.Key,
		ARN:                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + prefix + c.Key,
		Region:             home,
		MetricName:         metric,
		Namespace:          namespace,
		Statistic:          "Sum",
		Period:             300,
		EvaluationPeriods:  1,
		Threshold:          1,
		ComparisonOperator: "GreaterThanOrEqualToThreshold",
		TreatMissingData:   "notBreaching",
		ActionsEnabled:     true,
		AlarmActions:       []string{ourTopic},
	}
}

// compliantAccount is an account where Watchkeeper already did its job:
// trail "main" with every control's filter and alarm, and its topic with
// a confirmed email subscriber.
func compliantAccount() model.Snapshot {
	s := emptyAccount()
	addTrail(&s, "main")
	lga := lgARN(home, account, "/aws/cloudtrail/main")
	lg := s.LogGroups[lga]
	for _, c := range bench().Controls {
		lg.Filters = append(lg.Filters, ownFilter(c, catalog.ProfileBenchmark))
		lg.Alarms = append(lg.Alarms, ownAlarm(c, plan.DefaultNamespace, c.MetricName))
	}
	s.LogGroups[lga] = lg
	addTopic(&s, ourTopic, confirmed("email", email))
	return s
}

// mainLG is the log group of trail "main".
var mainLG = lgARN(home, account, "/aws/cloudtrail/main")

// editLG lets a test change one log group in place.
func editLG(s *model.Snapshot, arn string, f func(*model.LogGroup)) {
	lg := s.LogGroups[arn]
	f(&lg)
	s.LogGroups[arn] = lg
}

// editTrail lets a test change one trail in place.
func editTrail(s *model.Snapshot, name string, f func(*model.Trail)) {
	for i := range s.Trails {
		if s.Trails[i].Name == name {
			f(&s.Trails[i])
			return
		}
	}
	panic("no trail " + name)
}

func dropFilter(s *model.Snapshot, lg, name string) {
	editLG(s, lg, func(g *model.LogGroup) {
		g.Filters = slices.DeleteFunc(g.Filters, func(f model.MetricFilter) bool { return f.Name == name })
	})
}

func dropAlarm(s *model.Snapshot, lg, name string) {
	editLG(s, lg, func(g *model.LogGroup) {
		g.Alarms = slices.DeleteFunc(g.Alarms, func(a model.Alarm) bool { return a.Name == name })
	})
}

func editAlarm(s *model.Snapshot, lg, name string, f func(*model.Alarm)) {
	editLG(s, lg, func(g *model.LogGroup) {
		for i := range g.Alarms {
			if g.Alarms[i].Name == name {
				f(&g.Alarms[i])
			}
		}
	})
}

// clone deep-copies a snapshot, so applying actions never changes the input.
func clone(t *testing.T, s model.Snapshot) model.Snapshot {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal snapshot: %v", err)
	}
	var out model.Snapshot
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal snapshot: %v", err)
	}
	return out
}

// applyActions is the precise, in-memory specification of what each action
// does to an account, as a fresh snapshot would observe it afterwards. It
// also enforces the safety rules: it fails the test when an action would
// write a resource Watchkeeper does not own, write into another account,
// duplicate a subscription or act on something that does not exist.
//
// Subscriptions whose protocol AWS confirms without a person (sqs, lambda,
// firehose, application) are confirmed; others stay PendingConfirmation.
func applyActions(t *testing.T, in model.Snapshot, actions []plan.Action) model.Snapshot {
	t.Helper()
	s := clone(t, in)
	trail := func(a plan.Action) *model.Trail {
		if a.Trail == nil {
			t.Fatalf("%s %s: no trail spec", a.Kind, a.Target)
		}
		for i := range s.Trails {
			if s.Trails[i].ARN == a.Trail.TrailARN {
				if s.Trails[i].OwnerAccount != s.Account {
					t.Fatalf("%s on trail %s owned by %s: Watchkeeper must not change another account's trail", a.Kind, a.Target, s.Trails[i].OwnerAccount)
				}
				if a.Region != s.Trails[i].HomeRegion {
					t.Fatalf("%s on trail %s in %s, want its home region %s", a.Kind, a.Target, a.Region, s.Trails[i].HomeRegion)
				}
				return &s.Trails[i]
			}
		}
		t.Fatalf("%s on unknown trail %s", a.Kind, a.Trail.TrailARN)
		return nil
	}
	logGroup := func(a plan.Action, name string) string {
		for arn, lg := range s.LogGroups {
			if lg.Region == a.Region && lg.Name == name && lg.Exists {
				if lg.Account != s.Account {
					t.Fatalf("%s writes into log group %s of account %s", a.Kind, arn, lg.Account)
				}
				return arn
			}
		}
		t.Fatalf("%s %s: no log group %s in %s", a.Kind, a.Target, name, a.Region)
		return ""
	}
	for _, a := range actions {
		switch a.Kind {
		case plan.CreateTopic:
			if a.Topic == nil || !strings.HasSuffix(a.Target, ":"+a.Topic.Name) || a.Topic.Tags["ManagedBy"] != "watchkeeper" {
				t.Fatalf("CreateTopic %s: bad spec %+v", a.Target, a.Topic)
			}
			if tp, ok := s.Topics[a.Target]; ok && tp.Exists {
				t.Fatalf("CreateTopic %s: topic already exists", a.Target)
			}
			tp := model.Topic{ARN: a.Target, Region: a.Region, Account: s.Account, Exists: true, Subscriptions: []model.Subscription{}, KMSKeyID: a.Topic.KMSKeyID}
			if a.Topic.KMSKeyID != "" {
				tp.KMS = &model.TopicKey{KeyARN: a.Topic.KMSKeyID, KeyState: "Enabled", Policy: cloudWatchKeyPolicy}
			}
			s.Topics[a.Target] = tp
		case plan.Subscribe:
			sp := a.Subscription
			tp, ok := s.Topics[sp.TopicARN]
			if !ok || !tp.Exists {
				t.Fatalf("Subscribe to missing topic %s", sp.TopicARN)
			}
			if !strings.HasPrefix(mustARN(sp.TopicARN).Resource, prefix) {
				t.Fatalf("Subscribe to topic %s that Watchkeeper does not own", sp.TopicARN)
			}
			for _, sub := range tp.Subscriptions {
				if sub.Protocol == sp.Protocol && sub.Endpoint == sp.Endpoint {
					t.Fatalf("Subscribe duplicates %s:%s on %s", sp.Protocol, sp.Endpoint, sp.TopicARN)
				}
			}
			sub := model.Subscription{ARN: "PendingConfirmation", Protocol: sp.Protocol, Endpoint: sp.Endpoint}
			switch sp.Protocol {
			case "sqs", "lambda", "firehose", "application":
				sub.ARN = fmt.Sprintf("%s:%d", sp.TopicARN, len(tp.Subscriptions)+1)
				tp.ConfirmedSubscriptions++
			default:
				tp.PendingSubscriptions++
			}
			tp.Subscriptions = append(tp.Subscriptions, sub)
			s.Topics[sp.TopicARN] = tp
		case plan.PutMetricFilter:
			f := a.Filter
			if !strings.HasPrefix(f.FilterName, prefix) {
				t.Fatalf("PutMetricFilter writes filter %q that Watchkeeper does not own", f.FilterName)
			}
			if a.Target != f.LogGroupName+"/"+f.FilterName || f.MetricValue != "1" {
				t.Fatalf("PutMetricFilter: bad spec %+v (target %s)", f, a.Target)
			}
			arn := logGroup(a, f.LogGroupName)
			editLG(&s, arn, func(g *model.LogGroup) {
				g.Filters = slices.DeleteFunc(g.Filters, func(m model.MetricFilter) bool { return m.Name == f.FilterName })
				g.Filters = append(g.Filters, model.MetricFilter{Name: f.FilterName, Pattern: f.Pattern, Transformations: []model.MetricTransformation{
					{MetricName: f.MetricName, MetricNamespace: f.Namespace, MetricValue: f.MetricValue},
				}})
			})
		case plan.PutMetricAlarm:
			al := a.Alarm
			if !strings.HasPrefix(al.AlarmName, prefix) || !strings.HasSuffix(a.Target, ":alarm:"+al.AlarmName) {
				t.Fatalf("PutMetricAlarm writes alarm %q (target %s) that Watchkeeper does not own", al.AlarmName, a.Target)
			}
			if al.Statistic != "Sum" || al.Period != 300 || al.EvaluationPeriods != 1 || al.Threshold != 1 ||
				al.ComparisonOperator != "GreaterThanOrEqualToThreshold" || al.TreatMissingData != "notBreaching" ||
				al.TopicARN == "" || al.Tags["ManagedBy"] != "watchkeeper" {
				t.Fatalf("PutMetricAlarm: definition %+v differs from the contract", al)
			}
			if mustARN(al.TopicARN).Region != a.Region {
				t.Fatalf("PutMetricAlarm in %s notifies topic %s in another region", a.Region, al.TopicARN)
			}
			written := false
			for arn, lg := range s.LogGroups {
				if lg.Region != a.Region || !lg.Exists || lg.Account != s.Account {
					continue
				}
				written = true
				editLG(&s, arn, func(g *model.LogGroup) {
					g.Alarms = slices.DeleteFunc(g.Alarms, func(x model.Alarm) bool { return x.Name == al.AlarmName })
					g.Alarms = append(g.Alarms, model.Alarm{
						Name: al.AlarmName, ARN: a.Target, Region: a.Region, MetricName: al.MetricName, Namespace: al.Namespace,
						Statistic: al.Statistic, Period: al.Period, EvaluationPeriods: al.EvaluationPeriods, Threshold: al.Threshold,
						ComparisonOperator: al.ComparisonOperator, TreatMissingData: al.TreatMissingData,
						ActionsEnabled: true, AlarmActions: []string{al.TopicARN},
					})
				})
			}
			if !written {
				t.Fatalf("PutMetricAlarm %s: no log group of this account in %s", al.AlarmName, a.Region)
			}
		case plan.EnableAlarmActions:
			found := false
			for arn, lg := range s.LogGroups {
				if lg.Region != a.Region {
					continue
				}
				editLG(&s, arn, func(g *model.LogGroup) {
					for i := range g.Alarms {
						if g.Alarms[i].Name == a.Alarm.AlarmName {
							if !strings.HasPrefix(a.Alarm.AlarmName, prefix) {
								t.Fatalf("EnableAlarmActions on foreign alarm %s", a.Alarm.AlarmName)
							}
							g.Alarms[i].ActionsEnabled = true
							found = true
						}
					}
				})
			}
			if !found {
				t.Fatalf("EnableAlarmActions on missing alarm %s", a.Alarm.AlarmName)
			}
		case plan.StartLogging:
			tr := trail(a)
			if tr.Status == nil {
				t.Fatalf("StartLogging on trail %s whose status is unknown", tr.ARN)
			}
			tr.Status.IsLogging = true
		case plan.PutEventSelectors:
			tr := trail(a)
			if a.Trail.Selectors == nil {
				t.Fatalf("PutEventSelectors %s without selectors", a.Target)
			}
			sel := *a.Trail.Selectors
			if len(sel.Classic) > 0 && len(sel.Advanced) > 0 {
				t.Fatalf("PutEventSelectors %s mixes classic and advanced selectors", a.Target)
			}
			if len(sel.Classic) > 5 {
				t.Fatalf("PutEventSelectors %s: %d classic selectors, AWS allows 5", a.Target, len(sel.Classic))
			}
			tr.Selectors = &sel
		case plan.UpdateTrail:
			tr := trail(a)
			if a.Trail.MakeMultiRegion {
				tr.IsMultiRegion = true
			}
			if a.Trail.LogGroupARN != "" {
				if a.Trail.LogsRoleARN == "" {
					t.Fatalf("UpdateTrail %s attaches a log group without a role", a.Target)
				}
				arn := strings.TrimSuffix(a.Trail.LogGroupARN, ":*")
				tr.LogGroupARN, tr.LogsRoleARN = arn, a.Trail.LogsRoleARN
				if _, ok := s.LogGroups[arn]; !ok {
					s.LogGroups[arn] = model.LogGroup{ARN: arn, Name: lgName(arn), Region: mustARN(arn).Region, Account: mustARN(arn).AccountID,
						Exists: true, Filters: []model.MetricFilter{}, Alarms: []model.Alarm{}}
				}
			}
		case plan.CancelKeyDeletion, plan.EnableKey:
			if a.KMSKey == nil || a.KMSKey.KeyARN != a.Target {
				t.Fatalf("%s: bad spec %+v (target %s)", a.Kind, a.KMSKey, a.Target)
			}
			changed := false
			for arn, tp := range s.Topics {
				if tp.KMS == nil || tp.KMS.KeyARN != a.KMSKey.KeyARN {
					continue
				}
				if !strings.HasSuffix(arn, ":"+prefix+"cis-alarms") {
					t.Fatalf("%s on key %s of topic %s that Watchkeeper does not own", a.Kind, a.KMSKey.KeyARN, arn)
				}
				k := *tp.KMS
				switch {
				case a.Kind == plan.CancelKeyDeletion && k.KeyState == "PendingDeletion":
					k.KeyState = "Disabled" // AWS KMS API reference, CancelKeyDeletion
				case a.Kind == plan.EnableKey && k.KeyState == "Disabled":
					k.KeyState = "Enabled"
				default:
					t.Fatalf("%s on key %s in state %s", a.Kind, k.KeyARN, k.KeyState)
				}
				tp.KMS = &k
				s.Topics[arn] = tp
				changed = true
			}
			if !changed {
				t.Fatalf("%s on key %s that no topic uses", a.Kind, a.KMSKey.KeyARN)
			}
		default:
			t.Fatalf("unknown action kind %q", a.Kind)
		}
	}
	return s
}
