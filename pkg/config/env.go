package config

import (
	"errors"
	"strings"
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
	EnvCentralRoleARN   = "WATCHKEEPER_CENTRAL_ROLE_ARN"
	EnvNotify           = "WATCHKEEPER_NOTIFY"
	EnvFindings         = "WATCHKEEPER_FINDINGS"
	EnvLogLevel         = "LOG_LEVEL"
	// EnvAWSRegion is the region Lambda runs in; the home region's default.
	EnvAWSRegion = "AWS_REGION"
)

// envFields maps each variable FromEnv reads to its canonical field.
var envFields = map[string]string{
	EnvBenchmark: FieldBenchmark, EnvMode: FieldMode, EnvPatternProfile: FieldPatternProfile,
	EnvNamespace: FieldNamespace, EnvTopicName: FieldTopicName, EnvTopicKMSKey: FieldTopicKMSKey,
	EnvSubscriptions: FieldSubscriptions, EnvExclude: FieldExclude, EnvHomeRegion: FieldHomeRegion,
	EnvRegions: FieldRegions, EnvTrailHealing: FieldTrailHealing, EnvTrailName: FieldTrailName,
	EnvTrailLogGroupARN: FieldTrailLogGroupARN, EnvTrailLogsRoleARN: FieldTrailLogsRoleARN,
	EnvSelfRoleARN: FieldSelfRoleARN, EnvCentralRoleARN: FieldCentralRoleARN, EnvNotify: FieldNotify, EnvFindings: FieldFindings, EnvLogLevel: FieldLogLevel,
	EnvAWSRegion: FieldHomeRegion,
}

// Vars lists every variable FromEnv reads (besides AWS_REGION), for
// documentation and the CDK app.
func Vars() []string {
	return []string{EnvBenchmark, EnvMode, EnvPatternProfile, EnvNamespace, EnvTopicName, EnvTopicKMSKey,
		EnvSubscriptions, EnvExclude, EnvHomeRegion, EnvRegions, EnvTrailHealing, EnvTrailName,
		EnvTrailLogGroupARN, EnvTrailLogsRoleARN, EnvSelfRoleARN, EnvCentralRoleARN, EnvNotify, EnvFindings, EnvLogLevel}
}

// EnvField returns the canonical field the variable v sets ("" if none).
func EnvField(v string) string { return envFields[v] }

// FromEnv is the Lambda's front end: it maps the variables onto an Input
// and builds it. getenv is os.Getenv in production. Comma lists are split
// with List. The home region is WATCHKEEPER_HOME_REGION, else AWS_REGION,
// and one of them must be set. The error, if any, joins one *FieldError
// per problem.
func FromEnv(getenv func(string) string) (Config, error) {
	in := Input{
		Benchmark:        getenv(EnvBenchmark),
		Mode:             getenv(EnvMode),
		PatternProfile:   getenv(EnvPatternProfile),
		Namespace:        getenv(EnvNamespace),
		TopicName:        getenv(EnvTopicName),
		TopicKMSKey:      getenv(EnvTopicKMSKey),
		Subscriptions:    envList(getenv(EnvSubscriptions)),
		Exclude:          envList(getenv(EnvExclude)),
		HomeRegion:       getenv(EnvHomeRegion),
		Regions:          envList(getenv(EnvRegions)),
		TrailHealing:     getenv(EnvTrailHealing),
		TrailName:        getenv(EnvTrailName),
		TrailLogGroupARN: getenv(EnvTrailLogGroupARN),
		TrailLogsRoleARN: getenv(EnvTrailLogsRoleARN),
		SelfRoleARN:      getenv(EnvSelfRoleARN),
		CentralRoleARN:   getenv(EnvCentralRoleARN),
		Notify:           getenv(EnvNotify),
		Findings:         getenv(EnvFindings),
		LogLevel:         getenv(EnvLogLevel),
	}
	if strings.TrimSpace(in.HomeRegion) == "" {
		in.HomeRegion = getenv(EnvAWSRegion)
	}
	c, err := Build(in)
	if strings.TrimSpace(in.HomeRegion) == "" {
		err = errors.Join(err, &FieldError{Field: FieldHomeRegion,
			Problem: EnvHomeRegion + " is not set and " + EnvAWSRegion + " is empty (want a Region name such as us-east-1)"})
	}
	if err != nil {
		return Config{}, err
	}
	return c, nil
}

// envList splits a comma list; a value too long to be a list is kept
// whole, so Build reports its length once instead of inspecting its items.
func envList(s string) []string {
	if len(s) > MaxValueBytes {
		return []string{s}
	}
	return List(s)
}
