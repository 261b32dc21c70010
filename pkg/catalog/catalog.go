// Package catalog is Watchkeeper's statement of what "compliant" means: for
// every CIS AWS Foundations Benchmark version that prescribes log metric
// filters, the monitoring controls with their numbers, Security Hub ids,
// prescribed filter patterns and the CloudTrail events they exist to catch.
//
// The catalog is pure data plus lookups. It performs no I/O and imports no
// AWS packages, so it can be golden-tested and shared by the CLI, the Lambda
// and the CDK app alike.
//
// Source of every pattern: ../shared/reference/cis-monitoring-controls.md
// (the Watchkeeper fact sheet), which cites the public transcriptions.
//
// Benchmarks: cis-aws-v1.2.0 (section 3, controls 3.1–3.14), v1.3.0 to
// v5.0.0 (section 4, 4.1–4.15; 4.15 AWS Organizations appears in v1.3.0),
// v6.0.0 and v7.0.0 (section 5, 5.1–5.15). The v4.0.x release is catalogued
// as cis-aws-v4.0.1, the patch release the fact sheet's sources name. The
// "Ensure AWS Security Hub is enabled" recommendation (4.16/5.16, from
// v1.5.0) is not a metric-filter control and is deliberately left out.
//
// Each control carries the pattern Watchkeeper writes per Profile and the
// Accepted variants it recognises. Where the benchmark texts contradict
// each other or their literal meaning is not their intent (4.1's ungrouped
// || and &&, 4.13's audit text, Security Hub's exact strings), the control's
// Resolution says what Watchkeeper does and why, and Warnings say what a
// person must know; Watchkeeper never writes a pattern that alerts on
// almost everything without saying so.
//
// Events lists the CloudTrail events a control exists to catch. It is empty
// for the unauthorized-API-calls and root-usage controls, which are about
// error codes and identities of any event rather than particular calls.
package catalog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// DefaultBenchmark is the benchmark Watchkeeper enforces when none is named.
const DefaultBenchmark = "cis-aws-v3.0.0"

// Profile names which written form of a control's pattern Watchkeeper puts
// into a metric filter it creates.
type Profile string

const (
	// ProfileBenchmark writes the benchmark version's own remediation text.
	ProfileBenchmark Profile = "benchmark"
	// ProfileSecurityHub writes the exact string AWS Security Hub's
	// CloudWatch.x check accepts, so that check passes too. Controls without
	// a Security Hub counterpart fall back to the benchmark text.
	ProfileSecurityHub Profile = "securityhub"
)

// Profiles lists the supported profiles in a stable order.
func Profiles() []Profile { return []Profile{ProfileBenchmark, ProfileSecurityHub} }

// ParseProfile returns the profile named s, or an error listing the valid ones.
func ParseProfile(s string) (Profile, error) {
	for _, p := range Profiles() {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown pattern profile %q (supported: benchmark, securityhub)", s)
}

// Event is one CloudTrail event a control exists to catch.
type Event struct {
	Source string `json:"source"` // e.g. "kms.amazonaws.com"
	Name   string `json:"name"`   // e.g. "DisableKey"
}

// Variant is one written form of a pattern that Watchkeeper recognises as
// satisfying a control, with where it comes from.
type Variant struct {
	Pattern string `json:"pattern"`
	Source  string `json:"source"` // e.g. "v3.0.0 audit", "Security Hub CloudWatch.13", "v1.4.0 SSO variant"
}

// Control is one monitoring control as one benchmark version prescribes it.
type Control struct {
	// ID is the control number in this benchmark version, e.g. "4.7".
	ID string `json:"id"`
	// Key is a stable, version-independent name for the control's topic,
	// e.g. "cmk-disable-or-delete". Resource names derive from it, so a
	// filter Watchkeeper wrote under one benchmark version is recognised
	// under another.
	Key string `json:"key"`
	// SecurityHubID is the AWS Security Hub control id, e.g. "CloudWatch.7",
	// or "" where Security Hub has none (4.15).
	SecurityHubID string `json:"securityHubId,omitempty"`
	Title         string `json:"title"`
	// Pattern is the pattern Watchkeeper writes per profile. The benchmark
	// profile is always present.
	Pattern map[Profile]string `json:"filterPattern"`
	// Accepted lists every written form Watchkeeper recognises as satisfying
	// the control (a filter whose pattern is equivalent to or covers one of
	// these passes).
	Accepted []Variant `json:"acceptedVariants"`
	// MetricName is the default metric name for the filter Watchkeeper writes.
	MetricName string `json:"metricName"`
	// Events are the CloudTrail events the control exists to catch.
	Events []Event `json:"events"`
	// Warnings are things a person must know about this control's text in
	// this version, e.g. that the literal benchmark text matches almost
	// every event. The product surfaces them; it never writes such a
	// pattern silently.
	Warnings []string `json:"warnings,omitempty"`
	// Resolution says how Watchkeeper resolved a conflict between texts for
	// this control, with sources; empty where there was none.
	Resolution string `json:"resolution,omitempty"`
}

// PatternFor returns the pattern Watchkeeper writes for profile p: the
// Security Hub string when p is ProfileSecurityHub and one exists, else the
// benchmark text.
func (c Control) PatternFor(p Profile) string {
	if s, ok := c.Pattern[p]; ok && s != "" {
		return s
	}
	return c.Pattern[ProfileBenchmark]
}

// Benchmark is one version of the CIS AWS Foundations Benchmark.
type Benchmark struct {
	ID       string    `json:"id"`      // e.g. "cis-aws-v3.0.0"
	Version  string    `json:"version"` // e.g. "3.0.0"
	Section  string    `json:"section"` // e.g. "4"
	Controls []Control `json:"controls"`
}

// Control returns the control with the given id in b.
func (b Benchmark) Control(id string) (Control, bool) {
	for _, c := range b.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}

// ControlByKey returns the control with the given stable key in b.
func (b Benchmark) ControlByKey(key string) (Control, bool) {
	for _, c := range b.Controls {
		if c.Key == key {
			return c, true
		}
	}
	return Control{}, false
}

// Warnings returns every control's warnings, each prefixed with the
// control's id, in control order. Callers surface them (CLI, reports) so
// that no questionable benchmark text is enforced silently.
func (b Benchmark) Warnings() []string {
	var out []string
	for _, c := range b.Controls {
		for _, w := range c.Warnings {
			out = append(out, c.ID+": "+w)
		}
	}
	return out
}

// ErrUnknownBenchmark is returned by Lookup for an id the catalog lacks.
var ErrUnknownBenchmark = errors.New("unknown benchmark")

// ErrUnknownControl is returned when a control id is not in a benchmark.
var ErrUnknownControl = errors.New("unknown control")

// IDs returns the ids of every benchmark in the catalog, sorted.
func IDs() []string {
	ids := make([]string, 0, len(benchmarks))
	for id := range benchmarks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Lookup returns the benchmark with the given id. Its error wraps
// ErrUnknownBenchmark and lists the supported ids.
func Lookup(id string) (Benchmark, error) {
	b, ok := benchmarks[id]
	if !ok {
		return Benchmark{}, fmt.Errorf("%w %q (supported: %s)", ErrUnknownBenchmark, id, strings.Join(IDs(), ", "))
	}
	return b.clone(), nil
}

// Default returns the default benchmark.
func Default() Benchmark {
	b, err := Lookup(DefaultBenchmark)
	if err != nil {
		panic(err) // the catalog's own tests guarantee this cannot happen
	}
	return b
}
