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

// seedPartial seeds partialAccount and denies every call in deniedRegion.
func seedPartial(t *testing.T, rg *rig) state {
	t.Helper()
	if err := rg.fresh(); err != nil {
		t.Fatal(err)
	}
	if err := rg.seedAccount(t.Context(), partialAccount); err != nil {
		t.Fatal(err)
	}
	before, err := rg.readState(t.Context(), partialAccount.acct.Regions...)
	if err != nil {
		t.Fatal(err)
	}
	rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultAccessDenied, Region: deniedRegion})
	return before
}

// checkPartial asserts what a report of a run with deniedRegion denied
// must say, and that the other regions were healed.
func checkPartial(t *testing.T, rg *rig, rep report.Report, before state) {
	t.Helper()
	if rep.Compliant {
		t.Errorf("report compliant with a region that could not be evaluated")
	}
	var denied *plan.RegionResult
	for i, g := range rep.Regions {
		if g.Region == deniedRegion {
			denied = &rep.Regions[i]
		} else if g.Status == plan.StatusError {
			t.Errorf("region %s ERROR although only %s was denied: %q", g.Region, deniedRegion, g.Reasons)
		}
	}
	switch {
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
	// The rest of the account is healed: a clean plan of the other
	// regions has nothing to do.
	others := account{Regions: slices.DeleteFunc(slices.Clone(partialAccount.acct.Regions), func(r string) bool { return r == deniedRegion })}
	check, err := rg.cleanPlan(t.Context(), others)
	if err != nil || !check.Compliant || len(check.Actions) != 0 {
		t.Errorf("regions %v not healed: %v %s", others.Regions, err, summary(check))
	}
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

// TestPartialFailure: one region denied (AccessDenied on every call) ->
// every other region is still evaluated and healed, the report marks that
// region ERROR with the cause, the engine returns a report and no error,
// the CLI exits 2 and the Lambda answers with the non-compliant report.
func TestPartialFailure(t *testing.T) {
	rg := main
	t.Run("engine", func(t *testing.T) {
		before := seedPartial(t, rg)
		rep, err := runEngine(t.Context(), rg.proxy.URL, partialAccount.acct, true, nil)
		if err != nil {
			t.Fatalf("engine.Run returned %v; a region's failure belongs in the report", err)
		}
		checkPartial(t, rg, rep, before)
		figs.result("4. partial failure: engine", "%s; Run error nil; denied region ERROR, %d actions applied elsewhere, other regions healed", pass(t), count(rep, report.StatusApplied))
	})
	t.Run("CLI", func(t *testing.T) {
		before := seedPartial(t, rg)
		res, err := runCLI(t.Context(), rg.proxy.URL, partialAccount.acct, "apply")
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 2 {
			t.Errorf("CLI exit %d, want 2 (not compliant)\n%s", res.Code, res.Stderr)
		}
		checkPartial(t, rg, res.Report, before)
		figs.result("4. partial failure: CLI", "%s; exit code %d; denied region ERROR with cause", pass(t), res.Code)
	})
	t.Run("Lambda", func(t *testing.T) {
		boot := bootstrap(t)
		before := seedPartial(t, rg)
		env := moto.Env(os.Environ(), rg.proxy.URL, partialAccount.acct.home())
		env = append(env,
			"WATCHKEEPER_REGIONS="+strings.Join(partialAccount.acct.Regions, ","),
			"WATCHKEEPER_HOME_REGION="+partialAccount.acct.home(),
			"WATCHKEEPER_SUBSCRIPTIONS="+subscriber,
			"LOG_LEVEL=INFO")
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
		checkPartial(t, rg, rep, before)
		if !strings.Contains(p.Stderr.String(), `"compliant":false`) {
			t.Errorf("the run summary log does not say compliant=false:\n%s", p.Stderr)
		}
		figs.result("4. partial failure: Lambda", "%s; invocation succeeds with the report: compliant=false, denied region ERROR with cause", pass(t))
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

// bootstrap builds the Lambda bootstrap once (or uses
// WATCHKEEPER_BOOTSTRAP, as test/e2e does).
func bootstrap(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WATCHKEEPER_BOOTSTRAP"); p != "" {
		return p
	}
	if bootstrapPath == "" {
		out := filepath.Join(tmpDir, "bootstrap")
		if err := lambdart.Build(t.Context(), out, lambdart.BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		bootstrapPath = out
	}
	return bootstrapPath
}
