package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Only the KMS keys lose their Tags; every other resource, and every other
// property of the keys, deploys as synthesized.
func TestStripKMSKeyTagsTouchesOnlyKeyTags(t *testing.T) {
	tags := []any{map[string]any{"Key": "owner", "Value": "sec"}}
	in := map[string]any{"Resources": map[string]any{
		"Key":   map[string]any{"Type": "AWS::KMS::Key", "Properties": map[string]any{"EnableKeyRotation": true, "Tags": tags}},
		"Topic": map[string]any{"Type": "AWS::SNS::Topic", "Properties": map[string]any{"Tags": tags}},
	}}
	path := filepath.Join(t.TempDir(), "t.json")
	b, _ := json.Marshal(in)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := stripKMSKeyTags(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Resources": map[string]any{
		"Key":   map[string]any{"Type": "AWS::KMS::Key", "Properties": map[string]any{"EnableKeyRotation": true}},
		"Topic": map[string]any{"Type": "AWS::SNS::Topic", "Properties": map[string]any{"Tags": tags}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("template after stripKMSKeyTags (-want +got):\n%s", diff)
	}
}

func TestLocalEndpointNamesLoopbackLocalhost(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:45123": "http://localhost:45123",
		"http://localhost:5000":  "http://localhost:5000",
		"http://10.0.0.7:5000":   "http://10.0.0.7:5000",
	} {
		if got := localEndpoint(in); got != want {
			t.Errorf("localEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}
