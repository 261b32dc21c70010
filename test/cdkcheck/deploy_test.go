package cdkcheck_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// TestCDKBootstrapAndDeployOnMoto runs the real `cdk bootstrap` and
// `cdk deploy` against moto_server and reads the deployed stack back through
// the AWS APIs.
//
// Where moto 5.2.1 falls short, and what this test does about it:
//   - moto's CloudFormation reads a TemplateURL as path-style only when its
//     host is literally "localhost" (moto/cloudformation/utils.py
//     get_stack_from_s3_url); with 127.0.0.1 the deploy stops at "creating
//     CloudFormation changeset... The specified bucket does not exist". The
//     CLI gets AWS_ENDPOINT_URL=http://localhost:PORT.
//   - moto creates a stack's resources lazily and its AWS::KMS::Key handler
//     crashes on CloudFormation's Key/Value tags (KeyError: 'TagKey' in
//     moto/kms/models.py tag_resource), so the first read of the stack
//     fails with HTTP 500. The test deploys a copy of the assembly whose KMS
//     keys carry no Tags; the product template keeps them.
//   - moto's CloudFormation skips AWS::CloudTrail::Trail,
//     AWS::CloudWatch::Alarm, AWS::Lambda::EventInvokeConfig,
//     AWS::S3::BucketPolicy, AWS::SNS::Subscription, AWS::SNS::TopicPolicy
//     and AWS::SQS::QueuePolicy ("not supported by moto's CloudFormation
//     implementation"), and drops a function's Architectures and
//     LoggingConfig. Those are asserted on the template in infra/ instead.
func TestCDKBootstrapAndDeployOnMoto(t *testing.T) {
	assembly := cloudAssembly(t)
	root := repoRoot(t)
	cdk := filepath.Join(root, "node_modules", ".bin", "cdk")

	deployable := filepath.Join(t.TempDir(), "cdk.out")
	if err := os.CopyFS(deployable, os.DirFS(assembly)); err != nil {
		t.Fatalf("copy cloud assembly: %v", err)
	}
	stripKMSKeyTags(t, filepath.Join(deployable, stackName+".template.json"))

	srv := moto.Start(t)
	endpoint := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	env := append(moto.Env(os.Environ(), endpoint, "us-east-1"),
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1", "CDK_DISABLE_CLI_TELEMETRY=true")
	run := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), cdk, args...)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("cdk %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
	// Run outside the repository so bootstrap does not synthesize the app.
	run(t.TempDir(), "bootstrap", "aws://"+moto.Account+"/us-east-1", "--no-notices")
	run(t.TempDir(), "deploy", "--app", deployable, "--require-approval", "never", "--no-notices")

	cfg := moto.Config(endpoint, "us-east-1")
	eb := eventbridge.NewFromConfig(cfg)
	rules, err := eb.ListRules(t.Context(), &eventbridge.ListRulesInput{})
	if err != nil {
		t.Fatalf("list rules: %v", err)
	}
	var schedules, patterns int
	functionArn := ""
	for _, r := range rules.Rules {
		if r.ScheduleExpression != nil {
			schedules++
		}
		if r.EventPattern != nil {
			patterns++
		}
		targets, err := eb.ListTargetsByRule(t.Context(), &eventbridge.ListTargetsByRuleInput{Rule: r.Name})
		if err != nil {
			t.Fatalf("list targets of %s: %v", aws.ToString(r.Name), err)
		}
		if len(targets.Targets) != 1 {
			t.Fatalf("rule %s has %d targets, want 1", aws.ToString(r.Name), len(targets.Targets))
		}
		tg := targets.Targets[0]
		functionArn = aws.ToString(tg.Arn)
		if tg.DeadLetterConfig == nil || !strings.Contains(aws.ToString(tg.DeadLetterConfig.Arn), ":sqs:") ||
			tg.RetryPolicy == nil || aws.ToInt32(tg.RetryPolicy.MaximumRetryAttempts) != 2 {
			t.Errorf("rule %s target lacks the DLQ or retry policy: %+v", aws.ToString(r.Name), tg)
		}
	}
	if schedules != 1 || patterns != 1 {
		t.Errorf("deployed %d schedule and %d pattern rules, want 1 and 1", schedules, patterns)
	}

	var fn struct {
		Configuration struct {
			Runtime, Handler, Role string
			MemorySize, Timeout    int
			Environment            struct{ Variables map[string]string }
		}
		Concurrency struct{ ReservedConcurrentExecutions int }
	}
	lambdaGET(t, srv.URL, "/2015-03-31/functions/"+url.PathEscape(functionArn), &fn)
	roleArn := "arn:aws:iam::" + moto.Account + ":role/watchkeeper-remediator"
	got := []any{fn.Configuration.Runtime, fn.Configuration.Handler, fn.Configuration.MemorySize, fn.Configuration.Timeout,
		fn.Configuration.Role, fn.Configuration.Environment.Variables["WATCHKEEPER_SELF_ROLE_ARN"], fn.Concurrency.ReservedConcurrentExecutions}
	want := []any{"provided.al2023", "bootstrap", 256, 300, roleArn, roleArn, 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deployed function [runtime handler memory timeout role self-role concurrency] (-want +got):\n%s", diff)
	}

	topic, err := sns.NewFromConfig(cfg).GetTopicAttributes(t.Context(), &sns.GetTopicAttributesInput{
		TopicArn: aws.String("arn:aws:sns:us-east-1:" + moto.Account + ":watchkeeper-cis-alarms"),
	})
	if err != nil {
		t.Fatalf("get topic attributes: %v", err)
	}
	if k := topic.Attributes["KmsMasterKeyId"]; !strings.HasPrefix(k, "arn:aws:kms:us-east-1:"+moto.Account+":key/") {
		t.Errorf("deployed topic KmsMasterKeyId = %q, want the stack's key ARN", k)
	}
}

// stripKMSKeyTags removes Tags from every AWS::KMS::Key in the template
// (the moto workaround described above).
func stripKMSKeyTags(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == "AWS::KMS::Key" {
			delete(res["Properties"].(map[string]any), "Tags")
		}
	}
	if b, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lambdaGET calls a Lambda REST API path on moto, SigV4-signed with the
// dummy credentials (the module pins no Lambda SDK client), and decodes the
// JSON answer into out.
func lambdaGET(t *testing.T, endpoint, path string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: moto.AccessKeyID, SecretAccessKey: moto.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(empty[:]), "lambda", "us-east-1", time.Now()); err != nil {
		t.Fatalf("sign: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
}
