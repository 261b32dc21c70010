package policy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

const (
	keyAccount = "123456789012"
	testKeyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyAlarm   = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:root-usage"
)

// TestKeyPolicyPorted carries over every case of the key-policy check that
// this package replaces (inspect.KeyPolicyAllowsCloudWatch), with the same
// documents and the same answers; the comments say where the reason for
// the answer changed.
func TestKeyPolicyPorted(t *testing.T) {
	for _, tc := range []struct {
		file string
		want want
	}{
		{"default.json", want{}}, // account root only: the AWS default key policy
		{"cloudwatch-allowed.json", want{allowed: true, allow: []string{"AllowCloudWatchAlarms"}}},
		{"cloudwatch-list-principal.json", want{allowed: true, allow: []string{"statement 1"}}}, // Service as a list, single statement object
		{"cloudwatch-kms-star.json", want{allowed: true, allow: []string{"statement 2"}}},
		{"cloudwatch-split.json", want{allowed: true, allow: []string{"statement 1", "statement 2"}}}, // its aws:SourceAccount condition is now evaluated
		{"cloudwatch-decrypt-only.json", want{allow: []string{"statement 2"}}},                        // Decrypt alone
		{"cloudwatch-other-key.json", want{}},
		{"cloudwatch-denied.json", want{denied: true, allow: []string{"statement 1"}, deny: []string{"statement 2"}}},
		// Was "a conditional Deny cannot be proven to apply"; a conditional
		// Deny now counts unless disproved, and this one is: its condition
		// is aws:SecureTransport false, and "AWS KMS requires TLS 1.2" (AWS
		// KMS Developer Guide, "Infrastructure security in AWS Key
		// Management Service").
		{"cloudwatch-conditional-deny.json", want{allowed: true, allow: []string{"statement 1"}}},
		{"cloudwatch-notaction.json", want{allowed: true, allow: []string{"statement 1"}}},
		{"wildcard-principal.json", want{allowed: true, allow: []string{"statement 1"}}},
		// kms:CallerAccount and kms:ViaService are not documented for a
		// service principal's request.
		{"wildcard-principal-conditional.json",
			want{uncertain: []string{"kms:CallerAccount", "kms:ViaService"}}},
		{"wildcard-aws-principal.json", want{allowed: true, allow: []string{"statement 1"}}},
		{"other-service.json", want{}},
		// Was "NotPrincipal statements are ignored"; now: "NotPrincipal must
		// be used with "Effect":"Deny". Using it with "Effect":"Allow" is
		// not supported" (IAM User Guide, "AWS JSON policy elements:
		// NotPrincipal"), so it never counts, and says so.
		{"notprincipal.json", want{uncertain: []string{"NotPrincipal"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", "keypolicy", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := policy.EvaluateAll(string(doc), policy.CloudWatchKeyRequests(testKeyARN, keyAccount, keyAlarm)...)
			if err != nil {
				t.Fatalf("EvaluateAll: %v", err)
			}
			check(t, got, tc.want)
		})
	}
	if _, err := policy.EvaluateAll("{not json", policy.CloudWatchKeyRequests(testKeyARN, keyAccount, keyAlarm)...); err == nil {
		t.Error("malformed policy accepted; want an error")
	}
}

const rootStatement = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}`

func TestKeyPolicy(t *testing.T) {
	requests := policy.CloudWatchKeyRequests(testKeyARN, keyAccount, keyAlarm)
	foreign := policy.CloudWatchKeyRequests(testKeyARN, other, "arn:aws:cloudwatch:us-east-1:444455556666:alarm:x")
	scoped := `{"Sid":"cw","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},
	  "Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*","Condition":{
	  "StringEquals":{"aws:SourceAccount":"123456789012"},
	  "ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"}}}`
	for _, tc := range []struct {
		name       string
		statements string
		reqs       []policy.Request
		want       want
	}{
		{"the documented CloudWatch statement",
			rootStatement + `,{"Sid":"Allow_CloudWatch_for_CMK","Effect":"Allow","Principal":{"Service":["cloudwatch.amazonaws.com"]},
			  "Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}`,
			requests, want{allowed: true, allow: []string{"Allow_CloudWatch_for_CMK"}}},
		// The SNS guide recommends these conditions; they hold for the
		// account's own alarms ...
		{"statement scoped with aws:SourceAccount and aws:SourceArn", scoped, requests,
			want{allowed: true, allow: []string{"cw"}}},
		// ... and for no other account's.
		{"scoped statement, another account's alarm", scoped, foreign, want{}},
		{"scoped statement, alarm ARN unknown", scoped, policy.CloudWatchKeyRequests(testKeyARN, keyAccount, ""),
			want{uncertain: []string{"aws:SourceArn"}}},
		{"deny kms:* to everyone but the account",
			rootStatement + `,{"Sid":"OnlyMe","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
			  {"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"kms:*","Resource":"*"}`,
			requests, want{denied: true, allow: []string{"statement 3"}, deny: []string{"OnlyMe"}}},
		{"deny only Decrypt fails the pair",
			`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}`,
			requests, want{denied: true, allow: []string{"statement 1"}, deny: []string{"statement 2"}}},
		{"key resource pattern",
			`{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],
			  "Resource":"arn:aws:kms:*:123456789012:key/*"}`, requests, want{allowed: true, allow: []string{"statement 1"}}},
		{"GenerateDataKeyPair does not cover GenerateDataKey",
			`{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKeyPair*"],"Resource":"*"}`,
			requests, want{allow: []string{"statement 1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := policy.EvaluateAll(topicPolicy("2012-10-17", tc.statements), tc.reqs...)
			if err != nil {
				t.Fatalf("EvaluateAll: %v", err)
			}
			check(t, got, tc.want)
		})
	}
}
