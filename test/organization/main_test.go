// Package organization_test proves Watchkeeper in an AWS Organization
// against moto_server (issue #13): an organization with a management
// account and three members in two OUs, an organization trail in the
// management account; the member audit reports CENTRAL, a member with a
// central role judges the central chain for real, the management account
// heals the organization trail's log group and lists the organization's
// coverage.
//
// moto never shows an organization trail to member accounts; the proxy's
// ShimOrganizationTrails adds it to a member's DescribeTrails as AWS does.
// Member credentials come from STS AssumeRole through the proxy (moto
// issues them in the role's account), as a person would reach a member
// through OrganizationAccountAccessRole.
package organization_test

import (
	"os"
	"testing"

	"github.com/watchkeeper/watchkeeper/test/harness"
)

var h *harness.Harness

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, func(hh *harness.Harness) {
		h = hh
		h.Proxy.ShimAll()
		h.Proxy.ShimOrganizationTrails()
	}))
}
