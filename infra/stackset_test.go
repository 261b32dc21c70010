package main

import (
	"encoding/json"
	"errors"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/watchkeeper/watchkeeper/test/cfn"
)

const (
	testOrgID      = "o-abcdefghij"
	testBreakGlass = "arn:aws:iam::*:role/BreakGlass"
)

var testOUs = []string{"ou-ab12-cdef3456", "ou-ab12-ghij7890"}

func orgTestConfig() Config {
	c := defaultTestConfig()
	c.Org = OrgConfig{
		Enabled: true, OrganizationID: testOrgID, TargetOUs: testOUs,
		MemberRegions:       []string{"eu-west-1", "us-east-1"},
		MemberSubscriptions: []string{"https:https://alerts.example.com/sns"},
		SCP:                 true, BreakGlassRoleARN: testBreakGlass,
	}
	return c
}

// orgFixture is the organization app: the central stack, its asset-bucket
// stacks and the member template, built once.
type orgFixture struct {
	central *fixture
	org     *Organization
	// member is the member template, pseudo parameters unresolved.
	member map[string]any
	// buckets are the asset-bucket stacks' templates, by Region.
	buckets map[string]map[string]any
}

var orgFix *orgFixture

func synthOrg(t *testing.T) *orgFixture {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if orgFix != nil {
		return orgFix
	}
	cfg := orgTestConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("invalid org config: %v", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := NewWatchkeeperStack(app, "Test", &WatchkeeperStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}},
		Config:     cfg,
		ModuleRoot: moduleRoot(t),
	})
	org, err := NewOrganization(app, stack, cfg, t.TempDir())
	if err != nil {
		t.Fatalf("NewOrganization: %v", err)
	}
	tpl := assertions.Template_FromStack(stack, nil)
	f := &orgFixture{
		central: &fixture{stack: stack, tpl: tpl, doc: cfn.ResolvePseudo(toMap(t, tpl.ToJSON()), pseudoParameters).(map[string]any)},
		org:     org, buckets: map[string]map[string]any{},
	}
	b, err := os.ReadFile(org.MemberTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f.member); err != nil {
		t.Fatal(err)
	}
	for r, st := range org.AssetStacks {
		f.buckets[r] = toMap(t, assertions.Template_FromStack(st, nil).ToJSON())
	}
	orgFix = f
	return f
}

func resourcesOf(doc map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range doc["Resources"].(map[string]any) {
		if res := r.(map[string]any); res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

func TestStackSetIsServiceManagedWithAutoDeployment(t *testing.T) {
	f := synthOrg(t)
	_, set := f.central.only(t, "AWS::CloudFormation::StackSet")
	p := props(set)
	if p["PermissionModel"] != "SERVICE_MANAGED" || p["StackSetName"] != StackSetName || p["CallAs"] != "SELF" {
		t.Errorf("stack set model/name/callAs = %v %v %v", p["PermissionModel"], p["StackSetName"], p["CallAs"])
	}
	auto := p["AutoDeployment"].(map[string]any)
	if auto["Enabled"] != true || auto["RetainStacksOnAccountRemoval"] != false {
		t.Errorf("AutoDeployment = %v, want enabled, stacks removed with the account", auto)
	}
	groups := p["StackInstancesGroup"].([]any)
	if len(groups) != 1 {
		t.Fatalf("%d instance groups, want 1", len(groups))
	}
	g := groups[0].(map[string]any)
	ous := asStrings(g["DeploymentTargets"].(map[string]any)["OrganizationalUnitIds"])
	if strings.Join(ous, ",") != strings.Join(testOUs, ",") || strings.Join(asStrings(g["Regions"]), ",") != "eu-west-1,us-east-1" {
		t.Errorf("targets = %v in %v", ous, g["Regions"])
	}
	if !slicesContain(asStrings(p["Capabilities"]), "CAPABILITY_NAMED_IAM") {
		t.Errorf("Capabilities = %v: the member names its role", p["Capabilities"])
	}
	if _, ok := p["TemplateURL"]; !ok {
		t.Errorf("no TemplateURL: the member template exceeds TemplateBody's 51,200 bytes")
	}
	// No instance before the code is in every Region's bucket.
	deps := asStrings(set["DependsOn"])
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		found := false
		for _, d := range deps {
			found = found || strings.HasPrefix(d, "MemberCode"+strings.ReplaceAll(r, "-", ""))
		}
		if !found {
			t.Errorf("the stack set does not depend on the code copy to %s (DependsOn %v)", r, deps)
		}
	}
}

func slicesContain(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// TestMemberTemplateCarriesNoCDKBootstrap: a StackSet instance runs in an
// account that was never CDK-bootstrapped, so nothing may refer to the
// bootstrap stack: no version parameter or rule, no asset bucket.
func TestMemberTemplateCarriesNoCDKBootstrap(t *testing.T) {
	f := synthOrg(t)
	if rules, _ := f.member["Rules"].(map[string]any); rules["CheckBootstrapVersion"] != nil {
		t.Error("member template has the CheckBootstrapVersion rule")
	}
	if params, _ := f.member["Parameters"].(map[string]any); params["BootstrapVersion"] != nil {
		t.Error("member template has the BootstrapVersion parameter")
	}
	b, _ := json.Marshal(f.member)
	if s := string(b); strings.Contains(s, "cdk-hnb659fds") || strings.Contains(s, "AssetParameters") {
		t.Error("member template refers to CDK bootstrap resources or asset parameters")
	}
	if strings.Contains(string(b), testAccount) {
		// Only the code bucket and the central role name the central
		// account; check they are the only ones.
		s := strings.ReplaceAll(string(b), assetBucketName(testAccount, "${AWS::Region}"), "")
		s = strings.ReplaceAll(s, ":iam::"+testAccount+":role/"+CentralRoleName, "")
		if strings.Contains(s, testAccount) {
			i := strings.Index(s, testAccount)
			t.Errorf("member template names the central account beyond its code bucket and central role: …%s…", s[max(0, i-200):i+20])
		}
	}
}

// TestMemberCodeIsTheCopiedAsset: the member function's code is the
// object the central stack copies into each Region's bucket.
func TestMemberCodeIsTheCopiedAsset(t *testing.T) {
	f := synthOrg(t)
	var code map[string]any
	for _, fn := range resourcesOf(f.member, "AWS::Lambda::Function") {
		code = props(fn)["Code"].(map[string]any)
	}
	wantBucket := map[string]any{"Fn::Sub": assetBucketName(testAccount, "${AWS::Region}")}
	if b, _ := json.Marshal(code["S3Bucket"]); string(b) != mustJSON(wantBucket) {
		t.Errorf("member code bucket = %s, want %s", b, mustJSON(wantBucket))
	}
	key, _ := code["S3Key"].(string)
	// The central function's asset key, under the copy's prefix.
	var centralKey string
	for _, fn := range f.central.resources("AWS::Lambda::Function") {
		if k, ok := props(fn)["Code"].(map[string]any)["S3Key"].(string); ok && strings.HasSuffix(k, ".zip") && props(fn)["Handler"] == "bootstrap" {
			centralKey = k
		}
	}
	if centralKey == "" || key != memberCodePrefix+path.Base(centralKey) {
		t.Errorf("member S3Key = %q, want %q", key, memberCodePrefix+path.Base(centralKey))
	}
	deps := f.central.resources("Custom::CDKBucketDeployment")
	if len(deps) != 2 {
		t.Fatalf("%d code copies, want one per member Region", len(deps))
	}
	var dests []string
	for _, d := range deps {
		p := props(d)
		if p["Extract"] != false || p["DestinationBucketKeyPrefix"] != memberCodePrefix {
			t.Errorf("code copy extract=%v prefix=%v, want the zip as is under %s", p["Extract"], p["DestinationBucketKeyPrefix"], memberCodePrefix)
		}
		dests = append(dests, p["DestinationBucketName"].(string))
	}
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		if !slicesContain(dests, assetBucketName(testAccount, r)) {
			t.Errorf("no code copy to %s (copies to %v)", assetBucketName(testAccount, r), dests)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestMemberRoleNamedPerRegion: instances in two Regions of one account
// get two roles, and each drift rule excludes its own role's sessions.
func TestMemberRoleNamedPerRegion(t *testing.T) {
	f := synthOrg(t)
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		var copied map[string]any
		_ = json.Unmarshal([]byte(mustJSON(f.member)), &copied) // ResolvePseudo rewrites maps in place
		doc := cfn.ResolvePseudo(copied, map[string]string{"AWS::Partition": "aws", "AWS::AccountId": "210987654321", "AWS::Region": region}).(map[string]any)
		want := RoleName + "-" + region
		var names []any
		for _, r := range resourcesOf(doc, "AWS::IAM::Role") {
			if n, ok := props(r)["RoleName"]; ok {
				names = append(names, n)
			}
		}
		if len(names) != 1 || names[0] != want {
			t.Errorf("%s: named roles %v, want [%s]", region, names, want)
		}
		prefix := "arn:aws:sts::210987654321:assumed-role/" + want + "/"
		found := false
		for _, r := range resourcesOf(doc, "AWS::Events::Rule") {
			found = found || strings.Contains(mustJSON(props(r)["EventPattern"]), `"prefix":"`+prefix+`"`)
		}
		if !found {
			t.Errorf("%s: no rule excludes the sessions %s*", region, prefix)
		}
	}
}

// TestMemberNotifiesTheCentralEndpoint: no e-mail in member accounts.
func TestMemberNotifiesTheCentralEndpoint(t *testing.T) {
	f := synthOrg(t)
	if subs := resourcesOf(f.member, "AWS::SNS::Subscription"); len(subs) != 0 {
		t.Errorf("member template has %d stack subscriptions (e-mail), want none", len(subs))
	}
	for _, fn := range resourcesOf(f.member, "AWS::Lambda::Function") {
		env := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env["WATCHKEEPER_SUBSCRIPTIONS"] != "https:https://alerts.example.com/sns" {
			t.Errorf("member WATCHKEEPER_SUBSCRIPTIONS = %v", env["WATCHKEEPER_SUBSCRIPTIONS"])
		}
	}
}

func TestAssetBucketsReadableByTheOrganizationOnly(t *testing.T) {
	f := synthOrg(t)
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		doc := f.buckets[r]
		if doc == nil {
			t.Fatalf("no asset-bucket stack for %s", r)
		}
		var name any
		for _, b := range resourcesOf(doc, "AWS::S3::Bucket") {
			name = props(b)["BucketName"]
		}
		if name != assetBucketName(testAccount, r) {
			t.Errorf("%s bucket name = %v", r, name)
		}
		var allows []map[string]any
		for _, p := range resourcesOf(doc, "AWS::S3::BucketPolicy") {
			for _, s := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				if st := s.(map[string]any); st["Effect"] == "Allow" {
					allows = append(allows, st)
				}
			}
		}
		if len(allows) != 1 {
			t.Fatalf("%s: %d Allow statements, want 1", r, len(allows))
		}
		a := allows[0]
		cond := mustJSON(a["Condition"])
		if cond != `{"StringEquals":{"aws:PrincipalOrgID":"`+testOrgID+`"}}` {
			t.Errorf("%s: read condition %s, want aws:PrincipalOrgID only", r, cond)
		}
		for _, act := range asStrings(a["Action"]) {
			if act != "s3:GetObject" && act != "s3:GetObjectVersion" {
				t.Errorf("%s: organization may %s", r, act)
			}
		}
	}
}

func TestCentralRoleIsReadOnlyForTheOrganization(t *testing.T) {
	f := synthOrg(t)
	var role map[string]any
	var id string
	for i, r := range f.central.resources("AWS::IAM::Role") {
		if props(r)["RoleName"] == CentralRoleName {
			role, id = r, i
		}
	}
	if role == nil {
		t.Fatal("no central reader role")
	}
	trust := props(role)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(trust) != 1 || mustJSON(trust[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"]) != `{"aws:PrincipalOrgID":"`+testOrgID+`"}` {
		t.Errorf("trust = %s, want one statement conditioned on aws:PrincipalOrgID", mustJSON(trust))
	}
	for _, s := range f.central.roleStatements(t, id) {
		for _, a := range asStrings(s.(map[string]any)["Action"]) {
			verb := a[strings.Index(a, ":")+1:]
			if !strings.HasPrefix(verb, "Describe") && !strings.HasPrefix(verb, "Get") && !strings.HasPrefix(verb, "List") {
				t.Errorf("central role may %s, which is not a read", a)
			}
		}
	}
	// The member may assume it, and nothing else through STS.
	found := false
	var member map[string]any
	_ = json.Unmarshal([]byte(mustJSON(f.member)), &member)
	member = cfn.ResolvePseudo(member, map[string]string{"AWS::Partition": "aws"}).(map[string]any)
	for _, p := range resourcesOf(member, "AWS::IAM::Policy") {
		for _, s := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			if slicesContain(asStrings(st["Action"]), "sts:AssumeRole") {
				found = st["Effect"] == "Allow" && mustJSON(st["Resource"]) == `"arn:aws:iam::`+testAccount+`:role/`+CentralRoleName+`"`
			}
		}
	}
	if !found {
		t.Error("the member role may not assume the central reader role (or may assume more)")
	}
	for _, fn := range resourcesOf(member, "AWS::Lambda::Function") {
		env := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if got := env["WATCHKEEPER_CENTRAL_ROLE_ARN"]; got != "arn:aws:iam::"+testAccount+":role/"+CentralRoleName {
			t.Errorf("member WATCHKEEPER_CENTRAL_ROLE_ARN = %v, want the central reader role", got)
		}
	}
}

func TestOrgContextValidation(t *testing.T) {
	ok := orgTestConfig().Org
	cases := []struct {
		name    string
		edit    func(*OrgConfig)
		wantKey string // "" means valid
	}{
		{"valid", func(*OrgConfig) {}, ""},
		{"no OUs", func(o *OrgConfig) { o.TargetOUs = nil }, ctxTargetOUs},
		{"account id as OU", func(o *OrgConfig) { o.TargetOUs = []string{"123456789012"} }, ctxTargetOUs},
		{"root is a target", func(o *OrgConfig) { o.TargetOUs = []string{"r-ab12"} }, ""},
		{"no org id", func(o *OrgConfig) { o.OrganizationID = "" }, ctxOrganizationID},
		{"email for members", func(o *OrgConfig) { o.MemberSubscriptions = []string{"email:sec@example.com"} }, ctxMemberSubscriptions},
		{"no member endpoint", func(o *OrgConfig) { o.MemberSubscriptions = nil }, ctxMemberSubscriptions},
		{"scp without break-glass", func(o *OrgConfig) { o.BreakGlassRoleARN = "" }, ctxBreakGlassRoleARN},
		{"break-glass without scp", func(o *OrgConfig) { o.SCP = false }, ctxBreakGlassRoleARN},
		{"bad region", func(o *OrgConfig) { o.MemberRegions = []string{"europe"} }, ctxMemberRegions},
		{"org keys without organization", func(o *OrgConfig) { *o = OrgConfig{TargetOUs: testOUs} }, ctxTargetOUs},
	}
	for _, c := range cases {
		o := ok
		c.edit(&o)
		errs := o.validate()
		var keys []string
		for _, e := range errs {
			var ce *ContextError
			if errors.As(e, &ce) {
				keys = append(keys, ce.Key)
			}
		}
		switch {
		case c.wantKey == "" && len(errs) > 0:
			t.Errorf("%s: unexpected errors %v", c.name, errs)
		case c.wantKey != "" && !slicesContain(keys, c.wantKey):
			t.Errorf("%s: errors on %v, want one on %s", c.name, keys, c.wantKey)
		}
	}
}

// TestOrgContextKeysAreKnown: the organization keys pass the unknown-key
// check, from -c strings.
func TestOrgContextKeysAreKnown(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{
		"organization": "true", "organizationId": testOrgID, "targetOus": strings.Join(testOUs, ","),
		"memberSubscriptions": "https:https://alerts.example.com/sns", "memberRegions": "eu-west-1",
		"scp": "true", "breakGlassRoleArn": testBreakGlass, "centralRoleArn": "arn:aws:iam::111122223333:role/Reader",
	}})
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		t.Fatalf("ConfigFromContext: %v", err)
	}
	if !cfg.Org.Enabled || len(cfg.Org.TargetOUs) != 2 || !cfg.Org.SCP || cfg.Org.CentralRoleARN == "" {
		t.Errorf("Org = %+v", cfg.Org)
	}
}
