package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog/catalogtest"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"default benchmark", nil, 0, []string{"cis-aws-v3.0.0", "4.7 cmk-disable-or-delete", "match/disable-key.json", "nearmiss/disable-key-from-other-source.json", "✓", " 0 mismatches"}},
		{"securityhub profile", []string{"--benchmark", "cis-aws-v1.2.0", "--pattern-profile", "securityhub"}, 0, []string{"3.2 console-signin-without-mfa", "only counts successful sign-ins", " 0 mismatches"}},
		{"all", []string{"--all"}, 0, []string{"cis-aws-v7.0.0   securityhub", "0 mismatches"}},
		{"unknown benchmark", []string{"--benchmark", "nope"}, 1, nil},
		{"unknown profile", []string{"--pattern-profile", "nope"}, 1, nil},
		{"missing testdata", []string{"--testdata", filepath.Join(t.TempDir(), "none")}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.wantCode, errb.String())
			}
			if tt.wantCode == 0 && strings.Contains(out.String(), "✗") {
				t.Errorf("output has a mismatch:\n%s", out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q", w)
				}
			}
		})
	}
}

// TestRunReportsMismatch: a fixture filed under the wrong directory makes
// the demo fail and mark the row.
func TestRunReportsMismatch(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(catalogtest.Dir(), "cmk-disable-or-delete", "match", "disable-key.json")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "cmk-disable-or-delete", "nearmiss")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "disable-key.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--testdata", dir}, {"--testdata", dir, "--all"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		if !strings.Contains(out.String(), "✗") || !strings.Contains(out.String(), "nearmiss/disable-key.json") {
			t.Errorf("%v: output does not flag the mismatch:\n%s", args, out.String())
		}
	}
}
