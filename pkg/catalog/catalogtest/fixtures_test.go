package catalogtest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/catalog/catalogtest"
)

const event = `{"eventSource":"kms.amazonaws.com","eventName":"DisableKey"}`

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"not json", map[string]string{"k/match/a.json": "{"}, "not a JSON object"},
		{"json array", map[string]string{"k/match/a.json": "[]"}, "not a JSON object"},
		{"rule without fixture", map[string]string{"k/match/a.json": event, "k/expect.json": `{"rules":[{"fixture":"match/b.json","match":false,"why":"x"}]}`}, `no fixture "match/b.json"`},
		{"rule without reason", map[string]string{"k/match/a.json": event, "k/expect.json": `{"rules":[{"fixture":"match/a.json","match":false}]}`}, "gives no reason"},
		{"unknown rule field", map[string]string{"k/match/a.json": event, "k/expect.json": `{"rules":[{"fixture":"match/a.json","matches":false,"why":"x"}]}`}, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalogtest.Load(writeTree(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := catalogtest.Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
}

func TestWantAndEvaluate(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"cmk-disable-or-delete/match/disable.json":    event,
		"cmk-disable-or-delete/nearmiss/enable.json":  `{"eventSource":"kms.amazonaws.com","eventName":"EnableKey"}`,
		"cmk-disable-or-delete/nearmiss/flipped.json": event,
		"cmk-disable-or-delete/expect.json": `{"rules":[
			{"fixture":"nearmiss/flipped.json","benchmarks":["cis-aws-v1.2.0"],"match":true,"why":"only in v1.2.0"},
			{"fixture":"nearmiss/enable.json","variant":"Security Hub","match":false,"why":"variant check"}]}`,
		"organizations-changes/match/x.json": `{"eventSource":"organizations.amazonaws.com","eventName":"CreateAccount"}`,
	})
	fs, err := catalogtest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 || fs[0].Key != "cmk-disable-or-delete" || fs[0].Name != "match/disable.json" {
		t.Fatalf("Load = %+v", fs)
	}
	flipped := fs[2]
	if got, why := flipped.Want("cis-aws-v1.2.0", catalog.ProfileBenchmark); !got || why != "only in v1.2.0" {
		t.Errorf("Want(v1.2.0) = %v, %q", got, why)
	}
	if got, _ := flipped.Want("cis-aws-v3.0.0", catalog.ProfileBenchmark); got {
		t.Error("Want(v3.0.0) = true, want the nearmiss default false")
	}

	b, err := catalog.Lookup("cis-aws-v1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	rs := catalogtest.Evaluate(b, catalog.ProfileSecurityHub, fs)
	// v1.2.0 has no organizations control: 3 written + 1 variant result.
	if len(rs) != 4 {
		t.Fatalf("Evaluate returned %d results, want 4: %+v", len(rs), rs)
	}
	for _, r := range rs {
		if !r.OK() {
			t.Errorf("%s %s %q: want %v got %v err %v", r.Control, r.Fixture, r.Variant, r.Want, r.Got, r.Err)
		}
		if r.Variant != "" && r.Variant != "Security Hub CloudWatch.7" {
			t.Errorf("variant = %q", r.Variant)
		}
	}
	b3, err := catalog.Lookup("cis-aws-v3.0.0")
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, r := range catalogtest.Evaluate(b3, catalog.ProfileBenchmark, fs) {
		if !r.OK() {
			bad++
			if r.Fixture != "nearmiss/flipped.json" {
				t.Errorf("unexpected mismatch %+v", r)
			}
		}
	}
	if bad != 1 {
		t.Errorf("%d mismatches under v3.0.0, want 1 (the flipped fixture)", bad)
	}
}
