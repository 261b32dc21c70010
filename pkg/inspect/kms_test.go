package inspect_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const testKeyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestKeyPolicyAllowsCloudWatch(t *testing.T) {
	for _, tc := range []struct {
		file string
		want bool
	}{
		{"default.json", false},                    // account root only: the AWS default key policy
		{"cloudwatch-allowed.json", true},          // the documented statement for CloudWatch
		{"cloudwatch-list-principal.json", true},   // Service as a list, single statement object
		{"cloudwatch-kms-star.json", true},         // kms:* for the service
		{"cloudwatch-split.json", true},            // Decrypt and GenerateDataKey* in separate statements
		{"cloudwatch-decrypt-only.json", false},    // GenerateDataKey missing
		{"cloudwatch-other-key.json", false},       // Resource names another key
		{"cloudwatch-denied.json", false},          // an unconditional Deny overrides the Allow
		{"cloudwatch-conditional-deny.json", true}, // a conditional Deny cannot be proven to apply
		{"cloudwatch-notaction.json", true},        // Allow everything but kms:Delete*
		{"wildcard-principal.json", true},          // Principal "*" without conditions
		{"wildcard-principal-conditional.json", false},
		{"wildcard-aws-principal.json", true}, // {"AWS": "*"}
		{"other-service.json", false},         // events.amazonaws.com, not CloudWatch
		{"notprincipal.json", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			policy, err := os.ReadFile(filepath.Join("testdata", "keypolicy", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := inspect.KeyPolicyAllowsCloudWatch(string(policy), testKeyARN)
			if err != nil {
				t.Fatalf("KeyPolicyAllowsCloudWatch: %v", err)
			}
			if got != tc.want {
				t.Errorf("KeyPolicyAllowsCloudWatch(%s) = %v, want %v", tc.file, got, tc.want)
			}
		})
	}
	if _, err := inspect.KeyPolicyAllowsCloudWatch("{not json", testKeyARN); err == nil {
		t.Error("malformed policy accepted; want an error")
	}
}

func TestObserveTopicKeys(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	acct, err := e.world.Compliant(ctx, world.CompliantSpec{HomeRegion: region, Benchmark: catalog.Default()})
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := os.ReadFile(filepath.Join("testdata", "keypolicy", "cloudwatch-allowed.json"))
	if err != nil {
		t.Fatal(err)
	}
	allowedKey, err := e.world.Key(ctx, region, string(allowed))
	if err != nil {
		t.Fatal(err)
	}
	defaultKey, err := e.world.Key(ctx, region, "")
	if err != nil {
		t.Fatal(err)
	}
	kc := kms.NewFromConfig(e.srv.Config(region))
	if _, err := kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/alarms"), TargetKeyId: aws.String(allowedKey)}); err != nil {
		t.Fatal(err)
	}
	missingKey := "arn:aws:kms:us-east-1:" + moto.Account + ":key/00000000-0000-0000-0000-000000000000"
	foreignKey := "arn:aws:kms:us-east-1:210987654321:key/11111111-1111-1111-1111-111111111111"

	for _, tc := range []struct {
		name      string
		keyID     string
		want      *inspect.TopicKey
		wantCalls map[string]int
	}{
		{"key policy admits CloudWatch", allowedKey,
			&inspect.TopicKey{KeyARN: allowedKey, CloudWatchCanUse: true},
			map[string]int{"KMS.DescribeKey": 1, "KMS.GetKeyPolicy": 1}},
		{"default key policy", defaultKey,
			&inspect.TopicKey{KeyARN: defaultKey},
			map[string]int{"KMS.DescribeKey": 1, "KMS.GetKeyPolicy": 1}},
		{"customer key by alias", "alias/alarms",
			&inspect.TopicKey{KeyARN: allowedKey, CloudWatchCanUse: true},
			map[string]int{"KMS.DescribeKey": 1, "KMS.GetKeyPolicy": 1}},
		// The AWS managed key's policy can never admit CloudWatch; its
		// policy is not read.
		{"AWS managed key", "alias/aws/sns",
			&inspect.TopicKey{AWSManaged: true},
			map[string]int{"KMS.DescribeKey": 1}},
		{"key that does not exist", missingKey,
			&inspect.TopicKey{KeyARN: missingKey, Error: "describe key: NotFoundException"},
			map[string]int{"KMS.DescribeKey": 1, "KMS.GetKeyPolicy": 1}},
		// GetKeyPolicy cannot read another account's key; moto has no
		// such key either, so DescribeKey fails too.
		{"key in another account", foreignKey,
			&inspect.TopicKey{KeyARN: foreignKey, Error: "describe key: NotFoundException"},
			map[string]int{"KMS.DescribeKey": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sns.NewFromConfig(e.srv.Config(region)).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
				TopicArn: aws.String(acct.TopicARN), AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String(tc.keyID),
			}); err != nil {
				t.Fatal(err)
			}
			snap := e.observe(t, e.options(nil), inspect.Request{Regions: []string{region}, HomeRegion: region})
			calls := e.calls.take()
			tp := snap.Topics[acct.TopicARN]
			if tp.KMSKeyID != tc.keyID {
				t.Errorf("KMSKeyID = %q, want %q", tp.KMSKeyID, tc.keyID)
			}
			got := tp.KMS
			if got != nil && tc.want.Error != "" && strings.HasPrefix(got.Error, tc.want.Error+":") {
				got.Error = tc.want.Error // keep the operation and error code; moto's message is its own
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("topic key (-want +got):\n%s", diff)
			}
			kmsCalls := map[string]int{}
			for op, n := range calls {
				if strings.HasPrefix(op, "KMS.") {
					kmsCalls[op] = n
				}
			}
			if diff := cmp.Diff(tc.wantCalls, kmsCalls); diff != "" {
				t.Errorf("KMS calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadActions keeps the IAM policy the CDK app grants in step with the
// calls the inspector can make: every method of every reader interface must
// be listed, and nothing else.
func TestReadActions(t *testing.T) {
	prefixes := map[reflect.Type]string{
		reflect.TypeFor[inspect.TrailReader]():  "cloudtrail",
		reflect.TypeFor[inspect.LogsReader]():   "logs",
		reflect.TypeFor[inspect.AlarmReader]():  "cloudwatch",
		reflect.TypeFor[inspect.TopicReader]():  "sns",
		reflect.TypeFor[inspect.KeyReader]():    "kms",
		reflect.TypeFor[inspect.RegionLister](): "ec2",
		// IdentityReader (sts:GetCallerIdentity) needs no permission.
	}
	// Every interface in Clients must have a prefix.
	ct := reflect.TypeFor[inspect.Clients]()
	for i := range ct.NumField() {
		if _, ok := prefixes[ct.Field(i).Type]; !ok {
			t.Errorf("Clients.%s (%s) has no IAM prefix in this test", ct.Field(i).Name, ct.Field(i).Type)
		}
	}
	var want []string
	for typ, prefix := range prefixes {
		for i := range typ.NumMethod() {
			want = append(want, fmt.Sprintf("%s:%s", prefix, typ.Method(i).Name))
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(inspect.ReadActions))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadActions out of step with the reader interfaces (-methods +ReadActions):\n%s", diff)
	}
	for _, a := range inspect.ReadActions {
		verb := a[strings.Index(a, ":")+1:]
		if !strings.HasPrefix(verb, "Describe") && !strings.HasPrefix(verb, "Get") && !strings.HasPrefix(verb, "List") {
			t.Errorf("ReadActions has %s, which is not a read", a)
		}
	}
}
