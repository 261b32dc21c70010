package reliability_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/lambdart"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

const deniedRegion = "eu-west-1"

// partialAccount is a drifted three-region account; deniedRegion is not
// the home region, so everything the benchmark needs can still be healed.
var partialAccount = schedule{seed: 11, acct: account{Regions: []string{"us-east-1", deniedRegion, "us-west-2"}}, base: "compliant",
	drift: []string{"delete filters", "delete alarms", "disable alarm actions", "unsubscribe"}}

// uncovered is partialAccount with its multi-region trail stopped: no
// trail covers every region, so each region's trails must be read. Under
// trail healing none Watchkeeper leaves the trail stopped.
var uncovered = schedule{seed: 11, acct: partialAccount.acct, base: "compliant",
	drift: append(slices.Clone(partialAccount.drift), "stop logging")}

// seedPartial seeds s and denies every call in deniedRegion; the proxy's
// counters start from zero at the first call of the run.
func seedPartial(t *testing.T, rg *rig, s schedule) state {
	t.Helper()
	if err := rg.fresh(); err != nil {
		t.Fatal(err)
	}
	if err := rg.seedAccount(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	before, err := rg.readState(t.Context(), s.acct.Regions...)
	if err != nil {
		t.Fatal(err)
	}
	rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultAccessDenied, Region: deniedRegion})
	rg.proxy.Reset()
	return before
}

// deniedCalls is the number of calls the run made in deniedRegion.
func deniedCalls(rg *rig) int {
	n := 0
	for c, v := range rg.proxy.Counts() {
		if c.Region == deniedRegion {
			n += v
		}
	}
	return n
}

// regionLine returns the report's line for region, or nil.
func regionLine(rep report.Report, region string) *plan.RegionResult {
	for i, g := range rep.Regions {
		if g.Region == region {
			return &rep.Regions[i]
		}
	}
	return nil
}

// checkCovered asserts what a run with deniedRegion denied must say when
// the home region proves a multi-region trail: the denied region is never
// called and reports PASS citing the trail, and the whole account heals.
func checkCovered(t *testing.T, rg *rig, rep report.Report, before state) {
	t.Helper()
	if n := deniedCalls(rg); n != 0 {
		t.Errorf("%d calls to %s although a multi-region trail covers it: %v", n, deniedRegion, rg.proxy.Calls())
	}
	switch denied := regionLine(rep, deniedRegion); {
	case denied == nil:
		t.Errorf("report has no line for %s: %s", deniedRegion, summary(rep))
	case denied.Status != plan.StatusPass || !strings.Contains(strings.Join(denied.Reasons, " "), "covered by multi-region trail"):
		t.Errorf("covered region %s: %s %q, want PASS citing the multi-region trail", deniedRegion, denied.Status, denied.Reasons)
	}
	if count(rep, report.StatusApplied) == 0 {
		t.Errorf("nothing applied: %s", summary(rep))
	}
	if _, without, bad := causes(rep); without > 0 {
		t.Errorf("failures without cause: %v", bad)
	}
	check, err := rg.cleanPlan(t.Context(), partialAccount.acct)
	if err != nil || !check.Compliant || len(check.Actions) != 0 {
		t.Errorf("account not healed: %v %s", err, summary(check))
	}
	checkState(t, rg, before)
}

// checkUncovered asserts what a run with deniedRegion denied must say when
// that region has to be read (no trail covers every region): the report
// marks it ERROR with the cause, the other regions are still evaluated and
// everything Watchkeeper may change there is healed.
func checkUncovered(t *testing.T, rg *rig, rep report.Report, before state) {
	t.Helper()
	if deniedCalls(rg) == 0 {
		t.Errorf("no call to %s although no trail covers it", deniedRegion)
	}
	if rep.Compliant {
		t.Errorf("report compliant with a region that could not be evaluated")
	}
	for _, g := range rep.Regions {
		if g.Region != deniedRegion && g.Status == plan.StatusError {
			t.Errorf("region %s ERROR although only %s was denied: %q", g.Region, deniedRegion, g.Reasons)
		}
	}
	switch denied := regionLine(rep, deniedRegion); {
	case denied == nil:
		t.Errorf("report has no line for the denied region %s: %s", deniedRegion, summary(rep))
	case denied.Status != plan.StatusError:
		t.Errorf("denied region %s: status %s, want ERROR", deniedRegion, denied.Status)
	case !strings.Contains(strings.Join(denied.Reasons, " "), "AccessDenied") && !strings.Contains(strings.Join(denied.Reasons, " "), "not authorized"):
		t.Errorf("denied region %s: reasons %q do not name the cause (AccessDenied)", deniedRegion, denied.Reasons)
	}
	if count(rep, report.StatusApplied) == 0 {
		t.Errorf("nothing applied in the regions that were not denied: %s", summary(rep))
	}
	for _, a := range rep.Actions {
		if a.Region == deniedRegion && a.Status == report.StatusApplied {
			t.Errorf("action applied in the denied region: %+v", a)
		}
	}
	if _, without, bad := causes(rep); without > 0 {
		t.Errorf("failures without cause: %v", bad)
	}
	// The rest of the account is healed as far as trail healing none
	// allows: a clean plan of the other regions has nothing to do.
	others := account{Regions: slices.DeleteFunc(slices.Clone(uncovered.acct.Regions), func(r string) bool { return r == deniedRegion })}
	check, err := runEngine(t.Context(), rg.checker.URL, others, false, healNone)
	if err != nil || len(check.Actions) != 0 {
		t.Errorf("regions %v not healed: %v %s", others.Regions, err, summary(check))
	}
	checkState(t, rg, before)
}

// checkState asserts no duplicate and no change to foreign resources.
func checkState(t *testing.T, rg *rig, before state) {
	t.Helper()
	after, err := rg.readState(t.Context(), partialAccount.acct.Regions...)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.duplicates(); len(d) > 0 {
		t.Errorf("duplicates: %v", d)
	}
	if c := foreignChanges(before, after); len(c) > 0 {
		t.Errorf("foreign resources changed: %v", c)
	}
}

func healNone(o *engine.Options) { o.Plan.TrailHealing = plan.HealNone }

// runLambda runs the bootstrap under the Runtime API stand-in for one
// scheduled event with extra environment, and returns its report and log.
func runLambda(t *testing.T, rg *rig, a account, extra ...string) (report.Report, string) {
	t.Helper()
	boot := bootstrap(t)
	env := moto.Env(os.Environ(), rg.proxy.URL, a.home())
	env = append(env,
		"WATCHKEEPER_REGIONS="+strings.Join(a.Regions, ","),
		"WATCHKEEPER_HOME_REGION="+a.home(),
		"WATCHKEEPER_SUBSCRIPTIONS="+subscriber,
		"LOG_LEVEL=INFO")
	env = append(env, extra...)
	p, err := lambdart.Launch(boot, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if _, err := p.ColdStart(t.Context()); err != nil {
		t.Fatal(err)
	}
	payload, err := os.ReadFile(filepath.Join("..", "..", "pkg", "trigger", "testdata", "events", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	body, errP, err := p.Invoke(ctx, payload)
	if err != nil || errP != nil {
		t.Fatalf("invoke: %v %+v\nstderr:\n%s", err, errP, p.Stderr)
	}
	var rep report.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("Lambda result is not a report: %v\n%s", err, body)
	}
	return rep, p.Stderr.String()
}

// TestPartialFailure: one region denied (AccessDenied on every call).
//
// When the home region proves a multi-region trail, that trail covers
// every region by definition, so the denied region is never called: it
// reports PASS citing the trail and the account heals.
//
// When no trail covers every region (the multi-region trail is stopped and
// trail healing is none, so it stays stopped), the denied region must be
// read: every other region is still evaluated and healed, the report marks
// that region ERROR with the cause, the engine returns a report and no
// error, the CLI exits 2 and the Lambda answers with the non-compliant
// report.
func TestPartialFailure(t *testing.T) {
	rg := main
	t.Run("covered: engine", func(t *testing.T) {
		before := seedPartial(t, rg, partialAccount)
		rep, err := runEngine(t.Context(), rg.proxy.URL, partialAccount.acct, true, nil)
		if err != nil {
			t.Fatalf("engine.Run: %v", err)
		}
		checkCovered(t, rg, rep, before)
		figs.result("4. partial failure, covering trail: engine", "%s; denied region PASS citing the multi-region trail, %d calls to it; %d actions applied, account healed", pass(t), deniedCalls(rg), count(rep, report.StatusApplied))
	})
	t.Run("covered: CLI", func(t *testing.T) {
		before := seedPartial(t, rg, partialAccount)
		res, err := runCLI(t.Context(), rg.proxy.URL, partialAccount.acct, "apply")
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 0 {
			t.Errorf("CLI exit %d, want 0 (healed)\n%s", res.Code, res.Stderr)
		}
		checkCovered(t, rg, res.Report, before)
		figs.result("4. partial failure, covering trail: CLI", "%s; exit code %d; denied region PASS citing the trail, %d calls to it", pass(t), res.Code, deniedCalls(rg))
	})
	t.Run("uncovered: engine", func(t *testing.T) {
		before := seedPartial(t, rg, uncovered)
		rep, err := runEngine(t.Context(), rg.proxy.URL, uncovered.acct, true, healNone)
		if err != nil {
			t.Fatalf("engine.Run returned %v; a region's failure belongs in the report", err)
		}
		checkUncovered(t, rg, rep, before)
		figs.result("4. partial failure, no covering trail: engine", "%s; Run error nil; denied region ERROR, %d actions applied elsewhere, other regions healed", pass(t), count(rep, report.StatusApplied))
	})
	t.Run("uncovered: CLI", func(t *testing.T) {
		before := seedPartial(t, rg, uncovered)
		res, err := runCLI(t.Context(), rg.proxy.URL, uncovered.acct, "apply", "--trail-healing", "none")
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 2 {
			t.Errorf("CLI exit %d, want 2 (not compliant)\n%s", res.Code, res.Stderr)
		}
		checkUncovered(t, rg, res.Report, before)
		figs.result("4. partial failure, no covering trail: CLI", "%s; exit code %d; denied region ERROR with cause", pass(t), res.Code)
	})
	t.Run("uncovered: Lambda", func(t *testing.T) {
		before := seedPartial(t, rg, uncovered)
		rep, log := runLambda(t, rg, uncovered.acct, "WATCHKEEPER_TRAIL_HEALING=none")
		checkUncovered(t, rg, rep, before)
		if !strings.Contains(log, `"compliant":false`) {
			t.Errorf("the run summary log does not say compliant=false:\n%s", log)
		}
		figs.result("4. partial failure, no covering trail: Lambda", "%s; invocation succeeds with the report: compliant=false, denied region ERROR with cause", pass(t))
	})
	t.Run("region not opted in", func(t *testing.T) {
		if err := rg.fresh(); err != nil {
			t.Fatal(err)
		}
		acct := schedule{seed: 12, acct: account{Regions: []string{"us-east-1", "me-central-1"}}, base: "trail only"}
		if err := rg.seedAccount(t.Context(), acct); err != nil {
			t.Fatal(err)
		}
		rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultNotOptedIn, Region: "me-central-1"})
		rep, err := runEngine(t.Context(), rg.proxy.URL, acct.acct, true, nil)
		if err != nil {
			t.Fatalf("engine.Run: %v", err)
		}
		reason := ""
		for _, g := range rep.Regions {
			if g.Region != "me-central-1" {
				continue
			}
			why := strings.Join(g.Reasons, " ")
			// Either cause is right: DescribeRegions says not-opted-in (moto
			// lists me-central-1 so), or the calls fail with the invalid token.
			if g.Status != plan.StatusError || !strings.Contains(why, "not-opted-in") && !strings.Contains(why, "UnrecognizedClientException") && !strings.Contains(why, "InvalidClientTokenId") {
				t.Errorf("not-opted-in region: %s %q, want ERROR naming why", g.Status, g.Reasons)
			}
			reason = why
		}
		check, err := rg.cleanPlan(t.Context(), account{Regions: []string{"us-east-1"}})
		if err != nil || len(check.Actions) != 0 {
			t.Errorf("us-east-1 not healed next to a not-opted-in region: %v %s", err, summary(check))
		}
		figs.result("4. partial failure: opt-in region not enabled", "%s; region ERROR (%q), home region healed", pass(t), reason)
	})
}

func pass(t *testing.T) string {
	if t.Failed() {
		return "FAIL"
	}
	return "PASS"
}

var bootstrapPath string

// bootstrap builds the Lambda bootstrap once (lambdart.Build uses the
// prebuilt one "make test" names).
func bootstrap(t *testing.T) string {
	t.Helper()
	if bootstrapPath == "" {
		out := filepath.Join(tmpDir, "bootstrap")
		if err := lambdart.Build(t.Context(), out, lambdart.BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		bootstrapPath = out
	}
	return bootstrapPath
}
