package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/truncate"
)

// Canonical field names. Every error names the field this way, whichever
// front end the value came from (docs/contracts.md, "Configuration").
const (
	FieldBenchmark        = "benchmark"
	FieldMode             = "mode"
	FieldPatternProfile   = "patternProfile"
	FieldNamespace        = "namespace"
	FieldTopicName        = "topicName"
	FieldTopicKMSKey      = "topicKmsKey"
	FieldSubscriptions    = "subscriptions"
	FieldExclude          = "excludedControls"
	FieldHomeRegion       = "homeRegion"
	FieldRegions          = "regions"
	FieldTrailHealing     = "trailHealing"
	FieldTrailName        = "trailName"
	FieldTrailLogGroupARN = "trailLogGroupArn"
	FieldTrailLogsRoleARN = "trailLogsRoleArn"
	FieldSelfRoleARN      = "selfRoleArn"
	FieldCentralRoleARN   = "centralRoleArn"
	FieldNotify           = "notify"
	FieldFindings         = "findings"
	FieldLogLevel         = "logLevel"
)

// Input is one front end's raw values, before defaults and validation.
// An empty string or list means "not set": Build applies the default.
// Lists hold one item per element (front ends split comma lists with
// List).
type Input struct {
	Benchmark        string
	Mode             string
	PatternProfile   string
	Namespace        string
	TopicName        string
	TopicKMSKey      string
	Subscriptions    []string // PROTOCOL:ENDPOINT
	Exclude          []string
	HomeRegion       string
	Regions          []string
	TrailHealing     string
	TrailName        string
	TrailLogGroupARN string
	TrailLogsRoleARN string
	SelfRoleARN      string
	CentralRoleARN   string
	Notify           string
	Findings         string
	LogLevel         string
}

// FieldError is one problem with one field. Error() is
// "FIELD: PROBLEM", the same text from every front end.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Build applies the defaults and validates in. The error, if any, joins
// one *FieldError per problem, in field order.
func Build(in Input) (Config, error) {
	b := &builder{}
	c := Config{}
	c.Benchmark = b.benchmark(in.Benchmark)
	c.Mode = b.mode(in.Mode)
	c.Profile = b.profile(in.PatternProfile)
	c.Namespace = b.namespace(in.Namespace)
	c.TopicName = b.topicName(in.TopicName)
	c.TopicKMSKeyID = b.topicKMSKey(in.TopicKMSKey)
	c.Subscriptions = b.subscriptions(in.Subscriptions)
	c.Exclude = b.exclude(in.Exclude, c.Benchmark)
	c.HomeRegion = b.homeRegion(in.HomeRegion)
	c.Regions = b.regions(in.Regions)
	c.TrailHealing = b.trailHealing(in.TrailHealing)
	c.TrailName = b.trailName(in.TrailName)
	c.TrailLogGroupARN, c.TrailLogsRoleARN = b.trailLogs(in.TrailLogGroupARN, in.TrailLogsRoleARN)
	c.SelfRoleARN = b.selfRoleARN(in.SelfRoleARN)
	c.CentralRoleARN = b.centralRoleARN(in.CentralRoleARN)
	c.Notify = b.notify(in.Notify)
	c.Findings = b.findings(in.Findings)
	c.LogLevel = b.logLevel(in.LogLevel)
	if len(b.errs) > 0 {
		return Config{}, errors.Join(b.errs...)
	}
	return c, nil
}

// builder collects the problems of one Build.
type builder struct{ errs []error }

func (b *builder) fail(field, format string, args ...any) {
	b.errs = append(b.errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// value returns the trimmed s, or def when s is blank. ok is false when
// the value is unusable (too long, control characters, invalid UTF-8); the
// problem has been recorded against field.
func (b *builder) value(field, s, def string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, true
	}
	if problem := hygiene(s); problem != "" {
		b.fail(field, "%s", problem)
		return "", false
	}
	return s, true
}

// list returns items trimmed, without blanks, checked as their
// comma-joined form would be; ok is false when that form is unusable.
func (b *builder) list(field string, items []string) ([]string, bool) {
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	if problem := hygiene(strings.Join(out, ",")); problem != "" {
		b.fail(field, "%s", problem)
		return nil, false
	}
	return out, true
}

// hygiene says why s cannot be a configuration value, or "".
func hygiene(s string) string {
	switch {
	case len(s) > MaxValueBytes:
		return fmt.Sprintf("value is %d bytes; at most %d allowed", len(s), MaxValueBytes)
	case !utf8.ValidString(s):
		return "value is not valid UTF-8"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "value contains control characters"
	}
	return ""
}

// List splits a comma list, dropping empty items ("a,,b," is a, b). Front
// ends use it for comma-separated flags, variables and context strings.
func List(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// clip shortens an untrusted value before it is quoted in an error.
func clip(s string) string { return truncate.String(s, 80) }
