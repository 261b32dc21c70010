package scenarios_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// TestSecurityHubFindings drives the CLI's --findings securityhub and
// --output asff (issue #12): one finding per control, the same finding
// updated by the next run, a FAIL resolved by apply, and a Region without
// Security Hub costing a warning, never the run.
func TestSecurityHubFindings(t *testing.T) {
	w := fresh(t)
	seedCompliant(t, w)
	hub := securityhub.NewFromConfig(cfg(home))
	flags := append([]string{"--findings", "securityhub"}, defaultFlags...)

	// Not enabled: the audit still reports, exits as before, and warns
	// once more than without --findings (the catalog's own warnings stay).
	base := len(cli(t, append([]string{"audit"}, defaultFlags...)...).Report.Warnings)
	off := cli(t, append([]string{"audit"}, flags...)...)
	if off.Code != 0 || len(off.Report.Warnings) != base+1 {
		t.Fatalf("audit with Security Hub off: exit %d, warnings %q; want 0 and one more than %d", off.Code, off.Report.Warnings, base)
	}

	if _, err := hub.EnableSecurityHub(t.Context(), &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatal(err)
	}
	// One control broken, then healed: its finding goes FAILED/NEW, then
	// PASSED/RESOLVED under the same Id.
	ctl, _ := bench.Control("4.4")
	if _, err := cloudwatch.NewFromConfig(cfg(home)).DeleteAlarms(t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{world.DefaultPrefix + ctl.Key}}); err != nil {
		t.Fatal(err)
	}
	audit := cli(t, append([]string{"audit"}, flags...)...)
	if audit.Code != 2 || len(audit.Report.Warnings) != base {
		t.Fatalf("audit: exit %d, warnings %q; want 2 and only the %d without --findings", audit.Code, audit.Report.Warnings, base)
	}
	first := hubFindings(t, hub)
	if len(first) != len(bench.Controls) {
		t.Fatalf("%d findings after the first import, want %d", len(first), len(bench.Controls))
	}
	id := findings.ID(audit.Report.Account, bench.ID, ctl.ID)
	if f := first[id]; f.Compliance == nil || f.Compliance.Status != shtypes.ComplianceStatusFailed || f.Workflow == nil || f.Workflow.Status != shtypes.WorkflowStatusNew {
		t.Fatalf("finding %s after the audit: %+v %+v, want FAILED and NEW", id, f.Compliance, f.Workflow)
	}
	if applied := cli(t, append([]string{"apply"}, flags...)...); applied.Code != 0 {
		t.Fatalf("apply: exit %d\n%s", applied.Code, applied.Stderr)
	}
	second := hubFindings(t, hub)
	if len(second) != len(bench.Controls) {
		t.Fatalf("%d findings after the second import, want %d (no duplicates)", len(second), len(bench.Controls))
	}
	f := second[id]
	if f.Compliance.Status != shtypes.ComplianceStatusPassed || f.Workflow.Status != shtypes.WorkflowStatusResolved {
		t.Errorf("finding %s after apply: %s %s, want PASSED and RESOLVED", id, f.Compliance.Status, f.Workflow.Status)
	}
	if aws.ToString(f.CreatedAt) != aws.ToString(first[id].CreatedAt) {
		t.Errorf("CreatedAt %s, want the first import's %s", aws.ToString(f.CreatedAt), aws.ToString(first[id].CreatedAt))
	}

	// --output asff prints the same findings as one document.
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"audit", "--output", "asff"}, defaultFlags...)...)
	cmd.Env = h.Env(home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("audit --output asff: %v\n%s", err, stderr.String())
	}
	var doc struct{ Findings []shtypes.AwsSecurityFinding }
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("--output asff is not one JSON document: %v\n%s", err, stdout.String())
	}
	var ids []string
	for _, f := range doc.Findings {
		if err := findings.Validate(f); err != nil {
			t.Errorf("finding %s: %v", aws.ToString(f.Id), err)
		}
		ids = append(ids, aws.ToString(f.Id))
	}
	if len(ids) != len(bench.Controls) || !slices.Contains(ids, id) {
		t.Errorf("asff document has findings %v, want one per control including %s", ids, id)
	}
}

// hubFindings reads every finding in the home Region's hub, by Id.
func hubFindings(t *testing.T, hub *securityhub.Client) map[string]shtypes.AwsSecurityFinding {
	t.Helper()
	out := map[string]shtypes.AwsSecurityFinding{}
	p := securityhub.NewGetFindingsPaginator(hub, &securityhub.GetFindingsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Findings {
			if _, dup := out[aws.ToString(f.Id)]; dup {
				t.Errorf("finding %s stored twice", aws.ToString(f.Id))
			}
			out[aws.ToString(f.Id)] = f
		}
	}
	return out
}
