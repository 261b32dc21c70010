package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// controlJSON mirrors the documented JSON fields, decoded independently of
// the implementation's own struct.
type controlJSON struct {
	ID               string            `json:"id"`
	Key              string            `json:"key"`
	SecurityHubID    string            `json:"securityHubId"`
	Title            string            `json:"title"`
	FilterPattern    string            `json:"filterPattern"`
	MetricName       string            `json:"metricName"`
	Events           []catalog.Event   `json:"events"`
	AcceptedVariants []catalog.Variant `json:"acceptedVariants"`
	Warnings         []string          `json:"warnings"`
}

func runControlsJSON(t *testing.T, args ...string) []controlJSON {
	t.Helper()
	var out, errb bytes.Buffer
	code := runCLI(append([]string{"controls", "--output", "json"}, args...), &out, &errb)
	if code != exitCompliant {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("stderr = %q, want empty", errb.String())
	}
	var got []controlJSON
	var raw []map[string]any
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out.String())
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for i, m := range raw {
		for _, k := range []string{"id", "key", "securityHubId", "title", "filterPattern", "metricName", "events", "acceptedVariants", "warnings"} {
			if _, ok := m[k]; !ok {
				t.Errorf("control %d lacks field %q", i, k)
			}
		}
	}
	return got
}

func TestControlsJSON(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		benchmark string
		profile   catalog.Profile
	}{
		{"default benchmark", nil, "cis-aws-v3.0.0", catalog.ProfileBenchmark},
		{"v1.2.0", []string{"--benchmark", "cis-aws-v1.2.0"}, "cis-aws-v1.2.0", catalog.ProfileBenchmark},
		{"v1.4.0 securityhub", []string{"--benchmark", "cis-aws-v1.4.0", "--pattern-profile", "securityhub"}, "cis-aws-v1.4.0", catalog.ProfileSecurityHub},
		{"v7.0.0 equals form", []string{"--benchmark=cis-aws-v7.0.0"}, "cis-aws-v7.0.0", catalog.ProfileBenchmark},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runControlsJSON(t, tt.args...)
			b, err := catalog.Lookup(tt.benchmark)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(b.Controls) {
				t.Fatalf("%d controls, want %d", len(got), len(b.Controls))
			}
			for i, c := range b.Controls {
				g := got[i]
				if g.ID != c.ID || g.Key != c.Key || g.SecurityHubID != c.SecurityHubID || g.Title != c.Title || g.MetricName != c.MetricName {
					t.Errorf("control %d = %+v, want %s %s %s %q %s", i, g, c.ID, c.Key, c.SecurityHubID, c.Title, c.MetricName)
				}
				if g.FilterPattern != c.PatternFor(tt.profile) {
					t.Errorf("%s filterPattern = %q, want the %s pattern %q", c.ID, g.FilterPattern, tt.profile, c.PatternFor(tt.profile))
				}
				if len(g.AcceptedVariants) != len(c.Accepted) || len(g.Events) != len(c.Events) || len(g.Warnings) != len(c.Warnings) {
					t.Errorf("%s: lists differ from the catalog", c.ID)
				}
			}
		})
	}
}

// TestControlsJSONShowsWarnings: the v1.4.0 4.1 control must carry its
// warning and write the grouped form, not the literal text.
func TestControlsJSONShowsWarnings(t *testing.T) {
	got := runControlsJSON(t, "--benchmark", "cis-aws-v1.4.0")
	if got[0].ID != "4.1" || len(got[0].Warnings) == 0 {
		t.Fatalf("4.1 = %+v, want warnings", got[0])
	}
	if strings.Contains(got[0].FilterPattern, `|| ($.sourceIPAddress`) {
		t.Errorf("4.1 writes the literal OR-ed text: %s", got[0].FilterPattern)
	}
}

func TestControlsText(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{
			name: "default",
			args: nil,
			want: []string{"cis-aws-v3.0.0", "ID", "SECURITY HUB", "METRIC", "TITLE",
				"4.7", "CloudWatch.7", "DisableOrDeleteCMK", "Ensure disabling or scheduled deletion of customer created CMKs is monitored",
				"4.15", "OrganizationsChanges", "Warnings:", "4.13: "},
			notWant: []string{"pattern:"},
		},
		{
			name:    "wide",
			args:    []string{"--wide", "--benchmark", "cis-aws-v1.2.0"},
			want:    []string{"3.14", "VPCChanges", "3.14 vpc-changes\n  pattern:    { ($.eventName = CreateVpc)"},
			notWant: []string{"4.15", "warning: ", "Warnings:"},
		},
		{
			name: "wide securityhub",
			args: []string{"--wide", "--pattern-profile", "securityhub", "--benchmark", "cis-aws-v1.2.0"},
			want: []string{"3.3 root-account-usage\n  pattern:    {$.userIdentity.type=\"Root\""},
		},
		{
			name: "wide with warnings",
			args: []string{"--wide", "--benchmark", "cis-aws-v1.5.0"},
			want: []string{"4.1 unauthorized-api-calls\n  pattern:    {(($.errorCode", "  warning:    the benchmark's literal pattern ORs", "  resolution: Written: the explicitly grouped form"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := runCLI(append([]string{"controls"}, tt.args...), &out, &errb); code != exitCompliant {
				t.Fatalf("exit %d, stderr %q", code, errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output contains %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestControlsTextAligned: every table row starts its columns at the same
// offsets as the header.
func TestControlsTextAligned(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runCLI([]string{"controls"}, &out, &errb); code != exitCompliant {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(out.String(), "\n")
	header := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "ID ") {
			header = i
		}
	}
	if header < 0 {
		t.Fatalf("no header:\n%s", out.String())
	}
	col := strings.Index(lines[header], "METRIC")
	for _, l := range lines[header+1 : header+16] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row not aligned with METRIC at %d: %q", col, l)
		}
	}
}

func TestControlsErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr []string
	}{
		{"unknown benchmark", []string{"--benchmark", "cis-aws-v9.9.9"}, append([]string{"cis-aws-v9.9.9"}, catalog.IDs()...)},
		{"unknown profile", []string{"--pattern-profile", "strict"}, []string{"strict", "benchmark", "securityhub"}},
		{"unknown output", []string{"--output", "yaml"}, []string{"yaml", "json", "text"}},
		{"unknown flag", []string{"--bogus"}, []string{"bogus"}},
		{"stray argument", []string{"extra"}, []string{"extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := runCLI(append([]string{"controls"}, tt.args...), &out, &errb); code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want empty", out.String())
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
		})
	}
}

func TestControlsHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		var out, errb bytes.Buffer
		if code := runCLI([]string{"controls", arg}, &out, &errb); code != exitCompliant {
			t.Errorf("%s: exit %d, want %d", arg, code, exitCompliant)
		}
		for _, w := range []string{"Usage: remediator controls", "-benchmark", "-pattern-profile", "-output", "-wide"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: help lacks %q:\n%s", arg, w, out.String())
			}
		}
	}
}
