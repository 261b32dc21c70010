package cdkcheck_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// TestCDKBootstrapAndDeployOnMoto runs the real `cdk bootstrap` and
// `cdk deploy` against moto_server, through the command users run for the
// same thing (`make deploy-local`, test/deploylocal, whose package comment
// lists what moto 5.2.1 cannot do and the workarounds), and reads the
// deployed stack back through the AWS APIs. What moto's CloudFormation
// skips (trails, alarms, topic and queue policies, subscriptions, a
// function's Architectures and LoggingConfig) is asserted on the template
// in infra/ instead.
func TestCDKBootstrapAndDeployOnMoto(t *testing.T) {
	assembly := cloudAssembly(t)
	srv := moto.Start(t)
	cmd := exec.CommandContext(t.Context(), "go", "run", "./test/deploylocal",
		"-endpoint", srv.URL, "-region", "us-east-1", "-assembly", assembly)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), cliEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploylocal: %v\n%s", err, out)
	}

	endpoint := srv.URL
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
		if r.EventPattern != nil && aws.ToString(r.Name) == selfwatch.WatchRule {
			patterns++
			continue // targets the watchdog topic, not the function (infra/selfwatch.go)
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
		if r.ScheduleExpression != nil {
			// The schedule invokes the function; the drift rule sends to
			// the drift queue, which the function reads (infra/queue.go).
			functionArn = aws.ToString(tg.Arn)
		}
		if tg.DeadLetterConfig == nil || !strings.Contains(aws.ToString(tg.DeadLetterConfig.Arn), ":sqs:") ||
			tg.RetryPolicy == nil || aws.ToInt32(tg.RetryPolicy.MaximumRetryAttempts) != 2 {
			t.Errorf("rule %s target lacks the DLQ or retry policy: %+v", aws.ToString(r.Name), tg)
		}
	}
	if schedules != 1 || patterns != 2 {
		t.Errorf("deployed %d schedule and %d pattern rules, want 1 and 2 (drift, self-watch)", schedules, patterns)
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
