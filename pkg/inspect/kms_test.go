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

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// TestObserveTopicKeys: an encrypted topic's key is recorded as observed
// (its state, and its policy where it can be read); judging it is the
// planner's job.
func TestObserveTopicKeys(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	acct := e.compliant(t)
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
	disabledKey, err := e.world.Key(ctx, region, string(allowed))
	if err != nil {
		t.Fatal(err)
	}
	deletedKey, err := e.world.Key(ctx, region, string(allowed))
	if err != nil {
		t.Fatal(err)
	}
	kc := kms.NewFromConfig(e.srv.Config(region))
	if _, err := kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/alarms"), TargetKeyId: aws.String(allowedKey)}); err != nil {
		t.Fatal(err)
	}
	// AWS takes "the key ID or key ARN" in DisableKey's and
	// ScheduleKeyDeletion's KeyId (AWS KMS API reference); moto 5.2.1
	// answers a key ARN there with HTTP 500, so the seeding passes the id.
	keyID := func(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
	if _, err := kc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID(disabledKey))}); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyID(deletedKey)), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	policyOf := func(key string) string {
		out, err := kc.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("default")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Policy)
	}
	missingKey := "arn:aws:kms:us-east-1:" + moto.Account + ":key/00000000-0000-0000-0000-000000000000"
	foreignKey := "arn:aws:kms:us-east-1:210987654321:key/11111111-1111-1111-1111-111111111111"
	both := map[string]int{"KMS.DescribeKey": 1, "KMS.GetKeyPolicy": 1}

	for _, tc := range []struct {
		name      string
		keyID     string
		want      *account.TopicKey
		wantCalls map[string]int
	}{
		{"key policy admits CloudWatch", allowedKey,
			&account.TopicKey{KeyARN: allowedKey, KeyState: "Enabled", Policy: policyOf(allowedKey)}, both},
		{"default key policy", defaultKey,
			&account.TopicKey{KeyARN: defaultKey, KeyState: "Enabled", Policy: policyOf(defaultKey)}, both},
		{"customer key by alias", "alias/alarms",
			&account.TopicKey{KeyARN: allowedKey, KeyState: "Enabled", Policy: policyOf(allowedKey)}, both},
		{"disabled key", disabledKey,
			&account.TopicKey{KeyARN: disabledKey, KeyState: "Disabled", Policy: policyOf(disabledKey)}, both},
		{"key pending deletion", deletedKey,
			&account.TopicKey{KeyARN: deletedKey, KeyState: "PendingDeletion", Policy: policyOf(deletedKey)}, both},
		// The AWS managed key's policy can never admit CloudWatch; its
		// policy is not read.
		{"AWS managed key", "alias/aws/sns",
			&account.TopicKey{AWSManaged: true},
			map[string]int{"KMS.DescribeKey": 1}},
		{"key that does not exist", missingKey,
			&account.TopicKey{KeyARN: missingKey, Error: "describe key: NotFoundException"}, both},
		// GetKeyPolicy cannot read another account's key; moto has no
		// such key either, so DescribeKey fails too.
		{"key in another account", foreignKey,
			&account.TopicKey{KeyARN: foreignKey, Error: "describe key: NotFoundException"},
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

// TestObserveTopicPolicy: a topic's access policy is recorded as is.
func TestObserveTopicPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const region = "us-east-1"
	acct := e.compliant(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"cloudwatch","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"` + acct.TopicARN + `"}]}`
	if _, err := sns.NewFromConfig(e.srv.Config(region)).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(acct.TopicARN), AttributeName: aws.String("Policy"), AttributeValue: aws.String(policy),
	}); err != nil {
		t.Fatal(err)
	}
	snap := e.observe(t, e.options(nil), inspect.Request{Regions: []string{region}, HomeRegion: region})
	if got := snap.Topics[acct.TopicARN].Policy; got != policy {
		t.Errorf("topic policy = %s, want %s", got, policy)
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
