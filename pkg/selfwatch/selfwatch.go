// Package selfwatch keeps Watchkeeper's own EventBridge rules enabled: the
// nightly schedule, the drift rule and the self-watch rule. A disabled rule
// silences Watchkeeper without touching any control, so every run checks
// the three (level-based, like the controls) and re-enables the ones
// someone disabled. The CDK app gives the rules these fixed names, so the
// function and the stack share them as constants, and the function's IAM
// policy names exactly these rule ARNs.
//
// What it cannot restore, it reports: a deleted rule, or targets removed
// from one, are CloudFormation's to restore (redeploy the stack).
//
// The package imports no AWS SDK package: the run summary (pkg/notify)
// reads its results, and the Lambda front end adapts the EventBridge client
// to Rules.
package selfwatch

import (
	"context"
	"errors"
)

// The rules' fixed names. Fixed like the execution role's name
// (infra.RoleName): a second Watchkeeper stack in the same account and
// Region fails at deploy time instead of racing this one.
const (
	// ScheduleRule starts the nightly full run.
	ScheduleRule = "watchkeeper-nightly"
	// DriftRule starts a run on a CloudTrail-recorded call that can break a
	// control, or that changes Watchkeeper itself.
	DriftRule = "watchkeeper-drift"
	// WatchRule tells a person, through the watchdog topic and without the
	// function, that Watchkeeper itself was changed.
	WatchRule = "watchkeeper-selfwatch"
	// ForwardRule, in us-east-1 only when the home Region is another,
	// forwards IAM's events (delivered only there) to the home Region's
	// default event bus. Not restored by the function, which runs in the
	// home Region; its gap is documented in docs/security.md.
	ForwardRule = "watchkeeper-iam-forward"
)

// Rules returns the home-Region rules a run checks, in a fixed order.
func Rules() []string { return []string{ScheduleRule, DriftRule, WatchRule} }

// Status is the state of one own rule after a run's check.
type Status string

const (
	// Enabled: the rule was enabled; nothing to do.
	Enabled Status = "enabled"
	// Restored: the rule was disabled and this run enabled it again.
	Restored Status = "restored"
	// Disabled: the rule is disabled and stays so: the run was report-only,
	// or enabling it failed (Error says why).
	Disabled Status = "disabled"
	// Missing: the rule does not exist; only a redeploy restores it.
	Missing Status = "missing"
	// Unknown: the rule's state could not be read (Error says why).
	Unknown Status = "unknown"
)

// Rule is one own rule's outcome.
type Rule struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Error is the failure that left the rule disabled or unknown.
	Error string `json:"error,omitempty"`
}

// NeedsPerson reports whether a person must act on r: the rule is not
// enabled and this run did not enable it.
func (r Rule) NeedsPerson() bool { return r.Status != Enabled && r.Status != Restored }

// ErrNotFound is what a Client returns for a rule that does not exist.
var ErrNotFound = errors.New("rule not found")

// Client reads and enables the rules in the home Region's default event
// bus. The Lambda front end adapts the EventBridge client (DescribeRule,
// EnableRule); a rule that does not exist is ErrNotFound.
type Client interface {
	// Enabled reports whether the rule is enabled.
	Enabled(ctx context.Context, name string) (bool, error)
	// Enable enables the rule; enabling an enabled rule is harmless.
	Enable(ctx context.Context, name string) error
}

// Check reads each rule in names and, when restore is set, enables the
// disabled ones. It never stops early: every rule gets an outcome.
func Check(ctx context.Context, c Client, names []string, restore bool) []Rule {
	out := make([]Rule, 0, len(names))
	for _, name := range names {
		out = append(out, check(ctx, c, name, restore))
	}
	return out
}

func check(ctx context.Context, c Client, name string, restore bool) Rule {
	on, err := c.Enabled(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
		return Rule{Name: name, Status: Missing}
	case err != nil:
		return Rule{Name: name, Status: Unknown, Error: err.Error()}
	case on:
		return Rule{Name: name, Status: Enabled}
	case !restore:
		return Rule{Name: name, Status: Disabled, Error: "report-only run: not enabled"}
	}
	if err := c.Enable(ctx, name); err != nil {
		if errors.Is(err, ErrNotFound) { // deleted between the two calls
			return Rule{Name: name, Status: Missing}
		}
		return Rule{Name: name, Status: Disabled, Error: err.Error()}
	}
	return Rule{Name: name, Status: Restored}
}
