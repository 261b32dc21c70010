// Package config reads Watchkeeper's Lambda configuration from environment
// variables (set by the CDK app) and validates it once, at start-up.
//
// FromEnv takes the lookup function instead of calling os.Getenv, so that
// only functions/ touches the process environment and tests pass maps.
// Every problem is reported, not just the first, and every message names
// the variable and the values it allows: an operator reading the Lambda's
// error fixes the whole configuration in one deployment.
//
// The package is pure: it imports no AWS SDK package, so it can be fuzzed
// and shared by the handler and the CDK app.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/pkg/truncate"
)

// Environment variable names (docs/contracts.md).
const (
	EnvBenchmark        = "WATCHKEEPER_BENCHMARK"
	EnvMode             = "WATCHKEEPER_MODE"
	EnvPatternProfile   = "WATCHKEEPER_PATTERN_PROFILE"
	EnvNamespace        = "WATCHKEEPER_NAMESPACE"
	EnvTopicName        = "WATCHKEEPER_TOPIC_NAME"
	EnvTopicKMSKey      = "WATCHKEEPER_TOPIC_KMS_KEY"
	EnvSubscriptions    = "WATCHKEEPER_SUBSCRIPTIONS"
	EnvExclude          = "WATCHKEEPER_EXCLUDE"
	EnvHomeRegion       = "WATCHKEEPER_HOME_REGION"
	EnvRegions          = "WATCHKEEPER_REGIONS"
	EnvTrailHealing     = "WATCHKEEPER_TRAIL_HEALING"
	EnvTrailName        = "WATCHKEEPER_TRAIL_NAME"
	EnvTrailLogGroupARN = "WATCHKEEPER_TRAIL_LOG_GROUP_ARN"
	EnvTrailLogsRoleARN = "WATCHKEEPER_TRAIL_LOGS_ROLE_ARN"
	EnvSelfRoleARN      = "WATCHKEEPER_SELF_ROLE_ARN"
	EnvNotify           = "WATCHKEEPER_NOTIFY"
	EnvLogLevel         = "LOG_LEVEL"
	// EnvAWSRegion is the region Lambda runs in; the home region's default.
	EnvAWSRegion = "AWS_REGION"
)

// Vars lists every variable FromEnv reads, for documentation and the CDK app.
func Vars() []string {
	return []string{EnvBenchmark, EnvMode, EnvPatternProfile, EnvNamespace, EnvTopicName, EnvTopicKMSKey,
		EnvSubscriptions, EnvExclude, EnvHomeRegion, EnvRegions, EnvTrailHealing, EnvTrailName,
		EnvTrailLogGroupARN, EnvTrailLogsRoleARN, EnvSelfRoleARN, EnvNotify, EnvLogLevel}
}

// Limits on hostile or absurd configuration.
const (
	// MaxValueBytes bounds any one variable. Lambda caps the whole
	// environment at 4 KB, so a longer value cannot come from a real
	// deployment.
	MaxValueBytes = 4096
	// MaxSubscriptions bounds WATCHKEEPER_SUBSCRIPTIONS.
	MaxSubscriptions = 20
	// MaxRegions bounds WATCHKEEPER_REGIONS.
	MaxRegions = 64
)

// Mode is the deployment's run mode.
type Mode string

const (
	// ModeApply heals drift (the default).
	ModeApply Mode = "apply"
	// ModeReport evaluates and reports; it never writes.
	ModeReport Mode = "report"
)

// Config is the validated configuration.
type Config struct {
	Benchmark     catalog.Benchmark
	Mode          Mode
	Profile       catalog.Profile
	Namespace     string
	TopicName     string
	TopicKMSKeyID string
	Subscriptions []plan.Endpoint
	Exclude       []string
	// HomeRegion is where the topic, filters and alarms go when no trail
	// decides it; WATCHKEEPER_HOME_REGION, else AWS_REGION.
	HomeRegion string
	// Regions limits evaluation; nil means every enabled region.
	Regions          []string
	TrailHealing     plan.HealingLevel
	TrailName        string
	TrailLogGroupARN string
	TrailLogsRoleARN string
	// SelfRoleARN is the function's own role, for the loop guard; "" turns
	// the guard off (the handler logs a warning).
	SelfRoleARN string
	// Notify publishes run summaries to the topic.
	Notify   bool
	LogLevel slog.Level
}

// PlanOptions returns the planner options this configuration describes.
// The handler puts them into engine.Options with Regions, Apply and the
// deadline reserve; the package stays free of the engine's AWS imports.
func (c Config) PlanOptions() plan.Options {
	return plan.Options{
		Benchmark:        c.Benchmark,
		Profile:          c.Profile,
		HomeRegion:       c.HomeRegion,
		Namespace:        c.Namespace,
		TopicName:        c.TopicName,
		TopicKMSKeyID:    c.TopicKMSKeyID,
		Subscriptions:    append([]plan.Endpoint(nil), c.Subscriptions...),
		Exclude:          append([]string(nil), c.Exclude...),
		TrailHealing:     c.TrailHealing,
		TrailName:        c.TrailName,
		TrailLogGroupARN: c.TrailLogGroupARN,
		TrailLogsRoleARN: c.TrailLogsRoleARN,
	}
}

// LogValue logs the configuration without subscription endpoints (e-mail
// addresses and phone numbers are personal data).
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("benchmark", c.Benchmark.ID),
		slog.String("mode", string(c.Mode)),
		slog.String("profile", string(c.Profile)),
		slog.String("homeRegion", c.HomeRegion),
		slog.Int("regions", len(c.Regions)),
		slog.String("topic", c.TopicName),
		slog.Int("subscriptions", len(c.Subscriptions)),
		slog.Any("exclude", c.Exclude),
		slog.String("trailHealing", string(c.TrailHealing)),
		slog.Bool("loopGuard", c.SelfRoleARN != ""),
		slog.Bool("notify", c.Notify),
	)
}

// VarError is one problem with one variable.
type VarError struct {
	Var     string
	Problem string
}

func (e *VarError) Error() string { return e.Var + ": " + e.Problem }

// FromEnv reads and validates the configuration. getenv is os.Getenv in
// production. The error, if any, joins one *VarError per problem.
func FromEnv(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{}

	if id, ok := p.get(EnvBenchmark, catalog.DefaultBenchmark); ok {
		b, err := catalog.Lookup(id)
		if err != nil {
			p.fail(EnvBenchmark, "%v", err)
		}
		c.Benchmark = b
	}
	if m, ok := p.get(EnvMode, string(ModeApply)); ok {
		switch Mode(m) {
		case ModeApply, ModeReport:
			c.Mode = Mode(m)
		default:
			p.fail(EnvMode, "%q is not a mode (allowed: apply, report)", clip(m))
		}
	}
	if s, ok := p.get(EnvPatternProfile, string(catalog.ProfileBenchmark)); ok {
		prof, err := catalog.ParseProfile(s)
		if err != nil {
			p.fail(EnvPatternProfile, "%v", err)
		}
		c.Profile = prof
	}
	if s, ok := p.get(EnvNamespace, plan.DefaultNamespace); ok {
		if err := CheckNamespace(s); err != nil {
			p.fail(EnvNamespace, "%v", err)
		}
		c.Namespace = s
	}
	if s, ok := p.get(EnvTopicName, plan.DefaultNamePrefix+plan.DefaultTopicSuffix); ok {
		if err := CheckTopicName(s); err != nil {
			p.fail(EnvTopicName, "%v", err)
		}
		c.TopicName = s
	}
	if s, ok := p.get(EnvTopicKMSKey, ""); ok && s != "" {
		if err := CheckKMSKey(s); err != nil {
			p.fail(EnvTopicKMSKey, "%v", err)
		}
		c.TopicKMSKeyID = s
	}
	if s, ok := p.get(EnvSubscriptions, ""); ok {
		c.Subscriptions = p.subscriptions(s)
	}
	if s, ok := p.get(EnvExclude, ""); ok {
		c.Exclude = p.exclude(s, c.Benchmark)
	}
	home, _ := p.get(EnvAWSRegion, "")
	if s, ok := p.get(EnvHomeRegion, home); ok {
		switch {
		case s == "":
			p.fail(EnvHomeRegion, "not set and %s is empty (want a region name such as us-east-1)", EnvAWSRegion)
		case !trigger.IsRegionName(s):
			p.fail(EnvHomeRegion, "%q is not a region name (e.g. us-east-1)", clip(s))
		}
		c.HomeRegion = s
	}
	if s, ok := p.get(EnvRegions, ""); ok {
		c.Regions = p.regions(s)
	}
	if s, ok := p.get(EnvTrailHealing, string(plan.HealSafe)); ok {
		lvl, err := plan.ParseHealingLevel(s)
		if err != nil {
			p.fail(EnvTrailHealing, "%v", err)
		}
		c.TrailHealing = lvl
	}
	if s, ok := p.get(EnvTrailName, ""); ok && s != "" {
		if err := CheckTrailName(s); err != nil {
			p.fail(EnvTrailName, "%v", err)
		}
		c.TrailName = s
	}
	if s, ok := p.get(EnvTrailLogGroupARN, ""); ok && s != "" {
		if err := CheckLogGroupARN(s); err != nil {
			p.fail(EnvTrailLogGroupARN, "%v", err)
		}
		c.TrailLogGroupARN = s
	}
	if s, ok := p.get(EnvTrailLogsRoleARN, ""); ok && s != "" {
		if err := CheckRoleARN(s); err != nil {
			p.fail(EnvTrailLogsRoleARN, "%v", err)
		}
		c.TrailLogsRoleARN = s
	}
	if (c.TrailLogGroupARN == "") != (c.TrailLogsRoleARN == "") {
		p.fail(EnvTrailLogGroupARN, "%s and %s must be set together (CloudTrail needs both to deliver to CloudWatch Logs)", EnvTrailLogGroupARN, EnvTrailLogsRoleARN)
	}
	if s, ok := p.get(EnvSelfRoleARN, ""); ok && s != "" {
		if !isRoleARN(s) {
			p.fail(EnvSelfRoleARN, "%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", clip(s))
		}
		c.SelfRoleARN = s
	}
	if s, ok := p.get(EnvNotify, "true"); ok {
		switch strings.ToLower(s) {
		case "true":
			c.Notify = true
		case "false":
		default:
			p.fail(EnvNotify, "%q is not allowed (allowed: true, false)", clip(s))
		}
	}
	if s, ok := p.get(EnvLogLevel, "INFO"); ok {
		switch strings.ToUpper(s) {
		case "DEBUG":
			c.LogLevel = slog.LevelDebug
		case "INFO":
			c.LogLevel = slog.LevelInfo
		case "WARN", "WARNING":
			c.LogLevel = slog.LevelWarn
		case "ERROR":
			c.LogLevel = slog.LevelError
		default:
			p.fail(EnvLogLevel, "%q is not a level (allowed: DEBUG, INFO, WARN, ERROR)", clip(s))
		}
	}
	if len(p.errs) > 0 {
		return Config{}, errors.Join(p.errs...)
	}
	return c, nil
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(v, format string, args ...any) {
	p.errs = append(p.errs, &VarError{Var: v, Problem: fmt.Sprintf(format, args...)})
}

// get returns the trimmed value of v, or def when unset or blank. ok is
// false when the value is unusable (too long, control characters, invalid
// UTF-8); the problem has been recorded.
func (p *parser) get(v, def string) (string, bool) {
	s := strings.TrimSpace(p.getenv(v))
	if s == "" {
		return def, true
	}
	switch {
	case len(s) > MaxValueBytes:
		p.fail(v, "value is %d bytes; at most %d allowed", len(s), MaxValueBytes)
		return "", false
	case !utf8.ValidString(s):
		p.fail(v, "value is not valid UTF-8")
		return "", false
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		p.fail(v, "value contains control characters")
		return "", false
	}
	return s, true
}

// list splits a comma list, dropping empty items ("a,,b," is a, b).
func list(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Protocols are the SNS subscription protocols Watchkeeper accepts (SNS
// Subscribe API reference, "Protocol").
var Protocols = []string{"application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs"}

func (p *parser) subscriptions(s string) []plan.Endpoint {
	items := list(s)
	if len(items) > MaxSubscriptions {
		p.fail(EnvSubscriptions, "%d subscriptions; at most %d allowed", len(items), MaxSubscriptions)
		return nil
	}
	var out []plan.Endpoint
	seen := map[plan.Endpoint]bool{}
	for _, item := range items {
		proto, endpoint, ok := strings.Cut(item, ":")
		proto = strings.ToLower(strings.TrimSpace(proto))
		endpoint = strings.TrimSpace(endpoint)
		if !ok || endpoint == "" {
			p.fail(EnvSubscriptions, "%q is not PROTOCOL:ENDPOINT (e.g. email:sec@example.com; protocols: %s)", clip(item), strings.Join(Protocols, ", "))
			continue
		}
		if problem := checkEndpoint(proto, endpoint); problem != "" {
			p.fail(EnvSubscriptions, "%q: %s", clip(item), problem)
			continue
		}
		e := plan.Endpoint{Protocol: proto, Endpoint: endpoint}
		if seen[e] {
			p.fail(EnvSubscriptions, "%q is listed twice", clip(item))
			continue
		}
		seen[e] = true
		out = append(out, e)
	}
	return out
}

var (
	emailRE     = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$`)
	smsRE       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	trailNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)
	namespaceRE = regexp.MustCompile(`^[A-Za-z0-9 ._/#-]{1,255}$`)
	uuidRE      = regexp.MustCompile(`^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	aliasRE     = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	// logGroupRE is a log group name (CloudWatch Logs API reference,
	// CreateLogGroup, logGroupName pattern), with the ":*" CloudTrail's
	// CloudWatchLogsLogGroupArn and CloudFormation's Arn attribute carry.
	logGroupRE = regexp.MustCompile(`^[A-Za-z0-9._/#-]{1,512}(:\*)?$`)
	// roleRE is an IAM role's path and name (IAM API reference, Role: path
	// of printable ASCII without spaces, name of [\w+=,.@-]).
	roleRE = regexp.MustCompile(`^([!-~]*/)?[A-Za-z0-9_+=,.@-]{1,64}$`)
)

// CheckSubscription returns an error saying why endpoint is not plausible
// for the SNS protocol proto, or nil. It applies the rules FromEnv applies
// to WATCHKEEPER_SUBSCRIPTIONS, so the CLI's --subscribe accepts the same.
func CheckSubscription(proto, endpoint string) error {
	if p := checkEndpoint(proto, endpoint); p != "" {
		return errors.New(p)
	}
	return nil
}

// checkEndpoint returns "" when endpoint is plausible for proto.
func checkEndpoint(proto, endpoint string) string {
	switch proto {
	case "email", "email-json":
		if len(endpoint) > 254 || !emailRE.MatchString(endpoint) {
			return "not an e-mail address"
		}
	case "sms":
		if !smsRE.MatchString(endpoint) {
			return "not an E.164 phone number (e.g. +14155550100)"
		}
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != proto || u.Host == "" || u.User != nil {
			return fmt.Sprintf("not an %s:// URL with a host (and no credentials)", proto)
		}
	case "sqs":
		if !isARN(endpoint, "sqs", "") {
			return "not an SQS queue ARN"
		}
	case "lambda":
		if !isARN(endpoint, "lambda", "function:") {
			return "not a Lambda function ARN"
		}
	case "firehose":
		if !isARN(endpoint, "firehose", "deliverystream/") {
			return "not a Firehose delivery stream ARN"
		}
	case "application":
		if !isARN(endpoint, "sns", "endpoint/") {
			return "not an SNS platform endpoint ARN"
		}
	default:
		return fmt.Sprintf("unknown protocol %q (allowed: %s)", clip(proto), strings.Join(Protocols, ", "))
	}
	return ""
}

func (p *parser) exclude(s string, b catalog.Benchmark) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range list(s) {
		if seen[id] {
			continue
		}
		seen[id] = true
		if b.ID != "" {
			if _, ok := b.Control(id); !ok {
				ids := make([]string, 0, len(b.Controls))
				for _, c := range b.Controls {
					ids = append(ids, c.ID)
				}
				p.fail(EnvExclude, "%q is not a control of %s (controls: %s)", clip(id), b.ID, strings.Join(ids, ", "))
				continue
			}
		}
		out = append(out, id)
	}
	return out
}

func (p *parser) regions(s string) []string {
	items := list(s)
	if len(items) > MaxRegions {
		p.fail(EnvRegions, "%d regions; at most %d allowed", len(items), MaxRegions)
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range items {
		if !trigger.IsRegionName(r) {
			p.fail(EnvRegions, "%q is not a region name (e.g. us-east-1)", clip(r))
			continue
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// The Check functions apply the rules FromEnv applies to the corresponding
// variables, so the CLI's flags accept exactly what the Lambda accepts. Each
// error quotes the (clipped) value and says what is allowed.

// CheckNamespace reports whether s is a usable CloudWatch metric namespace.
func CheckNamespace(s string) error {
	if !namespaceRE.MatchString(s) {
		return fmt.Errorf("%q is not a metric namespace (1-255 letters, digits, spaces and . _ / # -)", clip(s))
	}
	if strings.HasPrefix(s, "AWS/") {
		return fmt.Errorf("%q is reserved for AWS (namespaces starting with AWS/)", clip(s))
	}
	return nil
}

// CheckTopicName reports whether s is an SNS topic name.
func CheckTopicName(s string) error {
	if !topicNameRE.MatchString(s) {
		return fmt.Errorf("%q is not an SNS topic name (1-256 letters, digits, '-' or '_')", clip(s))
	}
	return nil
}

// CheckKMSKey reports whether s is a KMS key id, key ARN, alias or alias ARN.
func CheckKMSKey(s string) error {
	if !isKMSKey(s) {
		return fmt.Errorf("%q is not a KMS key id, key ARN, alias/NAME or alias ARN", clip(s))
	}
	return nil
}

// CheckTrailName reports whether s is a CloudTrail trail name or trail ARN.
func CheckTrailName(s string) error {
	if !trailNameRE.MatchString(s) && !isARN(s, "cloudtrail", "trail/") {
		return fmt.Errorf("%q is not a trail name (3-128 letters, digits, '.', '-', '_') or trail ARN", clip(s))
	}
	return nil
}

// CheckLogGroupARN reports whether s is a CloudWatch Logs log group ARN.
func CheckLogGroupARN(s string) error {
	if !isARN(s, "logs", "log-group:") || !logGroupRE.MatchString(s[strings.Index(s, ":log-group:")+len(":log-group:"):]) {
		return fmt.Errorf("%q is not a CloudWatch Logs log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)", clip(s))
	}
	return nil
}

// CheckRoleARN reports whether s is an IAM role ARN.
func CheckRoleARN(s string) error {
	if !isRoleARN(s) {
		return fmt.Errorf("%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", clip(s))
	}
	return nil
}

// isARN reports whether s is "arn:PARTITION:service:REGION:ACCOUNT:RESOURCE"
// with RESOURCE starting with prefix.
func isARN(s, service, prefix string) bool {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != service {
		return false
	}
	if !trigger.IsRegionName(parts[3]) || !accountRE.MatchString(parts[4]) {
		return false
	}
	res := parts[5]
	return len(res) > len(prefix) && strings.HasPrefix(res, prefix) && !strings.ContainsAny(res, " \t")
}

// isRoleARN reports whether s is "arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME".
func isRoleARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "iam" || parts[3] != "" {
		return false
	}
	name, ok := strings.CutPrefix(parts[5], "role/")
	return accountRE.MatchString(parts[4]) && ok && roleRE.MatchString(name)
}

func isKMSKey(s string) bool {
	if uuidRE.MatchString(s) || aliasRE.MatchString(s) {
		return true
	}
	return isARN(s, "kms", "key/") || isARN(s, "kms", "alias/")
}

// clip shortens an untrusted value before it is quoted in an error.
func clip(s string) string { return truncate.String(s, 80) }
