package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// Organization is, for a run in an organization trail's owner account
// (the management account or a CloudTrail delegated administrator), every
// account of the organization and whether the owner's organization trail
// covers it.
type Organization struct {
	// TrailARN is this account's organization trail ("" when it has none);
	// LogGroupARN is the log group it delivers to.
	TrailARN    string       `json:"trailArn"`
	LogGroupARN string       `json:"logGroupArn,omitempty"`
	Accounts    []OrgAccount `json:"accounts"`
	// Error says why the accounts could not be listed.
	Error string `json:"error,omitempty"`
}

// OrgAccount is one account of the organization as observed
// (account.OrgAccount: id, name, status) and its coverage.
type OrgAccount struct {
	account.OrgAccount
	Covered bool   `json:"covered"`
	Reason  string `json:"reason"`
}

// judgeOrganization says which of the organization's accounts this
// account's organization trail covers. An organization trail logs "events
// for the management account and all member accounts in the organization"
// (CloudTrail User Guide, "Creating a trail for an organization"), so
// membership is the whole rule: an account that joined after the trail was
// created is covered like the others, and a SUSPENDED or PENDING_CLOSURE
// account stays a member (Organizations API reference, Account.Status)
// and is reported covered with its status. Without an organization trail
// of its own, only this account is covered (by its account trails): every
// other account is outside the trail's scope, and a warning names them.
func judgeOrganization(s account.Snapshot, trails []*trailFacts) (*Organization, []string) {
	if s.Organization == nil {
		return nil, nil
	}
	out := &Organization{Accounts: []OrgAccount{}, Error: s.Organization.Error}
	for _, t := range trails { // sorted by ARN: the first organization trail
		if t.owned && t.t.IsOrganizationTrail {
			out.TrailARN, out.LogGroupARN = t.t.ARN, t.t.LogGroupARN
			break
		}
	}
	var outside []string
	for _, a := range s.Organization.Accounts {
		oa := OrgAccount{OrgAccount: a}
		switch {
		case out.TrailARN != "" && a.ID == s.Account:
			oa.Covered = true
			oa.Reason = fmt.Sprintf("this account owns organization trail %s", out.TrailARN)
		case out.TrailARN != "":
			oa.Covered = true
			oa.Reason = fmt.Sprintf("member of the organization: organization trail %s records its events", out.TrailARN)
			if a.Status != "" && a.Status != "ACTIVE" {
				oa.Reason += fmt.Sprintf(" (account status %s: it is still a member)", a.Status)
			}
		case a.ID == s.Account:
			oa.Covered = true
			oa.Reason = "this account: its own trails are judged in this report"
		default:
			oa.Reason = fmt.Sprintf("account %s has no organization trail, so its trails record only its own events", s.Account)
			outside = append(outside, fmt.Sprintf("%s (%s)", a.Name, a.ID))
		}
		out.Accounts = append(out.Accounts, oa)
	}
	slices.SortFunc(out.Accounts, func(a, b OrgAccount) int { return strings.Compare(a.ID, b.ID) })
	var warnings []string
	if len(outside) > 0 {
		warnings = append(warnings, fmt.Sprintf("accounts outside the organization trail's scope (account %s has no organization trail): %s", s.Account, strings.Join(outside, ", ")))
	}
	if out.Error != "" {
		warnings = append(warnings, "the organization's accounts could not be listed: "+out.Error)
	}
	return out, warnings
}
