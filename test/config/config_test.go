// Package config_test feeds the same bad configuration through all three
// front ends (the CLI's flags, the Lambda's environment, the CDK app's
// context) and requires each to reject it with the same message, naming
// the field by its canonical name (docs/contracts.md, "Configuration").
//
// The CLI leg runs the real binary; the Lambda leg calls pkg/config's
// FromEnv, which is all the Lambda does with its environment; the CDK leg
// runs the real CDK app binary with the context the CDK CLI would pass
// (CDK_CONTEXT_JSON), which validates before it builds anything, and
// TestCDKSynthRejects proves the wiring once through `npx cdk synth`.
package config_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/test/harness"
)

var (
	root      string // module root
	cliBin    string // functions/remediator
	infraBin  string // the CDK app
	buildErrs []string
)

func TestMain(m *testing.M) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		panic(err)
	}
	root = filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "watchkeeper-configtest-")
	if err != nil {
		panic(err)
	}
	cliBin, infraBin = filepath.Join(dir, "remediator"), filepath.Join(dir, "infra")
	builds := map[string]string{cliBin: "./functions/remediator", infraBin: "./infra"}
	if pre := os.Getenv(harness.PrebuiltCLIEnv); pre != "" {
		cliBin = pre
		delete(builds, filepath.Join(dir, "remediator"))
	}
	for bin, pkg := range builds {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErrs = append(buildErrs, "go build "+pkg+": "+err.Error()+"\n"+string(out))
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// badInput is one bad value as each front end spells it.
type badInput struct {
	name string
	cli  []string          // flags after "audit"
	env  map[string]string // Lambda variables
	ctx  map[string]any    // CDK context
	want string            // the message every front end prints
}

var badInputs = []badInput{
	{"bad region name", []string{"--regions", "us-east"}, map[string]string{config.EnvRegions: "us-east"},
		map[string]any{"regions": "us-east"}, `regions: "us-east" is not an AWS Region name (e.g. us-east-1)`},
	{"duplicate region", []string{"--regions", "us-east-1,eu-west-1,us-east-1"}, map[string]string{config.EnvRegions: "us-east-1,eu-west-1,us-east-1"},
		map[string]any{"regions": []any{"us-east-1", "eu-west-1", "us-east-1"}}, `regions: "us-east-1" is listed twice`},
	{"unknown benchmark", []string{"--benchmark", "cis-aws-v9"}, map[string]string{config.EnvBenchmark: "cis-aws-v9"},
		map[string]any{"benchmark": "cis-aws-v9"}, `benchmark: unknown benchmark "cis-aws-v9" (supported: cis-aws-v1.2.0,`},
	{"unknown pattern profile", []string{"--pattern-profile", "strict"}, map[string]string{config.EnvPatternProfile: "strict"},
		map[string]any{"patternProfile": "strict"}, `patternProfile: unknown pattern profile "strict" (supported: benchmark, securityhub)`},
	{"bad trail-healing level", []string{"--trail-healing", "all"}, map[string]string{config.EnvTrailHealing: "all"},
		map[string]any{"trailHealing": "all"}, `trailHealing: unknown trail healing level "all" (supported: none, safe, full; the CDK app also accepts auto)`},
	{"unknown subscription protocol", []string{"--subscribe", "pager:123"}, map[string]string{config.EnvSubscriptions: "pager:123"},
		map[string]any{"subscriptions": "pager:123"}, `subscriptions: "pager:123": unknown protocol "pager" (allowed: application, email,`},
	{"bad subscription endpoint", []string{"--subscribe", "email:not-an-address"}, map[string]string{config.EnvSubscriptions: "email:not-an-address"},
		map[string]any{"subscriptions": []any{"email:not-an-address"}}, `subscriptions: "email:not-an-address": not an e-mail address`},
	{"same subscription in two cases", []string{"--subscribe", "email:a@example.com", "--subscribe", "EMAIL:a@example.com"},
		map[string]string{config.EnvSubscriptions: "email:a@example.com,EMAIL:a@example.com"},
		map[string]any{"notificationEmails": "a@example.com", "subscriptions": "EMAIL:a@example.com"}, `subscriptions: "EMAIL:a@example.com" is listed twice`},
	{"unknown exclude id", []string{"--exclude", "4.99"}, map[string]string{config.EnvExclude: "4.99"},
		map[string]any{"excludedControls": []any{"4.99"}}, `excludedControls: unknown control "4.99" in cis-aws-v3.0.0 (controls: 4.1, 4.2,`},
	{"bad namespace", []string{"--namespace", "AWS/Logs"}, map[string]string{config.EnvNamespace: "AWS/Logs"},
		map[string]any{"namespace": "AWS/Logs"}, `namespace: "AWS/Logs" is reserved for AWS (namespaces starting with AWS/)`},
	{"namespace with a colon", []string{"--namespace", "CIS:x"}, map[string]string{config.EnvNamespace: "CIS:x"},
		map[string]any{"namespace": "CIS:x"}, `namespace: "CIS:x" is not a metric namespace`},
	{"bad topic name", []string{"--topic-name", "alarms.fifo"}, map[string]string{config.EnvTopicName: "alarms.fifo"},
		map[string]any{"topicName": "alarms.fifo"}, `topicName: "alarms.fifo" is not an SNS topic name (1-256 letters, digits, '-' or '_')`},
	{"unknown findings destination", []string{"--findings", "splunk"}, map[string]string{config.EnvFindings: "splunk"},
		map[string]any{"findings": "splunk"}, `findings: "splunk" is not allowed (allowed: securityhub, none)`},
}

// hermeticEnv is an environment in which no AWS call can succeed: a
// front end that let a bad value through would fail with another message.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "WATCHKEEPER_") && !strings.HasPrefix(kv, "CDK_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x",
		"AWS_ENDPOINT_URL=http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED=true",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
}

func TestSameBadInputSameMessage(t *testing.T) {
	if len(buildErrs) > 0 {
		t.Fatal(strings.Join(buildErrs, "\n"))
	}
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t.Run("cli", func(t *testing.T) {
				cmd := exec.Command(cliBin, append([]string{"audit"}, tc.cli...)...)
				cmd.Env = hermeticEnv()
				requireRejected(t, cmd, tc.want)
			})
			t.Run("lambda", func(t *testing.T) {
				m := map[string]string{config.EnvAWSRegion: "us-east-1"}
				for k, v := range tc.env {
					m[k] = v
				}
				_, err := config.FromEnv(func(k string) string { return m[k] })
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("FromEnv error = %v\nwant it to contain %q", err, tc.want)
				}
			})
			t.Run("cdk", func(t *testing.T) {
				ctx, err := json.Marshal(tc.ctx)
				if err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(infraBin)
				cmd.Dir = root
				cmd.Env = append(hermeticEnv(), "CDK_CONTEXT_JSON="+string(ctx), "CDK_OUTDIR="+t.TempDir())
				requireRejected(t, cmd, tc.want)
			})
		})
	}
}

// requireRejected runs cmd and requires exit code 1 with want on stderr.
func requireRejected(t *testing.T, cmd *exec.Cmd, want string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("%s exited %d (%v), want 1; stderr:\n%s", filepath.Base(cmd.Path), code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("%s stderr does not contain %q:\n%s", filepath.Base(cmd.Path), want, stderr.String())
	}
}

// TestCDKSynthRejects runs the real `npx cdk synth` once with a bad value:
// the CDK CLI passes -c to the app, and the synth fails with the message.
func TestCDKSynthRejects(t *testing.T) {
	if _, err := os.Stat(filepath.Join(root, "node_modules", ".bin", "cdk")); err != nil {
		t.Skipf("the CDK CLI is not installed (run `npm ci` in %s): %v", root, err)
	}
	tc := badInputs[0]
	cmd := exec.Command("npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--no-version-reporting",
		"--output", t.TempDir(), "-c", "regions=us-east")
	cmd.Dir = root
	cmd.Env = append(hermeticEnv(), "CDK_DISABLE_CLI_TELEMETRY=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("cdk synth accepted regions=us-east:\n%s", out.String())
	}
	if !strings.Contains(out.String(), tc.want) {
		t.Errorf("cdk synth output does not contain %q:\n%s", tc.want, out.String())
	}
}
