package cdkcheck_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Invalid context stops the app before anything is synthesized, with a
// message naming each bad key and the values it accepts. The app is run
// the way the CLI runs it (cdk.json "app": go run ./infra, context in
// CDK_CONTEXT_JSON), so this needs no npm.
func TestInvalidContextStopsSynthWithKeyAndAllowedValues(t *testing.T) {
	cmd := exec.Command("go", "run", "./infra")
	cmd.Dir = repoRoot(t)
	out := t.TempDir()
	cmd.Env = append(os.Environ(),
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1",
		"CDK_OUTDIR="+out,
		`CDK_CONTEXT_JSON={"mode":"fix","trailHealing":"everything","provisionTrail":"maybe"}`)
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
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("output lacks %q:\n%s", want, msg)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("synth wrote %d files despite invalid context", len(entries))
	}
}
