// Package notify turns one Lambda run into what people and CloudWatch see:
// the human-readable summary published to Watchkeeper's SNS topic, and the
// CloudWatch Embedded Metric Format (EMF) record printed to stdout.
//
// Everything here is pure text building, so it is golden-tested; the
// handler does the publishing through a narrow SNS interface.
package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/pkg/truncate"
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

	var drifted, restored, person []string
	for _, a := range r.Actions {
		what := fmt.Sprintf("%s %s in %s%s", field(a.Action), field(a.Target), field(a.Region), controls(a.Controls))
		if a.Reason != "" {
			drifted = append(drifted, fmt.Sprintf("%s: %s", field(strings.Join(a.Controls, ", ")), field(a.Reason)))
		}
		switch a.Status {
		case report.StatusApplied:
			restored = append(restored, what)
		case report.StatusFailed:
			person = append(person, fmt.Sprintf("%s FAILED: %s (the next run retries)", what, field(a.Error)))
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

// confirmations lists the configured endpoints a Subscribe action of this
// run subscribed and that must be confirmed before alarms reach them.
func confirmations(run Run) []string {
	var out []string
	subscribed := false
	for _, a := range run.Report.Actions {
		if a.Action == string(plan.Subscribe) && a.Status == report.StatusApplied {
			subscribed = true
		}
	}
	if !subscribed {
		return nil
	}
	for _, e := range run.Subscriptions {
		if !confirmationProtocols[e.Protocol] || !mentioned(run.Report, e) {
			continue
		}
		out = append(out, fmt.Sprintf("confirm the subscription sent to %s (%s): alarms do not reach it until someone clicks the confirmation link", field(e.Endpoint), field(e.Protocol)))
	}
	return out
}

// mentioned reports whether an applied Subscribe action names e; when no
// action names any endpoint (report text varies), every configured
// endpoint that needs confirmation is listed rather than none.
func mentioned(r report.Report, e plan.Endpoint) bool {
	named := false
	for _, a := range r.Actions {
		if a.Action != string(plan.Subscribe) || a.Status != report.StatusApplied {
			continue
		}
		if strings.Contains(a.Detail, e.Endpoint) || strings.Contains(a.Target, e.Endpoint) || strings.Contains(a.Reason, e.Endpoint) {
			return true
		}
		for _, other := range []string{a.Detail, a.Target, a.Reason} {
			if strings.Contains(other, "@") || strings.Contains(other, "://") {
				named = true
			}
		}
	}
	return !named
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

// maxLine bounds one line of the summary; maxField bounds one untrusted
// field in it (a resource name, an error message, an actor), so a hostile
// name cannot push the rest of a line, or the message, out of sight.
const (
	maxLine  = 1000
	maxField = 300
	// maxNote bounds a note (a plan warning) in the summary; the report's
	// warnings keep the full text.
	maxNote = 160
)

// oneLine keeps untrusted text (resource names, error messages) from
// forging extra lines or reordering what a reader sees in the summary, and
// bounds its length. Every control character (C0, DEL and C1, which
// includes NEL U+0085), line and paragraph separator (Zl, Zp) and format
// character (Cf: bidi overrides such as U+202E, zero-width characters)
// becomes a space.
func oneLine(s string) string { return clip(printable(s), maxLine) }

// field is oneLine for a single untrusted value inside a line.
func field(s string) string { return clip(printable(s), maxField) }

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf) {
			return ' '
		}
		return r
	}, s)
}

// clip shortens s to at most max bytes on a rune boundary, marking the cut.
func clip(s string, max int) string { return truncate.String(s, max) }

// notes shortens the plan's warnings for the summary: each once, on one
// line of at most maxNote bytes (cut after a clause when one ends in the
// second half of that). The run's JSON report carries the full text.
func notes(warnings []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range warnings {
		w = printable(w)
		if seen[w] {
			continue
		}
		seen[w] = true
		if len(w) > maxNote {
			if i := strings.LastIndexAny(w[:maxNote], ";,"); i > maxNote/2 {
				w = w[:i] + " …"
			} else {
				w = clip(w, maxNote)
			}
		}
		out = append(out, w)
	}
	return out
}

// asciiLine makes s a valid SNS subject: printable ASCII, at most max bytes.
func asciiLine(s string, max int) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < 0x20 || ch > 0x7e {
			ch = '?'
		}
		out = append(out, ch)
	}
	if len(out) > max {
		out = out[:max]
	}
	return string(out)
}

// MetricNamespace is the CloudWatch namespace of Watchkeeper's own run
// metrics (distinct from the benchmark's metric-filter namespace).
const MetricNamespace = "Watchkeeper"

// EMF returns one CloudWatch Embedded Metric Format document (a single JSON
// line, no trailing newline) for run, timestamped now. Lambda sends stdout
// to CloudWatch Logs, which extracts the metrics. The format: a root
// "_aws" member with Timestamp (ms since the epoch) and CloudWatchMetrics,
// an array of directives naming a Namespace, Dimensions (arrays of
// dimension names, each a string member of the root) and Metrics (Name and
// Unit, each a numeric member of the root). Source: Amazon CloudWatch user
// guide, "Specification: Embedded metric format".
func EMF(run Run, now time.Time) []byte {
	c := Count(run.Report)
	compliant := 0
	if run.Report.Compliant {
		compliant = 1
	}
	doc := emfDoc{
		AWS: emfMeta{
			Timestamp: now.UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace:  MetricNamespace,
				Dimensions: [][]string{{"Benchmark"}, {"Benchmark", "Trigger"}},
				Metrics: []emfMetric{
					{"ControlsPassing", "Count"}, {"ControlsFailing", "Count"},
					{"ActionsApplied", "Count"}, {"ActionsFailed", "Count"}, {"ActionsSkipped", "Count"},
					{"Compliant", "Count"}, {"RunDuration", "Milliseconds"},
				},
			}},
		},
		Benchmark:       run.Report.Benchmark,
		Trigger:         string(run.Trigger.Kind),
		Account:         run.Report.Account,
		Mode:            run.Report.Mode,
		ControlsPassing: c.ControlsPassing,
		ControlsFailing: c.ControlsFailing,
		ActionsApplied:  c.ActionsApplied,
		ActionsFailed:   c.ActionsFailed,
		ActionsSkipped:  c.ActionsSkipped,
		Compliant:       compliant,
		RunDuration:     run.Duration.Milliseconds(),
	}
	if doc.Trigger == "" {
		doc.Trigger = "unknown"
	}
	if doc.Benchmark == "" {
		doc.Benchmark = "unknown" // a dimension value must be present
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // only strings and numbers: cannot fail
	}
	return b
}

type emfDoc struct {
	AWS             emfMeta `json:"_aws"`
	Benchmark       string  `json:"Benchmark"`
	Trigger         string  `json:"Trigger"`
	Account         string  `json:"Account,omitempty"`
	Mode            string  `json:"Mode,omitempty"`
	ControlsPassing int     `json:"ControlsPassing"`
	ControlsFailing int     `json:"ControlsFailing"`
	ActionsApplied  int     `json:"ActionsApplied"`
	ActionsFailed   int     `json:"ActionsFailed"`
	ActionsSkipped  int     `json:"ActionsSkipped"`
	Compliant       int     `json:"Compliant"`
	RunDuration     int64   `json:"RunDuration"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// TopicARN locates Watchkeeper's topic (named topicName) from a report: the
// topic an action created or subscribed to, else the topic in the region
// of the log group that satisfies the controls (where the planner puts it),
// else in the report's home region. It returns "" when the report names no
// account.
func TopicARN(r report.Report, topicName string) (arn, region string) {
	if r.Account == "" || topicName == "" {
		return "", ""
	}
	for _, a := range r.Actions {
		if (a.Action == string(plan.CreateTopic) || a.Action == string(plan.Subscribe)) && strings.HasSuffix(a.Target, ":"+topicName) {
			if p := strings.SplitN(a.Target, ":", 6); len(p) == 6 && p[2] == "sns" {
				return a.Target, p[3]
			}
		}
	}
	partition, region := "aws", r.HomeRegion
	for _, c := range r.Controls {
		if p := strings.SplitN(c.Where, ":", 6); len(p) == 6 && p[0] == "arn" && p[2] == "logs" && p[3] != "" {
			partition, region = p[1], p[3]
			break
		}
	}
	if region == "" {
		return "", ""
	}
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s", partition, region, r.Account, topicName), region
}
