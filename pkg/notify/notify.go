// Package notify turns one Lambda run into what people and CloudWatch see:
// the human-readable summary published to Watchkeeper's SNS topic, and the
// CloudWatch Embedded Metric Format (EMF) record printed to stdout.
//
// Everything here is pure text building, so it is golden-tested; the
// handler does the publishing through a narrow SNS interface.
package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/region"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// Run is one completed invocation.
type Run struct {
	Trigger  trigger.Trigger
	Report   report.Report
	Duration time.Duration
	// Subscriptions are the configured endpoints, used to tell people which
	// subscriptions wait for confirmation after Watchkeeper subscribed them.
	Subscriptions []plan.Endpoint
}

// Counts are the figures a run is judged by.
type Counts struct {
	ControlsPassing int `json:"controlsPassing"`
	// ControlsFailing counts FAIL and ERROR; EXCLUDED counts in neither.
	ControlsFailing int `json:"controlsFailing"`
	ActionsPlanned  int `json:"actionsPlanned"` // in the report but not attempted (report-only)
	ActionsApplied  int `json:"actionsApplied"`
	ActionsFailed   int `json:"actionsFailed"`
	ActionsSkipped  int `json:"actionsSkipped"`
}

// Count tallies r.
func Count(r report.Report) Counts {
	var c Counts
	for _, ctl := range r.Controls {
		switch ctl.Status {
		case plan.StatusPass:
			c.ControlsPassing++
		case plan.StatusFail, plan.StatusError:
			c.ControlsFailing++
		}
	}
	for _, a := range r.Actions {
		switch a.Status {
		case report.StatusApplied:
			c.ActionsApplied++
		case report.StatusFailed:
			c.ActionsFailed++
		case report.StatusSkipped:
			c.ActionsSkipped++
		default:
			c.ActionsPlanned++
		}
	}
	return c
}

// ShouldPublish reports whether a run is worth a message: it healed
// something, or something still fails or was left undone. A clean nightly
// run of a compliant account stays quiet.
func ShouldPublish(r report.Report) bool {
	c := Count(r)
	return c.ActionsApplied > 0 || c.ActionsFailed > 0 || c.ActionsSkipped > 0 || !r.Compliant
}

// maxSubject is SNS's limit on Subject (Publish API reference: "must be
// ASCII text ... no line breaks or control characters ... less than 100
// characters").
const maxSubject = 99

// maxItems bounds each list in a message, so a pathological account cannot
// produce a message past SNS's 256 KB limit.
const maxItems = 40

// Subject is the e-mail subject line.
func Subject(run Run) string {
	r := run.Report
	c := Count(r)
	var s string
	switch {
	case r.Compliant && c.ActionsApplied > 0:
		s = fmt.Sprintf("Watchkeeper healed %d item(s) in %s; compliant", c.ActionsApplied, r.Account)
	case r.Compliant:
		s = fmt.Sprintf("Watchkeeper: %s is compliant", r.Account)
	default:
		s = fmt.Sprintf("Watchkeeper: %s NOT compliant, %d control(s) failing", r.Account, c.ControlsFailing)
	}
	return asciiLine(s, maxSubject)
}

// Message is the plain-text summary: what started the run and who caused
// it, what drifted, what was restored, and what needs a person.
func Message(run Run) string {
	r, t := run.Report, run.Trigger
	c := Count(r)
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("Watchkeeper run summary: CIS AWS Foundations Benchmark monitoring controls")
	line("")
	line("Account:    %s", r.Account)
	line("Benchmark:  %s", r.Benchmark)
	line("Home:       %s", r.HomeRegion)
	line("Mode:       %s", r.Mode)
	line("Trigger:    %s", describe(t))
	if t.Kind == trigger.Drift {
		line("Caused by:  %s", actor(t.Actor))
		if !t.Time.IsZero() {
			line("At:         %s", t.Time.UTC().Format(time.RFC3339))
		}
	}
	line("Duration:   %s", run.Duration.Round(time.Millisecond))
	line("")
	if r.Compliant {
		line("Result: COMPLIANT. %d control(s) pass, %d action(s) applied.", c.ControlsPassing, c.ActionsApplied)
	} else {
		line("Result: NOT COMPLIANT. %d control(s) pass, %d fail or could not be evaluated.", c.ControlsPassing, c.ControlsFailing)
	}

	drifted, restored, person := actionLines(r)
	person = append(person, confirmations(run)...)
	for _, ctl := range r.Controls {
		if ctl.Status == plan.StatusFail || ctl.Status == plan.StatusError {
			person = append(person, fmt.Sprintf("control %s %s %s: %s", ctl.ID, ctl.Status, ctl.Title, field(strings.Join(ctl.Reasons, "; "))))
		}
	}
	for _, reg := range r.Regions {
		if reg.Status != plan.StatusPass {
			person = append(person, fmt.Sprintf("region %s %s: %s", field(reg.Region), reg.Status, field(strings.Join(reg.Reasons, "; "))))
		}
	}

	section(&b, "What drifted", slices.Compact(drifted), "nothing")
	section(&b, "What was restored", restored, "nothing")
	section(&b, "What needs a person", person, "nothing")
	if n := notes(r.Warnings); len(n) > 0 {
		section(&b, "Notes (shortened; the run's JSON report has the full text)", n, "")
	}
	return b.String()
}

func describe(t trigger.Trigger) string {
	if t.Kind == "" {
		return "unknown"
	}
	return oneLine(t.Describe())
}

func actor(a trigger.Actor) string {
	s := a.String()
	if a.Type != "" && a.ARN != "" {
		s += " (" + a.Type + ")"
	}
	if a.InvokedBy != "" && a.ARN != "" {
		s += " via " + a.InvokedBy
	}
	return field(s)
}

func controls(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return " (controls " + strings.Join(ids, ", ") + ")"
}

// confirmationProtocols are the SNS protocols whose subscriptions stay
// pending until the endpoint's owner confirms them (SNS developer guide,
// "Confirm your subscription").
var confirmationProtocols = map[string]bool{"email": true, "email-json": true, "http": true, "https": true}

// confirmations lists the configured endpoints that an applied Subscribe
// action of this run subscribed and that must be confirmed before alarms
// reach them. Endpoints match by plan.Endpoint.Key, the rule that
// identifies Subscribe actions.
func confirmations(run Run) []string {
	subscribed := map[string]bool{}
	for _, a := range run.Report.Actions {
		if a.Action == string(plan.Subscribe) && a.Status == report.StatusApplied && a.Endpoint != nil {
			subscribed[a.Endpoint.Key()] = true
		}
	}
	var out []string
	for _, e := range run.Subscriptions {
		if !confirmationProtocols[strings.ToLower(e.Protocol)] || !subscribed[e.Key()] {
			continue
		}
		out = append(out, fmt.Sprintf("confirm the subscription sent to %s (%s): alarms do not reach it until someone clicks the confirmation link", field(e.Endpoint), field(e.Protocol)))
	}
	return out
}

func section(b *strings.Builder, title string, items []string, none string) {
	fmt.Fprintf(b, "\n%s:\n", title)
	if len(items) == 0 {
		fmt.Fprintf(b, "  %s\n", none)
		return
	}
	for i, it := range items {
		if i == maxItems {
			fmt.Fprintf(b, "  ... and %d more (see the run's JSON report in the function's logs)\n", len(items)-maxItems)
			break
		}
		fmt.Fprintf(b, "  - %s\n", oneLine(it))
	}
}

// actionLines sorts the report's actions into the summary's sections: why
// each was needed, what was restored, and what needs a person. A failed
// action says "the next run retries" only when its error is retryable.
func actionLines(r report.Report) (drifted, restored, person []string) {
	for _, a := range r.Actions {
		what := fmt.Sprintf("%s %s in %s%s", field(a.Action), field(a.Target), field(a.Region), controls(a.Controls))
		if a.Reason != "" {
			drifted = append(drifted, fmt.Sprintf("%s: %s", field(strings.Join(a.Controls, ", ")), field(a.Reason)))
		}
		switch a.Status {
		case report.StatusApplied:
			restored = append(restored, what)
		case report.StatusFailed:
			person = append(person, fmt.Sprintf("%s FAILED: %s (%s)", what, field(a.Error), retryNote(a)))
		case report.StatusSkipped:
			why := field(a.Error)
			if why == "" {
				why = "not started before the deadline"
			}
			person = append(person, fmt.Sprintf("%s was left for the next run: %s", what, why))
		default:
			person = append(person, fmt.Sprintf("%s is needed (report-only run: nothing was changed)", what))
		}
	}
	return drifted, restored, person
}

// retryNote says whether a failed action will heal by itself.
func retryNote(a report.Action) string {
	if a.Retryable {
		return "the next run retries"
	}
	note := "retrying will not help until a person fixes the cause"
	if a.ErrorClass != "" {
		note = field(a.ErrorClass) + ": " + note
	}
	return note
}

// TopicARN locates Watchkeeper's topic: the one the plan named
// (report.Report.TopicARN, in the target log group's region), else the
// topic named topicName in the report's home region, in that region's
// partition. It returns "" when the report names neither a topic nor an
// account and home region.
func TopicARN(r report.Report, topicName string) (topicARN, topicRegion string) {
	if r.TopicARN != "" {
		if a, err := arn.Parse(r.TopicARN); err == nil && a.Service == "sns" && region.Valid(a.Region) {
			return r.TopicARN, a.Region
		}
	}
	if r.Account == "" || topicName == "" || !region.Valid(r.HomeRegion) {
		return "", ""
	}
	a := arn.ARN{Partition: region.Partition(r.HomeRegion), Service: "sns", Region: r.HomeRegion, AccountID: r.Account, Resource: topicName}
	return a.String(), r.HomeRegion
}
