package config_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaults(t *testing.T) {
	c, err := config.FromEnv(env(map[string]string{"AWS_REGION": "eu-west-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Benchmark.ID != catalog.DefaultBenchmark || c.Mode != config.ModeApply || c.Profile != catalog.ProfileBenchmark ||
		c.Namespace != "CISBenchmark" || c.TopicName != "watchkeeper-cis-alarms" || c.HomeRegion != "eu-west-1" ||
		c.TrailHealing != plan.HealSafe || !c.Notify || c.LogLevel != slog.LevelInfo || c.Regions != nil ||
		c.Subscriptions != nil || c.Exclude != nil || c.SelfRoleARN != "" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestFromEnvFull(t *testing.T) {
	c, err := config.FromEnv(env(map[string]string{
		"AWS_REGION":                      "eu-west-1",
		"WATCHKEEPER_BENCHMARK":           "cis-aws-v3.0.0",
		"WATCHKEEPER_MODE":                "report",
		"WATCHKEEPER_PATTERN_PROFILE":     "securityhub",
		"WATCHKEEPER_NAMESPACE":           "Security/CIS",
		"WATCHKEEPER_TOPIC_NAME":          "sec-alarms",
		"WATCHKEEPER_TOPIC_KMS_KEY":       "alias/sec-topics",
		"WATCHKEEPER_SUBSCRIPTIONS":       " email:sec@example.com , https:https://hooks.example.com/cis,sqs:arn:aws:sqs:eu-west-1:123456789012:alerts ",
		"WATCHKEEPER_EXCLUDE":             "4.14, 4.15,4.15",
		"WATCHKEEPER_HOME_REGION":         "us-east-1",
		"WATCHKEEPER_REGIONS":             "us-east-1,eu-west-1,,",
		"WATCHKEEPER_TRAIL_HEALING":       "full",
		"WATCHKEEPER_TRAIL_NAME":          "org-trail",
		"WATCHKEEPER_TRAIL_LOG_GROUP_ARN": "arn:aws:logs:us-east-1:123456789012:log-group:aws-cloudtrail-logs",
		"WATCHKEEPER_TRAIL_LOGS_ROLE_ARN": "arn:aws:iam::123456789012:role/service-role/cloudtrail-to-logs",
		"WATCHKEEPER_SELF_ROLE_ARN":       "arn:aws:iam::123456789012:role/watchkeeper",
		"WATCHKEEPER_CENTRAL_ROLE_ARN":    "arn:aws:iam::999988887777:role/watchkeeper-central-read",
		"WATCHKEEPER_NOTIFY":              "FALSE",
		"LOG_LEVEL":                       "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := plan.Options{
		Benchmark: catalog.Default(), Profile: catalog.ProfileSecurityHub, HomeRegion: "us-east-1", Namespace: "Security/CIS",
		TopicName: "sec-alarms", TopicKMSKeyID: "alias/sec-topics",
		Subscriptions: []plan.Endpoint{{Protocol: "email", Endpoint: "sec@example.com"}, {Protocol: "https", Endpoint: "https://hooks.example.com/cis"},
			{Protocol: "sqs", Endpoint: "arn:aws:sqs:eu-west-1:123456789012:alerts"}},
		Exclude: []string{"4.14", "4.15"}, TrailHealing: plan.HealFull, TrailName: "org-trail",
		TrailLogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:aws-cloudtrail-logs",
		TrailLogsRoleARN: "arn:aws:iam::123456789012:role/service-role/cloudtrail-to-logs",
	}
	if diff := cmp.Diff(want, c.PlanOptions()); diff != "" {
		t.Errorf("PlanOptions (-want +got):\n%s", diff)
	}
	if c.Mode != config.ModeReport || c.Notify || c.LogLevel != slog.LevelDebug ||
		c.SelfRoleARN != "arn:aws:iam::123456789012:role/watchkeeper" ||
		c.CentralRoleARN != "arn:aws:iam::999988887777:role/watchkeeper-central-read" || !cmp.Equal(c.Regions, []string{"us-east-1", "eu-west-1"}) {
		t.Errorf("config: %+v", c)
	}
	// LogValue must not leak subscription endpoints (personal data).
	if s := c.LogValue().String(); strings.Contains(s, "sec@example.com") || !strings.Contains(s, "subscriptions=3") {
		t.Errorf("LogValue = %s", s)
	}
}

func TestFromEnvRejects(t *testing.T) {
	base := map[string]string{"AWS_REGION": "us-east-1"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		vars []string // the variables named, in order
		want []string // substrings of the message
	}{
		{"unknown benchmark", map[string]string{"WATCHKEEPER_BENCHMARK": "cis-aws-v9"}, []string{"WATCHKEEPER_BENCHMARK"}, []string{"cis-aws-v9", "supported:", "cis-aws-v3.0.0"}},
		{"bad mode", map[string]string{"WATCHKEEPER_MODE": "destroy"}, []string{"WATCHKEEPER_MODE"}, []string{"allowed: apply, report"}},
		{"bad profile", map[string]string{"WATCHKEEPER_PATTERN_PROFILE": "cis"}, []string{"WATCHKEEPER_PATTERN_PROFILE"}, []string{"benchmark, securityhub"}},
		{"bad healing", map[string]string{"WATCHKEEPER_TRAIL_HEALING": "all"}, []string{"WATCHKEEPER_TRAIL_HEALING"}, []string{"none, safe, full"}},
		{"AWS namespace", map[string]string{"WATCHKEEPER_NAMESPACE": "AWS/Logs"}, []string{"WATCHKEEPER_NAMESPACE"}, []string{"reserved"}},
		{"namespace with wildcard", map[string]string{"WATCHKEEPER_NAMESPACE": "CIS*"}, []string{"WATCHKEEPER_NAMESPACE"}, []string{"metric namespace"}},
		{"topic with quote", map[string]string{"WATCHKEEPER_TOPIC_NAME": `alarms"; rm -rf`}, []string{"WATCHKEEPER_TOPIC_NAME"}, []string{"SNS topic name"}},
		{"unicode topic", map[string]string{"WATCHKEEPER_TOPIC_NAME": "alarmes-sécurité"}, []string{"WATCHKEEPER_TOPIC_NAME"}, []string{"SNS topic name"}},
		{"bad kms key", map[string]string{"WATCHKEEPER_TOPIC_KMS_KEY": "my key"}, []string{"WATCHKEEPER_TOPIC_KMS_KEY"}, []string{"KMS key"}},
		{"subscription without protocol", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "sec@example.com"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"PROTOCOL:ENDPOINT", "email-json"}},
		{"unknown protocol", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "pager:123"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{`unknown protocol "pager"`, "allowed:"}},
		{"bad email", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "email:not-an-address"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"e-mail"}},
		{"http for https", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "https:http://example.com/"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"https:// URL"}},
		{"url with credentials", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "https:https://u:p@example.com/"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"no credentials"}},
		{"bad sms", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "sms:555-0100"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"E.164"}},
		{"sqs not an arn", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "sqs:https://sqs.us-east-1.amazonaws.com/123456789012/q"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"SQS queue ARN"}},
		{"duplicate subscription", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "email:a@example.com,EMAIL:a@example.com"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"twice"}},
		{"too many subscriptions", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": strings.Repeat("email:a@example.com,", 21)}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{"at most 20"}},
		{"unknown exclude", map[string]string{"WATCHKEEPER_EXCLUDE": "4.99"}, []string{"WATCHKEEPER_EXCLUDE"}, []string{`"4.99"`, "controls: 4.1,"}},
		{"no region at all", map[string]string{"AWS_REGION": ""}, []string{"WATCHKEEPER_HOME_REGION"}, []string{"AWS_REGION"}},
		{"bad home region", map[string]string{"WATCHKEEPER_HOME_REGION": "Virginia"}, []string{"WATCHKEEPER_HOME_REGION"}, []string{"Region name"}},
		{"bad regions", map[string]string{"WATCHKEEPER_REGIONS": "us-east-1,moon-base-1a"}, []string{"WATCHKEEPER_REGIONS"}, []string{"moon-base-1a"}},
		{"duplicate region", map[string]string{"WATCHKEEPER_REGIONS": "us-east-1,eu-west-1,us-east-1"}, []string{"WATCHKEEPER_REGIONS"}, []string{`regions: "us-east-1" is listed twice`}},
		{"unknown protocol in capitals", map[string]string{"WATCHKEEPER_SUBSCRIPTIONS": "PAGER:123"}, []string{"WATCHKEEPER_SUBSCRIPTIONS"}, []string{`unknown protocol "pager"`}},
		{"too many regions", map[string]string{"WATCHKEEPER_REGIONS": strings.Repeat("us-east-1,", 65)}, []string{"WATCHKEEPER_REGIONS"}, []string{"at most 64"}},
		{"bad trail name", map[string]string{"WATCHKEEPER_TRAIL_NAME": "a b"}, []string{"WATCHKEEPER_TRAIL_NAME"}, []string{"trail name"}},
		{"log group without role", map[string]string{"WATCHKEEPER_TRAIL_LOG_GROUP_ARN": "arn:aws:logs:us-east-1:123456789012:log-group:x"}, []string{"WATCHKEEPER_TRAIL_LOG_GROUP_ARN"}, []string{"set together"}},
		{"bad self role", map[string]string{"WATCHKEEPER_SELF_ROLE_ARN": "arn:aws:sts::123456789012:assumed-role/wk/s"}, []string{"WATCHKEEPER_SELF_ROLE_ARN"}, []string{"IAM role ARN"}},
		{"bad central role", map[string]string{"WATCHKEEPER_CENTRAL_ROLE_ARN": "arn:aws:iam::999988887777:user/u"}, []string{"WATCHKEEPER_CENTRAL_ROLE_ARN"}, []string{"IAM role ARN"}},
		{"bad notify", map[string]string{"WATCHKEEPER_NOTIFY": "yes"}, []string{"WATCHKEEPER_NOTIFY"}, []string{"allowed: true, false"}},
		{"bad findings", map[string]string{"WATCHKEEPER_FINDINGS": "splunk"}, []string{"WATCHKEEPER_FINDINGS"}, []string{"allowed: securityhub, none"}},
		{"bad log level", map[string]string{"LOG_LEVEL": "TRACE"}, []string{"LOG_LEVEL"}, []string{"DEBUG, INFO, WARN, ERROR"}},
		{"huge value", map[string]string{"WATCHKEEPER_NAMESPACE": strings.Repeat("x", 5000)}, []string{"WATCHKEEPER_NAMESPACE"}, []string{"at most 4096"}},
		{"control characters", map[string]string{"WATCHKEEPER_MODE": "apply\x00report"}, []string{"WATCHKEEPER_MODE"}, []string{"control characters"}},
		{"invalid utf8", map[string]string{"WATCHKEEPER_TOPIC_NAME": "\xff\xfe"}, []string{"WATCHKEEPER_TOPIC_NAME"}, []string{"UTF-8"}},
		{"every problem at once", map[string]string{"WATCHKEEPER_MODE": "x", "WATCHKEEPER_NOTIFY": "x", "LOG_LEVEL": "x"},
			[]string{"WATCHKEEPER_MODE", "WATCHKEEPER_NOTIFY", "LOG_LEVEL"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tc.env {
				m[k] = v
			}
			_, err := config.FromEnv(env(m))
			if err == nil {
				t.Fatal("FromEnv accepted it")
			}
			var got []string
			for _, e := range unjoin(err) {
				var ve *config.FieldError
				if !errors.As(e, &ve) {
					t.Fatalf("%v (%T) is not a *FieldError", e, e)
				}
				got = append(got, ve.Field)
			}
			// Messages name the canonical field, not the variable.
			var want []string
			for _, v := range tc.vars {
				want = append(want, config.EnvField(v))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("variables named (-want +got):\n%s\nerror: %v", diff, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if len(err.Error()) > 2048 {
				t.Errorf("error is %d bytes; hostile values must be clipped", len(err.Error()))
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestVarsAreDocumented(t *testing.T) {
	// Every variable must reach FromEnv: poison each in turn and expect it named.
	for _, v := range config.Vars() {
		_, err := config.FromEnv(env(map[string]string{"AWS_REGION": "us-east-1", v: "\x01"}))
		var ve *config.FieldError
		if !errors.As(err, &ve) || ve.Field != config.EnvField(v) {
			t.Errorf("poisoned %s: got %v", v, err)
		}
	}
}

func FuzzFromEnv(f *testing.F) {
	f.Add("cis-aws-v3.0.0", "apply", "email:sec@example.com", "4.1,4.2", "us-east-1,eu-west-1", "safe", "arn:aws:iam::123456789012:role/wk")
	f.Add("", "report", "https:https://example.com/x,sms:+14155550100", "", "", "full", "")
	f.Add("x", "y", "z:", ",,,", "a-b-1,,", "none", "arn:aws:iam::123456789012:role/")
	f.Add("cis-aws-v1.2.0", "apply", "lambda:arn:aws:lambda:us-east-1:123456789012:function:f", "3.1", "us-gov-west-1", "safe", "arn:aws-cn:iam::123456789012:role/a/b/c")
	f.Fuzz(func(t *testing.T, bench, mode, subs, exclude, regions, healing, self string) {
		m := map[string]string{"AWS_REGION": "us-east-1", "WATCHKEEPER_BENCHMARK": bench, "WATCHKEEPER_MODE": mode,
			"WATCHKEEPER_SUBSCRIPTIONS": subs, "WATCHKEEPER_EXCLUDE": exclude, "WATCHKEEPER_REGIONS": regions,
			"WATCHKEEPER_TRAIL_HEALING": healing, "WATCHKEEPER_SELF_ROLE_ARN": self}
		c, err := config.FromEnv(env(m))
		if err != nil {
			for _, e := range unjoin(err) {
				var ve *config.FieldError
				if !errors.As(e, &ve) || ve.Field == "" || !strings.HasPrefix(e.Error(), ve.Field+": ") {
					t.Fatalf("error %v does not name a variable", e)
				}
			}
			return
		}
		// Accepted configuration is internally consistent.
		if c.Mode != config.ModeApply && c.Mode != config.ModeReport {
			t.Fatalf("mode %q", c.Mode)
		}
		if len(c.Subscriptions) > config.MaxSubscriptions || len(c.Regions) > config.MaxRegions {
			t.Fatal("limits exceeded")
		}
		for _, id := range c.Exclude {
			if _, ok := c.Benchmark.Control(id); !ok {
				t.Fatalf("excluded unknown control %q", id)
			}
		}
		for _, s := range c.Subscriptions {
			if s.Protocol == "" || s.Endpoint == "" || strings.ContainsAny(s.Endpoint, ", \t") {
				t.Fatalf("subscription %+v", s)
			}
		}
		if _, err := plan.ParseHealingLevel(string(c.TrailHealing)); err != nil {
			t.Fatal(err)
		}
	})
}
