// Package cdkcheck checks the CDK app the way CI and a user meet it: the
// real CDK CLI (`npx cdk synth`, after `npm ci`) synthesizes the stack,
// cfn-lint validates the template, moto's EventBridge proves that the drift
// rule's event pattern selects exactly the events it should, and
// `cdk bootstrap` + `cdk deploy` run against moto_server (through
// test/deploylocal, `make deploy-local`, which knows what moto cannot do).
//
// The synth runs once per test binary (about a minute: it compiles the app
// and cross-compiles the Lambda). Set WATCHKEEPER_CDK_OUT to an existing
// cloud assembly directory to check that one instead.
package cdkcheck_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/test/cfn"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

const stackName = "Watchkeeper"

// cliEnv is added to the environment of every CDK CLI run. The jsii
// runtime prints a large banner on every synth under Node 20, which is past
// the end of jsii's support (2026-10-30); the variable takes a list of
// major versions to stay quiet about.
var cliEnv = []string{"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20", "CDK_DISABLE_CLI_TELEMETRY=true"}

var (
	synthOnce sync.Once
	synthDir  string
	synthErr  error
	// synthServer answers the CLI's STS call, so the stack is pinned to
	// moto's account and region and its ARNs are literal.
	synthServer *moto.Server
)

func TestMain(m *testing.M) {
	code := m.Run()
	if synthServer != nil {
		synthServer.Stop()
	}
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// cloudAssembly returns the directory of the synthesized cloud assembly,
// running `npx cdk synth` the first time.
func cloudAssembly(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("WATCHKEEPER_CDK_OUT"); dir != "" {
		return dir
	}
	synthOnce.Do(func() {
		root := repoRoot(t)
		if _, err := os.Stat(filepath.Join(root, "node_modules", ".bin", "cdk")); err != nil {
			synthErr = fmt.Errorf("the CDK CLI is not installed: run `npm ci` in %s first (%v)", root, err)
			return
		}
		dir, err := os.MkdirTemp("", "watchkeeper-cdkout-")
		if err != nil {
			synthErr = err
			return
		}
		synthDir = dir
		srv, err := moto.Launch(filepath.Join(dir, "moto.log"))
		if err != nil {
			synthErr = err
			return
		}
		synthServer = srv
		cmd := exec.Command("npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--no-version-reporting",
			"--output", filepath.Join(dir, "cdk.out"),
			"-c", "notificationEmails=sec@example.com",
			"-c", "provisionTrail=true",
			"-c", "trailHealing=full")
		cmd.Dir = root
		cmd.Env = append(moto.Env(os.Environ(), srv.URL, "us-east-1"), cliEnv...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			synthErr = fmt.Errorf("npx cdk synth: %v\n%s", err, out.String())
		}
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return filepath.Join(synthDir, "cdk.out")
}

func templatePath(t *testing.T) string {
	return filepath.Join(cloudAssembly(t), stackName+".template.json")
}

func loadTemplate(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(templatePath(t))
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse template: %v", err)
	}
	return doc
}

// driftPattern returns the drift rule's event pattern from the template,
// with the stack's own function and delivery role named as they would be
// deployed (ownNames).
func driftPattern(t *testing.T) map[string]any {
	t.Helper()
	return rulePattern(t, selfwatch.DriftRule)
}

// The physical names the tests give the stack's function and the managed
// trail's delivery role, whose names CloudFormation generates at deploy
// time (the patterns name them with Ref).
const (
	motoFunctionName     = "Watchkeeper-RemediatorF10C6561-AbCdEf"
	motoDeliveryRoleName = "Watchkeeper-TrailLogsRoleD1D2C5F1-GhIjKl"
)

// rulePattern returns the event pattern of the rule named name, with Refs
// to the function and to the trail's delivery role replaced by
// motoFunctionName and motoDeliveryRoleName.
func rulePattern(t *testing.T, name string) map[string]any {
	t.Helper()
	names := map[string]string{}
	var found []map[string]any
	for id, r := range loadTemplate(t)["Resources"].(map[string]any) {
		res := r.(map[string]any)
		switch {
		case res["Type"] == "AWS::Lambda::Function":
			names[id] = motoFunctionName
		case res["Type"] == "AWS::IAM::Role" && strings.HasPrefix(id, "TrailLogsRole"):
			names[id] = motoDeliveryRoleName
		case res["Type"] == "AWS::Events::Rule" && res["Properties"].(map[string]any)["Name"] == name:
			if p, ok := res["Properties"].(map[string]any)["EventPattern"].(map[string]any); ok {
				found = append(found, p)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("found %d rules named %s with an event pattern, want 1", len(found), name)
	}
	return cfn.ResolvePseudo(found[0], names).(map[string]any)
}

// motoPseudo are the values CloudFormation gives the pseudo parameters at
// deploy time in moto's account in us-east-1. Resolving them
// (cfn.ResolvePseudo) leaves any other intrinsic in place, which then fails
// the caller's "no intrinsics left" check.
var motoPseudo = map[string]string{"AWS::Partition": "aws", "AWS::AccountId": moto.Account, "AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com"}
