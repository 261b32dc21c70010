package verdicts_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/test/cisaudit"
	"github.com/watchkeeper/watchkeeper/test/harness"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// TestVerdicts runs every case of the corpus: seed, audit, assert each
// control's status and codes; for the heal subset, apply and prove
// convergence; for the cisAudit subset, run the benchmark's own audit.
func TestVerdicts(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			e := seedCase(t, tc)
			flags := append(slices.Clone(tc.flags), e.flags...)
			res := cli(t, "audit", flags...)
			t.Logf("why: %s", tc.why)
			assertVerdicts(t, e, tc, res)
			if tc.heal {
				heal(t, e, tc, flags)
			}
		})
	}
}

// seedCase resets moto, builds the compliant account for tc and applies
// tc.seed.
func seedCase(t *testing.T, tc verdictCase) *env {
	t.Helper()
	w := fresh(t)
	b := catalog.Default()
	if tc.benchmark != "" {
		var err error
		if b, err = catalog.Lookup(tc.benchmark); err != nil {
			t.Fatal(err)
		}
	}
	homeRegion := tc.homeRegion
	if homeRegion == "" {
		homeRegion = home
	}
	acct, err := w.Compliant(t.Context(), world.CompliantSpec{HomeRegion: homeRegion, Benchmark: b, Profile: tc.profile, Endpoints: []string{subscriber}})
	if err != nil {
		t.Fatalf("seed compliant account: %v", err)
	}
	e := &env{t: t, w: w, acct: acct, bench: b}
	if tc.benchmark != "" {
		e.flags = append(e.flags, "--benchmark", tc.benchmark)
	}
	tc.seed(e)
	return e
}

// varied reports whether control id is the one tc varies.
func (e *env) varied(tc verdictCase, id string) bool {
	return tc.key == "" || e.ctl(tc.key).ID == id
}

// assertVerdicts checks the audit report of tc: the varied control's status
// and codes, PASS for every other control, a reason on every FAIL, and an
// exit code that agrees.
func assertVerdicts(t *testing.T, e *env, tc verdictCase, res harness.Result) {
	t.Helper()
	r := res.Report
	if len(r.Controls) != len(e.bench.Controls) {
		t.Errorf("report has %d controls, want %d (%s)", len(r.Controls), len(e.bench.Controls), e.bench.ID)
	}
	allPass := true
	for _, want := range e.bench.Controls {
		got, ok := r.Control(want.ID)
		if !ok {
			t.Errorf("report has no control %s", want.ID)
			continue
		}
		status, codes := pass, []string(nil)
		if e.varied(tc, want.ID) {
			status, codes = tc.want, tc.codes
		}
		allPass = allPass && status == pass
		if got.Status != status {
			t.Errorf("control %s: %s %q %q, want %s %q", got.ID, got.Status, got.Codes, got.Reasons, status, codes)
			continue
		}
		for _, c := range codes {
			if !slices.Contains(got.Codes, c) {
				t.Errorf("control %s: codes %q, want %s among them (reasons %q)", got.ID, got.Codes, c, got.Reasons)
			}
		}
		if e.varied(tc, want.ID) {
			if extra := extraCodes(got.Codes, append(slices.Clone(codes), tc.also...)); len(extra) > 0 {
				t.Errorf("control %s: unexpected codes %q beside %q (reasons %q)", got.ID, extra, codes, got.Reasons)
			}
		}
		if got.Status == fail {
			if len(got.Reasons) == 0 {
				t.Errorf("control %s fails without a reason", got.ID)
			}
			for i, reason := range got.Reasons {
				if strings.TrimSpace(reason) == "" {
					t.Errorf("control %s: reason %d is empty", got.ID, i)
				}
			}
		}
	}
	// Exit 0 means "compliant and no action pending" (README, "Exit
	// codes"): a PASS account whose Watchkeeper-owned resources drifted from
	// their definition still has a rewrite pending.
	wantCode := 2
	if allPass && len(r.Actions) == 0 {
		wantCode = 0
	}
	if res.Code != wantCode || r.Compliant != allPass {
		t.Errorf("audit: exit %d compliant %t, want exit %d compliant %t\nstderr: %s\n%s", res.Code, r.Compliant, wantCode, allPass, res.Stderr, summary(r))
	}
	if allPass && len(r.Actions) > 0 && !tc.drift {
		t.Errorf("a compliant account with nothing of Watchkeeper's drifted plans actions: %s", summary(r))
	}
}

func extraCodes(got, want []string) []string {
	var out []string
	for _, c := range got {
		if !slices.Contains(want, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// heal applies the plan for the case's account and proves it converged:
// apply exits 0 with no failed action and every control PASSes; a second
// plan has zero actions; nothing Watchkeeper does not own changed (the
// person's filters, alarms, topics, keys and trails read back
// byte-identical); no Watchkeeper resource is duplicated; Watchkeeper's own
// alarm for the varied control exists, enabled, notifying its topic. For
// cisAudit cases, the benchmark's own audit then passes every control.
func heal(t *testing.T, e *env, tc verdictCase, flags []string) {
	t.Helper()
	region := e.region()
	before := readState(t, region)
	applied := cli(t, "apply", flags...)
	if applied.Code != 0 {
		t.Errorf("apply: exit %d, want 0\nstderr: %s\n%s", applied.Code, applied.Stderr, summary(applied.Report))
	}
	if failed := applied.Report.ActionsWith("failed"); len(failed) > 0 {
		t.Errorf("apply: failed actions %+v", failed)
	}
	if len(applied.Report.ActionsWith("applied")) == 0 {
		t.Errorf("apply healed a failing account without applying anything: %s", summary(applied.Report))
	}
	for _, kind := range tc.healActions {
		if !slices.ContainsFunc(applied.Report.ActionsWith("applied"), func(a action) bool { return a.Action == kind }) {
			t.Errorf("apply: no %s applied: %s", kind, summary(applied.Report))
		}
	}
	for _, c := range applied.Report.Controls {
		if c.Status != pass {
			t.Errorf("after apply: control %s %s %q %q", c.ID, c.Status, c.Codes, c.Reasons)
		}
	}
	again := cli(t, "plan", flags...)
	if again.Code != 0 || len(again.Report.Actions) != 0 {
		t.Errorf("plan after apply: exit %d, %d actions, want 0 and 0: %s", again.Code, len(again.Report.Actions), summary(again.Report))
	}
	after := readState(t, region)
	assertUnownedUnchanged(t, before, after, e.mayChange...)
	assertNoDuplicates(t, after, region)
	keys := []string{}
	if tc.key != "" {
		keys = append(keys, tc.key)
	}
	for _, key := range keys {
		raw, ok := after.Alarms[region+" "+prefix+key]
		if !ok {
			t.Errorf("after apply: no Watchkeeper alarm %s%s", prefix, key)
			continue
		}
		a := decode[alarmDef](t, raw)
		if !a.ActionsEnabled || !slices.Contains(a.AlarmActions, e.acct.TopicARN) {
			t.Errorf("after apply: alarm %s actions enabled %t, actions %v; want enabled, notifying %s", a.AlarmName, a.ActionsEnabled, a.AlarmActions, e.acct.TopicARN)
		}
	}
	for _, k := range e.mayChange {
		if st, err := e.w.KeyState(t.Context(), k); err != nil || st != "Enabled" {
			t.Errorf("after apply: configured topic key %s is %q (%v), want Enabled", k, st, err)
		}
	}
	if tc.afterHeal != nil {
		tc.afterHeal(t, e, after)
	}
	if tc.cisAudit {
		runCISAudit(t, e, tc)
	}
}

// runCISAudit runs the benchmark's own audit procedure (test/cisaudit: the
// aws CLI, command by command) and requires every control to pass it.
func runCISAudit(t *testing.T, e *env, tc verdictCase) {
	t.Helper()
	profile := tc.profile
	if profile == "" {
		profile = catalog.ProfileBenchmark
	}
	rep, err := cisaudit.Run(t.Context(), e.bench, cisaudit.Options{Env: moto.Env(os.Environ(), endpoint, e.region()), Region: e.region(), Profile: profile})
	if err != nil {
		t.Fatalf("CIS audit: %v", err)
	}
	if len(rep.Results) != len(e.bench.Controls) {
		t.Errorf("CIS audit covered %d controls, want %d", len(rep.Results), len(e.bench.Controls))
	}
	for _, r := range rep.Failed() {
		t.Errorf("CIS %s %s fails the benchmark's audit after apply: %s", e.bench.ID, r.ID, r.Why)
	}
	t.Logf("CIS audit of %s after apply: %d controls, %d aws CLI commands", e.bench.ID, len(rep.Results), rep.Commands)
}

// TestCorpusCoverage checks the corpus itself: at least 60 accounts, every
// dimension of the verdict rule with a PASS and a FAIL case, every CIS
// v3.0.0 control (4.1-4.15) varied at least once, v1.2.0 cases, at least
// 10 heal cases of Watchkeeper-owned drift and a CIS audit after apply.
func TestCorpusCoverage(t *testing.T) {
	cs := cases()
	if len(cs) < 60 {
		t.Errorf("%d cases, want at least 60", len(cs))
	}
	type tally struct{ pass, fail int }
	byDim := map[string]*tally{}
	varied := map[string]bool{}
	names := map[string]bool{}
	v12, heals, audits := 0, 0, 0
	for _, tc := range cs {
		if names[tc.name] {
			t.Errorf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		if tc.why == "" {
			t.Errorf("case %q has no justification", tc.name)
		}
		if tc.want == fail && len(tc.codes) == 0 {
			t.Errorf("FAIL case %q expects no code", tc.name)
		}
		if tc.benchmark == "cis-aws-v1.2.0" {
			v12++
		}
		if tc.heal {
			heals++
			if tc.want != fail {
				t.Errorf("heal case %q does not fail", tc.name)
			}
		}
		if tc.cisAudit {
			audits++
		}
		if tc.key != "" && tc.benchmark == "" {
			varied[tc.key] = true
		}
		if tc.dim == "" {
			continue
		}
		if byDim[tc.dim] == nil {
			byDim[tc.dim] = &tally{}
		}
		if tc.want == pass {
			byDim[tc.dim].pass++
		} else {
			byDim[tc.dim].fail++
		}
	}
	var lines []string
	for _, d := range dimensions {
		tl := byDim[d]
		if tl == nil || tl.pass == 0 || tl.fail == 0 {
			t.Errorf("dimension %s lacks a PASS or a FAIL case: %+v", d, tl)
			continue
		}
		lines = append(lines, fmt.Sprintf("%-44s PASS %2d  FAIL %2d", d, tl.pass, tl.fail))
	}
	for _, c := range catalog.Default().Controls {
		if !varied[c.Key] {
			t.Errorf("CIS v3.0.0 %s (%s) is never the varied control", c.ID, c.Key)
		}
	}
	if v12 < 3 {
		t.Errorf("%d v1.2.0 cases, want a few", v12)
	}
	if heals < 10 || audits < 1 {
		t.Errorf("%d heal cases and %d CIS audits after apply, want at least 10 and 1", heals, audits)
	}
	passes, fails := 0, 0
	for _, tc := range cs {
		if tc.want == pass {
			passes++
		} else {
			fails++
		}
	}
	t.Logf("%d cases (%d PASS, %d FAIL), %d healed, %d CIS audits after apply, %d v1.2.0\n%s", len(cs), passes, fails, heals, audits, v12, strings.Join(lines, "\n"))
}
