package findings_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// everyStatus judges the controls of b in turn PASS, FAIL, ERROR and
// EXCLUDED.
func everyStatus(b catalog.Benchmark) map[string]plan.Status {
	order := []plan.Status{plan.StatusPass, plan.StatusFail, plan.StatusError, plan.StatusExcluded}
	m := map[string]plan.Status{}
	for i, c := range b.Controls {
		m[c.ID] = order[i%len(order)]
	}
	return m
}

// TestRequiredAttributes validates every finding Build produces, for
// every benchmark and every verdict, against the required top-level ASFF
// attributes (User Guide, "Required top-level ASFF attributes") and the
// documented limits, and checks that each required attribute is present
// in the ASFF document.
func TestRequiredAttributes(t *testing.T) {
	for _, id := range catalog.IDs() {
		b, err := catalog.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		fs := findings.Build(reportOf(b, "apply", report.StatusApplied, everyStatus(b)), findings.Meta{Version: "1.2.3", Now: t0})
		if len(fs) != len(b.Controls) {
			t.Fatalf("%s: %d findings for %d controls", id, len(fs), len(b.Controls))
		}
		for _, f := range fs {
			if err := findings.Validate(f); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		doc, err := findings.Document(fs)
		if err != nil {
			t.Fatal(err)
		}
		var parsed struct{ Findings []map[string]any }
		if err := json.Unmarshal(doc, &parsed); err != nil {
			t.Fatalf("%s: document is not JSON: %v", id, err)
		}
		for _, f := range parsed.Findings {
			for _, attr := range findings.RequiredAttributes {
				if _, ok := f[attr]; !ok {
					t.Errorf("%s: finding %v lacks required attribute %s", id, f["Id"], attr)
				}
			}
		}
	}
}

func TestRequiredAttributesListMatchesUserGuide(t *testing.T) {
	// The twelve the User Guide lists, in its order.
	want := []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"}
	if !slices.Equal(findings.RequiredAttributes, want) {
		t.Errorf("RequiredAttributes = %v, want %v", findings.RequiredAttributes, want)
	}
}

func TestValidateRejectsMissingAttributes(t *testing.T) {
	b := catalog.Default()
	f := findings.Build(reportOf(b, "audit", report.StatusPlanned, nil), findings.Meta{Now: t0})[0]
	for name, breakIt := range map[string]func(*types.AwsSecurityFinding){
		"AwsAccountId": func(f *types.AwsSecurityFinding) { f.AwsAccountId = nil },
		"CreatedAt":    func(f *types.AwsSecurityFinding) { f.CreatedAt = aws.String("yesterday") },
		"Description":  func(f *types.AwsSecurityFinding) { f.Description = aws.String(strings.Repeat("x", 1025)) },
		"Resources":    func(f *types.AwsSecurityFinding) { f.Resources = nil },
		"Severity":     func(f *types.AwsSecurityFinding) { f.Severity = nil },
		"Types":        func(f *types.AwsSecurityFinding) { f.Types = nil },
		"Title":        func(f *types.AwsSecurityFinding) { f.Title = aws.String(" ") },
	} {
		g := f
		breakIt(&g)
		if err := findings.Validate(g); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate with a bad %s = %v, want an error naming it", name, err)
		}
	}
}

// TestStatusMapping pins, per verdict, Compliance.Status, RecordState, the
// workflow status of a new finding and the severity.
func TestStatusMapping(t *testing.T) {
	b := catalog.Default()
	for _, tc := range []struct {
		status     plan.Status
		compliance types.ComplianceStatus
		record     types.RecordState
		workflow   types.WorkflowStatus
		severity   types.SeverityLabel
	}{
		{plan.StatusPass, types.ComplianceStatusPassed, types.RecordStateActive, types.WorkflowStatusResolved, types.SeverityLabelInformational},
		{plan.StatusFail, types.ComplianceStatusFailed, types.RecordStateActive, types.WorkflowStatusNew, types.SeverityLabelLow},
		{plan.StatusError, types.ComplianceStatusNotAvailable, types.RecordStateActive, types.WorkflowStatusNew, types.SeverityLabelLow},
		{plan.StatusExcluded, types.ComplianceStatusNotAvailable, types.RecordStateArchived, types.WorkflowStatusNew, types.SeverityLabelInformational},
		{plan.StatusCentral, types.ComplianceStatusWarning, types.RecordStateActive, types.WorkflowStatusNew, types.SeverityLabelInformational},
		{plan.Status("SOMETHING_NEW"), types.ComplianceStatusNotAvailable, types.RecordStateActive, types.WorkflowStatusNew, types.SeverityLabelLow},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			c := b.Controls[6] // 4.7
			f := findings.Build(reportOf(b, "audit", report.StatusPlanned, map[string]plan.Status{c.ID: tc.status}), findings.Meta{Now: t0})[6]
			if f.Compliance.Status != tc.compliance || f.RecordState != tc.record || f.Workflow.Status != tc.workflow ||
				f.Severity.Label != tc.severity || f.FindingProviderFields.Severity.Label != tc.severity {
				t.Errorf("%s: compliance %s, record %s, workflow %s, severity %s/%s; want %s, %s, %s, %s", tc.status,
					f.Compliance.Status, f.RecordState, f.Workflow.Status, f.Severity.Label, f.FindingProviderFields.Severity.Label,
					tc.compliance, tc.record, tc.workflow, tc.severity)
			}
			if len(f.Compliance.StatusReasons) == 0 {
				t.Errorf("%s: no status reasons", tc.status)
			}
		})
	}
}

// TestSeverityPerControl: Security Hub rates every CloudWatch.1–14
// control Low; every catalogued control has a documented severity.
func TestSeverityPerControl(t *testing.T) {
	for _, id := range catalog.IDs() {
		b, _ := catalog.Lookup(id)
		for _, c := range b.Controls {
			if got := findings.Severity(c.Key); got != types.SeverityLabelLow {
				t.Errorf("%s %s (%s): severity %s, want LOW", id, c.ID, c.SecurityHubID, got)
			}
		}
	}
}

// TestIdentity: Id and GeneratorId depend on account, benchmark and
// control only, so later runs update the same finding; ProductArn is the
// account's default product in the home Region's partition.
func TestIdentity(t *testing.T) {
	b := catalog.Default()
	first := findings.Build(reportOf(b, "audit", report.StatusPlanned, map[string]plan.Status{"4.3": plan.StatusFail}), findings.Meta{Now: t0})
	later := findings.Build(reportOf(b, "apply", report.StatusApplied, map[string]plan.Status{"4.7": plan.StatusError}), findings.Meta{Now: at(5), Version: "2.0.0"})
	seen := map[string]bool{}
	for i := range first {
		id := aws.ToString(first[i].Id)
		if id != aws.ToString(later[i].Id) || aws.ToString(first[i].GeneratorId) != aws.ToString(later[i].GeneratorId) {
			t.Errorf("control %s: identity changed between runs: %s/%s vs %s/%s", b.Controls[i].ID, id,
				aws.ToString(first[i].GeneratorId), aws.ToString(later[i].Id), aws.ToString(later[i].GeneratorId))
		}
		if seen[id] {
			t.Errorf("duplicate Id %s", id)
		}
		seen[id] = true
	}
	if got, want := aws.ToString(first[6].Id), "watchkeeper/123456789012/cis-aws-v3.0.0/4.7"; got != want {
		t.Errorf("Id = %s, want %s", got, want)
	}
	if got, want := aws.ToString(first[6].GeneratorId), "watchkeeper/cis-aws-v3.0.0/4.7"; got != want {
		t.Errorf("GeneratorId = %s, want %s", got, want)
	}
	if got, want := aws.ToString(first[0].ProductArn), "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"; got != want {
		t.Errorf("ProductArn = %s, want %s", got, want)
	}
	if got, want := first[6].Compliance.RelatedRequirements, []string{"CIS AWS Foundations Benchmark v3.0.0/4.7"}; !slices.Equal(got, want) {
		t.Errorf("RelatedRequirements = %v, want %v", got, want)
	}
	if got, want := first[6].Types, []string{findings.FindingType}; !slices.Equal(got, want) {
		t.Errorf("Types = %v, want %v", got, want)
	}
	cn := reportOf(b, "audit", report.StatusPlanned, nil)
	cn.HomeRegion = "cn-north-1"
	if got, want := aws.ToString(findings.Build(cn, findings.Meta{Now: t0})[0].ProductArn), "arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default"; got != want {
		t.Errorf("China ProductArn = %s, want %s", got, want)
	}
	other := reportOf(b, "audit", report.StatusPlanned, nil)
	other.Account = "210987654321"
	if aws.ToString(findings.Build(other, findings.Meta{Now: t0})[0].Id) == aws.ToString(first[0].Id) {
		t.Error("two accounts share a finding Id")
	}
	v12, _ := catalog.Lookup("cis-aws-v1.2.0")
	if got := aws.ToString(findings.Build(reportOf(v12, "audit", report.StatusPlanned, nil), findings.Meta{Now: t0})[0].Id); seen[got] {
		t.Errorf("benchmarks share finding Id %s", got)
	}
}

// TestStatusReasons: each reason carries its code; reasons without one get
// the verdict's generic code; a report without Problems (read back from
// JSON) still yields its codes; reasons are bounded.
func TestStatusReasons(t *testing.T) {
	b := catalog.Default()
	codes := func(f types.AwsSecurityFinding) []string {
		var out []string
		for _, r := range f.Compliance.StatusReasons {
			out = append(out, aws.ToString(r.ReasonCode))
		}
		return out
	}
	rep := reportOf(b, "audit", report.StatusPlanned, map[string]plan.Status{"4.3": plan.StatusFail, "4.7": plan.StatusError, "4.1": plan.StatusExcluded})
	fs := findings.Build(rep, findings.Meta{Now: t0})
	for i, want := range map[int][]string{
		0: {findings.ReasonExcluded},
		2: {plan.CodeFiltersNotPresent},
		6: {findings.ReasonNotEvaluated},
		3: {findings.ReasonAlertPathVerified},
	} {
		if got := codes(fs[i]); !slices.Equal(got, want) {
			t.Errorf("control %s: reason codes %v, want %v", b.Controls[i].ID, got, want)
		}
	}

	// Round-trip through the JSON report: Problems are not in it.
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back report.Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if got := codes(findings.Build(back, findings.Meta{Now: t0})[2]); !slices.Contains(got, plan.CodeFiltersNotPresent) {
		t.Errorf("from JSON: reason codes %v lack %s", got, plan.CodeFiltersNotPresent)
	}

	// Many long reasons: bounded count and length.
	long := rep
	long.Controls = slices.Clone(rep.Controls)
	c := long.Controls[2]
	c.Problems = nil
	for range 50 {
		c.Problems = append(c.Problems, plan.Problem{Code: plan.CodeFilterTooBroad, Reason: strings.Repeat("é", 3000)})
	}
	long.Controls[2] = c
	f := findings.Build(long, findings.Meta{Now: t0})[2]
	if n := len(f.Compliance.StatusReasons); n != findings.MaxStatusReasons {
		t.Errorf("%d status reasons, want %d", n, findings.MaxStatusReasons)
	}
	for _, r := range f.Compliance.StatusReasons {
		if n := utf8.RuneCountInString(aws.ToString(r.Description)); n > findings.MaxReasonDescription {
			t.Errorf("status reason of %d characters", n)
		}
	}
	if err := findings.Validate(f); err != nil {
		t.Error(err)
	}
}

// TestResources: the account first, then the chain's log group, metric
// filter, alarm and topic, by ARN where they have one.
func TestResources(t *testing.T) {
	b := catalog.Default()
	rep := reportOf(b, "audit", report.StatusPlanned, map[string]plan.Status{"4.7": plan.StatusError})
	fs := findings.Build(rep, findings.Meta{Now: t0})
	type res struct{ Type, ID string }
	got := func(f types.AwsSecurityFinding) []res {
		var out []res
		for _, r := range f.Resources {
			out = append(out, res{aws.ToString(r.Type), aws.ToString(r.Id)})
		}
		return out
	}
	want := []res{
		{"AwsAccount", "AWS::::Account:123456789012"},
		{"Other", lgARN},
		{"Other", lgName + "/watchkeeper-root-account-usage"},
		{"AwsCloudWatchAlarm", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:watchkeeper-root-account-usage"},
		{"AwsSnsTopic", topicARN},
	}
	if g := got(fs[2]); !slices.Equal(g, want) {
		t.Errorf("resources of 4.3:\n got %v\nwant %v", g, want)
	}
	if g := got(fs[6]); !slices.Equal(g, want[:1]) { // ERROR without a chain: the account only
		t.Errorf("resources of 4.7 without a chain: %v, want the account only", g)
	}
	if kind := fs[2].Resources[2].Details.Other["Type"]; kind != "AWS::Logs::MetricFilter" {
		t.Errorf("metric filter resource says it is %q", kind)
	}
}

// TestActionsInFindings: Remediation and ProductFields say what Watchkeeper
// did or would do for the control, from the report's actions.
func TestActionsInFindings(t *testing.T) {
	b := catalog.Default()
	for _, tc := range []struct {
		act  report.Status
		verb string
	}{
		{report.StatusPlanned, "would apply"},
		{report.StatusApplied, "applied"},
		{report.StatusFailed, "failed"},
	} {
		rep := reportOf(b, "apply", tc.act, map[string]plan.Status{"4.3": plan.StatusFail})
		fs := findings.Build(rep, findings.Meta{Now: t0, Version: "1.2.3"})
		f := fs[2]
		text := aws.ToString(f.Remediation.Recommendation.Text)
		if !strings.Contains(text, tc.verb) || !strings.Contains(text, string(plan.PutMetricFilter)) || !strings.Contains(text, string(plan.PutMetricAlarm)) {
			t.Errorf("%s: recommendation %q does not say %q with both actions", tc.act, text, tc.verb)
		}
		acts := f.ProductFields[findings.FieldActions]
		if !strings.Contains(acts, string(plan.PutMetricAlarm)) || !strings.Contains(acts, string(tc.act)) {
			t.Errorf("%s: ProductFields actions %q lack the alarm action and its status", tc.act, acts)
		}
		if f.ProductFields[findings.FieldVersion] != "1.2.3" || f.ProductFields[findings.FieldControl] != "4.3" ||
			f.ProductFields[findings.FieldSecurityHubID] != "CloudWatch.1" || f.ProductFields[findings.FieldVerdict] != "FAIL" {
			t.Errorf("%s: ProductFields %v", tc.act, f.ProductFields)
		}
		if other := fs[3].ProductFields[findings.FieldActions]; other != "none" {
			t.Errorf("%s: a passing control without actions lists actions %q", tc.act, other)
		}
	}
}

// TestTimes: a new finding is created and updated now.
func TestTimes(t *testing.T) {
	f := findings.Build(reportOf(catalog.Default(), "audit", report.StatusPlanned, nil), findings.Meta{Now: at(3)})[0]
	if want := findings.Timestamp(at(3)); aws.ToString(f.CreatedAt) != want || aws.ToString(f.UpdatedAt) != want {
		t.Errorf("CreatedAt %s, UpdatedAt %s, want both %s", aws.ToString(f.CreatedAt), aws.ToString(f.UpdatedAt), want)
	}
}

// TestLimits: overlong texts from the report are clipped to the ASFF
// limits, and the finding still validates.
func TestLimits(t *testing.T) {
	b := catalog.Default()
	rep := reportOf(b, "apply", report.StatusFailed, map[string]plan.Status{"4.3": plan.StatusFail})
	rep.Controls[2].Title = strings.Repeat("T", 400)
	for i := range rep.Actions {
		rep.Actions[i].Target = strings.Repeat("t", 3000)
		rep.Actions[i].Error = strings.Repeat("e", 3000)
	}
	f := findings.Build(rep, findings.Meta{Now: t0})[2]
	if err := findings.Validate(f); err != nil {
		t.Error(err)
	}
	if n := utf8.RuneCountInString(aws.ToString(f.Title)); n != findings.MaxTitle {
		t.Errorf("title of %d characters, want it clipped to %d", n, findings.MaxTitle)
	}
}
