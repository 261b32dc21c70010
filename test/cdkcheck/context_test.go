package cdkcheck_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Invalid context stops the app before anything is synthesized, with a
// message naming each bad key and the values it accepts, or for a
// misspelt key the one meant. The app is run the way the CLI runs it
// (cdk.json "app": go run ./infra/launcher; context in CDK_CONTEXT_JSON, as
// the CLI passes it, with its own keys), so this needs no npm.
func TestInvalidContextStopsSynthWithKeyAndAllowedValues(t *testing.T) {
	cmd := exec.Command("go", "run", "./infra/launcher")
	cmd.Dir = repoRoot(t)
	out := t.TempDir()
	cmd.Env = append(os.Environ(),
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"CDK_OUTDIR="+out,
		`CDK_CONTEXT_JSON={"mode":"fix","trailHealing":"everything","provisionTrail":"maybe","notificationEmail":"sec@example.com",`+
			`"aws:cdk:enable-path-metadata":true,"aws:cdk:bundling-stacks":["**"],"@aws-cdk/core:failSynthOnValidationErrors":false}`)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatalf("synth succeeded with invalid context; output:\n%s", stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{
		// The canonical field names and rules the CLI and the Lambda use
		// too (pkg/config.Build; test/config checks the three agree).
		`mode: "fix" is not a mode (allowed: apply, report)`,
		`trailHealing: unknown trail healing level "everything" (supported: none, safe, full; the CDK app also accepts auto)`,
		`provisionTrail: "maybe" is not allowed (allowed: true, false)`,
		// infra/contextkeys.go: the key and the nearest valid one.
		`notificationEmail: `, `"notificationEmails"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("output lacks %q:\n%s", want, msg)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("synth wrote %d files despite invalid context", len(entries))
	}
}
