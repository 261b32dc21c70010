package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/watchkeeper/watchkeeper/pkg/config"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v, want nil", err)
	}
}

// Every invalid value names its key and what the key accepts.
func TestValidateNamesKeyAndAllowedValues(t *testing.T) {
	for _, tc := range []struct {
		name        string
		mutate      func(*Config)
		key         string
		wantAllowed []string
	}{
		{"mode", func(c *Config) { c.Mode = "fix" }, "mode", []string{"apply", "report"}},
		{"trailHealing", func(c *Config) { c.TrailHealing = "all" }, "trailHealing", []string{"auto", "none", "safe", "full"}},
		{"benchmark", func(c *Config) { c.Benchmark = "cis-aws-v9" }, "benchmark", []string{"cis-aws-v3.0.0"}},
		{"patternProfile", func(c *Config) { c.PatternProfile = "strict" }, "patternProfile", []string{"benchmark", "securityhub"}},
		{"schedule garbage", func(c *Config) { c.Schedule = "nightly" }, "schedule", []string{"rate(", "cron("}},
		{"schedule five-field cron", func(c *Config) { c.Schedule = "cron(0 3 * * ?)" }, "schedule", []string{"cron("}},
		{"schedule plural one", func(c *Config) { c.Schedule = "rate(1 hours)" }, "schedule", []string{"singular"}},
		{"schedule singular many", func(c *Config) { c.Schedule = "rate(2 day)" }, "schedule", []string{"plural"}},
		{"namespace reserved", func(c *Config) { c.Namespace = "AWS/Logs" }, "namespace", []string{"reserved for AWS"}},
		{"namespace with a colon", func(c *Config) { c.Namespace = "CIS:x" }, "namespace", []string{"metric namespace"}},
		{"topicName fifo", func(c *Config) { c.TopicName = "alarms.fifo" }, "topicName", []string{"SNS topic name"}},
		{"email", func(c *Config) { c.NotificationEmails = []string{"Sec <sec@example.com>"} }, "notificationEmails", []string{"sec@example.com"}},
		{"too many emails", func(c *Config) {
			for i := range maxNotificationEmails + 1 {
				c.NotificationEmails = append(c.NotificationEmails, fmt.Sprintf("sec%d@example.com", i))
			}
		}, "notificationEmails", []string{"at most 20"}},
		{"excluded control", func(c *Config) { c.ExcludedControls = []string{"9.99"} }, "excludedControls", []string{"4.1", "4.15"}},
		{"regions", func(c *Config) { c.Regions = []string{"us-east"} }, "regions", []string{"not an AWS Region name"}},
		{"duplicate region", func(c *Config) { c.Regions = []string{"us-east-1", "us-east-1"} }, "regions", []string{"listed twice"}},
		{"subscription protocol", func(c *Config) { c.Subscribe = []string{"pager:123"} }, "subscriptions", []string{"unknown protocol"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			// CDK-only keys fail with a *ContextError, shared ones with
			// pkg/config's *FieldError; both read "KEY: PROBLEM".
			var ce *ContextError
			var fe *config.FieldError
			switch {
			case errors.As(err, &ce):
				if ce.Key != tc.key {
					t.Errorf("error key = %q, want %q", ce.Key, tc.key)
				}
			case errors.As(err, &fe):
				if fe.Field != tc.key {
					t.Errorf("error field = %q, want %q", fe.Field, tc.key)
				}
			default:
				t.Fatalf("Validate() = %v, want a *ContextError or *config.FieldError", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.key+": ") {
				t.Errorf("error %q does not start with %q", msg, tc.key+": ")
			}
			for _, w := range tc.wantAllowed {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestValidateAcceptsValidSchedules(t *testing.T) {
	for _, s := range []string{"cron(0 3 * * ? *)", "rate(1 day)", "rate(12 hours)", "rate(30 minutes)", "cron(15 2 ? * MON-FRI *)"} {
		c := DefaultConfig()
		c.Schedule = s
		if err := c.Validate(); err != nil {
			t.Errorf("schedule %q: Validate() = %v, want nil", s, err)
		}
	}
}

// Context arrives as JSON from cdk.json and as strings from -c; both forms
// must parse to the same configuration.
func TestConfigFromContextAcceptsJSONAndStrings(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
		want func(*Config)
	}{
		{"empty means defaults", map[string]any{}, func(*Config) {}},
		{"cdk.json types", map[string]any{
			"notificationEmails": []any{"a@example.com", "b@example.com"},
			"excludedControls":   []any{"4.15"},
			"provisionTrail":     true,
			"mode":               "report",
		}, func(c *Config) {
			c.NotificationEmails = []string{"a@example.com", "b@example.com"}
			c.ExcludedControls = []string{"4.15"}
			c.ProvisionTrail = true
			c.Mode = "report"
		}},
		{"-c strings", map[string]any{
			"notificationEmails": "a@example.com, b@example.com",
			"excludedControls":   "4.15,",
			"provisionTrail":     "true",
			"schedule":           "rate(6 hours)",
			"topicName":          "watchkeeper-alerts",
		}, func(c *Config) {
			c.NotificationEmails = []string{"a@example.com", "b@example.com"}
			c.ExcludedControls = []string{"4.15"}
			c.ProvisionTrail = true
			c.Schedule = "rate(6 hours)"
			c.TopicName = "watchkeeper-alerts"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tc.ctx})
			got, err := ConfigFromContext(app.Node())
			if err != nil {
				t.Fatalf("ConfigFromContext: %v", err)
			}
			want := DefaultConfig()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromContextRejectsWrongTypesAndValues(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{
		"provisionTrail": "maybe",
		"mode":           "fix",
	}})
	_, err := ConfigFromContext(app.Node())
	if err == nil {
		t.Fatal("ConfigFromContext accepted provisionTrail=maybe")
	}
	for _, w := range []string{"provisionTrail: ", "true, false", "mode: ", "apply, report"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestSubscriptionsRendersContractForm(t *testing.T) {
	c := Config{NotificationEmails: []string{"a@example.com", "b@example.com"}}
	if got, want := c.Subscriptions(), "email:a@example.com,email:b@example.com"; got != want {
		t.Errorf("Subscriptions() = %q, want %q", got, want)
	}
}

// cdk.json's context defaults are the documented defaults, and its app
// command runs this package: the CLI and the tests see the same stack.
func TestCDKJSONDefaultsMatchDefaultConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse cdk.json: %v", err)
	}
	if !strings.HasSuffix(doc.App, "&& go run ./infra/launcher") { // which runs `go run ./infra`
		t.Errorf(`cdk.json app = %q, want it to run "go run ./infra/launcher"`, doc.App)
	}
	for _, key := range []string{ctxNotificationEmails, ctxBenchmark, ctxMode, ctxSchedule, ctxNamespace, ctxTopicName, ctxExcludedControls, ctxTrailHealing, ctxProvisionTrail} {
		if _, ok := doc.Context[key]; !ok {
			t.Errorf("cdk.json context lacks default for %q", key)
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &doc.Context})
	got, err := ConfigFromContext(app.Node())
	if err != nil {
		t.Fatalf("cdk.json context is invalid: %v", err)
	}
	if diff := cmp.Diff(DefaultConfig(), got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("cdk.json defaults differ from DefaultConfig (-want +got):\n%s", diff)
	}
}
