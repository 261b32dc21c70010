package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/google/go-cmp/cmp"
)

// The keys ConfigFromContext reads today; the checks below only need a
// realistic set, not the current one.
var testValidKeys = []string{
	"benchmark", "excludedControls", "mode", "namespace", "notificationEmails", "patternProfile",
	"provisionTrail", "regions", "schedule", "subscriptions", "topicName", "trailHealing",
}

func TestUnknownContextKeys(t *testing.T) {
	type unknown struct{ Key, Suggestion string }
	for _, tc := range []struct {
		name    string
		context []string
		want    []unknown
	}{
		{"valid keys pass", testValidKeys, nil},
		{"CDK and CLI keys pass", []string{
			"@aws-cdk/core:failSynthOnValidationErrors", "@aws-cdk/aws-lambda:recognizeLayerVersion",
			"aws:cdk:enable-path-metadata", "aws:cdk:bundling-stacks", "aws-cdk:enableDiffNoFail",
			"acknowledged-issue-numbers", "cli-telemetry",
			"availability-zones:account=123456789012:region=us-east-1", "ssm:account=123456789012:parameterName=/x:region=us-east-1",
		}, nil},
		{"typo gets the nearest key", []string{"notificationEmail"}, []unknown{{"notificationEmail", "notificationEmails"}}},
		{"case differs", []string{"TopicName"}, []unknown{{"TopicName", "topicName"}}},
		{"transposed letters", []string{"shcedule"}, []unknown{{"shcedule", "schedule"}}},
		{"hyphenated form of a key", []string{"provision-trail"}, []unknown{{"provision-trail", "provisionTrail"}}},
		{"underscored typo of a key", []string{"trail_healin"}, []unknown{{"trail_healin", "trailHealing"}}},
		{"plain word far from every key", []string{"foo"}, []unknown{{"foo", ""}}},
		{"several, in key order", []string{"regoins", "mode", "emails"}, []unknown{{"emails", ""}, {"regoins", "regions"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []unknown
			for _, err := range unknownContextKeys(tc.context, testValidKeys) {
				var uk *UnknownKeyError
				if !errors.As(err, &uk) {
					t.Fatalf("error %v is not an *UnknownKeyError", err)
				}
				got = append(got, unknown{uk.Key, uk.Suggestion})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("unknownContextKeys(%q) (-want +got):\n%s", tc.context, diff)
			}
		})
	}
}

// With no close key, the error lists every valid key so the user can pick.
func TestUnknownKeyErrorWithoutSuggestionListsValidKeys(t *testing.T) {
	errs := unknownContextKeys([]string{"foo"}, testValidKeys)
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1", len(errs))
	}
	msg := errs[0].Error()
	if !strings.HasPrefix(msg, "foo: ") {
		t.Errorf("error %q does not start with the key", msg)
	}
	for _, k := range testValidKeys {
		if !strings.Contains(msg, k) {
			t.Errorf("error %q does not name valid key %q", msg, k)
		}
	}
}

// ConfigFromContext applies the check to the app's whole context: a typo
// fails synth, the CDK's own keys do not, and every key it reads counts as
// valid.
func TestConfigFromContextRejectsUnknownKeys(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{
		"notificationEmail":                    "sec@example.com",
		"mode":                                 "report",
		"aws:cdk:bundling-stacks":              []any{},
		"@aws-cdk/core:newStyleStackSynthesis": true,
		"acknowledged-issue-numbers":           []any{32775},
	}})
	_, err := ConfigFromContext(app.Node())
	var uk *UnknownKeyError
	if !errors.As(err, &uk) {
		t.Fatalf("ConfigFromContext = %v, want an *UnknownKeyError", err)
	}
	if uk.Key != "notificationEmail" || uk.Suggestion != "notificationEmails" {
		t.Errorf("unknown key %q, suggestion %q; want notificationEmail, notificationEmails", uk.Key, uk.Suggestion)
	}
	for _, k := range uk.Valid {
		if k == "notificationEmail" {
			t.Errorf("valid keys include the typo: %v", uk.Valid)
		}
	}
	if !strings.Contains(strings.Join(uk.Valid, " "), "mode") {
		t.Errorf("valid keys %v lack mode, which ConfigFromContext reads", uk.Valid)
	}
	if strings.Count(err.Error(), "unknown context key") != 1 {
		t.Errorf("want exactly one unknown key (the CDK's keys pass), got:\n%v", err)
	}
}

func TestConfigFromContextAcceptsEveryKeyItReads(t *testing.T) {
	ctx := map[string]any{}
	for _, k := range testValidKeys {
		ctx[k] = nil
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	_, err := ConfigFromContext(app.Node())
	var uk *UnknownKeyError
	if errors.As(err, &uk) {
		t.Errorf("ConfigFromContext rejected a key it reads: %v", err)
	}
}
