package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEQuotesExitCodes: the exit codes are described once (exitHelp);
// the README quotes that description verbatim, so the two cannot drift.
func TestREADMEQuotesExitCodes(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```text\n"+exitHelp+"```") {
		t.Errorf("README.md does not quote exitHelp verbatim; paste it into the \"Exit codes\" block:\n%s", exitHelp)
	}
}
