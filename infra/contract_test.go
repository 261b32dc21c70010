package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/config"
)

// deployedValue stands in for what CloudFormation resolves an intrinsic in
// the function's environment to, so the environment can be fed to the
// Lambda's own parser.
func (f *fixture) deployedValue(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	ga, ok := v.(map[string]any)["Fn::GetAtt"].([]any)
	if !ok || len(ga) != 2 || ga[1] != "Arn" {
		t.Fatalf("unexpected intrinsic in the function environment: %v", v)
	}
	id := ga[0].(string)
	res := f.doc["Resources"].(map[string]any)[id].(map[string]any)
	switch res["Type"] {
	case "AWS::IAM::Role":
		name, _ := props(res)["RoleName"].(string)
		if name == "" {
			name = id
		}
		return "arn:aws:iam::" + testAccount + ":role/" + name
	case "AWS::KMS::Key":
		return "arn:aws:kms:" + testRegion + ":" + testAccount + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	case "AWS::Logs::LogGroup":
		return "arn:aws:logs:" + testRegion + ":" + testAccount + ":log-group:" + id + ":*"
	}
	t.Fatalf("GetAtt Arn of unexpected type %v", res["Type"])
	return ""
}

// The environment the stack sets is one the remediator accepts: every
// variable is one pkg/config reads, and config.FromEnv parses the whole set
// without error, for both shapes of the stack.
func TestFunctionEnvironmentParsesWithTheRemediatorsConfig(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		cfg     Config
	}{{"default", defaultTestConfig()}, {"trail", trailTestConfig()}} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			_, fn := f.only(t, "AWS::Lambda::Function")
			env := map[string]string{}
			for k, v := range props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any) {
				if !slices.Contains(config.Vars(), k) {
					t.Errorf("stack sets %s, which pkg/config does not read", k)
				}
				env[k] = f.deployedValue(t, v)
			}
			got, err := config.FromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("config.FromEnv rejects the deployed environment: %v\nenvironment: %v", err, env)
			}
			if string(got.Mode) != tc.cfg.Mode || !strings.EqualFold(got.Benchmark.ID, tc.cfg.Benchmark) {
				t.Errorf("parsed mode=%s benchmark=%s, want %s %s", got.Mode, got.Benchmark.ID, tc.cfg.Mode, tc.cfg.Benchmark)
			}
		})
	}
}

func TestEmailLimitMatchesTheRemediatorsSubscriptionLimit(t *testing.T) {
	if maxNotificationEmails != config.MaxSubscriptions {
		t.Errorf("maxNotificationEmails = %d, pkg/config MaxSubscriptions = %d", maxNotificationEmails, config.MaxSubscriptions)
	}
}
