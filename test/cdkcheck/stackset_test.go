package cdkcheck_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// memberRegions are the Regions the moto proof deploys the member stack to.
var memberRegions = []string{"us-east-1", "eu-west-1"}

// TestStackSetOnMotoOrganization deploys the synthesized member template
// as a service-managed StackSet into a moto organization (the management
// account plus two accounts in each of two OUs), in two Regions, and reads
// back what each member account got.
//
// What moto 5.2.1 does and does not do here, measured:
//   - Organizations: CreateOrganization, CreateOrganizationalUnit,
//     CreateAccount and MoveAccount work; the accounts are real moto
//     accounts, reachable with sts:AssumeRole credentials.
//   - CreateStackSet with PermissionModel SERVICE_MANAGED and
//     CreateStackInstances with DeploymentTargets.OrganizationalUnitIds
//     work: moto resolves the OUs to their accounts and creates one stack
//     per account and Region, synchronously, in the member account.
//   - moto accepts the member template as TemplateBody although it is over
//     CloudFormation's 51,200-byte TemplateBody limit; the product passes
//     it as TemplateURL (infra/stackset.go), which moto would read only
//     from a host named "localhost" (test/deploylocal).
//   - moto's AWS::KMS::Key handler crashes on CloudFormation's tags (as in
//     test/deploylocal), so the KMS keys' Tags are stripped from the copy
//     deployed here.
//   - moto creates the Lambda function from the code bucket: the bucket and
//     key the template names must exist (without the bucket, the
//     instance with NoSuchBucket), which proves the member reads its code
//     from the Region's bucket in the central account.
//   - Not emulated, so asserted on the template in infra/stackset_test.go:
//     auto-deployment (moto stores no AutoDeployment and deploys nothing
//     when an account joins an OU later), delegated administrator
//     registration and CallAs, the StackSets execution role of the
//     SERVICE_MANAGED model (moto reports the self-managed default
//     AWSCloudFormationStackSetExecutionRole), the bucket policy's
//     aws:PrincipalOrgID condition (moto's Lambda reads the object without
//     evaluating it), alarms, subscriptions and topic/queue policies
//     (skipped by moto's CloudFormation, as for the account stack), and
//     the SCP (moto's Organizations stores policies but enforces none).
func TestStackSetOnMotoOrganization(t *testing.T) {
	tpl, path := memberTemplate(t)
	// cfn-lint validates the member template as TestCfnLintPasses does the
	// account stack's.
	args := []string{"--format", "parseable"}
	for rule := range cfnLintIgnored {
		args = append(args, "--ignore-checks", rule)
	}
	if out, err := exec.Command("cfn-lint", append(args, "--", path)...).CombinedOutput(); err != nil {
		t.Errorf("cfn-lint on the member template: %v\n%s", err, out)
	}
	srv := moto.Start(t)
	api := &awsAPI{t: t, endpoint: srv.URL}

	// The organization: management account (moto.Account) and two OUs
	// with two accounts each.
	api.orgs("CreateOrganization", map[string]any{"FeatureSet": "ALL"})
	var roots struct{ Roots []struct{ Id string } }
	api.orgsInto("ListRoots", map[string]any{}, &roots)
	root := roots.Roots[0].Id
	members := map[string][]string{} // OU id -> account ids
	var ous []string
	for _, name := range []string{"prod", "dev"} {
		var ou struct{ OrganizationalUnit struct{ Id string } }
		api.orgsInto("CreateOrganizationalUnit", map[string]any{"ParentId": root, "Name": name}, &ou)
		id := ou.OrganizationalUnit.Id
		ous = append(ous, id)
		for i := range 2 {
			var acct struct{ CreateAccountStatus struct{ AccountId string } }
			api.orgsInto("CreateAccount", map[string]any{"Email": fmt.Sprintf("%s%d@example.com", name, i), "AccountName": fmt.Sprintf("%s-%d", name, i)}, &acct)
			a := acct.CreateAccountStatus.AccountId
			api.orgs("MoveAccount", map[string]any{"AccountId": a, "SourceParentId": root, "DestinationParentId": id})
			members[id] = append(members[id], a)
		}
	}

	// The code buckets of the central (management) account, with the
	// object the member template names: what the central stack's
	// BucketDeployments put there.
	code := memberCodeLocation(t, tpl)
	for _, r := range memberRegions {
		bucket := strings.ReplaceAll(code.bucket, "${AWS::Region}", r)
		var body []byte
		if r != "us-east-1" {
			body = []byte(`<CreateBucketConfiguration><LocationConstraint>` + r + `</LocationConstraint></CreateBucketConfiguration>`)
		}
		api.do("s3", r, nil, http.MethodPut, "/"+bucket, nil, body)
		api.do("s3", r, nil, http.MethodPut, "/"+bucket+"/"+code.key, nil, zipWithBootstrap(t))
	}

	form := url.Values{
		"StackSetName":           {"watchkeeper-members"},
		"PermissionModel":        {"SERVICE_MANAGED"},
		"AutoDeployment.Enabled": {"true"},
		"AutoDeployment.RetainStacksOnAccountRemoval": {"false"},
		"Capabilities.member.1":                       {"CAPABILITY_NAMED_IAM"},
		"TemplateBody":                                {string(tpl)},
	}
	api.cfn("CreateStackSet", form)
	form = url.Values{"StackSetName": {"watchkeeper-members"}}
	for i, ou := range ous {
		form.Set(fmt.Sprintf("DeploymentTargets.OrganizationalUnitIds.member.%d", i+1), ou)
	}
	for i, r := range memberRegions {
		form.Set(fmt.Sprintf("Regions.member.%d", i+1), r)
	}
	api.cfn("CreateStackInstances", form)

	var list struct {
		Summaries []struct {
			Account, Region, Status string
		} `xml:"ListStackInstancesResult>Summaries>member"`
	}
	api.cfnInto("ListStackInstances", url.Values{"StackSetName": {"watchkeeper-members"}}, &list)
	var got, want []string
	for _, s := range list.Summaries {
		got = append(got, s.Account+"/"+s.Region+"/"+s.Status)
	}
	for _, accts := range members {
		for _, a := range accts {
			for _, r := range memberRegions {
				want = append(want, a+"/"+r+"/CURRENT")
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stack instances (account/region/status):\n got %v\nwant %v", got, want)
	}

	// Every member account: one role per Region (one account, two
	// Regions, no name collision), and in each Region the function running
	// as that Region's role, the alarm topic and the three rules.
	for _, accts := range members {
		for _, a := range accts {
			creds := api.assume(a)
			roles := api.roleNames(creds)
			for _, r := range memberRegions {
				role := "watchkeeper-remediator-" + r
				if !slices.Contains(roles, role) {
					t.Errorf("%s: no role %s (roles %v)", a, role, roles)
				}
				var fns struct {
					Functions []struct{ FunctionName, Role string }
				}
				api.json(api.do("lambda", r, creds, http.MethodGet, "/2015-03-31/functions/", nil, nil), &fns)
				if len(fns.Functions) != 1 || fns.Functions[0].Role != "arn:aws:iam::"+a+":role/"+role {
					t.Errorf("%s %s: functions %+v, want one running as %s", a, r, fns.Functions, role)
				}
				cfg := moto.Config(srv.URL, r)
				cfg.Credentials = aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) { return *creds, nil })
				topics, err := sns.NewFromConfig(cfg).ListTopics(t.Context(), &sns.ListTopicsInput{})
				if err != nil {
					t.Fatalf("%s %s: list topics: %v", a, r, err)
				}
				alarmTopic := "arn:aws:sns:" + r + ":" + a + ":watchkeeper-cis-alarms"
				if !slices.ContainsFunc(topics.Topics, func(tp snstypes.Topic) bool { return aws.ToString(tp.TopicArn) == alarmTopic }) {
					t.Errorf("%s %s: no alarm topic %s", a, r, alarmTopic)
				}
				rules, err := eventbridge.NewFromConfig(cfg).ListRules(t.Context(), &eventbridge.ListRulesInput{})
				if err != nil {
					t.Fatalf("%s %s: list rules: %v", a, r, err)
				}
				var names []string
				for _, rule := range rules.Rules {
					names = append(names, aws.ToString(rule.Name))
				}
				for _, want := range []string{selfwatch.ScheduleRule, selfwatch.DriftRule, selfwatch.WatchRule} {
					if !slices.Contains(names, want) {
						t.Errorf("%s %s: no rule %s (rules %v)", a, r, want, names)
					}
				}
			}
		}
	}
	// The management account is not a target: it gets nothing from the
	// StackSet (the central stack covers it).
	if roles := api.roleNames(nil); slices.ContainsFunc(roles, func(n string) bool { return strings.HasPrefix(n, "watchkeeper-") }) {
		t.Errorf("management account got member roles: %v", roles)
	}
}

// memberTemplate synthesizes the app in organization mode (go run ./infra,
// as the CLI does, with bundling skipped: the proof uploads its own zip)
// and returns the member template, with the KMS keys' Tags removed for
// moto (see the test's comment), and the path of the template as
// synthesized.
func memberTemplate(t *testing.T) ([]byte, string) {
	t.Helper()
	out := t.TempDir()
	ctx, _ := json.Marshal(map[string]any{
		"aws:cdk:bundling-stacks": []any{},
		"organization":            "true",
		"organizationId":          "o-abcdefghij",
		"targetOus":               "ou-abcd-abcdefgh",
		"memberRegions":           strings.Join(memberRegions, ","),
		"memberSubscriptions":     "https:https://alerts.example.com/sns",
	})
	cmd := exec.CommandContext(t.Context(), "go", "run", "./infra")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(moto.Env(os.Environ(), "", "us-east-1"), append(cliEnv,
		"CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(ctx),
		"CDK_DEFAULT_ACCOUNT="+moto.Account, "CDK_DEFAULT_REGION=us-east-1")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("synth in organization mode: %v\n%s", err, b)
	}
	path := filepath.Join(out, "member.out", "Watchkeeper.template.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc["Resources"].(map[string]any) {
		if res := r.(map[string]any); res["Type"] == "AWS::KMS::Key" {
			delete(res["Properties"].(map[string]any), "Tags")
		}
	}
	b, _ = json.Marshal(doc)
	return b, path
}

type codeLocation struct{ bucket, key string }

// memberCodeLocation is the member function's code location: the bucket
// name with ${AWS::Region} unresolved, and the key.
func memberCodeLocation(t *testing.T, tpl []byte) codeLocation {
	t.Helper()
	var doc struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				Code struct {
					S3Bucket map[string]string
					S3Key    string
				}
			}
		}
	}
	if err := json.Unmarshal(tpl, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Resources {
		if r.Type == "AWS::Lambda::Function" {
			return codeLocation{r.Properties.Code.S3Bucket["Fn::Sub"], r.Properties.Code.S3Key}
		}
	}
	t.Fatal("member template has no function")
	return codeLocation{}
}

func zipWithBootstrap(t *testing.T) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("#!/bin/sh\n"))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// awsAPI calls moto's wire protocols directly, SigV4-signed: the module
// pins no Organizations, CloudFormation, IAM, Lambda or S3 client.
type awsAPI struct {
	t        *testing.T
	endpoint string
}

// do sends one signed request as creds (nil: the management account's
// dummy credentials) and returns the body, failing on a non-2xx status.
func (a *awsAPI) do(service, region string, creds *aws.Credentials, method, path string, header http.Header, body []byte) []byte {
	a.t.Helper()
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.endpoint+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	c := aws.Credentials{AccessKeyID: moto.AccessKeyID, SecretAccessKey: moto.SecretAccessKey}
	if creds != nil {
		c = *creds
	}
	if err := v4.NewSigner().SignHTTP(a.t.Context(), c, req, hash, service, region, time.Now()); err != nil {
		a.t.Fatalf("sign: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s %s: %v", service, method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		a.t.Fatalf("%s %s %s: HTTP %d: %s", service, method, path, resp.StatusCode, out)
	}
	return out
}

func (a *awsAPI) json(b []byte, out any) {
	a.t.Helper()
	if err := json.Unmarshal(b, out); err != nil {
		a.t.Fatalf("decode %s: %v", b, err)
	}
}

func (a *awsAPI) orgs(op string, in map[string]any) []byte {
	a.t.Helper()
	body, _ := json.Marshal(in)
	h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"AWSOrganizationsV20161128." + op}}
	return a.do("organizations", "us-east-1", nil, http.MethodPost, "/", h, body)
}

func (a *awsAPI) orgsInto(op string, in map[string]any, out any) {
	a.t.Helper()
	a.json(a.orgs(op, in), out)
}

func (a *awsAPI) query(service, version, op string, creds *aws.Credentials, form url.Values) []byte {
	a.t.Helper()
	form.Set("Action", op)
	form.Set("Version", version)
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return a.do(service, "us-east-1", creds, http.MethodPost, "/", h, []byte(form.Encode()))
}

func (a *awsAPI) cfn(op string, form url.Values) []byte {
	a.t.Helper()
	return a.query("cloudformation", "2010-05-15", op, nil, form)
}

func (a *awsAPI) cfnInto(op string, form url.Values, out any) {
	a.t.Helper()
	if err := xml.Unmarshal(a.cfn(op, form), out); err != nil {
		a.t.Fatalf("decode %s: %v", op, err)
	}
}

// roleNames lists the IAM roles of the account creds belong to.
func (a *awsAPI) roleNames(creds *aws.Credentials) []string {
	a.t.Helper()
	var out struct {
		Roles []string `xml:"ListRolesResult>Roles>member>RoleName"`
	}
	if err := xml.Unmarshal(a.query("iam", "2010-05-08", "ListRoles", creds, url.Values{}), &out); err != nil {
		a.t.Fatalf("decode ListRoles: %v", err)
	}
	return out.Roles
}

// assume returns credentials in account (moto maps an assumed role's
// credentials to the role's account).
func (a *awsAPI) assume(account string) *aws.Credentials {
	a.t.Helper()
	out, err := sts.NewFromConfig(moto.Config(a.endpoint, "us-east-1")).AssumeRole(a.t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("stackset-proof"),
	})
	if err != nil {
		a.t.Fatalf("assume a role in %s: %v", account, err)
	}
	c := out.Credentials
	return &aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}
