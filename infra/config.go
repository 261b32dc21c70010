package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/config"
)

// Context keys the app reads (cdk.json "context", or `-c key=value`).
const (
	ctxNotificationEmails = "notificationEmails"
	ctxBenchmark          = "benchmark"
	ctxMode               = "mode"
	ctxPatternProfile     = "patternProfile"
	ctxSchedule           = "schedule"
	ctxNamespace          = "namespace"
	ctxTopicName          = "topicName"
	ctxExcludedControls   = "excludedControls"
	ctxTrailHealing       = "trailHealing"
	ctxProvisionTrail     = "provisionTrail"
	ctxRegions            = "regions"
	ctxSubscriptions      = "subscriptions"
	ctxTrailName          = "trailName"
	ctxFindings           = "findings"
)

// Defaults, identical to the ones pkg/config applies when a variable is
// unset, so an empty context and an empty environment mean the same thing.
const (
	DefaultSchedule  = "cron(0 3 * * ? *)" // 03:00 UTC nightly
	DefaultNamespace = "CISBenchmark"
	DefaultTopicName = "watchkeeper-cis-alarms"
)

// maxNotificationEmails matches the remediator's limit on
// WATCHKEEPER_SUBSCRIPTIONS (pkg/config MaxSubscriptions); the tests hold
// the two equal.
const maxNotificationEmails = 20

// HealingAuto is the default trailHealing: "full" when the stack provisions
// the trail (the remediator may then restore everything about the trail it
// owns, including its CloudWatch Logs delivery), otherwise "safe" (a
// customer's trail is restarted and its selectors restored, but never
// reconfigured).
const HealingAuto = "auto"

// Config is the validated deployment configuration. Its zero value is not
// valid; build it with DefaultConfig or ConfigFromContext.
type Config struct {
	// NotificationEmails receive the alarm topic's notifications. Each one
	// gets a confirmation email that a person must accept.
	NotificationEmails []string
	// Benchmark is a catalog benchmark id, e.g. "cis-aws-v3.0.0".
	Benchmark string
	// Mode is "apply" (heal drift) or "report" (findings only, no writes).
	Mode string
	// PatternProfile selects the written form of the filter patterns.
	PatternProfile string
	// Schedule is the EventBridge schedule expression of the nightly run.
	Schedule string
	// Namespace is the CloudWatch metric namespace of the filters' metrics.
	Namespace string
	// TopicName names the alarm topic in every region Watchkeeper manages.
	TopicName string
	// ExcludedControls are control ids of Benchmark that Watchkeeper skips.
	ExcludedControls []string
	// TrailHealing is "auto", "none", "safe" or "full" (see pkg/config);
	// Healing resolves "auto".
	TrailHealing string
	// ProvisionTrail makes the stack create and own a multi-region trail.
	ProvisionTrail bool
	// TrailName names the customer trail (name or ARN) the remediator may
	// heal; its trail writes are scoped to it in IAM (HealedTrail). Not
	// with ProvisionTrail, whose managed trail is the one healed.
	TrailName string
	// Regions limits evaluation (WATCHKEEPER_REGIONS); none means every
	// enabled Region.
	Regions []string
	// Subscribe lists further PROTOCOL:ENDPOINT subscriptions the
	// remediator ensures, beyond NotificationEmails.
	Subscribe []string
	// Findings is "securityhub" (the default: every run imports one
	// finding per control into the home Region's Security Hub, a warning
	// when Security Hub is off there) or "none" (WATCHKEEPER_FINDINGS).
	Findings string
	// Org is organization mode (organization.go); zero for one account.
	Org OrgConfig
}

// DefaultConfig returns the configuration an empty context yields.
func DefaultConfig() Config {
	return Config{
		Benchmark:      catalog.DefaultBenchmark,
		Mode:           "apply",
		PatternProfile: string(catalog.ProfileBenchmark),
		Schedule:       DefaultSchedule,
		Namespace:      DefaultNamespace,
		TopicName:      DefaultTopicName,
		TrailHealing:   HealingAuto,
		Findings:       string(config.FindingsSecurityHub),
	}
}

// Healing is the trail-healing level the remediator runs with: TrailHealing,
// with "auto" resolved to "full" when the stack provisions the trail (so the
// remediator can re-attach CloudWatch Logs to the trail it owns, which only
// "full" does) and to "safe" otherwise.
func (c Config) Healing() string {
	if c.TrailHealing != HealingAuto {
		return c.TrailHealing
	}
	if c.ProvisionTrail {
		return "full"
	}
	return "safe"
}

// ContextError says which CDK-only context key is wrong and what it
// accepts. Keys shared with the CLI and the Lambda are checked by
// pkg/config, whose *config.FieldError has the same "KEY: PROBLEM" shape.
type ContextError struct {
	Key     string
	Value   string
	Allowed string
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("%s: %q is not allowed (allowed: %s)", e.Key, truncate(e.Value), e.Allowed)
}

// truncate shortens a value quoted in an error.
func truncate(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}

// ConfigFromContext reads and validates the configuration from node's
// context. Values may be JSON types (from cdk.json) or strings (from -c):
// lists accept a JSON array or a comma-separated string, booleans accept
// true/false in either form. Every problem is reported, joined, including
// keys in Watchkeeper's namespace that it does not read (checkContextKeys).
func ConfigFromContext(node constructs.Node) (Config, error) {
	read := map[string]bool{} // the keys this reads, for checkContextKeys
	get := func(key string) any { read[key] = true; return node.TryGetContext(jsii.String(key)) }
	cfg := DefaultConfig()
	r := &contextReader{get: get}
	r.str(ctxBenchmark, &cfg.Benchmark)
	r.str(ctxMode, &cfg.Mode)
	r.str(ctxPatternProfile, &cfg.PatternProfile)
	r.str(ctxSchedule, &cfg.Schedule)
	r.str(ctxNamespace, &cfg.Namespace)
	r.str(ctxTopicName, &cfg.TopicName)
	r.str(ctxTrailHealing, &cfg.TrailHealing)
	r.str(ctxTrailName, &cfg.TrailName)
	r.str(ctxFindings, &cfg.Findings)
	r.list(ctxNotificationEmails, &cfg.NotificationEmails)
	r.list(ctxExcludedControls, &cfg.ExcludedControls)
	r.list(ctxRegions, &cfg.Regions)
	r.list(ctxSubscriptions, &cfg.Subscribe)
	r.flag(ctxProvisionTrail, &cfg.ProvisionTrail)
	cfg.Org = orgFromContext(r) // organization.go
	errs := append(r.errs, checkContextKeys(node, read)...)
	if err := errors.Join(append(errs, cfg.Validate())...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// contextReader reads context values of one shape each through get,
// collecting a ContextError for every value of the wrong shape: strings
// (trimmed; blank keeps the default), lists (a JSON array of strings or a
// comma-separated string) and booleans (true/false, JSON or string).
type contextReader struct {
	get  func(key string) any
	errs []error
}

func (r *contextReader) bad(key string, v any, allowed string) {
	r.errs = append(r.errs, &ContextError{Key: key, Value: fmt.Sprint(v), Allowed: allowed})
}

func (r *contextReader) str(key string, dst *string) {
	v := r.get(key)
	if v == nil {
		return
	}
	s, ok := v.(string)
	if !ok {
		r.bad(key, v, "a string")
		return
	}
	if s = strings.TrimSpace(s); s != "" {
		*dst = s
	}
}

func (r *contextReader) list(key string, dst *[]string) {
	v := r.get(key)
	l, err := stringList(v)
	if err != nil {
		r.bad(key, v, "a JSON array of strings or a comma-separated string")
		return
	}
	*dst = l
}

func (r *contextReader) flag(key string, dst *bool) {
	v := r.get(key)
	if v == nil {
		return
	}
	b, err := boolValue(v)
	if err != nil {
		r.bad(key, v, "true, false")
	}
	*dst = b
}

// scheduleExpr is the EventBridge schedule syntax: rate(N unit) or a
// six-field cron(...). EventBridge validates the cron fields themselves at
// deploy time; this catches typos at synth time.
var scheduleExpr = regexp.MustCompile(`^(rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$`)

// Validate reports every invalid field. The fields the CLI and the Lambda
// share go through pkg/config's builder, which names them by their
// canonical names (the context keys, except excludedControls' items which
// are the same); the CDK-only keys (schedule, notificationEmails,
// trailHealing's "auto") are checked here.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, value, allowed string) {
		errs = append(errs, &ContextError{Key: key, Value: value, Allowed: allowed})
	}
	if m := scheduleExpr.FindStringSubmatch(c.Schedule); m == nil {
		bad(ctxSchedule, c.Schedule, "an EventBridge schedule expression: rate(N minutes|hours|days) or cron(min hour day month weekday year)")
	} else if m[2] != "" && (m[2] == "1") == strings.HasSuffix(m[3], "s") {
		bad(ctxSchedule, c.Schedule, "rate(1 minute|hour|day) singular, rate(N minutes|hours|days) plural for N > 1")
	}
	// Only the addresses that pass reach the builder, so a bad one is
	// reported once, under its own key.
	emails := c.NotificationEmails
	c.NotificationEmails = nil
	if len(emails) > maxNotificationEmails {
		bad(ctxNotificationEmails, strings.Join(emails, ","), fmt.Sprintf("at most %d addresses", maxNotificationEmails))
		emails = nil
	}
	for _, e := range emails {
		if config.CheckSubscription("email", e) != nil {
			bad(ctxNotificationEmails, e, "plain email addresses such as sec@example.com")
			continue
		}
		c.NotificationEmails = append(c.NotificationEmails, e)
	}
	if c.ProvisionTrail && c.TrailName != "" {
		bad(ctxTrailName, c.TrailName, "no trailName with provisionTrail=true: the managed trail is the trail Watchkeeper heals")
	}
	errs = append(errs, c.Org.validate()...) // organization.go
	_, err := config.Build(c.input())
	return errors.Join(append(errs, err)...)
}

// input maps the context onto the builder's fields: the e-mail addresses
// become email subscriptions, and trailHealing is resolved (Healing).
func (c Config) input() config.Input {
	subs := make([]string, 0, len(c.NotificationEmails)+len(c.Subscribe))
	for _, e := range c.NotificationEmails {
		subs = append(subs, "email:"+e)
	}
	return config.Input{
		Benchmark:      c.Benchmark,
		Mode:           c.Mode,
		PatternProfile: c.PatternProfile,
		Namespace:      c.Namespace,
		TopicName:      c.TopicName,
		Subscriptions:  append(subs, c.Subscribe...),
		Exclude:        c.ExcludedControls,
		Regions:        c.Regions,
		TrailHealing:   c.Healing(),
		TrailName:      c.TrailName,
		Findings:       c.Findings,
	}
}

// Subscriptions renders NotificationEmails and Subscribe in pkg/config's
// WATCHKEEPER_SUBSCRIPTIONS form (PROTOCOL:ENDPOINT, comma-separated).
func (c Config) Subscriptions() string { return strings.Join(c.input().Subscriptions, ",") }

// stringList accepts nil, a JSON array of strings or a comma-separated
// string, trimming blanks and dropping empty entries.
func stringList(v any) ([]string, error) {
	var raw []string
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		raw = strings.Split(t, ",")
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("list element %v is not a string", e)
			}
			raw = append(raw, s)
		}
	default:
		return nil, fmt.Errorf("%T is not a list", v)
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func boolValue(v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		return strconv.ParseBool(strings.TrimSpace(t))
	default:
		return false, fmt.Errorf("%T is not a boolean", v)
	}
}
