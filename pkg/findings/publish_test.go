package findings_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// fakeHub is a stateful stand-in for Security Hub: it stores imported
// findings by Id and applies updates as the API reference says (Workflow
// is kept on import of an existing finding). Function fields inject
// failures.
type fakeHub struct {
	store map[string]types.AwsSecurityFinding
	// getErr, importErr and updateErr fail the whole call.
	getErr, importErr, updateErr error
	// reject, if set, makes BatchImportFindings report finding id as
	// failed on the given attempt (1-based, per id).
	reject func(id string, attempt int) *types.ImportFindingsError

	attempts     map[string]int
	batchSizes   []int
	updates      [][]string // Ids per BatchUpdateFindings call
	sentWorkflow map[string]bool
}

func newFakeHub() *fakeHub {
	return &fakeHub{store: map[string]types.AwsSecurityFinding{}, attempts: map[string]int{}, sentWorkflow: map[string]bool{}}
}

func (h *fakeHub) GetFindings(_ context.Context, in *securityhub.GetFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error) {
	if h.getErr != nil {
		return nil, h.getErr
	}
	out := &securityhub.GetFindingsOutput{}
	for _, f := range in.Filters.Id {
		if s, ok := h.store[aws.ToString(f.Value)]; ok {
			out.Findings = append(out.Findings, s)
		}
	}
	return out, nil
}

func (h *fakeHub) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	if h.importErr != nil {
		return nil, h.importErr
	}
	if len(in.Findings) > findings.MaxFindingsPerBatch {
		return nil, fmt.Errorf("batch of %d findings", len(in.Findings))
	}
	h.batchSizes = append(h.batchSizes, len(in.Findings))
	out := &securityhub.BatchImportFindingsOutput{}
	for _, f := range in.Findings {
		id := aws.ToString(f.Id)
		h.attempts[id]++
		if h.reject != nil {
			if fe := h.reject(id, h.attempts[id]); fe != nil {
				out.FailedFindings = append(out.FailedFindings, *fe)
				continue
			}
		}
		h.sentWorkflow[id] = f.Workflow != nil
		if prev, ok := h.store[id]; ok {
			f.Workflow = prev.Workflow
			if findings.WorkflowAfterImport(prev, f) == types.WorkflowStatusNew {
				f.Workflow = &types.Workflow{Status: types.WorkflowStatusNew}
			}
		}
		h.store[id] = f
	}
	return out, nil
}

func (h *fakeHub) BatchUpdateFindings(_ context.Context, in *securityhub.BatchUpdateFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	if h.updateErr != nil {
		return nil, h.updateErr
	}
	var ids []string
	out := &securityhub.BatchUpdateFindingsOutput{}
	for _, fi := range in.FindingIdentifiers {
		id := aws.ToString(fi.Id)
		ids = append(ids, id)
		f := h.store[id]
		f.Workflow = &types.Workflow{Status: in.Workflow.Status}
		h.store[id] = f
		out.ProcessedFindings = append(out.ProcessedFindings, fi)
	}
	h.updates = append(h.updates, ids)
	return out, nil
}

func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " for the test"}
}

func build(status map[string]plan.Status, hours int) []types.AwsSecurityFinding {
	return findings.Build(reportOf(catalog.Default(), "apply", report.StatusApplied, status), findings.Meta{Now: at(hours)})
}

func workflow(h *fakeHub, id string) types.WorkflowStatus {
	if w := h.store[id].Workflow; w != nil {
		return w.Status
	}
	return ""
}

// TestPublishLifecycle: created once, then updated in place; CreatedAt
// kept; Workflow sent only at creation; a control that comes to pass is
// RESOLVED with BatchUpdateFindings; one that fails again is NEW (Security
// Hub's own reset, which the fake applies as the API reference says).
func TestPublishLifecycle(t *testing.T) {
	h := newFakeHub()
	p := findings.Publisher{Client: h}
	id := findings.ID(acct, catalog.Default().ID, "4.3")

	res, err := p.Publish(t.Context(), build(map[string]plan.Status{"4.3": plan.StatusFail}, 0))
	if err != nil || res.Created != 15 || res.Updated != 0 || res.Skipped != "" {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	if got := workflow(h, id); got != types.WorkflowStatusNew {
		t.Errorf("first run: 4.3 workflow %s, want NEW", got)
	}
	if !h.sentWorkflow[id] {
		t.Error("first run: a new finding was sent without Workflow")
	}

	res, err = p.Publish(t.Context(), build(nil, 1))
	if err != nil || res.Created != 0 || res.Updated != 15 || res.Resolved != 1 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	if h.sentWorkflow[id] {
		t.Error("second run: an existing finding was sent with Workflow, which BatchImportFindings may not update")
	}
	if got := workflow(h, id); got != types.WorkflowStatusResolved {
		t.Errorf("second run: 4.3 workflow %s, want RESOLVED", got)
	}
	if got := h.updates; len(got) != 1 || !slices.Equal(got[0], []string{id}) {
		t.Errorf("second run: BatchUpdateFindings calls %v, want one for %s", got, id)
	}
	f := h.store[id]
	if aws.ToString(f.CreatedAt) != findings.Timestamp(at(0)) || aws.ToString(f.UpdatedAt) != findings.Timestamp(at(1)) {
		t.Errorf("second run: CreatedAt %s, UpdatedAt %s; want the first run's and the second's", aws.ToString(f.CreatedAt), aws.ToString(f.UpdatedAt))
	}

	res, err = p.Publish(t.Context(), build(map[string]plan.Status{"4.3": plan.StatusFail}, 2))
	if err != nil || res.Resolved != 0 {
		t.Fatalf("third run: %+v, %v", res, err)
	}
	if got := workflow(h, id); got != types.WorkflowStatusNew {
		t.Errorf("third run: 4.3 workflow %s, want NEW again", got)
	}
	if len(h.store) != 15 {
		t.Errorf("%d findings after three runs, want 15", len(h.store))
	}
}

// TestPublishLeavesSuppressed: a finding a person SUPPRESSED is never
// resolved or re-opened by Watchkeeper.
func TestPublishLeavesSuppressed(t *testing.T) {
	h := newFakeHub()
	p := findings.Publisher{Client: h}
	id := findings.ID(acct, catalog.Default().ID, "4.3")
	if _, err := p.Publish(t.Context(), build(map[string]plan.Status{"4.3": plan.StatusFail}, 0)); err != nil {
		t.Fatal(err)
	}
	f := h.store[id]
	f.Workflow = &types.Workflow{Status: types.WorkflowStatusSuppressed}
	h.store[id] = f
	res, err := p.Publish(t.Context(), build(nil, 1))
	if err != nil || res.Resolved != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := workflow(h, id); got != types.WorkflowStatusSuppressed {
		t.Errorf("workflow %s, want SUPPRESSED kept", got)
	}
}

func TestWorkflowAfterImport(t *testing.T) {
	mk := func(w types.WorkflowStatus, c types.ComplianceStatus, r types.RecordState) types.AwsSecurityFinding {
		f := types.AwsSecurityFinding{Id: aws.String("x"), Compliance: &types.Compliance{Status: c}, RecordState: r}
		if w != "" {
			f.Workflow = &types.Workflow{Status: w}
		}
		return f
	}
	const (
		active, archived = types.RecordStateActive, types.RecordStateArchived
		passed, failed   = types.ComplianceStatusPassed, types.ComplianceStatusFailed
		na               = types.ComplianceStatusNotAvailable
	)
	for _, tc := range []struct {
		name       string
		prev, next types.AwsSecurityFinding
		want       types.WorkflowStatus
	}{
		{"resolved stays while passing", mk("RESOLVED", passed, active), mk("", passed, active), "RESOLVED"},
		{"resolved reopens on failure", mk("RESOLVED", passed, active), mk("", failed, active), "NEW"},
		{"notified reopens on not available", mk("NOTIFIED", passed, active), mk("", na, active), "NEW"},
		{"resolved reopens when unarchived", mk("RESOLVED", failed, archived), mk("", failed, active), "NEW"},
		{"resolved by hand while failing stays", mk("RESOLVED", failed, active), mk("", failed, active), "RESOLVED"},
		{"suppressed stays", mk("SUPPRESSED", passed, active), mk("", failed, active), "SUPPRESSED"},
		{"no status is new", mk("", failed, active), mk("", failed, active), "NEW"},
	} {
		if got := findings.WorkflowAfterImport(tc.prev, tc.next); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestPublishBatches: at most 100 findings per BatchImportFindings call.
func TestPublishBatches(t *testing.T) {
	var fs []types.AwsSecurityFinding
	for i := range 250 {
		f := build(nil, 0)[0]
		f.Id = aws.String(fmt.Sprintf("watchkeeper/%s/test/%d", acct, i))
		fs = append(fs, f)
	}
	h := newFakeHub()
	res, err := findings.Publisher{Client: h}.Publish(t.Context(), fs)
	if err != nil || res.Created != 250 {
		t.Fatalf("%+v, %v", res, err)
	}
	if !slices.Equal(h.batchSizes, []int{100, 100, 50}) {
		t.Errorf("batch sizes %v, want [100 100 50]", h.batchSizes)
	}
}

// TestPublishRetriesFailedFindings: FailedFindings are sent again; those
// still failing after MaxAttempts are reported, with a warning, and are
// not an error.
func TestPublishRetriesFailedFindings(t *testing.T) {
	flaky := findings.ID(acct, catalog.Default().ID, "4.3")
	broken := findings.ID(acct, catalog.Default().ID, "4.7")
	h := newFakeHub()
	h.reject = func(id string, attempt int) *types.ImportFindingsError {
		if (id == flaky && attempt == 1) || id == broken {
			return &types.ImportFindingsError{Id: aws.String(id), ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}
		}
		return nil
	}
	res, err := findings.Publisher{Client: h, MaxAttempts: 3}.Publish(t.Context(), build(nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 14 || len(res.Failed) != 1 || res.Failed[0].ID != broken || res.Failed[0].Code != "InternalFailure" || len(res.Warnings) != 1 {
		t.Errorf("result %+v, want 14 created and %s failed with a warning", res, broken)
	}
	if h.attempts[flaky] != 2 || h.attempts[broken] != 3 {
		t.Errorf("attempts: flaky %d, broken %d; want 2 and 3", h.attempts[flaky], h.attempts[broken])
	}
}

// TestPublishNotEnabledOrDenied: Security Hub not enabled (an
// InvalidAccessException, or every finding failing with InvalidAccess)
// and access denied give a warning and no error, and nothing is retried.
func TestPublishNotEnabledOrDenied(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*fakeHub)
		want  string
	}{
		{"get not subscribed", func(h *fakeHub) { h.getErr = apiError("InvalidAccessException") }, findings.SkipNotEnabled},
		{"import not subscribed", func(h *fakeHub) { h.importErr = apiError("InvalidAccessException") }, findings.SkipNotEnabled},
		{"import findings InvalidAccess", func(h *fakeHub) {
			h.reject = func(id string, _ int) *types.ImportFindingsError {
				return &types.ImportFindingsError{Id: aws.String(id), ErrorCode: aws.String("InvalidAccess"), ErrorMessage: aws.String("not enabled")}
			}
		}, findings.SkipNotEnabled},
		{"get denied", func(h *fakeHub) { h.getErr = apiError("AccessDeniedException") }, findings.SkipAccessDenied},
		{"import denied", func(h *fakeHub) { h.importErr = apiError("AccessDeniedException") }, findings.SkipAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHub()
			tc.setup(h)
			res, err := findings.Publisher{Client: h}.Publish(t.Context(), build(nil, 0))
			if err != nil {
				t.Fatalf("error %v, want none", err)
			}
			if res.Skipped != tc.want || len(res.Warnings) != 1 || res.Created != 0 {
				t.Errorf("result %+v, want skipped %s with one warning", res, tc.want)
			}
			for id, n := range h.attempts {
				if n > 1 {
					t.Errorf("finding %s sent %d times", id, n)
				}
			}
		})
	}
}

// TestPublishOtherErrors: any other failure of a call is an error the
// caller sees, classified by its API error code.
func TestPublishOtherErrors(t *testing.T) {
	h := newFakeHub()
	h.importErr = apiError("InternalException")
	_, err := findings.Publisher{Client: h}.Publish(t.Context(), build(nil, 0))
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalException" {
		t.Errorf("error %v, want the InternalException", err)
	}
}

// TestPublishResolveDenied: findings imported but the workflow update
// denied is a warning, not an error.
func TestPublishResolveDenied(t *testing.T) {
	h := newFakeHub()
	p := findings.Publisher{Client: h}
	if _, err := p.Publish(t.Context(), build(map[string]plan.Status{"4.3": plan.StatusFail}, 0)); err != nil {
		t.Fatal(err)
	}
	h.updateErr = apiError("AccessDeniedException")
	res, err := p.Publish(t.Context(), build(nil, 1))
	if err != nil || res.Updated != 15 || res.Resolved != 0 || len(res.Warnings) != 1 {
		t.Errorf("result %+v, %v; want 15 updated, a warning and no error", res, err)
	}
}

func TestPublishNothing(t *testing.T) {
	res, err := findings.Publisher{Client: newFakeHub()}.Publish(t.Context(), nil)
	if err != nil || res.Created+res.Updated != 0 {
		t.Errorf("%+v, %v", res, err)
	}
}
