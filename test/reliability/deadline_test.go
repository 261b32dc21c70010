package reliability_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
)

// deadlineAccount needs the most work: a trail only, so the topic, its
// subscription and every filter and alarm are missing.
var deadlineAccount = schedule{seed: 13, acct: account{Regions: []string{"us-east-1"}}, base: "trail only"}

// checkCutShort asserts what the report of a run cut short must say:
// something was left undone, each unfinished action is skipped (or
// failed) with its cause, none is silently dropped; and the account holds
// no duplicate and no foreign change.
func checkCutShort(t *testing.T, rg *rig, rep report.Report, before state) (applied, skipped int) {
	t.Helper()
	applied, skipped = count(rep, report.StatusApplied), count(rep, report.StatusSkipped)
	if rep.Compliant || len(rep.Pending()) == 0 {
		t.Errorf("a run cut short reports compliant=%t with %d pending actions; want unfinished work reported", rep.Compliant, len(rep.Pending()))
	}
	if skipped == 0 {
		t.Errorf("no action reported skipped: %s", summary(rep))
	}
	deadline := 0
	for _, a := range rep.Actions {
		if a.Status == report.StatusSkipped && strings.Contains(a.Error, "deadline") {
			deadline++
		}
	}
	if deadline == 0 {
		t.Errorf("no skipped action names the deadline as its cause: %s", summary(rep))
	}
	if _, without, bad := causes(rep); without > 0 {
		t.Errorf("unfinished actions without cause: %v", bad)
	}
	after, err := rg.readState(t.Context(), deadlineAccount.acct.Regions...)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.duplicates(); len(d) > 0 {
		t.Errorf("duplicates after a run cut short: %v", d)
	}
	if c := foreignChanges(before, after); len(c) > 0 {
		t.Errorf("foreign resources changed: %v", c)
	}
	return applied, skipped
}

// completes runs Watchkeeper again without faults or deadline and checks
// that it finishes the work: compliant, and a clean plan has no action.
func completes(t *testing.T, rg *rig, before state) {
	t.Helper()
	rg.proxy.ClearFaults()
	rg.proxy.SetLatency(0)
	rep, err := runEngine(t.Context(), rg.proxy.URL, deadlineAccount.acct, true, nil)
	if err != nil || !rep.Compliant || len(rep.Pending()) != 0 {
		t.Errorf("the next run did not complete the work: %v %s", err, summary(rep))
	}
	check, err := rg.cleanPlan(t.Context(), deadlineAccount.acct)
	if err != nil || !check.Compliant || len(check.Actions) != 0 {
		t.Errorf("clean plan after the next run: %v %s", err, summary(check))
	}
	after, err := rg.readState(t.Context(), deadlineAccount.acct.Regions...)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.duplicates(); len(d) > 0 {
		t.Errorf("duplicates after the next run: %v", d)
	}
	if c := foreignChanges(before, after); len(c) > 0 {
		t.Errorf("foreign resources changed: %v", c)
	}
}

func seedDeadline(t *testing.T, rg *rig) state {
	t.Helper()
	if err := rg.fresh(); err != nil {
		t.Fatal(err)
	}
	if err := rg.seedAccount(t.Context(), deadlineAccount); err != nil {
		t.Fatal(err)
	}
	before, err := rg.readState(t.Context(), deadlineAccount.acct.Regions...)
	if err != nil {
		t.Fatal(err)
	}
	return before
}

// TestDeadline: a run whose context deadline falls in the middle of apply
// (writes slowed down per call) stops starting actions at the reserve,
// reports the unfinished ones as skipped with the deadline as cause,
// returns in time, and the next run completes the work. Also through the
// CLI's --timeout.
func TestDeadline(t *testing.T) {
	rg := main
	t.Run("engine", func(t *testing.T) {
		before := seedDeadline(t, rg)
		// Each alarm write takes 400ms; filters and the topic are quick.
		rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultSlow, Delay: 400 * time.Millisecond, Service: awsproxy.ServiceCloudWatch, Operation: "PutMetricAlarm"})
		const timeout, reserve = 3 * time.Second, 1500 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		start := time.Now()
		rep, err := runEngine(ctx, rg.proxy.URL, deadlineAccount.acct, true, func(o *engine.Options) {
			o.Reserve = reserve
			o.Concurrency = 2
		})
		took := time.Since(start)
		if err != nil && rep.Account == "" {
			t.Fatalf("run cut short returned no report: %v", err)
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("run error %v, want nil or a deadline", err)
		}
		if took > timeout+500*time.Millisecond {
			t.Errorf("run took %s with a %s deadline: it did not stop cleanly", took, timeout)
		}
		applied, skipped := checkCutShort(t, rg, rep, before)
		completes(t, rg, before)
		figs.result("5. deadline: engine (3s deadline, 1.5s reserve, 400ms alarm writes)", "%s; returned after %s (run error: %v); %d applied, %d skipped with the deadline as cause; next run compliant, clean plan 0 actions",
			pass(t), took.Round(10*time.Millisecond), err, applied, skipped)
	})
	t.Run("engine, deadline inside a call", func(t *testing.T) {
		before := seedDeadline(t, rg)
		// The deadline is what observing and planning take on this machine
		// now (a dry run, which makes no alarm write) plus 1s, so it falls
		// while the 2s alarm writes are in flight however loaded the
		// machine is, and again before the account can be re-observed.
		dryStart := time.Now()
		if _, err := runEngine(t.Context(), rg.proxy.URL, deadlineAccount.acct, false, nil); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		deadline := time.Since(dryStart) + time.Second
		rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultSlow, Delay: 2 * time.Second, Service: awsproxy.ServiceCloudWatch, Operation: "PutMetricAlarm"})
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		defer cancel()
		start := time.Now()
		rep, err := runEngine(ctx, rg.proxy.URL, deadlineAccount.acct, true, func(o *engine.Options) { o.Reserve = time.Millisecond })
		took := time.Since(start)
		if took > deadline+time.Second {
			t.Errorf("run took %s with a %s deadline", took, deadline.Round(time.Millisecond))
		}
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("run error %v, want the deadline (the account could not be re-observed)", err)
		}
		if len(rep.Actions) == 0 {
			t.Fatalf("a run that changed the account returned no actions with its error")
		}
		failed := count(rep, report.StatusFailed)
		if failed == 0 {
			t.Errorf("no action failed although the deadline fell inside the alarm writes: %s", summary(rep))
		}
		if _, without, bad := causes(rep); without > 0 {
			t.Errorf("unfinished actions without cause: %v", bad)
		}
		after, rerr := rg.readState(t.Context(), deadlineAccount.acct.Regions...)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if d := after.duplicates(); len(d) > 0 {
			t.Errorf("duplicates: %v", d)
		}
		completes(t, rg, before)
		figs.result("5. deadline: engine, deadline inside in-flight calls (dry-run time + 1s, 2s alarm writes)", "%s; returned after %s (deadline %s) with %q; %d applied, %d failed with the deadline as cause; next run compliant, clean plan 0 actions",
			pass(t), took.Round(10*time.Millisecond), deadline.Round(10*time.Millisecond), errString(err), count(rep, report.StatusApplied), failed)
	})
	t.Run("CLI --timeout", func(t *testing.T) {
		before := seedDeadline(t, rg)
		// Every call takes 300ms and alarm writes 2.5s more: the 5s reserve
		// of an 8s run leaves about 3s in which actions may start, so apply
		// (8 workers) starts the first alarms and must leave the rest.
		rg.proxy.SetLatency(300 * time.Millisecond)
		rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultSlow, Delay: 2500 * time.Millisecond, Service: awsproxy.ServiceCloudWatch, Operation: "PutMetricAlarm"})
		start := time.Now()
		res, err := runCLI(t.Context(), rg.proxy.URL, deadlineAccount.acct, "apply", "--timeout", "8s")
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 2 {
			t.Errorf("CLI exit %d after a run cut short, want 2 (actions pending)\n%s", res.Code, res.Stderr)
		}
		if took > 9*time.Second {
			t.Errorf("CLI took %s with --timeout 8s", took)
		}
		applied, skipped := checkCutShort(t, rg, res.Report, before)
		completes(t, rg, before)
		figs.result("5. deadline: CLI --timeout 8s (5s reserve, 300ms per call, alarm writes +2.5s)", "%s; exit %d after %s; %d applied, %d skipped with the deadline as cause; next run compliant, clean plan 0 actions",
			pass(t), res.Code, took.Round(10*time.Millisecond), applied, skipped)
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
