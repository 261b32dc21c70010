package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
)

// TestOrganizationActions keeps the IAM actions granted for --organization
// in step with OrgLister.
func TestOrganizationActions(t *testing.T) {
	typ := reflect.TypeFor[inspect.OrgLister]()
	var want []string
	for i := range typ.NumMethod() {
		want = append(want, "organizations:"+typ.Method(i).Name)
	}
	if diff := cmp.Diff(want, inspect.OrganizationActions); diff != "" {
		t.Errorf("OrganizationActions out of step with OrgLister (-methods +actions):\n%s", diff)
	}
}

// orgPages is an OrgLister answering from fixed pages (NextToken is the
// next page's index).
type orgPages struct {
	pages [][]orgtypes.Account
	err   error
}

func (f orgPages) ListAccounts(_ context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	i := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &i)
	}
	out := &organizations.ListAccountsOutput{Accounts: f.pages[i]}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(fmt.Sprint(i + 1))
	}
	return out, nil
}

// TestObserveListsOrganization: every page of ListAccounts reaches the
// snapshot, sorted by ID; a failure is recorded, and the account is still
// observed.
func TestObserveListsOrganization(t *testing.T) {
	e := newEnv(t)
	e.compliant(t)
	acct := func(id, name string, st orgtypes.AccountStatus) orgtypes.Account {
		return orgtypes.Account{Id: aws.String(id), Name: aws.String(name), Status: st}
	}
	opts := e.options(nil)
	opts.Organization = orgPages{pages: [][]orgtypes.Account{
		{acct("333344445555", "c", orgtypes.AccountStatusActive), acct("123456789012", "management", orgtypes.AccountStatusActive)},
		{acct("222233334444", "b", orgtypes.AccountStatusSuspended)},
	}}
	snap := e.observe(t, opts, inspect.Request{Regions: []string{"us-east-1"}, HomeRegion: "us-east-1"})
	want := &account.Organization{Accounts: []account.OrgAccount{
		{ID: "123456789012", Name: "management", Status: "ACTIVE"},
		{ID: "222233334444", Name: "b", Status: "SUSPENDED"},
		{ID: "333344445555", Name: "c", Status: "ACTIVE"},
	}}
	if diff := cmp.Diff(want, snap.Organization); diff != "" {
		t.Errorf("organization (-want +got):\n%s", diff)
	}

	opts.Organization = orgPages{err: errors.New("AccessDeniedException")}
	snap = e.observe(t, opts, inspect.Request{Regions: []string{"us-east-1"}, HomeRegion: "us-east-1"})
	if snap.Organization == nil || snap.Organization.Error == "" || len(snap.Trails) == 0 {
		t.Errorf("failed listing: organization %+v, %d trails", snap.Organization, len(snap.Trails))
	}
	if snap := e.observe(t, e.options(nil), inspect.Request{Regions: []string{"us-east-1"}, HomeRegion: "us-east-1"}); snap.Organization != nil {
		t.Errorf("organization listed without Options.Organization: %+v", snap.Organization)
	}
}
