package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

const (
	subscriberProto = "email"
	subscriberAddr  = "security@example.com"
	subscriber      = subscriberProto + ":" + subscriberAddr
)

// account is what a scenario evaluates: its regions, the first the home.
type account struct {
	Regions []string
}

func (a account) home() string { return a.Regions[0] }

func (a account) options(apply bool) engine.Options {
	return engine.Options{
		Plan: plan.Options{
			Benchmark:     catalog.Default(),
			HomeRegion:    a.home(),
			Subscriptions: []plan.Endpoint{{Protocol: subscriberProto, Endpoint: subscriberAddr}},
		},
		Regions: append([]string(nil), a.Regions...),
		Apply:   apply,
	}
}

// runEngine runs the engine in process through endpoint (a proxy URL).
func runEngine(ctx context.Context, endpoint string, a account, apply bool, tweak func(*engine.Options)) (report.Report, error) {
	return runEngineWith(ctx, cfgAt(endpoint, a.home()), a, apply, tweak)
}

// runEngineWith runs the engine in process with SDK configuration c (the
// storm suite's carries its own retryer).
func runEngineWith(ctx context.Context, c aws.Config, a account, apply bool, tweak func(*engine.Options)) (report.Report, error) {
	o := a.options(apply)
	if tweak != nil {
		tweak(&o)
	}
	e, err := engine.New(c, o)
	if err != nil {
		return report.Report{}, err
	}
	return e.Run(ctx)
}

// cliRun is one run of the remediator binary.
type cliRun struct {
	Code   int
	Report report.Report
	Stderr string
}

// runCLI runs "remediator <mode> --output json" for a through the proxy.
func runCLI(ctx context.Context, endpoint string, a account, mode string, extra ...string) (cliRun, error) {
	args := append([]string{mode, "--output", "json", "--regions", strings.Join(a.Regions, ","),
		"--home-region", a.home(), "--subscribe", subscriber}, extra...)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = moto.Env(os.Environ(), endpoint, a.home())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliRun{Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		return res, fmt.Errorf("run remediator %s: %w", strings.Join(args, " "), err)
	}
	if stdout.Len() == 0 {
		return res, nil // exit 1 without a report: stderr says why
	}
	if err := json.Unmarshal(stdout.Bytes(), &res.Report); err != nil {
		return res, fmt.Errorf("remediator %s: stdout is not a JSON report: %w\n%s", mode, err, stdout.String())
	}
	return res, nil
}

// cleanPlan plans a with no fault in the way and returns the report.
func (r *rig) cleanPlan(ctx context.Context, a account) (report.Report, error) {
	return runEngine(ctx, r.checker.URL, a, false, nil)
}

// causes checks that every failure a report shows carries its cause: a
// failed or skipped action has an error naming its operation; a region or
// control in ERROR has reasons. It returns the counts with and without a
// cause and a description of each failure without one.
func causes(r report.Report) (with, without int, bad []string) {
	for _, a := range r.Actions {
		if a.Status != report.StatusFailed && a.Status != report.StatusSkipped {
			continue
		}
		if strings.TrimSpace(a.Error) != "" && strings.Contains(a.Error, a.Action) {
			with++
		} else {
			without++
			bad = append(bad, fmt.Sprintf("action %s %s %s %s: error %q", a.Status, a.Action, a.Region, a.Target, a.Error))
		}
	}
	for _, g := range r.Regions {
		if g.Status != plan.StatusError {
			continue
		}
		if len(g.Reasons) > 0 && strings.TrimSpace(strings.Join(g.Reasons, "")) != "" {
			with++
		} else {
			without++
			bad = append(bad, fmt.Sprintf("region %s ERROR without reasons", g.Region))
		}
	}
	for _, c := range r.Controls {
		if c.Status != plan.StatusError {
			continue
		}
		if len(c.Reasons) > 0 {
			with++
		} else {
			without++
			bad = append(bad, fmt.Sprintf("control %s ERROR without reasons", c.ID))
		}
	}
	return with, without, bad
}

// summary renders what a report says is wrong, for failure messages.
func summary(r report.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "compliant=%t", r.Compliant)
	for _, c := range r.Controls {
		if c.Status != plan.StatusPass {
			fmt.Fprintf(&b, "\n  control %s %s %q", c.ID, c.Status, c.Reasons)
		}
	}
	for _, g := range r.Regions {
		if g.Status != plan.StatusPass {
			fmt.Fprintf(&b, "\n  region %s %s %q", g.Region, g.Status, g.Reasons)
		}
	}
	for _, a := range r.Actions {
		fmt.Fprintf(&b, "\n  action %s %s %s %s %s", a.Status, a.Action, a.Region, a.Target, a.Error)
	}
	return b.String()
}

func count(r report.Report, status report.Status) int {
	n := 0
	for _, a := range r.Actions {
		if a.Status == status {
			n++
		}
	}
	return n
}
