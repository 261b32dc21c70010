package organization_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/watchkeeper/watchkeeper/test/harness"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	home       = harness.Home
	regions    = harness.Home + "," + harness.Other
	subscriber = harness.Subscriber
	orgTrail   = "org-trail"
	orgLG      = "/aws/cloudtrail/organization"
	// centralRole is the read-only role members assume in the management
	// account (moto assumes any role ARN; AWS needs it to exist and trust
	// the member).
	centralRoleName = "watchkeeper-central-read"
)

// org is what seed built.
type org struct {
	mgmt    string
	members []string // three, the first two in OU "workloads", the third in "sandbox"
	trail   world.Trail
}

// seed resets moto and builds the organization: the management account
// (moto's default account) creates it, two OUs, three member accounts,
// and a multi-region organization trail delivering to a log group.
func seed(t *testing.T) org {
	t.Helper()
	h.Reset(t)
	ctx := t.Context()
	cfg := h.Config(home)
	o := organizations.NewFromConfig(cfg)
	if _, err := o.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	roots, err := o.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("list roots: %v", err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	ous := map[string]string{}
	for _, name := range []string{"workloads", "sandbox"} {
		out, err := o.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String(name)})
		if err != nil {
			t.Fatalf("create OU %s: %v", name, err)
		}
		ous[name] = aws.ToString(out.OrganizationalUnit.Id)
	}
	var res org
	for i, ou := range []string{"workloads", "workloads", "sandbox"} {
		name := fmt.Sprintf("member-%d", i+1)
		out, err := o.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatalf("create account %s: %v", name, err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		if _, err := o.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(ous[ou])}); err != nil {
			t.Fatalf("move %s to %s: %v", id, ou, err)
		}
		res.members = append(res.members, id)
	}
	w := world.New(h.Config)
	if res.mgmt, err = w.Account(ctx); err != nil {
		t.Fatal(err)
	}
	if res.trail, err = w.Trail(ctx, world.TrailSpec{Name: orgTrail, HomeRegion: home, Organization: true, LogGroupName: orgLG}); err != nil {
		t.Fatalf("organization trail: %v", err)
	}
	return res
}

// memberEnv is the CLI's environment with credentials of account id,
// obtained as a person would: AssumeRole into the member's
// OrganizationAccountAccessRole from the management account.
func memberEnv(t *testing.T, id string) []string {
	t.Helper()
	out, err := sts.NewFromConfig(h.Config(home)).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/OrganizationAccountAccessRole", id)),
		RoleSessionName: aws.String("organization-test"),
	})
	if err != nil {
		t.Fatalf("assume role in %s: %v", id, err)
	}
	c := out.Credentials
	var env []string
	for _, kv := range h.Env(home) {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID="+aws.ToString(c.AccessKeyId), "AWS_SECRET_ACCESS_KEY="+aws.ToString(c.SecretAccessKey),
		"AWS_SESSION_TOKEN="+aws.ToString(c.SessionToken))
}

// doc is the part of the JSON report these tests read beyond harness.Report.
type doc struct {
	Account  string `json:"account"`
	Controls []struct {
		ID      string   `json:"id"`
		Status  string   `json:"status"`
		Codes   []string `json:"codes"`
		Central *struct {
			TrailARN     string `json:"trailArn"`
			OwnerAccount string `json:"ownerAccount"`
			LogGroupARN  string `json:"logGroupArn"`
		} `json:"central"`
	} `json:"controls"`
	Regions []struct {
		Region string `json:"region"`
		Status string `json:"status"`
	} `json:"regions"`
	Organization *struct {
		TrailARN string `json:"trailArn"`
		Accounts []struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			Covered bool   `json:"covered"`
		} `json:"accounts"`
	} `json:"organization"`
}

// run runs the CLI and decodes its report.
func run(t *testing.T, env []string, args ...string) (harness.Result, doc) {
	t.Helper()
	res, err := h.RunCLI(context.WithoutCancel(t.Context()), env, append(args, "--output", "json", "--regions", regions)...)
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if res.Code != 1 {
		if err := json.Unmarshal([]byte(res.Stdout), &d); err != nil {
			t.Fatalf("decode report: %v", err)
		}
	}
	return res, d
}

// healManagement runs apply in the management account and requires it to
// converge: the organization trail's log group gets every filter and alarm.
func healManagement(t *testing.T) {
	t.Helper()
	res, _ := run(t, h.Env(home), "apply", "--subscribe", subscriber)
	if res.Code != 0 || len(res.Report.ActionsWith("applied")) == 0 || len(res.Report.ActionsWith("failed")) != 0 {
		t.Fatalf("management apply: exit %d, %s\nstderr:\n%s", res.Code, res.Report.Summary(), res.Stderr)
	}
}

func wantStatuses(t *testing.T, d doc, want map[string]string, dflt string) {
	t.Helper()
	for _, c := range d.Controls {
		w, ok := want[c.ID]
		if !ok {
			w = dflt
		}
		if c.Status != w {
			t.Errorf("control %s: %s, want %s (codes %v)", c.ID, c.Status, w, c.Codes)
		}
	}
	if len(d.Controls) == 0 {
		t.Error("no controls in the report")
	}
}

// TestMemberReportsCentral: a member account covered by the organization
// trail reports every control and region CENTRAL, naming the trail, its
// owner and its log group; it exits 0 and plans nothing (apply neither).
func TestMemberReportsCentral(t *testing.T) {
	o := seed(t)
	for _, mode := range []string{"audit", "apply"} {
		res, d := run(t, memberEnv(t, o.members[2]), mode)
		if res.Code != 0 || len(res.Report.Actions) != 0 {
			t.Fatalf("%s in member: exit %d, %d actions, want 0 and none\n%s\nstderr:\n%s", mode, res.Code, len(res.Report.Actions), res.Report.Summary(), res.Stderr)
		}
		if d.Account != o.members[2] {
			t.Fatalf("report account %s, want the member %s", d.Account, o.members[2])
		}
		wantStatuses(t, d, nil, "CENTRAL")
		for _, c := range d.Controls {
			if c.Central == nil || c.Central.TrailARN != o.trail.ARN || c.Central.OwnerAccount != o.mgmt || c.Central.LogGroupARN != o.trail.LogGroupARN {
				t.Errorf("control %s names %+v, want trail %s of %s, log group %s", c.ID, c.Central, o.trail.ARN, o.mgmt, o.trail.LogGroupARN)
			}
			if !slices.Contains(c.Codes, "CLOUDTRAIL_ORGANIZATION_TRAIL_CENTRAL") {
				t.Errorf("control %s codes %v", c.ID, c.Codes)
			}
		}
		for _, r := range d.Regions {
			if r.Status != "CENTRAL" {
				t.Errorf("region %s: %s, want CENTRAL", r.Region, r.Status)
			}
		}
	}
	// The text report names the trail, its owner and its log group. (RunCLI
	// fails to decode text as a JSON report; only its exit and stdout count.)
	res, _ := h.RunCLI(t.Context(), memberEnv(t, o.members[0]), "audit", "--output", "text", "--regions", regions)
	if res.Code != 0 {
		t.Errorf("text audit in member: exit %d\nstderr:\n%s", res.Code, res.Stderr)
	}
	for _, s := range []string{o.trail.ARN, o.mgmt, orgLG} {
		if !strings.Contains(res.Stdout, s) {
			t.Errorf("text report does not name %s:\n%s", s, res.Stdout)
		}
	}
}

// TestManagementHealsAndListsOrganization: in the management account the
// organization trail's log group is healed like an account trail's, and
// --organization lists every account with its coverage.
func TestManagementHealsAndListsOrganization(t *testing.T) {
	o := seed(t)
	healManagement(t)
	st := h.State(t, world.StateOptions{}, home)
	if n := countPrefix(st.Filters, home+" "+orgLG+"/"+world.DefaultPrefix); n != 15 {
		t.Errorf("%d Watchkeeper filters on the organization log group, want 15: %v", n, slices.Sorted(maps.Keys(st.Filters)))
	}
	// Drift on the organization log group is healed by the next run.
	cw := cloudwatch.NewFromConfig(h.Config(home))
	if _, err := cw.DeleteAlarms(t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{world.DefaultPrefix + "iam-policy-changes"}}); err != nil {
		t.Fatal(err)
	}
	res, _ := run(t, h.Env(home), "apply", "--subscribe", subscriber)
	if res.Code != 0 || len(res.Report.ActionsWith("applied")) != 1 {
		t.Fatalf("re-heal: exit %d, %s", res.Code, res.Report.Summary())
	}

	res, d := run(t, h.Env(home), "audit", "--subscribe", subscriber, "--organization")
	if res.Code != 0 {
		t.Fatalf("audit --organization: exit %d\n%s\nstderr:\n%s", res.Code, res.Report.Summary(), res.Stderr)
	}
	if d.Organization == nil || d.Organization.TrailARN != o.trail.ARN {
		t.Fatalf("organization section %+v, want trail %s", d.Organization, o.trail.ARN)
	}
	want := append([]string{o.mgmt}, o.members...)
	var got []string
	for _, a := range d.Organization.Accounts {
		got = append(got, a.ID)
		if !a.Covered {
			t.Errorf("account %s (%s) not covered", a.ID, a.Name)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
}

// TestCentralRole: with a read-only role in the management account, a
// member judges the central chain for real: PASS while it works, FAIL for
// the control whose central alarm is gone, and still no action planned
// (nothing in the member, nothing in the management account).
func TestCentralRole(t *testing.T) {
	o := seed(t)
	healManagement(t)
	role := fmt.Sprintf("arn:aws:iam::%s:role/%s", o.mgmt, centralRoleName)
	env := memberEnv(t, o.members[1])

	res, d := run(t, env, "audit", "--central-role-arn", role)
	if res.Code != 0 || len(res.Report.Actions) != 0 {
		t.Fatalf("member with central role: exit %d, %s\nstderr:\n%s", res.Code, res.Report.Summary(), res.Stderr)
	}
	wantStatuses(t, d, nil, "PASS")

	cw := cloudwatch.NewFromConfig(h.Config(home))
	if _, err := cw.DeleteAlarms(t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{world.DefaultPrefix + "iam-policy-changes"}}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"audit", "apply"} {
		res, d = run(t, env, mode, "--central-role-arn", role)
		if res.Code != 2 || len(res.Report.Actions) != 0 {
			t.Fatalf("%s after the central alarm was deleted: exit %d, %s, want 2 and no action\nstderr:\n%s", mode, res.Code, res.Report.Summary(), res.Stderr)
		}
		wantStatuses(t, d, map[string]string{"4.4": "FAIL"}, "PASS")
	}
	if _, ok := h.State(t, world.StateOptions{}, home).Alarms[home+" "+world.DefaultPrefix+"iam-policy-changes"]; ok {
		t.Error("the member's apply wrote into the management account")
	}

	// Without the role the same member reports CENTRAL.
	res, d = run(t, env, "audit")
	if res.Code != 0 {
		t.Fatalf("member without role: exit %d", res.Code)
	}
	wantStatuses(t, d, nil, "CENTRAL")
}

func countPrefix(m map[string]string, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}
