package findings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
)

// Hub is the part of the Security Hub API that Publish calls. Its IAM
// actions are securityhub:GetFindings, securityhub:BatchImportFindings and
// securityhub:BatchUpdateFindings.
type Hub interface {
	GetFindings(ctx context.Context, in *securityhub.GetFindingsInput, opts ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error)
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, opts ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
	BatchUpdateFindings(ctx context.Context, in *securityhub.BatchUpdateFindingsInput, opts ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error)
}

var _ Hub = (*securityhub.Client)(nil) // fails to compile if the SDK drifts

// Actions are the IAM actions a Publisher's calls need, one per Hub
// method; the CDK app grants exactly these (infra, findingsStatements).
var Actions = []string{"securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings", "securityhub:GetFindings"}

// Why Publish published nothing (Result.Skipped).
const (
	// SkipNotEnabled: Security Hub is not enabled in the Region
	// (InvalidAccessException, "not subscribed"; or every finding failed
	// with InvalidAccess).
	SkipNotEnabled = "not-enabled"
	// SkipAccessDenied: the caller may not read or import findings.
	SkipAccessDenied = "access-denied"
)

// Publisher imports findings into Security Hub. The zero value of each
// optional field is a documented default.
type Publisher struct {
	// Client is a Security Hub client for the Region the findings belong
	// to (their ProductArn's Region, Meta.Region).
	Client Hub
	// MaxAttempts bounds how often one finding is sent: the first import
	// plus retries of the findings BatchImportFindings reports in
	// FailedFindings. 0 means 3. (The SDK's retryer already retries
	// throttled and failed requests with backoff; these are per-finding
	// failures in a successful response.)
	MaxAttempts int
	// Log receives one record per Publish; nil discards.
	Log *slog.Logger
}

// Result is what Publish did.
type Result struct {
	// Skipped is why nothing (more) was published: SkipNotEnabled or
	// SkipAccessDenied; "" otherwise.
	Skipped string
	// Created and Updated count the findings Security Hub accepted that it
	// had not seen before and that it already had.
	Created, Updated int
	// Resolved counts findings set to Workflow.Status RESOLVED with
	// BatchUpdateFindings because their control now passes.
	Resolved int
	// Failed are findings Security Hub still rejected after MaxAttempts.
	Failed []Failure
	// Warnings say, for people, what did not go as it should and why (not
	// enabled, access denied, findings rejected, workflow not updated).
	Warnings []string
}

// Failure is a finding Security Hub did not import.
type Failure struct {
	ID      string
	Code    string // ImportFindingsError.ErrorCode, e.g. "InvalidInput", or "FindingSizeExceeded"
	Message string
}

// Publish imports findings (Build's output, all of one account and product)
// into Security Hub, so that each control has exactly one finding:
//
//  1. It reads back the existing findings by Id (GetFindings, filtered by
//     ProductArn and Id), to keep each one's CreatedAt and to know its
//     workflow status.
//  2. It imports the findings with BatchImportFindings, in batches of at
//     most 100 findings and 6 MB, findings over 240 KB never sent (Partner
//     Guide, "Guidelines for using the BatchImportFindings API"). A finding
//     that exists is sent without Workflow, which BatchImportFindings may
//     not update after creation (API reference, BatchImportFindings).
//     FailedFindings are sent again, up to MaxAttempts, then reported.
//  3. It sets Workflow.Status RESOLVED with BatchUpdateFindings on existing
//     findings whose control now passes, unless a person SUPPRESSED them;
//     Security Hub itself re-opens (NEW) a finding whose compliance changes
//     from PASSED or that is unarchived (API reference, Workflow).
//
// Security Hub not enabled in the Region, and access denied, are not
// errors: Publish returns a Result with Skipped and a warning, and the run
// goes on. Publish returns an error only for other failures of a call (the
// Result says what was done until then).
func (p Publisher) Publish(ctx context.Context, findings []types.AwsSecurityFinding) (Result, error) {
	var res Result
	if len(findings) == 0 {
		return res, nil
	}
	existing, err := p.existing(ctx, findings)
	if err != nil {
		if p.skip(&res, err, "read existing findings") {
			return res, nil
		}
		return res, err
	}
	prepared := make([]types.AwsSecurityFinding, 0, len(findings))
	for _, f := range findings {
		prepared = append(prepared, forImport(f, existing[aws.ToString(f.Id)]))
	}
	imported, err := p.importAll(ctx, prepared, &res)
	for _, f := range prepared {
		if !imported[aws.ToString(f.Id)] {
			continue
		}
		if _, ok := existing[aws.ToString(f.Id)]; ok {
			res.Updated++
		} else {
			res.Created++
		}
	}
	if err != nil || res.Skipped != "" {
		p.logResult(ctx, findings[0], res)
		return res, err
	}
	err = p.resolve(ctx, prepared, existing, imported, &res)
	p.logResult(ctx, findings[0], res)
	return res, err
}

// getFindingsIDsPerCall bounds the Id values of one GetFindings filter, so
// requests stay small whatever the number of findings.
const getFindingsIDsPerCall = 20

// existing returns the findings Security Hub already has among findings,
// by Id.
func (p Publisher) existing(ctx context.Context, findings []types.AwsSecurityFinding) (map[string]types.AwsSecurityFinding, error) {
	out := map[string]types.AwsSecurityFinding{}
	ids := make([]string, 0, len(findings))
	for _, f := range findings {
		ids = append(ids, aws.ToString(f.Id))
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for chunk := range slices.Chunk(ids, getFindingsIDsPerCall) {
		filters := &types.AwsSecurityFindingFilters{
			ProductArn:   []types.StringFilter{equals(aws.ToString(findings[0].ProductArn))},
			AwsAccountId: []types.StringFilter{equals(aws.ToString(findings[0].AwsAccountId))},
		}
		for _, id := range chunk {
			filters.Id = append(filters.Id, equals(id))
		}
		in := &securityhub.GetFindingsInput{Filters: filters, MaxResults: aws.Int32(100)}
		for pages := securityhub.NewGetFindingsPaginator(p.Client, in); pages.HasMorePages(); {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("get findings: %w", err)
			}
			for _, f := range page.Findings {
				// Filters are the service's business; the Id check keeps
				// an over-broad answer from being mistaken for ours.
				if id := aws.ToString(f.Id); want[id] {
					out[id] = f
				}
			}
		}
	}
	return out, nil
}

func equals(v string) types.StringFilter {
	return types.StringFilter{Comparison: types.StringFilterComparisonEquals, Value: aws.String(v)}
}

// forImport adapts f (Build's new-finding form) to what Security Hub
// already has: an existing finding keeps its CreatedAt, and is sent
// without Workflow, which BatchImportFindings cannot update after creation
// (API reference, BatchImportFindings).
func forImport(f types.AwsSecurityFinding, prev types.AwsSecurityFinding) types.AwsSecurityFinding {
	if prev.Id == nil {
		return f
	}
	if prev.CreatedAt != nil {
		f.CreatedAt = prev.CreatedAt
	}
	f.Workflow = nil
	return f
}

// importAll imports findings in batches, retrying FailedFindings, and
// returns the Ids Security Hub accepted.
func (p Publisher) importAll(ctx context.Context, findings []types.AwsSecurityFinding, res *Result) (map[string]bool, error) {
	attempts := p.MaxAttempts
	if attempts <= 0 {
		attempts = 3
	}
	accepted := map[string]bool{}
	pending := make([]types.AwsSecurityFinding, 0, len(findings))
	for _, f := range findings {
		if n := findingSize(f); n > MaxFindingBytes {
			res.Failed = append(res.Failed, Failure{ID: aws.ToString(f.Id), Code: "FindingSizeExceeded",
				Message: fmt.Sprintf("%d bytes, over the %d-byte limit of a finding", n, MaxFindingBytes)})
			continue
		}
		pending = append(pending, f)
	}
	var last map[string]types.ImportFindingsError
	for attempt := 1; attempt <= attempts && len(pending) > 0; attempt++ {
		last = map[string]types.ImportFindingsError{}
		var retry []types.AwsSecurityFinding
		for _, batch := range batches(pending) {
			out, err := p.Client.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
			if err != nil {
				if p.skip(res, err, "import findings") {
					return accepted, nil
				}
				return accepted, fmt.Errorf("batch import findings: %w", err)
			}
			failed := map[string]types.ImportFindingsError{}
			for _, fe := range out.FailedFindings {
				failed[aws.ToString(fe.Id)] = fe
			}
			notEnabled := len(failed) > 0
			for _, f := range batch {
				id := aws.ToString(f.Id)
				fe, bad := failed[id]
				if !bad {
					accepted[id] = true
					continue
				}
				notEnabled = notEnabled && isInvalidAccess(aws.ToString(fe.ErrorCode))
				last[id] = fe
				retry = append(retry, f)
			}
			if notEnabled && len(failed) == len(batch) {
				// Every finding failed with InvalidAccess: Security Hub
				// is not enabled (User Guide, "BatchImportFindings for
				// finding providers"). Retrying cannot help.
				res.Skipped = SkipNotEnabled
				res.Warnings = append(res.Warnings, fmt.Sprintf("Security Hub rejected the findings with %s: it is not enabled in this Region (or the default product is not); findings were not published", aws.ToString(out.FailedFindings[0].ErrorCode)))
				return accepted, nil
			}
		}
		pending = retry
	}
	for _, f := range pending {
		fe := last[aws.ToString(f.Id)]
		res.Failed = append(res.Failed, Failure{ID: aws.ToString(f.Id), Code: aws.ToString(fe.ErrorCode), Message: aws.ToString(fe.ErrorMessage)})
	}
	if len(res.Failed) > 0 {
		codes := make([]string, 0, len(res.Failed))
		for _, f := range res.Failed {
			codes = append(codes, f.ID+": "+f.Code)
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("Security Hub rejected %d findings after %d attempts (%s); the next run sends them again", len(res.Failed), attempts, strings.Join(codes, ", ")))
	}
	return accepted, nil
}

// isInvalidAccess reports whether an ImportFindingsError code says the
// account may not import (Security Hub not enabled).
func isInvalidAccess(code string) bool {
	return code == "InvalidAccess" || code == "InvalidAccessException"
}

// batches splits findings into BatchImportFindings requests of at most
// MaxFindingsPerBatch findings and MaxBatchBytes (with room for the
// request's envelope).
func batches(findings []types.AwsSecurityFinding) [][]types.AwsSecurityFinding {
	const envelope = 1024
	var out [][]types.AwsSecurityFinding
	var cur []types.AwsSecurityFinding
	size := envelope
	for _, f := range findings {
		n := findingSize(f) + 1
		if len(cur) > 0 && (len(cur) == MaxFindingsPerBatch || size+n > MaxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, envelope
		}
		cur = append(cur, f)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// findingSize is the size of f's JSON, as Document renders it; 0 if it
// cannot be rendered (the import then reports the problem).
func findingSize(f types.AwsSecurityFinding) int {
	v, err := asffValue(f)
	if err != nil {
		return 0
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// resolve sets Workflow.Status RESOLVED on the imported existing findings
// whose control now passes and whose workflow status, after the import,
// is NEW or NOTIFIED (see workflowAfterImport).
func (p Publisher) resolve(ctx context.Context, findings []types.AwsSecurityFinding, existing map[string]types.AwsSecurityFinding, imported map[string]bool, res *Result) error {
	var ids []types.AwsSecurityFindingIdentifier
	for _, f := range findings {
		prev, ok := existing[aws.ToString(f.Id)]
		if !ok || !imported[aws.ToString(f.Id)] {
			continue // a new finding got its workflow status at creation
		}
		if needsResolve(prev, f) {
			ids = append(ids, types.AwsSecurityFindingIdentifier{Id: f.Id, ProductArn: f.ProductArn})
		}
	}
	// BatchUpdateFindings takes up to 100 findings at a time (API
	// reference, BatchUpdateFindings, FindingIdentifiers).
	for chunk := range slices.Chunk(ids, MaxFindingsPerBatch) {
		out, err := p.Client.BatchUpdateFindings(ctx, &securityhub.BatchUpdateFindingsInput{
			FindingIdentifiers: chunk,
			Workflow:           &types.WorkflowUpdate{Status: types.WorkflowStatusResolved},
		})
		if err != nil {
			if reason := classify(err); reason != "" {
				res.Warnings = append(res.Warnings, fmt.Sprintf("findings were imported, but their workflow status could not be set to RESOLVED (%s): %v", reason, err))
				return nil
			}
			return fmt.Errorf("batch update findings: %w", err)
		}
		res.Resolved += len(out.ProcessedFindings)
		for _, u := range out.UnprocessedFindings {
			id := ""
			if u.FindingIdentifier != nil {
				id = aws.ToString(u.FindingIdentifier.Id)
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("finding %s: workflow status not set to RESOLVED: %s %s", id, aws.ToString(u.ErrorCode), aws.ToString(u.ErrorMessage)))
		}
	}
	return nil
}

// needsResolve reports whether next, imported over prev, must be set
// RESOLVED: its control passes, it is active, and its workflow status
// after the import is NEW or NOTIFIED.
func needsResolve(prev, next types.AwsSecurityFinding) bool {
	if next.Compliance == nil || next.Compliance.Status != types.ComplianceStatusPassed || next.RecordState == types.RecordStateArchived {
		return false
	}
	switch WorkflowAfterImport(prev, next) {
	case types.WorkflowStatusNew, types.WorkflowStatusNotified:
		return true
	}
	return false
}

// WorkflowAfterImport is the workflow status Security Hub gives prev once
// next is imported over it: unchanged (BatchImportFindings cannot update
// it), except that it "resets WorkFlowStatus from NOTIFIED or RESOLVED to
// NEW" when the record state changes from ARCHIVED to ACTIVE or the
// compliance status changes from PASSED to WARNING, FAILED or
// NOT_AVAILABLE (API reference, Workflow). A finding without a status is
// NEW.
func WorkflowAfterImport(prev, next types.AwsSecurityFinding) types.WorkflowStatus {
	s := types.WorkflowStatusNew
	if prev.Workflow != nil && prev.Workflow.Status != "" {
		s = prev.Workflow.Status
	}
	if s != types.WorkflowStatusNotified && s != types.WorkflowStatusResolved {
		return s
	}
	unarchived := prev.RecordState == types.RecordStateArchived && next.RecordState == types.RecordStateActive
	var was, is types.ComplianceStatus
	if prev.Compliance != nil {
		was = prev.Compliance.Status
	}
	if next.Compliance != nil {
		is = next.Compliance.Status
	}
	leftPassed := was == types.ComplianceStatusPassed && is != "" && is != types.ComplianceStatusPassed
	if unarchived || leftPassed {
		return types.WorkflowStatusNew
	}
	return s
}

// classify returns why err means Publish should stop with a warning
// (SkipNotEnabled, SkipAccessDenied), or "" for any other error. Security
// Hub answers InvalidAccessException when the account is not subscribed
// (API reference, Common errors of every operation: "The account doesn't
// have permission to perform this action"; the message says "not
// subscribed to AWS Security Hub"), and AccessDeniedException when IAM
// denies the call.
func classify(err error) string {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return ""
	}
	switch apiErr.ErrorCode() {
	case "InvalidAccessException", "InvalidAccess":
		return SkipNotEnabled
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation":
		return SkipAccessDenied
	}
	return ""
}

// skip records err as a warning and reports true when it means Security
// Hub is not enabled or access is denied.
func (p Publisher) skip(res *Result, err error, what string) bool {
	reason := classify(err)
	if reason == "" {
		return false
	}
	res.Skipped = reason
	switch reason {
	case SkipNotEnabled:
		res.Warnings = append(res.Warnings, fmt.Sprintf("Security Hub is not enabled in this Region, so findings were not published (%s: %v); enable it (aws securityhub enable-security-hub) to receive them", what, err))
	default:
		res.Warnings = append(res.Warnings, fmt.Sprintf("access to Security Hub was denied, so findings were not published (%s: %v); allow securityhub:GetFindings, securityhub:BatchImportFindings and securityhub:BatchUpdateFindings", what, err))
	}
	return true
}

// logResult logs what Publish did, for the account and Region of f.
func (p Publisher) logResult(ctx context.Context, f types.AwsSecurityFinding, res Result) {
	if p.Log == nil {
		return
	}
	p.Log.LogAttrs(ctx, slog.LevelInfo, "security hub findings published",
		slog.String("account", aws.ToString(f.AwsAccountId)), slog.String("region", arnRegion(aws.ToString(f.ProductArn))),
		slog.Int("created", res.Created), slog.Int("updated", res.Updated), slog.Int("resolved", res.Resolved),
		slog.Int("failed", len(res.Failed)), slog.String("skipped", res.Skipped))
}
