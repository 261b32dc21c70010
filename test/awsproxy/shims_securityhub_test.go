package awsproxy_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// shFinding is a minimal valid finding with the given id and compliance.
func shFinding(region, id string, c shtypes.ComplianceStatus, w shtypes.WorkflowStatus) shtypes.AwsSecurityFinding {
	f := shtypes.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"), Id: aws.String(id),
		ProductArn:  aws.String("arn:aws:securityhub:" + region + ":123456789012:product/123456789012/default"),
		GeneratorId: aws.String("shim-test/" + id), AwsAccountId: aws.String(moto.Account),
		Types:     []string{"Software and Configuration Checks"},
		CreatedAt: aws.String("2026-01-01T00:00:00.000Z"), UpdatedAt: aws.String("2026-01-01T00:00:00.000Z"),
		Severity: &shtypes.Severity{Label: shtypes.SeverityLabelLow}, Title: aws.String(id), Description: aws.String(id),
		Resources:   []shtypes.Resource{{Type: aws.String("AwsAccount"), Id: aws.String("AWS::::Account:" + moto.Account)}},
		Compliance:  &shtypes.Compliance{Status: c},
		RecordState: shtypes.RecordStateActive,
	}
	if w != "" {
		f.Workflow = &shtypes.Workflow{Status: w}
	}
	return f
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// TestShimSecurityHub: "not subscribed" until the hub is enabled; Id
// filters honoured; Workflow kept on import of an existing finding, reset
// to NEW when compliance leaves PASSED; BatchUpdateFindings sets it.
func TestShimSecurityHub(t *testing.T) {
	const region = "ap-southeast-2" // this test's own Security Hub
	p := newProxy(t)
	p.ShimSecurityHub()
	ctx := t.Context()
	sh := securityhub.NewFromConfig(moto.Config(p.URL, region))

	_, err := sh.GetFindings(ctx, &securityhub.GetFindingsInput{})
	if apiCode(err) != "InvalidAccessException" {
		t.Fatalf("GetFindings before enabling: %v, want InvalidAccessException", err)
	}
	_, err = sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{shFinding(region, "a", shtypes.ComplianceStatusFailed, "NEW")}})
	if apiCode(err) != "InvalidAccessException" {
		t.Fatalf("BatchImportFindings before enabling: %v, want InvalidAccessException", err)
	}
	if _, err := sh.EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatal(err)
	}

	imp := func(fs ...shtypes.AwsSecurityFinding) {
		t.Helper()
		out, err := sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: fs})
		if err != nil || len(out.FailedFindings) > 0 {
			t.Fatalf("import: %v %+v", err, out)
		}
	}
	get := func(id string) shtypes.AwsSecurityFinding {
		t.Helper()
		out, err := sh.GetFindings(ctx, &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{
			Id: []shtypes.StringFilter{{Comparison: shtypes.StringFilterComparisonEquals, Value: aws.String(id)}}}})
		if err != nil || len(out.Findings) != 1 {
			t.Fatalf("get %s: %v, %d findings, want 1", id, err, len(out.Findings))
		}
		return out.Findings[0]
	}
	wf := func(id string) shtypes.WorkflowStatus { return get(id).Workflow.Status }

	imp(shFinding(region, "a", shtypes.ComplianceStatusPassed, "RESOLVED"), shFinding(region, "b", shtypes.ComplianceStatusFailed, "NEW"))
	if got := wf("a"); got != shtypes.WorkflowStatusResolved {
		t.Errorf("new finding a: workflow %s, want RESOLVED (set at creation)", got)
	}
	imp(shFinding(region, "b", shtypes.ComplianceStatusFailed, "SUPPRESSED"))
	if got := wf("b"); got != shtypes.WorkflowStatusNew {
		t.Errorf("import over b: workflow %s, want NEW kept (BatchImportFindings cannot update Workflow)", got)
	}
	imp(shFinding(region, "a", shtypes.ComplianceStatusFailed, ""))
	if got := wf("a"); got != shtypes.WorkflowStatusNew {
		t.Errorf("a left PASSED: workflow %s, want NEW", got)
	}

	out, err := sh.BatchUpdateFindings(ctx, &securityhub.BatchUpdateFindingsInput{
		FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{
			{Id: aws.String("b"), ProductArn: get("b").ProductArn},
			{Id: aws.String("nope"), ProductArn: get("b").ProductArn},
		},
		Workflow: &shtypes.WorkflowUpdate{Status: shtypes.WorkflowStatusResolved},
	})
	if err != nil || len(out.ProcessedFindings) != 1 || len(out.UnprocessedFindings) != 1 || aws.ToString(out.UnprocessedFindings[0].ErrorCode) != "FindingNotFound" {
		t.Fatalf("BatchUpdateFindings: %v %+v", err, out)
	}
	if got := wf("b"); got != shtypes.WorkflowStatusResolved {
		t.Errorf("after BatchUpdateFindings: workflow %s, want RESOLVED", got)
	}

	_, err = sh.GetFindings(ctx, &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{
		Title: []shtypes.StringFilter{{Comparison: shtypes.StringFilterComparisonContains, Value: aws.String("a")}}}})
	if apiCode(err) != "InvalidInputException" {
		t.Errorf("unemulated filter: %v, want InvalidInputException", err)
	}
}
