package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
)

// fakeHub records the findings imported into it.
type fakeHub struct {
	mu       sync.Mutex
	region   string
	imported []types.AwsSecurityFinding
	err      error // returned by every call
}

func (h *fakeHub) GetFindings(context.Context, *securityhub.GetFindingsInput, ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error) {
	return &securityhub.GetFindingsOutput{}, h.err
}

func (h *fakeHub) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return nil, h.err
	}
	h.imported = append(h.imported, in.Findings...)
	return &securityhub.BatchImportFindingsOutput{SuccessCount: aws.Int32(int32(len(in.Findings)))}, nil
}

func (h *fakeHub) BatchUpdateFindings(context.Context, *securityhub.BatchUpdateFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	return &securityhub.BatchUpdateFindingsOutput{}, h.err
}

// The Lambda imports one finding per control into the home Region's
// Security Hub after each run unless WATCHKEEPER_FINDINGS=none; Security
// Hub refusing is a warning in the report, never a failed invocation.
func TestInvokeImportsFindings(t *testing.T) {
	for _, tc := range []struct {
		name         string
		env          map[string]string
		hubErr       error
		wantImported int
		wantWarning  bool
	}{
		{name: "default imports", wantImported: 1},
		{name: "none imports nothing", env: map[string]string{"WATCHKEEPER_FINDINGS": "none"}},
		{name: "not enabled is a warning", hubErr: &smithy.GenericAPIError{Code: "InvalidAccessException", Message: "Account is not subscribed to AWS Security Hub"}, wantWarning: true},
		{name: "any other error is a warning", hubErr: errors.New("connection reset"), wantWarning: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.env, healedReport(), nil)
			f.hub.err = tc.hubErr
			out, err := f.h.Invoke(t.Context(), event(t, "scheduled.json"))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if got := len(f.hub.imported); got != tc.wantImported {
				t.Errorf("imported %d findings, want %d", got, tc.wantImported)
			}
			if tc.wantImported > 0 {
				if f.hub.region != "us-east-1" {
					t.Errorf("findings went to %q, want the home Region us-east-1", f.hub.region)
				}
				if st := f.hub.imported[0].Compliance.Status; st != types.ComplianceStatusPassed {
					t.Errorf("compliance %s, want PASSED", st)
				}
			}
			var rep struct{ Warnings []string }
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatal(err)
			}
			hasWarning := slices.ContainsFunc(rep.Warnings, func(w string) bool { return w != "" })
			if hasWarning != tc.wantWarning {
				t.Errorf("warnings %q, want some: %t", rep.Warnings, tc.wantWarning)
			}
		})
	}
}
