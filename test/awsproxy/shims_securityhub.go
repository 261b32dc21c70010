package awsproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// ServiceSecurityHub is Security Hub's SigV4 signing name.
const ServiceSecurityHub = "securityhub"

// ShimSecurityHub emulates the Security Hub behaviour that moto 5.2.1
// lacks and that pkg/findings relies on. Security Hub speaks restJson1, so
// its calls are told apart by method and path (API reference, request
// syntax of each operation), not by Call.Operation.
//
//   - Not enabled. While DescribeHub says the hub is not enabled, every call
//     but EnableSecurityHub, DisableSecurityHub and DescribeHub fails with
//     InvalidAccessException, HTTP 401 ("The account doesn't have
//     permission to perform this action"; AWS says "Account ... is not
//     subscribed to AWS Security Hub"). moto's BatchImportFindings and
//     GetFindings answer whether or not the hub is enabled
//     (moto/securityhub/models.py never checks self.enabled).
//   - GetFindings filters. moto ignores Filters ("Filters and SortCriteria
//     is not yet implemented"). The shim applies the string filters Id,
//     ProductArn, GeneratorId, AwsAccountId and RecordState with EQUALS and
//     PREFIX, positive filters on one field joined by OR, fields by AND
//     (API reference, AwsSecurityFindingFilters, StringFilter); any other
//     filter is answered with InvalidInputException, so a test never
//     silently relies on a filter that is not emulated.
//   - BatchImportFindings over an existing finding. AWS: "After a finding
//     is created, BatchImportFindings cannot be used to update ... Note,
//     UserDefinedFields, VerificationState, Workflow" (API reference,
//     BatchImportFindings), and Security Hub "resets WorkFlowStatus from
//     NOTIFIED or RESOLVED to NEW" when RecordState changes from ARCHIVED
//     to ACTIVE or Compliance.Status from PASSED to WARNING, FAILED or
//     NOT_AVAILABLE (API reference, Workflow). moto replaces every field
//     (dict.update). The shim keeps those fields, applying the reset.
//   - BatchUpdateFindings, which moto does not implement (PATCH
//     /findings/batchupdate): the shim sets Workflow.Status on the findings
//     named, leaving UpdatedAt alone ("Updates from BatchUpdateFindings
//     don't affect the value of UpdatedAt"), and answers
//     ProcessedFindings, and UnprocessedFindings with FindingNotFound for
//     unknown identifiers (API reference, BatchUpdateFindings,
//     BatchUpdateFindingsUnprocessedFinding). Only Workflow is emulated.
func (p *Proxy) ShimSecurityHub() {
	p.Handle(ServiceSecurityHub, "", p.securityHub)
}

func (p *Proxy) securityHub(req *Request, next Next) (*Response, error) {
	path, method := strings.TrimSuffix(req.HTTP.URL.Path, "/"), req.HTTP.Method
	if path == "/accounts" {
		return next() // EnableSecurityHub, DisableSecurityHub, DescribeHub
	}
	ctx := req.HTTP.Context()
	sh := securityhub.NewFromConfig(moto.Config(p.Target(), req.Region))
	enabled, err := hubEnabled(ctx, sh)
	if err != nil {
		return restJSONError(http.StatusInternalServerError, "InternalException", err.Error()), nil
	}
	if !enabled {
		return restJSONError(http.StatusUnauthorized, "InvalidAccessException",
			fmt.Sprintf("Account %s is not subscribed to AWS Security Hub", moto.Account)), nil
	}
	switch {
	case method == http.MethodPost && path == "/findings":
		return shFilterFindings(req, next)
	case method == http.MethodPost && path == "/findings/import":
		return shImport(ctx, sh, req, next)
	case method == http.MethodPatch && path == "/findings/batchupdate":
		return shBatchUpdate(ctx, sh, req)
	}
	return next()
}

// hubEnabled asks moto's DescribeHub, which fails with
// InvalidAccessException when the hub is not enabled.
func hubEnabled(ctx context.Context, sh *securityhub.Client) (bool, error) {
	_, err := sh.DescribeHub(ctx, &securityhub.DescribeHubInput{})
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidAccessException":
		return false, nil
	}
	return false, fmt.Errorf("describe hub: %w", err)
}

// restJSONError is a restJson1 error answer: the code in X-Amzn-Errortype
// and the body (Security Hub's error shapes have Code and Message).
func restJSONError(status int, code, msg string) *Response {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", code)
	h.Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000002")
	b, _ := json.Marshal(map[string]string{"Code": code, "Message": msg})
	return &Response{StatusCode: status, Header: h, Body: b}
}

func jsonResponse(v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &Response{StatusCode: http.StatusOK, Header: h, Body: b}, nil
}

// shFilterFindings applies GetFindings' string filters to moto's answer.
func shFilterFindings(req *Request, next Next) (*Response, error) {
	var in struct {
		Filters map[string][]struct{ Value, Comparison string }
	}
	if len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &in); err != nil {
			return restJSONError(http.StatusBadRequest, "InvalidInputException", err.Error()), nil
		}
	}
	supported := map[string]bool{"Id": true, "ProductArn": true, "GeneratorId": true, "AwsAccountId": true, "RecordState": true}
	for field, fs := range in.Filters {
		for _, f := range fs {
			if !supported[field] || (f.Comparison != "EQUALS" && f.Comparison != "PREFIX") {
				return restJSONError(http.StatusBadRequest, "InvalidInputException",
					fmt.Sprintf("awsproxy: GetFindings filter %s %s is not emulated", field, f.Comparison)), nil
			}
		}
	}
	resp, err := next()
	if err != nil || resp.StatusCode != http.StatusOK || len(in.Filters) == 0 {
		return resp, err
	}
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("decode moto GetFindings answer: %w", err)
	}
	all, _ := out["Findings"].([]any)
	kept := []any{}
	for _, f := range all {
		m, _ := f.(map[string]any)
		if matchesFilters(m, in.Filters) {
			kept = append(kept, f)
		}
	}
	out["Findings"] = kept
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	resp.Body = b
	return resp, nil
}

func matchesFilters(m map[string]any, filters map[string][]struct{ Value, Comparison string }) bool {
	for field, fs := range filters {
		if len(fs) == 0 {
			continue
		}
		v, _ := m[field].(string)
		if field == "RecordState" && v == "" {
			v = "ACTIVE"
		}
		hit := false
		for _, f := range fs {
			if (f.Comparison == "EQUALS" && v == f.Value) || (f.Comparison == "PREFIX" && strings.HasPrefix(v, f.Value)) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// allFindings reads every finding moto holds in sh's Region (moto ignores
// filters, so this is all of them).
func allFindings(ctx context.Context, sh *securityhub.Client) (map[string]shtypes.AwsSecurityFinding, error) {
	out := map[string]shtypes.AwsSecurityFinding{}
	for pages := securityhub.NewGetFindingsPaginator(sh, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)}); pages.HasMorePages(); {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("get findings from moto: %w", err)
		}
		for _, f := range page.Findings {
			out[aws.ToString(f.Id)] = f
		}
	}
	return out, nil
}

// shImport keeps the fields BatchImportFindings may not update on findings
// that exist, applying Security Hub's workflow reset, then lets moto import.
func shImport(ctx context.Context, sh *securityhub.Client, req *Request, next Next) (*Response, error) {
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return restJSONError(http.StatusBadRequest, "InvalidInputException", err.Error()), nil
	}
	existing, err := allFindings(ctx, sh)
	if err != nil {
		return restJSONError(http.StatusInternalServerError, "InternalException", err.Error()), nil
	}
	list, _ := body["Findings"].([]any)
	for _, f := range list {
		m, ok := f.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["Id"].(string)
		prev, found := existing[id]
		if !found {
			continue
		}
		for _, k := range []string{"Note", "UserDefinedFields", "VerificationState"} {
			delete(m, k) // moto's update keeps the stored value
		}
		m["Workflow"] = map[string]any{"Status": string(workflowAfter(prev, m))}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req.Body = b
	return next()
}

// workflowAfter is the workflow status of prev once the finding m is
// imported over it (see ShimSecurityHub).
func workflowAfter(prev shtypes.AwsSecurityFinding, m map[string]any) shtypes.WorkflowStatus {
	s := shtypes.WorkflowStatusNew
	if prev.Workflow != nil && prev.Workflow.Status != "" {
		s = prev.Workflow.Status
	}
	if s != shtypes.WorkflowStatusNotified && s != shtypes.WorkflowStatusResolved {
		return s
	}
	record, _ := m["RecordState"].(string)
	compliance := ""
	if c, ok := m["Compliance"].(map[string]any); ok {
		compliance, _ = c["Status"].(string)
	}
	var wasCompliance shtypes.ComplianceStatus
	if prev.Compliance != nil {
		wasCompliance = prev.Compliance.Status
	}
	unarchived := prev.RecordState == shtypes.RecordStateArchived && record == string(shtypes.RecordStateActive)
	leftPassed := wasCompliance == shtypes.ComplianceStatusPassed && compliance != "" && compliance != string(shtypes.ComplianceStatusPassed)
	if unarchived || leftPassed {
		return shtypes.WorkflowStatusNew
	}
	return s
}

// shBatchUpdate emulates BatchUpdateFindings' Workflow update by
// re-importing each finding into moto with the new status (moto's import
// replaces fields, which here is what is wanted).
func shBatchUpdate(ctx context.Context, sh *securityhub.Client, req *Request) (*Response, error) {
	var in struct {
		FindingIdentifiers []struct{ Id, ProductArn string }
		Workflow           *struct{ Status string }
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(req.Body, &raw); err != nil {
		return restJSONError(http.StatusBadRequest, "InvalidInputException", err.Error()), nil
	}
	for k := range raw {
		if k != "FindingIdentifiers" && k != "Workflow" {
			return restJSONError(http.StatusBadRequest, "InvalidInputException", "awsproxy: BatchUpdateFindings "+k+" is not emulated"), nil
		}
	}
	if err := json.Unmarshal(req.Body, &in); err != nil || in.Workflow == nil || len(in.FindingIdentifiers) == 0 || len(in.FindingIdentifiers) > 100 {
		return restJSONError(http.StatusBadRequest, "InvalidInputException", "awsproxy: BatchUpdateFindings needs 1 to 100 FindingIdentifiers and Workflow"), nil
	}
	existing, err := allFindings(ctx, sh)
	if err != nil {
		return restJSONError(http.StatusInternalServerError, "InternalException", err.Error()), nil
	}
	type ident struct{ Id, ProductArn string }
	processed, unprocessed := []ident{}, []map[string]any{}
	var updates []shtypes.AwsSecurityFinding
	for _, fi := range in.FindingIdentifiers {
		f, ok := existing[fi.Id]
		if !ok || aws.ToString(f.ProductArn) != fi.ProductArn {
			unprocessed = append(unprocessed, map[string]any{
				"FindingIdentifier": ident{fi.Id, fi.ProductArn}, "ErrorCode": "FindingNotFound",
				"ErrorMessage": "Finding Not Found"})
			continue
		}
		f.Workflow = &shtypes.Workflow{Status: shtypes.WorkflowStatus(in.Workflow.Status)}
		updates = append(updates, f)
		processed = append(processed, ident{fi.Id, fi.ProductArn})
	}
	if len(updates) > 0 {
		out, err := sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: updates})
		if err != nil {
			return restJSONError(http.StatusInternalServerError, "InternalException", err.Error()), nil
		}
		if len(out.FailedFindings) > 0 {
			return restJSONError(http.StatusInternalServerError, "InternalException",
				"awsproxy: moto rejected a workflow update: "+aws.ToString(out.FailedFindings[0].ErrorMessage)), nil
		}
	}
	return jsonResponse(map[string]any{"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})
}
