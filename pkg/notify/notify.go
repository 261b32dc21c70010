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
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
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
	// Succeeded is set when the run evaluated the account to the end (its
	// report is final, or only its verification ran out of time). Only
	// such a run beats the heartbeat (EMF), which the 26-hour dead man's
	// switch alarm watches.
	Succeeded bool
	// Self is the run's check of Watchkeeper's own rules (pkg/selfwatch).
	Self []selfwatch.Rule
	// Events are the drift events of a batch (the SQS drift queue) that this
	// one run answers, in delivery order; Trigger is then one of them. With
	// more than one, the summary names the batch as the trigger and lists
	// every event (caller, call, resource) at its end.
	Events []trigger.Trigger
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

// ShouldPublishRun is ShouldPublish for a whole run: a change to
// Watchkeeper itself, or an own rule this run restored or could not keep
// enabled, is worth a message even when every control passes, because it
// shows in no control.
func ShouldPublishRun(run Run) bool {
	if ShouldPublish(run.Report) || run.Trigger.SelfWatch() {
		return true
	}
	for _, e := range run.Events {
		if e.SelfWatch() {
			return true
		}
	}
	for _, r := range run.Self {
		if r.Status != selfwatch.Enabled {
			return true
		}
	}
	return false
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
	case run.Trigger.SelfWatch():
		s = fmt.Sprintf("Watchkeeper itself was changed in %s: %s", r.Account, run.Trigger.Call.Name)
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
	batch := len(run.Events) > 1
	if batch {
		line("Trigger:    %d drift events, answered by this one run (listed at the end)", len(run.Events))
		if first, last := timeSpan(run.Events); !first.IsZero() {
			line("At:         %s to %s", first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
		}
	} else {
		line("Trigger:    %s", describe(t))
	}
	if t.Kind == trigger.Drift && !batch {
		line("Caused by:  %s", actor(t.Actor))
		if t.Change != "" {
			line("Changed:    %s", field(t.Change))
		}
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
	selfRestored, selfPerson := selfLines(run)
	restored = append(restored, selfRestored...)
	person = append(selfPerson, person...)
	person = append(person, confirmations(run)...)
	for _, ctl := range r.Controls {
		if ctl.Status == plan.StatusFail || ctl.Status == plan.StatusError {
			person = append(person, fmt.Sprintf("control %s %s %s: %s", ctl.ID, ctl.Status, ctl.Title, field(strings.Join(ctl.Reasons, "; "))))
		}
	}
	for _, reg := range r.Regions {
		// A CENTRAL Region is covered by the organization's trail, which
		// its owner watches: nothing for this account's person to do.
		if reg.Status != plan.StatusPass && reg.Status != plan.StatusCentral {
			person = append(person, fmt.Sprintf("region %s %s: %s", field(reg.Region), reg.Status, field(strings.Join(reg.Reasons, "; "))))
		}
	}

	section(&b, "What drifted", slices.Compact(drifted), "nothing")
	section(&b, "What was restored", restored, "nothing")
	section(&b, "What needs a person", person, "nothing")
	if n := notes(r.Warnings); len(n) > 0 {
		section(&b, "Notes (shortened; the run's JSON report has the full text)", n, "")
	}
	if batch {
		eventList(&b, run.Events)
	}
	return b.String()
}

// maxEventBytes bounds the event list of a batch's summary. Every other
// section has its own bound (maxItems lines of at most maxLine bytes), so
// with this one the message stays under SNS's 256 KB limit (Publish API
// reference, Message). About 500 typical events fit; past the bound the
// rest are counted, and every event is in the function's log.
const maxEventBytes = 96 << 10

// eventList names every event of a batch, one line each: call, caller,
// resources and Region, in delivery order.
func eventList(b *strings.Builder, events []trigger.Trigger) {
	fmt.Fprintf(b, "\nEvents (%d):\n", len(events))
	used := 0
	for i, t := range events {
		d := describe(t)
		if t.Change != "" {
			d += ": " + field(t.Change)
		}
		l := "  - " + oneLine(d) + "\n"
		if used+len(l) > maxEventBytes {
			fmt.Fprintf(b, "  ... and %d more (every event is in the function's logs)\n", len(events)-i)
			return
		}
		used += len(l)
		b.WriteString(l)
	}
}

// timeSpan returns the earliest and latest event times (zero if none has one).
func timeSpan(events []trigger.Trigger) (first, last time.Time) {
	for _, t := range events {
		if t.Time.IsZero() {
			continue
		}
		if first.IsZero() || t.Time.Before(first) {
			first = t.Time
		}
		if t.Time.After(last) {
			last = t.Time
		}
	}
	return first, last
}

// selfLines sorts the run's check of Watchkeeper's own rules, and a
// change to Watchkeeper itself, into the summary's sections. A change the
// run undid (a disabled own rule it re-enabled) is restored; any other
// change to Watchkeeper itself needs a person, who is told exactly what
// changed and who changed it.
func selfLines(run Run) (restored, person []string) {
	undone := map[string]bool{}
	for _, r := range run.Self {
		switch {
		case r.Status == selfwatch.Restored:
			undone[r.Name] = true
			restored = append(restored, fmt.Sprintf("EnableRule %s: Watchkeeper's own rule was disabled and is enabled again", field(r.Name)))
		case r.Status == selfwatch.Missing:
			person = append(person, fmt.Sprintf("Watchkeeper's own rule %s does not exist: redeploy the stack to restore it", field(r.Name)))
		case r.NeedsPerson():
			person = append(person, fmt.Sprintf("Watchkeeper's own rule %s is %s: %s", field(r.Name), r.Status, field(r.Error)))
		}
	}
	events := run.Events
	if len(events) == 0 {
		events = []trigger.Trigger{run.Trigger}
	}
	var changes []string
	for _, t := range events {
		if t.SelfWatch() && !(t.Call.Name == "DisableRule" && undone[t.Target]) {
			changes = append(changes, fmt.Sprintf("Watchkeeper itself was changed by %s: %s", actor(t.Actor), field(t.Change)))
		}
	}
	return restored, append(changes, person...)
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
