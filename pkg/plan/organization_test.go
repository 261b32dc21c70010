package plan_test

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// TestOrganizationCoverage: in the trail owner's account, every account
// of the organization (whatever its status, however late it joined) is
// covered by the organization trail; without one, only this account is,
// and a warning names the others.
func TestOrganizationCoverage(t *testing.T) {
	accounts := []model.OrgAccount{
		{ID: "444455556666", Name: "workload-b", Status: "SUSPENDED"},
		{ID: account, Name: "management", Status: "ACTIVE"},
		{ID: "222233334444", Name: "workload-a", Status: "ACTIVE"},
	}
	type cov struct {
		ID      string
		Covered bool
	}
	for _, tc := range []struct {
		name     string
		org      bool
		err      string
		want     []cov
		warnings int
	}{
		{name: "organization trail covers every member", org: true,
			want: []cov{{"123456789012", true}, {"222233334444", true}, {"444455556666", true}}},
		{name: "account trail only: the members are outside its scope",
			want:     []cov{{"123456789012", true}, {"222233334444", false}, {"444455556666", false}},
			warnings: 1},
		{name: "accounts not listed", org: true, err: "AccessDeniedException: no", want: []cov{}, warnings: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := compliantAccount()
			editTrail(&s, "main", func(tr *model.Trail) { tr.IsOrganizationTrail = tc.org })
			s.Organization = &model.Organization{Accounts: accounts, Error: tc.err}
			if tc.err != "" {
				s.Organization.Accounts = nil
			}
			p := plan.Compute(options(), s)
			if p.Organization == nil {
				t.Fatal("no organization section")
			}
			got := []cov{}
			for _, a := range p.Organization.Accounts {
				got = append(got, cov{a.ID, a.Covered})
			}
			if diff := gocmp.Diff(tc.want, got); diff != "" {
				t.Errorf("coverage (-want +got):\n%s", diff)
			}
			if tc.org && p.Organization.TrailARN != trailARN(home, account, "main") {
				t.Errorf("trail %q, want the organization trail", p.Organization.TrailARN)
			}
			n := len(p.Warnings)
			for _, c := range bench().Controls {
				n -= len(c.Warnings)
			}
			if n != tc.warnings {
				t.Errorf("%d warnings beyond the catalog's, want %d: %q", n, tc.warnings, p.Warnings)
			}
			if len(p.Actions) != 0 || !p.Compliant() {
				t.Errorf("listing the organization changed the verdict: %d actions, compliant %t", len(p.Actions), p.Compliant())
			}
		})
	}
	if p := plan.Compute(options(), compliantAccount()); p.Organization != nil {
		t.Errorf("organization section without a listing: %+v", p.Organization)
	}
}
