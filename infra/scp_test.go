package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// scpDenies evaluates an SCP document made of Deny statements (an SCP
// beside FullAWSAccess, the default: Organizations User Guide, "SCP
// evaluation") for one call: true when a statement matches the action and
// the resource and its conditions hold. It implements what the document
// uses: Action and Resource lists with * and ? wildcards, and ArnNotLike on
// aws:PrincipalArn; anything else fails the test, so the evaluator cannot
// silently ignore a condition it does not understand.
func scpDenies(t *testing.T, doc map[string]any, principal, action, resource string) (bool, string) {
	t.Helper()
	var parsed struct {
		Statement []struct {
			Sid       string
			Effect    string
			Action    []string
			Resource  []string
			Condition map[string]map[string][]string
		}
	}
	b, _ := json.Marshal(doc)
	if err := json.Unmarshal(b, &parsed); err != nil {
		t.Fatalf("SCP document shape: %v", err)
	}
	for _, s := range parsed.Statement {
		if s.Effect != "Deny" {
			t.Fatalf("%s: effect %s; the SCP must only deny", s.Sid, s.Effect)
		}
		if !anyGlob(s.Action, action, true) || !anyGlob(s.Resource, resource, false) {
			continue
		}
		holds := true
		for op, kv := range s.Condition {
			for key, vals := range kv {
				if op != "ArnNotLike" || key != "aws:PrincipalArn" {
					t.Fatalf("%s: the evaluator does not implement %s on %s", s.Sid, op, key)
				}
				holds = holds && !anyGlob(vals, principal, false)
			}
		}
		if holds {
			return true, s.Sid
		}
	}
	return false, ""
}

// anyGlob says whether s matches one of the IAM wildcard patterns (* any
// run, ? one character; actions compare without case).
func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
		if fold {
			re = "(?i)" + re
		}
		if regexp.MustCompile(re).MatchString(s) {
			return true
		}
	}
	return false
}

func TestSCPDeniesEveryoneButWatchkeeperAndBreakGlass(t *testing.T) {
	cfg := orgTestConfig()
	doc := scpDocument(cfg, "aws")
	const acct = "210987654321"
	role := func(name string) string { return "arn:aws:iam::" + acct + ":role/" + name }
	var (
		admin      = role("AWSReservedSSO_AdministratorAccess_0123456789abcdef")
		user       = "arn:aws:iam::" + acct + ":user/alice"
		remediator = role(RoleName + "-eu-west-1")
		legacy     = role(RoleName)
		breakGlass = role("BreakGlass")
		stackSets  = role("stacksets-exec-0123456789abcdef0123456789abcdef")
		lookalike  = role("watchkeeper-remediatorx")
	)
	alarm := "arn:aws:cloudwatch:eu-west-1:" + acct + ":alarm:watchkeeper-cis-4.3-root-usage"
	otherAlarm := "arn:aws:cloudwatch:eu-west-1:" + acct + ":alarm:billing"
	topic := "arn:aws:sns:eu-west-1:" + acct + ":" + cfg.TopicName
	otherTopic := "arn:aws:sns:eu-west-1:" + acct + ":team-builds"
	trail := "arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/main"
	logGroup := "arn:aws:logs:eu-west-1:" + acct + ":log-group:cloudtrail"

	protected := []struct{ action, resource string }{
		{"cloudwatch:DeleteAlarms", alarm},
		{"cloudwatch:DisableAlarmActions", alarm},
		{"logs:DeleteMetricFilter", logGroup},
		{"cloudtrail:StopLogging", trail},
		{"cloudtrail:DeleteTrail", trail},
		{"sns:DeleteTopic", topic},
		{"sns:SetTopicAttributes", topic},
		{"sns:RemovePermission", topic},
		{"sns:Unsubscribe", topic},
		{"iam:CreateRole", role(RoleName + "-evil")},
		{"iam:UpdateAssumeRolePolicy", remediator},
	}
	for _, c := range protected {
		for _, p := range []string{admin, user, lookalike} {
			if denied, _ := scpDenies(t, doc, p, c.action, c.resource); !denied {
				t.Errorf("%s may %s on %s", p, c.action, c.resource)
			}
		}
		for _, p := range []string{remediator, legacy, breakGlass, stackSets} {
			if denied, sid := scpDenies(t, doc, p, c.action, c.resource); denied {
				t.Errorf("exempt %s is denied %s on %s (%s)", p, c.action, c.resource, sid)
			}
		}
	}
	// What the policy leaves alone, for everyone.
	unprotected := []struct{ action, resource string }{
		{"cloudwatch:DeleteAlarms", otherAlarm},
		{"cloudwatch:DisableAlarmActions", otherAlarm},
		{"sns:DeleteTopic", otherTopic},
		{"cloudwatch:PutMetricAlarm", alarm},
		{"cloudtrail:StartLogging", trail},
		{"logs:PutMetricFilter", logGroup},
		{"iam:CreateRole", role("app-deployer")},
		{"sns:Publish", topic},
	}
	for _, c := range unprotected {
		if denied, sid := scpDenies(t, doc, admin, c.action, c.resource); denied {
			t.Errorf("%s is denied %s on %s (%s), which the SCP should not cover", admin, c.action, c.resource, sid)
		}
	}
}

// TestSCPNamesTheHealedTrail: with trailName set, only that trail is
// protected.
func TestSCPNamesTheHealedTrail(t *testing.T) {
	cfg := orgTestConfig()
	cfg.TrailName = "org-main"
	doc := scpDocument(cfg, "aws")
	admin := "arn:aws:iam::210987654321:role/Admin"
	if denied, _ := scpDenies(t, doc, admin, "cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:210987654321:trail/org-main"); !denied {
		t.Error("the named trail is not protected")
	}
	if denied, _ := scpDenies(t, doc, admin, "cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:210987654321:trail/scratch"); denied {
		t.Error("another trail is protected")
	}
}

func TestSCPInTemplate(t *testing.T) {
	f := synthOrg(t)
	_, pol := f.central.only(t, "AWS::Organizations::Policy")
	p := props(pol)
	if p["Type"] != "SERVICE_CONTROL_POLICY" || p["Name"] != SCPName {
		t.Errorf("policy type %v name %v", p["Type"], p["Name"])
	}
	if got := strings.Join(asStrings(p["TargetIds"]), ","); got != strings.Join(testOUs, ",") {
		t.Errorf("attached to %s, want the target OUs", got)
	}
	content, _ := json.Marshal(p["Content"])
	if want, _ := json.Marshal(scpDocument(orgTestConfig(), "aws")); string(content) != string(want) {
		t.Errorf("template content differs from the evaluated document:\n%s\nwant\n%s", content, want)
	}
	// Organizations quota: an SCP document is at most 5,120 characters.
	if n := len(content); n > 5120 {
		t.Errorf("SCP is %d characters, over the 5,120 quota", n)
	}
}

// TestOrganizationAwsSolutionsChecksPass: organization mode adds no
// unsuppressed cdk-nag finding to the central or asset-bucket stacks (the
// member's fail synthMember itself).
func TestOrganizationAwsSolutionsChecksPass(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	AddNagChecks(app)
	cfg := orgTestConfig()
	central := NewWatchkeeperStack(app, "Central", &WatchkeeperStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}},
		Config:     cfg, ModuleRoot: moduleRoot(t),
	})
	org, err := NewOrganization(app, central, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stacks := []awscdk.Stack{central}
	for _, s := range org.AssetStacks {
		stacks = append(stacks, s)
	}
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, st := range stacks {
		ann := assertions.Annotations_FromStack(st)
		for _, m := range append(*ann.FindError(jsii.String("*"), nag), *ann.FindWarning(jsii.String("*"), nag)...) {
			b, _ := json.Marshal(m)
			t.Errorf("%s: %s", *st.StackName(), b)
		}
	}
}
