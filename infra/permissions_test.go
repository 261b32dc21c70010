package main

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The topic-key writes are granted only where the remediator may heal
// (mode=apply) and only on the one key it is configured with; without a
// known key ARN nothing is granted and the key's state is only reported.
func TestTopicKeyWritesNeedApplyAndAKnownKey(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyWrites := []string{"kms:CancelKeyDeletion", "kms:EnableKey"}
	for _, tc := range []struct {
		name    string
		scope   permissionScope
		wantRes []string // resources of the statements granting a key write
	}{
		{"apply with the stack's key", permissionScope{apply: true, healing: "safe", topicKeyArn: key}, []string{key}},
		{"apply, trail healing none", permissionScope{apply: true, healing: "none", topicKeyArn: key}, []string{key}},
		{"report", permissionScope{apply: false, healing: "safe", topicKeyArn: key}, nil},
		{"apply without a known key", permissionScope{apply: true, healing: "full"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.scope.partition, tc.scope.account, tc.scope.topicName = "aws", testAccount, DefaultTopicName
			var got []string
			for _, s := range remediatorStatements(tc.scope) {
				doc := s.ToStatementJson().(map[string]any)
				actions := asStrings(doc["Action"])
				if !slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(keyWrites, a) }) {
					continue
				}
				if diff := cmp.Diff(keyWrites, actions); diff != "" {
					t.Errorf("statement %v: actions (-want +got):\n%s", doc["Sid"], diff)
				}
				got = append(got, asStrings(doc["Resource"])...)
			}
			if diff := cmp.Diff(tc.wantRes, got); diff != "" {
				t.Errorf("key-write resources (-want +got):\n%s", diff)
			}
		})
	}
}
