package config

import (
	"log/slog"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/region"
)

// One method per field: the field's default and its rule. Build calls
// them in field order; every front end reaches them only through Build.

func (b *builder) benchmark(s string) catalog.Benchmark {
	id, ok := b.value(FieldBenchmark, s, catalog.DefaultBenchmark)
	if !ok {
		return catalog.Benchmark{}
	}
	bench, err := catalog.Lookup(id)
	if err != nil {
		b.fail(FieldBenchmark, "unknown benchmark %q (supported: %s)", clip(id), strings.Join(catalog.IDs(), ", "))
	}
	return bench
}

func (b *builder) mode(s string) Mode {
	m, ok := b.value(FieldMode, s, string(ModeApply))
	if !ok {
		return ""
	}
	switch Mode(m) {
	case ModeApply, ModeReport:
		return Mode(m)
	}
	b.fail(FieldMode, "%q is not a mode (allowed: apply, report)", clip(m))
	return ""
}

func (b *builder) profile(s string) catalog.Profile {
	v, ok := b.value(FieldPatternProfile, s, string(catalog.ProfileBenchmark))
	if !ok {
		return ""
	}
	p, err := catalog.ParseProfile(v)
	if err != nil {
		names := make([]string, 0, 2)
		for _, p := range catalog.Profiles() {
			names = append(names, string(p))
		}
		b.fail(FieldPatternProfile, "unknown pattern profile %q (supported: %s)", clip(v), strings.Join(names, ", "))
	}
	return p
}

func (b *builder) namespace(s string) string {
	return b.checked(FieldNamespace, s, plan.DefaultNamespace, CheckNamespace)
}

func (b *builder) topicName(s string) string {
	return b.checked(FieldTopicName, s, plan.DefaultNamePrefix+plan.DefaultTopicSuffix, CheckTopicName)
}

func (b *builder) topicKMSKey(s string) string {
	return b.checked(FieldTopicKMSKey, s, "", CheckKMSKey)
}

func (b *builder) trailName(s string) string { return b.checked(FieldTrailName, s, "", CheckTrailName) }

func (b *builder) selfRoleARN(s string) string {
	return b.checked(FieldSelfRoleARN, s, "", CheckRoleARN)
}

// centralRoleARN is the read-only role in an organization trail owner's
// account that a member assumes to judge the central chain (none: members
// report CENTRAL).
func (b *builder) centralRoleARN(s string) string {
	return b.checked(FieldCentralRoleARN, s, "", CheckRoleARN)
}

// checked applies check to the value of field unless it is blank and its
// default is "" (optional fields).
func (b *builder) checked(field, s, def string, check func(string) error) string {
	v, ok := b.value(field, s, def)
	if !ok || v == "" {
		return ""
	}
	if err := check(v); err != nil {
		b.fail(field, "%v", err)
	}
	return v
}

// subscriptions: PROTOCOL:ENDPOINT items; the protocol is case-insensitive
// and kept lowercase (SNS spells every protocol in lowercase); an item
// listed twice is an error.
func (b *builder) subscriptions(items []string) []plan.Endpoint {
	items, ok := b.list(FieldSubscriptions, items)
	if !ok {
		return nil
	}
	if len(items) > MaxSubscriptions {
		b.fail(FieldSubscriptions, "%d subscriptions; at most %d allowed", len(items), MaxSubscriptions)
		return nil
	}
	var out []plan.Endpoint
	seen := map[plan.Endpoint]bool{}
	for _, item := range items {
		e, err := ParseSubscription(item)
		if err != nil {
			b.fail(FieldSubscriptions, "%v", err)
			continue
		}
		if seen[e] {
			b.fail(FieldSubscriptions, "%q is listed twice", clip(item))
			continue
		}
		seen[e] = true
		out = append(out, e)
	}
	return out
}

// exclude: control ids of the benchmark; an id listed twice counts once.
func (b *builder) exclude(items []string, bench catalog.Benchmark) []string {
	items, ok := b.list(FieldExclude, items)
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, id := range items {
		if seen[id] {
			continue
		}
		seen[id] = true
		if bench.ID != "" {
			if _, ok := bench.Control(id); !ok {
				ids := make([]string, 0, len(bench.Controls))
				for _, c := range bench.Controls {
					ids = append(ids, c.ID)
				}
				b.fail(FieldExclude, "unknown control %q in %s (controls: %s)", clip(id), bench.ID, strings.Join(ids, ", "))
				continue
			}
		}
		out = append(out, id)
	}
	return out
}

func (b *builder) homeRegion(s string) string {
	return b.checked(FieldHomeRegion, s, "", checkRegion)
}

// regions: Region names, each at most once; none means every enabled
// Region.
func (b *builder) regions(items []string) []string {
	items, ok := b.list(FieldRegions, items)
	if !ok {
		return nil
	}
	if len(items) > MaxRegions {
		b.fail(FieldRegions, "%d regions; at most %d allowed", len(items), MaxRegions)
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range items {
		switch err := checkRegion(r); {
		case err != nil:
			b.fail(FieldRegions, "%v", err)
		case seen[r]:
			b.fail(FieldRegions, "%q is listed twice", r)
		default:
			out = append(out, r)
		}
		seen[r] = true
	}
	return out
}

// checkRegion is the one Region name rule (pkg/region).
func checkRegion(s string) error {
	if !region.Valid(s) {
		return errorf("%q is not an AWS Region name (e.g. us-east-1)", clip(s))
	}
	return nil
}

func (b *builder) trailHealing(s string) plan.HealingLevel {
	v, ok := b.value(FieldTrailHealing, s, string(plan.HealSafe))
	if !ok {
		return ""
	}
	lvl, err := plan.ParseHealingLevel(v)
	if err != nil {
		b.fail(FieldTrailHealing, "unknown trail healing level %q (supported: none, safe, full; the CDK app also accepts auto)", clip(v))
	}
	return lvl
}

// trailLogs: the log group and the role CloudTrail delivers with, both or
// neither.
func (b *builder) trailLogs(group, role string) (string, string) {
	g := b.checked(FieldTrailLogGroupARN, group, "", CheckLogGroupARN)
	r := b.checked(FieldTrailLogsRoleARN, role, "", CheckRoleARN)
	if (strings.TrimSpace(group) == "") != (strings.TrimSpace(role) == "") {
		b.fail(FieldTrailLogGroupARN, "%s and %s must be set together (CloudTrail needs both to deliver to CloudWatch Logs)",
			FieldTrailLogGroupARN, FieldTrailLogsRoleARN)
	}
	return g, r
}

func (b *builder) notify(s string) bool {
	v, ok := b.value(FieldNotify, s, "true")
	if !ok {
		return false
	}
	switch strings.ToLower(v) {
	case "true":
		return true
	case "false":
		return false
	}
	b.fail(FieldNotify, "%q is not allowed (allowed: true, false)", clip(v))
	return false
}

func (b *builder) logLevel(s string) slog.Level {
	v, ok := b.value(FieldLogLevel, s, "INFO")
	if !ok {
		return slog.LevelInfo
	}
	switch strings.ToUpper(v) {
	case "DEBUG":
		return slog.LevelDebug
	case "INFO":
		return slog.LevelInfo
	case "WARN", "WARNING":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	}
	b.fail(FieldLogLevel, "%q is not a level (allowed: DEBUG, INFO, WARN, ERROR)", clip(v))
	return slog.LevelInfo
}

// Findings is where a run's verdicts are imported besides its report.
type Findings string

// Findings destinations.
const (
	FindingsSecurityHub Findings = "securityhub"
	FindingsNone        Findings = "none"
)

// findings defaults to securityhub: a deployment puts its verdicts where
// security teams triage, and a Region without Security Hub costs one
// warning per run, never a failed run (pkg/findings). The CLI passes
// "none" unless --findings asks for them.
func (b *builder) findings(s string) Findings {
	v, ok := b.value(FieldFindings, s, string(FindingsSecurityHub))
	if !ok {
		return ""
	}
	switch Findings(v) {
	case FindingsSecurityHub, FindingsNone:
		return Findings(v)
	}
	b.fail(FieldFindings, "%q is not allowed (allowed: securityhub, none)", clip(v))
	return ""
}
