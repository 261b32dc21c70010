package findings_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// srv is the package's one moto_server and proxy, the proxy emulating what
// moto 5.2.1's Security Hub lacks (awsproxy.ShimSecurityHub: "not
// subscribed" while the hub is disabled, GetFindings filters, Workflow kept
// on import, BatchUpdateFindings). Tests run one after another and reset
// moto first.
var (
	srv   *moto.Server
	proxy *awsproxy.Proxy
)

func TestMain(m *testing.M) {
	os.Exit(moto.Main("findings", func(s *moto.Server) int {
		srv, proxy = s, awsproxy.New(s.URL)
		defer proxy.Close()
		proxy.ShimSecurityHub()
		return m.Run()
	}))
}

// hub resets moto and returns a Security Hub client through the proxy,
// with the hub enabled when enable is true.
func hub(t *testing.T, enable bool) *securityhub.Client {
	t.Helper()
	srv.Reset(t)
	c := securityhub.NewFromConfig(moto.Config(proxy.URL, home))
	if enable {
		if _, err := c.EnableSecurityHub(t.Context(), &securityhub.EnableSecurityHubInput{}); err != nil {
			t.Fatalf("enable Security Hub: %v", err)
		}
	}
	return c
}

// stored reads back Watchkeeper's findings for the default benchmark
// through the API, filtered as a person would (ProductArn and GeneratorId
// prefix), failing on duplicates.
func stored(t *testing.T, c *securityhub.Client) map[string]types.AwsSecurityFinding {
	t.Helper()
	in := &securityhub.GetFindingsInput{MaxResults: aws.Int32(100), Filters: &types.AwsSecurityFindingFilters{
		ProductArn:  []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String(findings.ProductARN("aws", home, acct))}},
		GeneratorId: []types.StringFilter{{Comparison: types.StringFilterComparisonPrefix, Value: aws.String(findings.GeneratorID(catalog.Default().ID, ""))}},
	}}
	out := map[string]types.AwsSecurityFinding{}
	for pages := securityhub.NewGetFindingsPaginator(c, in); pages.HasMorePages(); {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatalf("get findings: %v", err)
		}
		for _, f := range page.Findings {
			id := aws.ToString(f.Id)
			if _, dup := out[id]; dup {
				t.Errorf("duplicate finding %s", id)
			}
			out[id] = f
		}
	}
	return out
}

// run builds the findings of one run at hour h and publishes them.
func run(t *testing.T, c *securityhub.Client, h int, status map[string]plan.Status) findings.Result {
	t.Helper()
	fs := findings.Build(reportOf(catalog.Default(), "apply", report.StatusApplied, status), findings.Meta{Version: "test", Now: at(h)})
	res, err := findings.Publisher{Client: c}.Publish(t.Context(), fs)
	if err != nil {
		t.Fatalf("run at hour %d: %v", h, err)
	}
	if res.Skipped != "" || len(res.Failed) > 0 || len(res.Warnings) > 0 {
		t.Fatalf("run at hour %d: %+v", h, res)
	}
	return res
}

type state struct {
	compliance types.ComplianceStatus
	workflow   types.WorkflowStatus
	record     types.RecordState
}

func stateOf(f types.AwsSecurityFinding) state {
	s := state{record: f.RecordState}
	if f.Compliance != nil {
		s.compliance = f.Compliance.Status
	}
	if f.Workflow != nil {
		s.workflow = f.Workflow.Status
	}
	return s
}

// TestMotoLifecycle runs Watchkeeper's findings through several runs
// against moto: 15 controls, one finding each, updated in place; a control
// that turns FAIL -> PASS is PASSED and RESOLVED with its Id and CreatedAt
// kept, turns FAIL again and is re-opened NEW; an excluded control is
// ARCHIVED, and RESOLVED once it is included and passes.
func TestMotoLifecycle(t *testing.T) {
	c := hub(t, true)
	b := catalog.Default()
	root := findings.ID(acct, b.ID, "4.3")
	org := findings.ID(acct, b.ID, "4.15")
	iam := findings.ID(acct, b.ID, "4.4")

	steps := []struct {
		name    string
		status  map[string]plan.Status
		created int
		want    map[string]state
	}{
		{"first import", map[string]plan.Status{"4.3": plan.StatusFail, "4.15": plan.StatusExcluded}, 15, map[string]state{
			root: {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.RecordStateActive},
			org:  {types.ComplianceStatusNotAvailable, types.WorkflowStatusNew, types.RecordStateArchived},
			iam:  {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.RecordStateActive},
		}},
		{"4.3 healed", map[string]plan.Status{"4.15": plan.StatusExcluded}, 0, map[string]state{
			root: {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.RecordStateActive},
			org:  {types.ComplianceStatusNotAvailable, types.WorkflowStatusNew, types.RecordStateArchived},
		}},
		{"4.3 fails again", map[string]plan.Status{"4.3": plan.StatusFail, "4.15": plan.StatusExcluded}, 0, map[string]state{
			root: {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.RecordStateActive},
		}},
		{"all pass, 4.15 included", nil, 0, map[string]state{
			root: {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.RecordStateActive},
			org:  {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.RecordStateActive},
			iam:  {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.RecordStateActive},
		}},
	}
	for h, step := range steps {
		res := run(t, c, h, step.status)
		if res.Created != step.created || res.Created+res.Updated != 15 {
			t.Errorf("%s: created %d, updated %d; want %d created of 15", step.name, res.Created, res.Updated, step.created)
		}
		got := stored(t, c)
		if len(got) != len(b.Controls) {
			t.Errorf("%s: %d findings in Security Hub, want %d", step.name, len(got), len(b.Controls))
		}
		for id, want := range step.want {
			if s := stateOf(got[id]); s != want {
				t.Errorf("%s: %s is %+v, want %+v", step.name, id, s, want)
			}
		}
		for id, f := range got {
			if err := findings.Validate(f); err != nil {
				t.Errorf("%s: read back: %v", step.name, err)
			}
			if aws.ToString(f.CreatedAt) != findings.Timestamp(at(0)) || aws.ToString(f.UpdatedAt) != findings.Timestamp(at(h)) {
				t.Errorf("%s: %s created %s, updated %s; want created at the first run, updated at this one",
					step.name, id, aws.ToString(f.CreatedAt), aws.ToString(f.UpdatedAt))
			}
		}
	}
}

// TestMotoNotEnabled: with Security Hub not enabled in the Region, Publish
// warns and returns no error, and nothing is stored; the same after the
// hub is disabled.
func TestMotoNotEnabled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(*testing.T, *securityhub.Client)
	}{
		{"never enabled", func(*testing.T, *securityhub.Client) {}},
		{"disabled", func(t *testing.T, c *securityhub.Client) {
			if _, err := c.EnableSecurityHub(t.Context(), &securityhub.EnableSecurityHubInput{}); err != nil {
				t.Fatal(err)
			}
			run(t, c, 0, nil)
			if _, err := c.DisableSecurityHub(t.Context(), &securityhub.DisableSecurityHubInput{}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := hub(t, false)
			tc.prepare(t, c)
			fs := findings.Build(reportOf(catalog.Default(), "audit", report.StatusPlanned, nil), findings.Meta{Now: at(1)})
			res, err := findings.Publisher{Client: c}.Publish(t.Context(), fs)
			if err != nil {
				t.Fatalf("Publish: %v, want no error", err)
			}
			if res.Skipped != findings.SkipNotEnabled || len(res.Warnings) != 1 || res.Created+res.Updated != 0 {
				t.Errorf("result %+v, want skipped %s with a warning", res, findings.SkipNotEnabled)
			}
			direct := securityhub.NewFromConfig(srv.Config(home)) // moto itself answers even when disabled
			out, err := direct.GetFindings(t.Context(), &securityhub.GetFindingsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(out.Findings); n != 0 {
				t.Errorf("%d findings stored while Security Hub is not enabled", n)
			}
		})
	}
}

// TestMotoManyRuns: 15 controls over several runs with changing verdicts
// leave exactly one finding per control.
func TestMotoManyRuns(t *testing.T) {
	c := hub(t, true)
	b := catalog.Default()
	verdicts := []plan.Status{plan.StatusPass, plan.StatusFail, plan.StatusError, plan.StatusExcluded}
	for h := range 6 {
		status := map[string]plan.Status{}
		for i, ctl := range b.Controls {
			status[ctl.ID] = verdicts[(i+h)%len(verdicts)]
		}
		run(t, c, h, status)
		got := stored(t, c)
		if len(got) != len(b.Controls) {
			t.Fatalf("run %d: %d findings, want %d", h, len(got), len(b.Controls))
		}
		for i, ctl := range b.Controls {
			f := got[findings.ID(acct, b.ID, ctl.ID)]
			want := map[plan.Status]types.ComplianceStatus{plan.StatusPass: types.ComplianceStatusPassed, plan.StatusFail: types.ComplianceStatusFailed,
				plan.StatusError: types.ComplianceStatusNotAvailable, plan.StatusExcluded: types.ComplianceStatusNotAvailable}[verdicts[(i+h)%len(verdicts)]]
			if f.Compliance == nil || f.Compliance.Status != want {
				t.Errorf("run %d: %s compliance %+v, want %s", h, ctl.ID, f.Compliance, want)
			}
		}
	}
}
