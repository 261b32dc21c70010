package reliability_test

import (
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
)

// TestReobserveAfterApply: re-observing after apply must not lose a healed
// account to a throttled read of something apply cannot change. The
// caller's identity and the Region list answer once, then are throttled on
// every attempt from then on; the run still verifies its healing (no
// ErrUnverified, compliant, nothing pending), because the observation
// after apply reuses what the first one proved, and asks each only once.
func TestReobserveAfterApply(t *testing.T) {
	rg := main
	s := schedule{seed: 21, acct: account{Regions: []string{"us-east-1", "eu-west-1"}}, base: "compliant",
		drift: []string{"delete filters", "delete alarms", "unsubscribe"}}
	if err := rg.fresh(); err != nil {
		t.Fatal(err)
	}
	if err := rg.seedAccount(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	rg.proxy.Inject(awsproxy.Fault{Service: awsproxy.ServiceSTS, Operation: "GetCallerIdentity", Kind: awsproxy.FaultThrottle, After: 1})
	rg.proxy.Inject(awsproxy.Fault{Service: awsproxy.ServiceEC2, Operation: "DescribeRegions", Kind: awsproxy.FaultThrottle, After: 1})
	rg.proxy.Reset()
	rep, err := runEngine(t.Context(), rg.proxy.URL, s.acct, true, nil)
	ops := rg.proxy.ByOperation()
	rg.proxy.ClearFaults()
	if err != nil {
		t.Fatalf("engine.Run: %v; a healed account was lost to re-reading identity or Regions", err)
	}
	if count(rep, report.StatusApplied) == 0 {
		t.Fatalf("nothing applied, so nothing was re-observed: %s", summary(rep))
	}
	if !rep.Compliant || len(rep.Pending()) != 0 {
		t.Errorf("report after apply: compliant %t, %d pending; want compliant and verified: %s", rep.Compliant, len(rep.Pending()), summary(rep))
	}
	for _, w := range rep.Warnings {
		if strings.Contains(w, "not verified") || strings.Contains(w, "unverified") {
			t.Errorf("report warns: %s", w)
		}
	}
	for _, op := range []string{"sts:GetCallerIdentity", "ec2:DescribeRegions"} {
		if ops[op] != 1 {
			t.Errorf("%s called %d times in an applying run, want 1 (the re-observation reuses it)", op, ops[op])
		}
	}
	figs.result("11.4 re-observation after apply", "%s; identity and Region list throttled after their first answer: run verified, compliant, %d GetCallerIdentity and %d DescribeRegions calls", pass(t), ops["sts:GetCallerIdentity"], ops["ec2:DescribeRegions"])
}
