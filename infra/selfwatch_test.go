package main

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/test/cfn"
)

// prefixed returns the single resource of type typ whose logical id starts
// with prefix (the construct id), failing otherwise: the stack has two
// topics and several keys, told apart by what they are for.
func (f *fixture) prefixed(t *testing.T, typ, prefix string) (string, map[string]any) {
	t.Helper()
	var ids []string
	for id := range f.resources(typ) {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("got %d %s resources with logical id prefix %s, want 1", len(ids), typ, prefix)
	}
	return ids[0], f.resources(typ)[ids[0]]
}

// rule returns the rule named name.
func (f *fixture) rule(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, r := range f.resources("AWS::Events::Rule") {
		if props(r)["Name"] == name {
			return r
		}
	}
	t.Fatalf("no rule named %s", name)
	return nil
}

// controlPattern is the drift rule's pattern reduced to the control calls:
// the first branch of its detail's "$or" and the control sources.
func controlPattern(t *testing.T, p any) any {
	t.Helper()
	m := p.(map[string]any)
	or, ok := m["detail"].(map[string]any)["$or"].([]any)
	if !ok || len(or) < 2 {
		t.Fatalf("drift pattern's detail is not an $or of the control calls and the self-watch branches: %v", m["detail"])
	}
	var sources []any
	for src := range trigger.HandledBySource() {
		sources = append(sources, src)
	}
	sort.Slice(sources, func(i, j int) bool { return sources[i].(string) < sources[j].(string) })
	return map[string]any{"source": sources, "detail-type": m["detail-type"], "detail": or[0]}
}

// selfBranches returns the self-watch branches of a pattern's detail "$or"
// by requestParameters member: member -> (event names, watched names).
func selfBranches(t *testing.T, p any) map[string][2][]string {
	t.Helper()
	out := map[string][2][]string{}
	for _, b := range p.(map[string]any)["detail"].(map[string]any)["$or"].([]any) {
		rp, ok := b.(map[string]any)["requestParameters"].(map[string]any)
		if !ok {
			continue
		}
		if !cmp.Equal(b.(map[string]any)["errorCode"], []any{map[string]any{"exists": false}}) {
			t.Errorf("self-watch branch %v does not require the call to have succeeded", b)
		}
		for member, names := range rp {
			out[member] = [2][]string{asStrings(b.(map[string]any)["eventName"]), asStrings(names)}
		}
	}
	return out
}

// Every self-alarm notifies both the alarm topic and the watchdog topic, so
// a broken alarm topic (its key disabled, its subscription removed) still
// leaves a path to a person.
func TestEverySelfAlarmNotifiesBothTopics(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		cfg     Config
	}{{"default", defaultTestConfig()}, {"trail", trailTestConfig()}} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			alarmTopic, _ := f.prefixed(t, "AWS::SNS::Topic", "AlarmTopic")
			watchdog, _ := f.prefixed(t, "AWS::SNS::Topic", "WatchdogTopic")
			alarms := f.resources("AWS::CloudWatch::Alarm")
			if len(alarms) == 0 {
				t.Fatal("no self-alarms")
			}
			for id, a := range alarms {
				got := props(a)["AlarmActions"]
				if diff := cmp.Diff([]any{ref(alarmTopic), ref(watchdog)}, got); diff != "" {
					t.Errorf("alarm %s actions (-want +got):\n%s", id, diff)
				}
			}
		})
	}
}

// The watchdog path shares nothing the alarm topic's failure, or the
// remediator, can break: its own key (rotating), the same subscribers, a
// policy letting only this account's alarms and rules publish, and no grant
// at all to the remediator on the watchdog topic or its key.
func TestWatchdogTopicIsIndependentOfTheAlarmTopic(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	alarmKey, _ := f.prefixed(t, "AWS::KMS::Key", "TopicKey")
	watchdogKey, key := f.prefixed(t, "AWS::KMS::Key", "WatchdogKey")
	watchdogID, topic := f.prefixed(t, "AWS::SNS::Topic", "WatchdogTopic")
	if diff := cmp.Diff(getAtt(watchdogKey, "Arn"), props(topic)["KmsMasterKeyId"]); diff != "" || watchdogKey == alarmKey {
		t.Errorf("watchdog topic key (-want +got):\n%s", diff)
	}
	if props(key)["EnableKeyRotation"] != true {
		t.Error("watchdog key rotation is not enabled")
	}
	// The key lets the two publishing services use it for this account only.
	var services []string
	for _, st := range props(key)["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		s := st.(map[string]any)
		svc, ok := s["Principal"].(map[string]any)["Service"]
		if !ok {
			continue
		}
		services = append(services, asStrings(svc)...)
		if !cmp.Equal(s["Condition"], map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": testAccount}}) {
			t.Errorf("watchdog key statement %v is not limited to this account", s["Sid"])
		}
	}
	sort.Strings(services)
	if diff := cmp.Diff([]string{"cloudwatch.amazonaws.com", "events.amazonaws.com"}, services); diff != "" {
		t.Errorf("services that may use the watchdog key (-want +got):\n%s", diff)
	}
	// Same subscribers as the alarm topic.
	var subs []string
	for _, s := range f.resources("AWS::SNS::Subscription") {
		if cmp.Equal(props(s)["TopicArn"], ref(watchdogID)) {
			subs = append(subs, props(s)["Protocol"].(string)+":"+props(s)["Endpoint"].(string))
		}
	}
	sort.Strings(subs)
	if diff := cmp.Diff([]string{"email:ops@example.com", "email:sec@example.com"}, subs); diff != "" {
		t.Errorf("watchdog subscriptions (-want +got):\n%s", diff)
	}
	// The remediator has no grant on the watchdog topic or its key.
	stmts, err := json.Marshal(f.roleStatements(t, f.remediatorRoleID()))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{watchdogID, watchdogKey} {
		if strings.Contains(string(stmts), `"`+id+`"`) {
			t.Errorf("the remediator's policy names %s", id)
		}
	}
}

// The dead man's switch fires when no run succeeded for 26 hours: every
// one-hour period of the window lacks a heartbeat (missing data breaching),
// on the series the function publishes (pkg/notify), within CloudWatch's
// seven-day evaluation limit.
func TestDeadMansSwitchWatchesTheHeartbeat(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	_, a := f.prefixed(t, "AWS::CloudWatch::Alarm", "DeadMansSwitchAlarm")
	p := props(a)
	want := map[string]any{
		"Namespace": notify.MetricNamespace, "MetricName": notify.HeartbeatMetric,
		"Dimensions": []any{map[string]any{"Name": notify.HeartbeatDimension, "Value": testAccount}},
		"Statistic":  "Sum", "Period": float64(3600), "Threshold": float64(1),
		"ComparisonOperator": "LessThanThreshold", "TreatMissingData": "breaching",
		"EvaluationPeriods": float64(26), "DatapointsToAlarm": float64(26),
	}
	for k, v := range want {
		if !cmp.Equal(p[k], v) {
			t.Errorf("dead man's switch %s = %v, want %v", k, p[k], v)
		}
	}
	if window := p["Period"].(float64) * p["EvaluationPeriods"].(float64); window != 26*3600 || window > 604800 {
		t.Errorf("evaluation window %v s, want 26 h and at most CloudWatch's 7 days", window)
	}
}

// The drift rule also catches changes to Watchkeeper itself, narrowed to
// its own resources: DisableRule/DeleteRule/RemoveTargets on its three
// rules, the Lambda calls on its function (by name, ARN or partial ARN),
// and, with a managed trail, the IAM calls on the trail's delivery role.
// The self-watch rule catches the same and targets only the watchdog
// topic, through an input transformer that names the call, the caller and
// the request.
func TestDriftAndSelfWatchRulesCatchChangesToWatchkeeper(t *testing.T) {
	for _, tc := range []struct {
		fixture   string
		cfg       Config
		wantRoles bool
	}{{"default", defaultTestConfig(), false}, {"trail", trailTestConfig(), true}} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			fnID := f.logicalID(t, "AWS::Lambda::Function")
			fnNames := []string{
				"Ref:" + fnID,
				"arn:aws:lambda:" + testRegion + ":" + testAccount + ":function:Ref:" + fnID,
				testAccount + ":function:Ref:" + fnID,
			}
			want := map[string][2][]string{
				"name":         {{"DeleteRule", "DisableRule"}, selfwatch.Rules()},
				"rule":         {{"RemoveTargets"}, selfwatch.Rules()},
				"functionName": {{"DeleteFunction20150331", "DeleteFunctionConcurrency20171031", "PutFunctionConcurrency20171031", "UpdateFunctionConfiguration20150331v2"}, fnNames},
			}
			if tc.wantRoles {
				roleID, _ := f.prefixed(t, "AWS::IAM::Role", "TrailLogsRole")
				want["roleName"] = [2][]string{{"AttachRolePolicy", "DeleteRole", "DeleteRolePolicy", "DetachRolePolicy", "PutRolePermissionsBoundary", "PutRolePolicy", "UpdateAssumeRolePolicy"}, {"Ref:" + roleID}}
			}
			for _, name := range []string{selfwatch.DriftRule, selfwatch.WatchRule} {
				pattern := flattenRefs(props(f.rule(t, name))["EventPattern"])
				if diff := cmp.Diff(want, selfBranches(t, pattern)); diff != "" {
					t.Errorf("%s self-watch branches (-want +got):\n%s", name, diff)
				}
			}
			// The self-watch rule targets the watchdog topic only, and says
			// who did what.
			watchdog, _ := f.prefixed(t, "AWS::SNS::Topic", "WatchdogTopic")
			targets := props(f.rule(t, selfwatch.WatchRule))["Targets"].([]any)
			if len(targets) != 1 || !cmp.Equal(targets[0].(map[string]any)["Arn"], ref(watchdog)) {
				t.Fatalf("self-watch rule targets %v, want the watchdog topic only", targets)
			}
			paths, _ := targets[0].(map[string]any)["InputTransformer"].(map[string]any)["InputPathsMap"].(map[string]any)
			var got []string
			for _, v := range paths {
				got = append(got, v.(string))
			}
			for _, p := range []string{"$.detail.eventName", "$.detail.userIdentity.arn", "$.detail.eventTime",
				"$.detail.requestParameters.functionName", "$.detail.requestParameters.reservedConcurrentExecutions"} {
				if !slices.Contains(got, p) {
					t.Errorf("self-watch message does not carry %s (paths %v)", p, got)
				}
			}
		})
	}
}

// flattenRefs replaces {"Ref": id} with "Ref:id" and folds Fn::Join, so a
// pattern's token-valued names compare as strings.
func flattenRefs(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if id, ok := t["Ref"].(string); ok && len(t) == 1 {
			return "Ref:" + id
		}
		for k, e := range t {
			t[k] = flattenRefs(e)
		}
		return cfn.ResolvePseudo(t, nil)
	case []any:
		for i, e := range t {
			t[i] = flattenRefs(e)
		}
	}
	return v
}

// The function may read its three rules and, when it heals, enable them:
// exactly their ARNs, never another rule, and nothing that could disable,
// delete or retarget a rule.
func TestFunctionMayOnlyReadAndReEnableItsOwnRules(t *testing.T) {
	for _, tc := range iamCases() {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			granted := map[string][]string{}
			for _, s := range f.roleStatements(t, f.remediatorRoleID()) {
				st := s.(map[string]any)
				if st["Effect"] != "Allow" {
					continue
				}
				for _, a := range asStrings(st["Action"]) {
					if strings.HasPrefix(a, "events:") {
						granted[a] = append(granted[a], asStrings(st["Resource"])...)
					}
				}
			}
			rules := ownRuleArns("aws", testAccount, testRegion)
			want := map[string][]string{"events:DescribeRule": rules}
			if tc.apply {
				want["events:EnableRule"] = rules
			}
			if diff := cmp.Diff(want, granted); diff != "" {
				t.Errorf("EventBridge grants (-want +got):\n%s", diff)
			}
		})
	}
}

// IAM's events arrive in us-east-1 only. A stack homed elsewhere with a
// managed trail gets a second stack there whose rule forwards the
// delivery-role calls to the home Region's default bus, and depends on it
// so that deploying the main stack deploys it; a stack homed in us-east-1,
// or without a delivery role to watch, gets none.
func TestIAMForwardingStack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		region string
		cfg    Config
		want   bool
	}{
		{"trail away from us-east-1", "eu-west-1", trailTestConfig(), true},
		{"trail in us-east-1", "us-east-1", trailTestConfig(), false},
		{"no managed trail", "eu-west-1", defaultTestConfig(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
			AddNagChecks(app)
			home := NewWatchkeeperStack(app, "Home", &WatchkeeperStackProps{
				StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(tc.region)}},
				Config:     tc.cfg,
				ModuleRoot: moduleRoot(t),
			})
			var fwd awscdk.Stack
			for _, c := range *app.Node().Children() {
				if s, ok := c.(awscdk.Stack); ok && *s.Node().Id() != "Home" {
					fwd = s
				}
			}
			if (fwd != nil) != tc.want {
				t.Fatalf("forwarding stack present = %v, want %v", fwd != nil, tc.want)
			}
			if fwd == nil {
				return
			}
			if *fwd.Region() != IAMEventsRegion {
				t.Errorf("forwarding stack Region = %s, want %s", *fwd.Region(), IAMEventsRegion)
			}
			deps := *home.Dependencies()
			if len(deps) != 1 || *deps[0].Node().Id() != *fwd.Node().Id() {
				t.Errorf("home stack does not depend on the forwarding stack: %v", deps)
			}
			doc := cfn.ResolvePseudo(toMap(t, assertions.Template_FromStack(fwd, nil).ToJSON()), pseudoParameters).(map[string]any)
			// cdk-nag's AwsSolutions pack (which `cdk synth` applies to every
			// stack) finds nothing in the forwarding stack either.
			ann := assertions.Annotations_FromStack(fwd)
			nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			if n := len(*ann.FindError(jsii.String("*"), nag)) + len(*ann.FindWarning(jsii.String("*"), nag)); n != 0 {
				t.Errorf("%d cdk-nag findings in the forwarding stack", n)
			}
			var rules []map[string]any
			for _, r := range doc["Resources"].(map[string]any) {
				if r.(map[string]any)["Type"] == "AWS::Events::Rule" {
					rules = append(rules, props(r.(map[string]any)))
				}
			}
			if len(rules) != 1 {
				t.Fatalf("forwarding stack has %d rules, want 1", len(rules))
			}
			r := rules[0]
			if r["Name"] != selfwatch.ForwardRule {
				t.Errorf("forwarding rule name %v", r["Name"])
			}
			pattern := r["EventPattern"].(map[string]any)
			if !cmp.Equal(pattern["source"], []any{"aws.iam"}) || pattern["detail"].(map[string]any)["eventSource"] == nil {
				t.Errorf("forwarding pattern %v does not select IAM's calls", pattern)
			}
			var names []string
			for _, c := range trigger.SelfWatched() {
				if c.Scope == trigger.DeliveryRole {
					names = append(names, c.Name)
				}
			}
			if diff := cmp.Diff(names, asStrings(pattern["detail"].(map[string]any)["eventName"])); diff != "" {
				t.Errorf("forwarded calls (-want +got):\n%s", diff)
			}
			target := r["Targets"].([]any)[0].(map[string]any)
			if target["Arn"] != "arn:aws:events:"+tc.region+":"+testAccount+":event-bus/default" || target["RoleArn"] == nil {
				t.Errorf("forwarding target %v, want the home Region's default bus with a role", target)
			}
		})
	}
}

// The self-watch message template stays valid JSON once EventBridge fills
// it in (every variable inside quotes) and when it leaves a variable the
// event lacks, uses exactly the variables it defines, and never the whole
// request parameters (which can hold environment variables).
func TestSelfWatchTemplateIsJSONOnceFilled(t *testing.T) {
	filled := selfWatchTemplate
	for name := range selfWatchPaths {
		v := "x"
		if !strings.Contains(filled, "<"+name+">") {
			t.Errorf("template does not use <%s>", name)
		}
		filled = strings.ReplaceAll(filled, "<"+name+">", v)
	}
	if strings.ContainsAny(filled, "<>") || !json.Valid([]byte(filled)) {
		t.Errorf("filled template is not JSON or keeps a variable:\n%s", filled)
	}
	// A variable whose path the event lacks may stay as written: still JSON.
	if !json.Valid([]byte(selfWatchTemplate)) {
		t.Errorf("template with its variables unfilled is not JSON:\n%s", selfWatchTemplate)
	}
	for name, path := range selfWatchPaths {
		if *path == "$.detail.requestParameters" || *path == "$.detail" {
			t.Errorf("variable %s quotes %s whole", name, *path)
		}
	}
}
