package main

import (
	"encoding/json"
	"errors"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

// The topic-key writes are granted only where the remediator may heal
// (mode=apply) and only on the one key it is configured with; without a
// known key ARN nothing is granted and the key's state is only reported.
func TestTopicKeyWritesNeedApplyAndAKnownKey(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyWrites := []string{"kms:CancelKeyDeletion", "kms:EnableKey"}
	for _, tc := range []struct {
		name    string
		scope   permissionScope
		wantRes []string // resources of the statements granting a key write
	}{
		{"apply with the stack's key", permissionScope{apply: true, healing: "safe", topicKeyArn: key}, []string{key}},
		{"apply, trail healing none", permissionScope{apply: true, healing: "none", topicKeyArn: key}, []string{key}},
		{"report", permissionScope{apply: false, healing: "safe", topicKeyArn: key}, nil},
		{"apply without a known key", permissionScope{apply: true, healing: "full"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.scope.partition, tc.scope.account, tc.scope.topicName = "aws", testAccount, DefaultTopicName
			var got []string
			for _, s := range remediatorStatements(tc.scope) {
				doc := s.ToStatementJson().(map[string]any)
				actions := asStrings(doc["Action"])
				if !slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(keyWrites, a) }) {
					continue
				}
				if diff := cmp.Diff(keyWrites, actions); diff != "" {
					t.Errorf("statement %v: actions (-want +got):\n%s", doc["Sid"], diff)
				}
				got = append(got, asStrings(doc["Resource"])...)
			}
			if diff := cmp.Diff(tc.wantRes, got); diff != "" {
				t.Errorf("key-write resources (-want +got):\n%s", diff)
			}
		})
	}
}

// Literal ARNs for policies built without a stack.
const (
	testTopicKey   = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	testLogsRole   = "arn:aws:iam::123456789012:role/Watchkeeper-TrailLogsRole"
	testOwnTrail   = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-main"
	testOtherTrail = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/someone-elses"
	testTopic      = "arn:aws:sns:eu-west-1:123456789012:watchkeeper-cis-alarms"
)

// testScopes are the configurations the policy tests cover: report mode,
// each healing level, a named and an unnamed trail, and the managed
// trail's logs role.
func testScopes() map[string]permissionScope {
	base := func(apply bool, healing string) permissionScope {
		return permissionScope{
			partition: "aws", account: testAccount, topicName: DefaultTopicName, topicKeyArn: testTopicKey,
			apply: apply, healing: healing,
			subscriptions: []plan.Endpoint{
				{Protocol: "email", Endpoint: "sec@example.com"},
				{Protocol: "email", Endpoint: "ops@example.com"},
				{Protocol: "https", Endpoint: "https://hooks.example.com/alarm"},
			},
		}
	}
	named := func(s permissionScope) permissionScope { s.trailArns = []string{testOwnTrail}; return s }
	full := named(base(true, "full"))
	full.trailLogsRoleArn = testLogsRole
	return map[string]permissionScope{
		"report":            named(base(false, "full")),
		"apply-none":        named(base(true, "none")),
		"apply-safe":        base(true, "safe"),
		"apply-safe-named":  named(base(true, "safe")),
		"apply-full-named":  full,
		"apply-full-any":    base(true, "full"),
		"apply-no-subs":     func() permissionScope { s := named(base(true, "safe")); s.subscriptions = nil; return s }(),
		"apply-full-no-key": func() permissionScope { s := full; s.topicKeyArn = ""; return s }(),
	}
}

// statementDocs renders statements as IAM JSON values.
func statementDocs(t *testing.T, ss []map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": ss})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func scopeStatements(p permissionScope) []map[string]any {
	var out []map[string]any
	for _, s := range append(remediatorStatements(p), guardStatements(p)...) {
		out = append(out, unwrapJSII(s.ToStatementJson()).(map[string]any))
	}
	return out
}

// unwrapJSII replaces the {"$jsii.map": {...}} wrappers that jsii puts
// around nested maps (here: a statement's Condition) with the maps.
func unwrapJSII(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if inner, ok := t["$jsii.map"]; ok && len(t) == 1 {
			return unwrapJSII(inner)
		}
		out := map[string]any{}
		for k, e := range t {
			out[k] = unwrapJSII(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = unwrapJSII(e)
		}
		return out
	}
	return v
}

// The guard statements, statement by statement, for each configuration:
// what is denied everywhere, and which trail writes are confined to the
// named trail.
func TestGuardStatements(t *testing.T) {
	destructive := func() map[string]any {
		var a []any
		for _, s := range destructiveActions {
			a = append(a, s)
		}
		return map[string]any{"Sid": "DenyDestructiveActions", "Effect": "Deny", "Action": a, "Resource": "*"}
	}
	denyAll := func(sid string, actions ...any) map[string]any {
		var a any = actions
		if len(actions) == 1 {
			a = actions[0]
		}
		return map[string]any{"Sid": sid, "Effect": "Deny", "Action": a, "Resource": "*"}
	}
	passNone := denyAll("DenyPassingOtherRoles", "iam:PassRole")
	subsNone := denyAll("DenySubscribingOtherEndpoints", "sns:Subscribe")
	subsOthers := map[string]any{"Sid": "DenySubscribingOtherEndpoints", "Effect": "Deny", "Action": "sns:Subscribe", "Resource": "*",
		"Condition": map[string]any{"StringNotEquals": map[string]any{"sns:Endpoint": []any{"https://hooks.example.com/alarm", "ops@example.com", "sec@example.com"}}}}
	alarms := map[string]any{"Sid": "DenyAlarmActionsOtherThanTheTopic", "Effect": "Deny",
		"Action": []any{"cloudwatch:PutCompositeAlarm", "cloudwatch:PutMetricAlarm"}, "Resource": "*",
		"Condition": map[string]any{"ForAnyValue:StringNotLike": map[string]any{"cloudwatch:AlarmActions": "arn:aws:sns:*:123456789012:watchkeeper-cis-alarms"}}}
	want := map[string][]any{
		"report":     {destructive(), denyAll("DenyTrailWritesNotGranted", "cloudtrail:PutEventSelectors", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail"), passNone, subsNone, alarms},
		"apply-none": {destructive(), denyAll("DenyTrailWritesNotGranted", "cloudtrail:PutEventSelectors", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail"), passNone, subsOthers, alarms},
		// No trail named: the granted writes cover every trail, so only
		// UpdateTrail (bucket, key, validation) is denied outright.
		"apply-safe": {destructive(), denyAll("DenyTrailWritesNotGranted", "cloudtrail:UpdateTrail"), passNone, subsOthers, alarms},
		"apply-safe-named": {destructive(), denyAll("DenyTrailWritesNotGranted", "cloudtrail:UpdateTrail"),
			map[string]any{"Sid": "DenyTrailWritesToOtherTrails", "Effect": "Deny",
				"Action": []any{"cloudtrail:PutEventSelectors", "cloudtrail:StartLogging"}, "NotResource": testOwnTrail},
			passNone, subsOthers, alarms},
		"apply-full-named": {destructive(),
			map[string]any{"Sid": "DenyTrailWritesToOtherTrails", "Effect": "Deny",
				"Action": []any{"cloudtrail:PutEventSelectors", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail"}, "NotResource": testOwnTrail},
			map[string]any{"Sid": "DenyPassingOtherRoles", "Effect": "Deny", "Action": "iam:PassRole", "NotResource": testLogsRole},
			subsOthers, alarms},
		"apply-full-any": {destructive(), passNone, subsOthers, alarms},
		"apply-no-subs": {destructive(), denyAll("DenyTrailWritesNotGranted", "cloudtrail:UpdateTrail"),
			map[string]any{"Sid": "DenyTrailWritesToOtherTrails", "Effect": "Deny",
				"Action": []any{"cloudtrail:PutEventSelectors", "cloudtrail:StartLogging"}, "NotResource": testOwnTrail},
			passNone, subsNone, alarms},
	}
	scopes := testScopes()
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			var got []any
			for _, s := range guardStatements(scopes[name]) {
				got = append(got, unwrapJSII(s.ToStatementJson()))
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("guard statements (-want +got):\n%s", diff)
			}
		})
	}
}

// The destructive actions the issue names are denied: deletes, stopping
// the trail, key deletion and key policy changes, IAM writes, and the
// trail bucket.
func TestDestructiveActionsCoverTheIssuesList(t *testing.T) {
	for _, a := range []string{
		"cloudtrail:DeleteTrail", "cloudtrail:StopLogging",
		"logs:DeleteLogGroup", "logs:DeleteMetricFilter", "logs:PutRetentionPolicy",
		"cloudwatch:DeleteAlarms", "cloudwatch:DisableAlarmActions",
		"sns:DeleteTopic", "sns:Unsubscribe", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
		"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:DeleteAlias",
		"iam:CreateUser", "iam:CreateAccessKey", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
		"iam:UpdateAssumeRolePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeleteRolePermissionsBoundary",
		"s3:DeleteBucket", "s3:DeleteObject", "s3:PutBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketVersioning",
		"s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration",
	} {
		if !actionMatches(destructiveActions, a) {
			t.Errorf("%s is not denied by DenyDestructiveActions", a)
		}
	}
}

// No Deny ever covers an action the remediator is granted, in any
// configuration, nor any action its code calls (so a new statement for a
// new call cannot be silently voided by the guard).
func TestGuardNeverDeniesAGrantedAction(t *testing.T) {
	called := slices.Concat(inspect.ReadActions, apply.WriteActions, apply.ImpliedWriteActions, NotifyActions, PlatformActions, findings.Actions)
	for _, a := range called {
		if actionMatches(destructiveActions, a) {
			t.Errorf("%s is called by the remediator but denied by DenyDestructiveActions", a)
		}
	}
	check := func(t *testing.T, docs []map[string]any) {
		t.Helper()
		for _, al := range docs {
			if al["Effect"] != "Allow" {
				continue
			}
			for _, a := range asStrings(al["Action"]) {
				for _, r := range asStrings(al["Resource"]) {
					for _, d := range docs {
						if d["Effect"] != "Deny" || d["Condition"] != nil || !actionMatches(asStrings(d["Action"]), a) {
							continue // a conditioned Deny: the function's own calls pass it (TestStolenSessionCannotWeaponisePolicy)
						}
						if nr := asStrings(d["NotResource"]); nr == nil || !slices.Contains(nr, r) {
							t.Errorf("%s grants %s on %s, which %s denies", al["Sid"], a, r, d["Sid"])
						}
					}
				}
			}
		}
	}
	// The deployed policy of every configuration, including statements
	// other features add in newRemediatorRole.
	for _, tc := range iamCases() {
		t.Run("synthesized "+tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			var docs []map[string]any
			for _, s := range literalARNs(f, f.roleStatements(t, f.remediatorRoleID())).([]any) {
				docs = append(docs, s.(map[string]any))
			}
			check(t, docs)
		})
	}
	for name, p := range testScopes() {
		t.Run(name, func(t *testing.T) {
			check(t, scopeStatements(p))
		})
	}
}

// actionMatches reports whether an IAM action pattern list covers action
// (case-insensitive, * and ? wildcards: IAM User Guide, "IAM JSON policy
// elements: Action").
func actionMatches(patterns []string, action string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

// decide evaluates the remediator's policy for p (plus extra statements,
// such as a broad policy attached later) on one request, with the
// evaluator of pkg/policy: it follows the IAM User Guide's evaluation
// logic (explicit Deny wins, else an Allow whose action, resource and
// every condition match) and never counts an Allow it cannot decide.
func decide(t *testing.T, p permissionScope, extra []map[string]any, action, resource string, ctx map[string][]string, absent ...string) policy.Decision {
	t.Helper()
	return decideDocs(t, append(scopeStatements(p), extra...), action, resource, ctx, absent...)
}

// allowOnly is p's policy without its Deny statements.
func allowOnly(p permissionScope) []map[string]any {
	var out []map[string]any
	for _, s := range remediatorStatements(p) {
		out = append(out, unwrapJSII(s.ToStatementJson()).(map[string]any))
	}
	return out
}

func decideDocs(t *testing.T, docs []map[string]any, action, resource string, ctx map[string][]string, absent ...string) policy.Decision {
	t.Helper()
	for _, d := range docs {
		// pkg/policy judges resource policies; an identity policy is the
		// same document with its principal implied.
		d["Principal"] = map[string]any{"AWS": "*"}
	}
	d, err := policy.Evaluate(statementDocs(t, docs), policy.Request{
		Service: "lambda.amazonaws.com", Action: action, Resource: resource, Context: ctx, Absent: absent,
	})
	if err != nil {
		t.Fatalf("evaluate %s on %s: %v", action, resource, err)
	}
	if len(d.Uncertain) > 0 {
		t.Fatalf("evaluate %s on %s: undecided parts %v", action, resource, d.Uncertain)
	}
	return d
}

// A session of the role can do what the function does and nothing a
// thief would want: no attacker subscription, no alarm that acts on EC2
// or notifies another topic, no write to a trail it was not configured
// for. Judged on the policy itself (docs/security.md explains why moto
// cannot judge these conditions).
func TestStolenSessionCannotWeaponisePolicy(t *testing.T) {
	p := testScopes()["apply-safe-named"]
	sub := func(proto, endpoint string) map[string][]string {
		return map[string][]string{"sns:Protocol": {proto}, "sns:Endpoint": {endpoint}}
	}
	alarm := func(actions ...string) map[string][]string {
		return map[string][]string{"cloudwatch:AlarmActions": actions}
	}
	const ownAlarm = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:watchkeeper-3.1"
	for _, tc := range []struct {
		name             string
		action, resource string
		ctx              map[string][]string
		absent           []string
		allowed          bool
	}{
		{"subscribe a configured e-mail", "sns:Subscribe", testTopic, sub("email", "sec@example.com"), nil, true},
		{"subscribe a configured https endpoint", "sns:Subscribe", testTopic, sub("https", "https://hooks.example.com/alarm"), nil, true},
		{"subscribe an attacker's e-mail", "sns:Subscribe", testTopic, sub("email", "attacker@evil.example"), nil, false},
		{"subscribe an attacker's https endpoint", "sns:Subscribe", testTopic, sub("https", "https://evil.example/x"), nil, false},
		{"subscribe an attacker's queue", "sns:Subscribe", testTopic, sub("sqs", "arn:aws:sqs:eu-west-1:999999999999:loot"), nil, false},
		{"subscribe a configured endpoint under another protocol", "sns:Subscribe", testTopic, sub("https", "sec@example.com"), nil, false},
		{"subscribe a configured e-mail to another topic", "sns:Subscribe", "arn:aws:sns:eu-west-1:123456789012:other", sub("email", "sec@example.com"), nil, false},
		{"alarm notifying the topic", "cloudwatch:PutMetricAlarm", ownAlarm, alarm(testTopic), nil, true},
		{"alarm notifying the topic in another Region", "cloudwatch:PutMetricAlarm", ownAlarm, alarm("arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms"), nil, true},
		{"alarm terminating instances", "cloudwatch:PutMetricAlarm", ownAlarm, alarm(testTopic, "arn:aws:automate:eu-west-1:ec2:terminate"), nil, false},
		{"alarm stopping instances only", "cloudwatch:PutMetricAlarm", ownAlarm, alarm("arn:aws:automate:eu-west-1:ec2:stop"), nil, false},
		{"alarm notifying another topic", "cloudwatch:PutMetricAlarm", ownAlarm, alarm("arn:aws:sns:eu-west-1:123456789012:attacker"), nil, false},
		{"alarm without actions", "cloudwatch:PutMetricAlarm", ownAlarm, nil, []string{"cloudwatch:AlarmActions"}, false},
		{"customer's alarm notifying the topic", "cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:prod-cpu", alarm(testTopic), nil, false},
		{"create the own topic", "sns:CreateTopic", testTopic, nil, nil, true},
		{"create another topic", "sns:CreateTopic", "arn:aws:sns:eu-west-1:123456789012:attacker", nil, nil, false},
		{"start logging on the configured trail", "cloudtrail:StartLogging", testOwnTrail, nil, nil, true},
		{"rewrite selectors of the configured trail", "cloudtrail:PutEventSelectors", testOwnTrail, nil, nil, true},
		{"start logging on another trail", "cloudtrail:StartLogging", testOtherTrail, nil, nil, false},
		{"rewrite selectors of another trail", "cloudtrail:PutEventSelectors", testOtherTrail, nil, nil, false},
		{"update the configured trail at safe healing", "cloudtrail:UpdateTrail", testOwnTrail, nil, nil, false},
		{"stop the configured trail", "cloudtrail:StopLogging", testOwnTrail, nil, nil, false},
		{"delete the configured trail", "cloudtrail:DeleteTrail", testOwnTrail, nil, nil, false},
		{"schedule deletion of the topic key", "kms:ScheduleKeyDeletion", testTopicKey, nil, nil, false},
		{"re-enable the topic key", "kms:EnableKey", testTopicKey, nil, nil, true},
		{"re-enable another key", "kms:EnableKey", "arn:aws:kms:eu-west-1:123456789012:key/other", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(t, p, nil, tc.action, tc.resource, tc.ctx, tc.absent...)
			if d.Allowed != tc.allowed {
				t.Errorf("%s on %s: allowed=%t (allow %v, deny %v), want %t", tc.action, tc.resource, d.Allowed, d.AllowStatements, d.DenyStatements, tc.allowed)
			}
			// The Allow statements alone decide the same: the Deny
			// statements are a second layer, not the only one.
			if d := decideDocs(t, allowOnly(p), tc.action, tc.resource, tc.ctx, tc.absent...); d.Allowed != tc.allowed {
				t.Errorf("Allow statements alone: %s on %s: allowed=%t (allow %v), want %t", tc.action, tc.resource, d.Allowed, d.AllowStatements, tc.allowed)
			}
		})
	}
}

// With a broad policy attached to the role later (say AdministratorAccess
// by mistake), the explicit Deny statements still stop the destructive
// actions, writes to other trails and passing other roles, and the role
// cannot delete its own guard.
func TestGuardHoldsAgainstABroadPolicyAttachedLater(t *testing.T) {
	admin := []map[string]any{{"Sid": "AttachedLater", "Effect": "Allow", "Action": "*", "Resource": "*"}}
	for _, tc := range []struct {
		scope            string
		action, resource string
		ctx              map[string][]string
		denied           bool
	}{
		{"apply-safe-named", "cloudtrail:DeleteTrail", testOwnTrail, nil, true},
		{"apply-safe-named", "cloudtrail:StopLogging", testOwnTrail, nil, true},
		{"apply-safe-named", "cloudtrail:UpdateTrail", testOwnTrail, nil, true},
		{"apply-safe-named", "cloudtrail:StartLogging", testOtherTrail, nil, true},
		{"apply-full-named", "cloudtrail:UpdateTrail", testOtherTrail, nil, true},
		{"apply-full-named", "cloudtrail:UpdateTrail", testOwnTrail, nil, false},
		{"apply-safe-named", "logs:DeleteMetricFilter", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cloudtrail/main", nil, true},
		{"apply-safe-named", "cloudwatch:DeleteAlarms", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:watchkeeper-3.1", nil, true},
		{"apply-safe-named", "sns:Unsubscribe", testTopic, nil, true},
		{"apply-safe-named", "sns:SetTopicAttributes", testTopic, nil, true},
		{"apply-safe-named", "kms:PutKeyPolicy", testTopicKey, nil, true},
		{"apply-safe-named", "kms:ScheduleKeyDeletion", testTopicKey, nil, true},
		{"apply-safe-named", "iam:DeleteRolePolicy", "arn:aws:iam::123456789012:role/" + RoleName, nil, true},
		{"apply-safe-named", "iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/" + RoleName, nil, true},
		{"apply-safe-named", "s3:PutBucketPolicy", "arn:aws:s3:::trail-bucket", nil, true},
		{"apply-full-named", "iam:PassRole", "arn:aws:iam::123456789012:role/Admin", map[string][]string{"iam:PassedToService": {"cloudtrail.amazonaws.com"}}, true},
		{"apply-full-named", "iam:PassRole", testLogsRole, map[string][]string{"iam:PassedToService": {"cloudtrail.amazonaws.com"}}, false},
		{"apply-safe", "iam:PassRole", testLogsRole, map[string][]string{"iam:PassedToService": {"cloudtrail.amazonaws.com"}}, true},
		{"apply-safe-named", "sns:Subscribe", testTopic, map[string][]string{"sns:Protocol": {"email"}, "sns:Endpoint": {"attacker@evil.example"}}, true},
		{"apply-safe-named", "sns:Subscribe", "arn:aws:sns:eu-west-1:123456789012:other", map[string][]string{"sns:Protocol": {"sqs"}, "sns:Endpoint": {"arn:aws:sqs:eu-west-1:999999999999:loot"}}, true},
		{"apply-safe-named", "sns:Subscribe", testTopic, map[string][]string{"sns:Protocol": {"email"}, "sns:Endpoint": {"sec@example.com"}}, false},
		{"report", "sns:Subscribe", testTopic, map[string][]string{"sns:Protocol": {"email"}, "sns:Endpoint": {"sec@example.com"}}, true},
		{"apply-safe-named", "cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:prod-cpu",
			map[string][]string{"cloudwatch:AlarmActions": {testTopic, "arn:aws:automate:eu-west-1:ec2:terminate"}}, true},
		{"apply-safe-named", "cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:watchkeeper-3.1",
			map[string][]string{"cloudwatch:AlarmActions": {testTopic}}, false},
	} {
		t.Run(tc.scope+" "+tc.action+" "+tc.resource, func(t *testing.T) {
			d := decide(t, testScopes()[tc.scope], admin, tc.action, tc.resource, tc.ctx)
			if d.Denied != tc.denied {
				t.Errorf("denied=%t (deny %v), want %t", d.Denied, d.DenyStatements, tc.denied)
			}
		})
	}
}

// Without subscriptions nothing may be subscribed; in report mode no
// write is allowed at all.
func TestNoSubscribeWithoutSubscriptionsAndNoWriteInReport(t *testing.T) {
	ctx := map[string][]string{"sns:Protocol": {"email"}, "sns:Endpoint": {"sec@example.com"}}
	if d := decide(t, testScopes()["apply-no-subs"], nil, "sns:Subscribe", testTopic, ctx); d.Allowed {
		t.Errorf("sns:Subscribe allowed without configured subscriptions (%v)", d.AllowStatements)
	}
	report := testScopes()["report"]
	for _, a := range slices.Concat(apply.WriteActions, apply.ImpliedWriteActions) {
		for _, r := range []string{testTopic, testOwnTrail, testTopicKey, testLogsRole,
			"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:watchkeeper-3.1",
			"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cloudtrail/main"} {
			if d := decide(t, report, nil, a, r, map[string][]string{
				"sns:Protocol": {"email"}, "sns:Endpoint": {"sec@example.com"},
				"cloudwatch:AlarmActions": {testTopic}, "iam:PassedToService": {"cloudtrail.amazonaws.com"},
			}); d.Allowed {
				t.Errorf("report mode allows %s on %s (%v)", a, r, d.AllowStatements)
			}
		}
	}
}

// IAM caps a role's inline policies at 10,240 characters in total (IAM
// User Guide, "IAM and AWS STS quotas"); the largest configuration, with
// the most subscriptions pkg/config accepts, stays well inside it.
func TestLargestPolicyFitsTheInlineQuota(t *testing.T) {
	p := testScopes()["apply-full-named"]
	p.subscriptions = nil
	for i := range config.MaxSubscriptions {
		p.subscriptions = append(p.subscriptions, plan.Endpoint{Protocol: []string{"email", "https", "sqs"}[i%3],
			Endpoint: strings.Repeat("x", 40) + "@example.com"})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": scopeStatements(p)})
	if err != nil {
		t.Fatal(err)
	}
	// Platform statements (logs, DLQ) and the ARNs CloudFormation
	// substitutes for tokens add well under 1,000 characters.
	if n := len(b); n > 9000 {
		t.Errorf("policy is %d characters; with the platform statements it would near IAM's 10,240 limit", n)
	}
}

// trailName names the customer trail to heal; it is validated by
// pkg/config's rule and cannot be combined with the managed trail.
func TestTrailNameContext(t *testing.T) {
	c := defaultTestConfig()
	c.TrailName = "org-main"
	if err := c.Validate(); err != nil {
		t.Fatalf("valid trailName rejected: %v", err)
	}
	if got := c.HealedTrail(); got != "org-main" {
		t.Errorf("HealedTrail() = %q, want org-main", got)
	}
	c.TrailName = "no spaces allowed"
	var fe *config.FieldError
	if err := c.Validate(); !errors.As(err, &fe) || fe.Field != config.FieldTrailName {
		t.Errorf("invalid trailName: got %v, want a %s field error", err, config.FieldTrailName)
	}
	c.TrailName, c.ProvisionTrail = "org-main", true
	var ce *ContextError
	if err := c.Validate(); !errors.As(err, &ce) || ce.Key != ctxTrailName {
		t.Errorf("trailName with provisionTrail: got %v, want a %s context error", err, ctxTrailName)
	}
	c.TrailName = ""
	if got := c.HealedTrail(); got != TrailName {
		t.Errorf("HealedTrail() with provisionTrail = %q, want %s", got, TrailName)
	}
}

// The function is told the trail its policy lets it change, so it plans no
// trail write IAM would deny.
func TestNamedTrailReachesTheFunction(t *testing.T) {
	c := iamCaseNamed(t, "apply-safe-named-trail")
	f := synth(t, c.fixture, c.cfg)
	_, fn := f.only(t, "AWS::Lambda::Function")
	vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got := vars[config.EnvTrailName]; got != "org-main" {
		t.Errorf("%s = %v, want org-main", config.EnvTrailName, got)
	}
	d := synth(t, "default", defaultTestConfig())
	_, fn = d.only(t, "AWS::Lambda::Function")
	if got, ok := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)[config.EnvTrailName]; ok {
		t.Errorf("%s = %v without a named trail, want unset", config.EnvTrailName, got)
	}
}
