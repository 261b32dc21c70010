// Package config is Watchkeeper's one configuration builder. Every front end
// (the Lambda's environment, the CLI's flags, the CDK app's context) maps
// its raw inputs onto an Input and calls Build, which applies the defaults
// and one rule per field, so the same bad value is rejected everywhere with
// the same message, naming the field by its canonical name (Field*
// constants; docs/contracts.md maps them to flags, variables and context
// keys).
//
// FromEnv is the Lambda's front end. It takes the lookup function instead
// of calling os.Getenv, so that only functions/ touches the process
// environment and tests pass maps. Every problem is reported, not just the
// first, and every message names the field and the values it allows: an
// operator fixes the whole configuration in one deployment.
//
// The package is pure: it imports no AWS SDK service package (only
// aws/arn), so it can be fuzzed and shared by the handler, the CLI and the
// CDK app.
package config

import (
	"log/slog"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// Limits on hostile or absurd configuration.
const (
	// MaxValueBytes bounds any one value (a list counts as its
	// comma-joined form). Lambda caps the whole environment at 4 KB, so a
	// longer value cannot come from a real deployment.
	MaxValueBytes = 4096
	// MaxSubscriptions bounds the subscriptions field.
	MaxSubscriptions = 20
	// MaxRegions bounds the regions field.
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

// Config is the validated configuration, built by Build (or FromEnv).
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
	// decides it; "" leaves it to the front end (the CLI's AWS
	// configuration region; FromEnv always sets it).
	HomeRegion string
	// Regions limits evaluation; nil means every enabled region.
	Regions      []string
	TrailHealing plan.HealingLevel
	// TrailName, if set, is the trail Watchkeeper targets and the only
	// trail it changes (plan.Options.TrailName); the CDK app scopes the
	// function's trail writes in IAM to the same trail.
	TrailName        string
	TrailLogGroupARN string
	TrailLogsRoleARN string
	// SelfRoleARN is the function's own role, for the loop guard; "" turns
	// the guard off (the handler logs a warning).
	SelfRoleARN string
	// CentralRoleARN, if set, is a read-only IAM role in the organization
	// trail owner's account: a member account assumes it (STS AssumeRole)
	// to judge the organization trail's chain itself instead of reporting
	// CENTRAL. Watchkeeper never writes through it.
	CentralRoleARN string
	// Notify publishes run summaries to the topic.
	Notify bool
	// Findings is where each run's verdicts go besides the report:
	// FindingsSecurityHub imports one ASFF finding per control into the
	// home Region's Security Hub (pkg/findings); FindingsNone does not.
	Findings Findings
	LogLevel slog.Level
}

// PlanOptions returns the planner options this configuration describes.
// Front ends put them into engine.Options with Regions, Apply and the
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
		slog.Bool("centralRole", c.CentralRoleARN != ""),
		slog.Bool("notify", c.Notify),
		slog.String("findings", string(c.Findings)),
	)
}
