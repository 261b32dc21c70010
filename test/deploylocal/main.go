// Command deploylocal is `make deploy-local`: it deploys the real
// Watchkeeper stack, with the real CDK CLI, into a local moto_server, so you
// can watch a deployment without an AWS account. test/cdkcheck runs it too,
// so the test and the user meet the same workarounds.
//
//	go run ./test/deploylocal [flags] [-- cdk synth arguments, e.g. -c provisionTrail=true]
//
// It starts moto_server (unless -endpoint names a running one),
// synthesizes the app against it (so the stack is pinned to moto's account
// 123456789012 and us-east-1), runs `cdk bootstrap` and `cdk deploy`, and
// then keeps moto_server running until Ctrl-C so the stack can be inspected
// with the aws CLI. -assembly deploys an existing cloud assembly instead of
// synthesizing one.
//
// Where moto 5.2.1 falls short, and what this does about it:
//   - moto's CloudFormation reads a TemplateURL as path-style only when its
//     host is literally "localhost" (moto/cloudformation/utils.py
//     get_stack_from_s3_url); with 127.0.0.1 the deploy stops at "creating
//     CloudFormation changeset... The specified bucket does not exist". The
//     CLI gets AWS_ENDPOINT_URL=http://localhost:PORT (localEndpoint).
//   - moto creates a stack's resources lazily and its AWS::KMS::Key handler
//     crashes on CloudFormation's Key/Value tags (KeyError: 'TagKey' in
//     moto/kms/models.py tag_resource), so the first read of the stack
//     fails with HTTP 500. It deploys a copy of the assembly whose KMS keys
//     carry no Tags (stripKMSKeyTags); the product templates keep them.
//   - moto's CloudFormation skips AWS::CloudTrail::Trail,
//     AWS::CloudWatch::Alarm, AWS::Lambda::EventInvokeConfig,
//     AWS::S3::BucketPolicy, AWS::SNS::Subscription, AWS::SNS::TopicPolicy
//     and AWS::SQS::QueuePolicy ("not supported by moto's CloudFormation
//     implementation"), and drops a function's Architectures and
//     LoggingConfig. The deploy still succeeds; those resources simply do
//     not exist in moto (infra/'s template tests cover them).
//   - `cdk bootstrap` and `cdk deploy` run in an empty directory on the
//     copied assembly, so the repository's cdk.json plays no part.
//
// moto does not run the Lambda function (that needs Docker); `make demo`
// runs the same bootstrap binary against moto instead.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// sdkNodeWarning silences the AWS SDK for JavaScript's warning, printed by
// the CDK CLI on bootstrap and deploy, that it will soon need a newer Node.js.
const sdkNodeWarning = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"

// stackName is the stack infra/ synthesizes.
const stackName = "Watchkeeper"

func main() {
	endpoint := flag.String("endpoint", "", "a running moto_server's URL (default: start one)")
	region := flag.String("region", "us-east-1", "the region to deploy into")
	assembly := flag.String("assembly", "", "deploy this cloud assembly directory (default: synthesize the app)")
	keep := flag.Bool("keep", true, "keep the moto_server this started running until interrupted")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: deploylocal [flags] [-- cdk synth arguments]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, options{endpoint: *endpoint, region: *region, assembly: *assembly, keep: *keep, synthArgs: flag.Args()}); err != nil {
		fmt.Fprintln(os.Stderr, "deploylocal:", err)
		os.Exit(1)
	}
}

type options struct {
	endpoint, region, assembly string
	keep                       bool
	synthArgs                  []string
}

func run(ctx context.Context, o options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cdk := filepath.Join(root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cdk); err != nil {
		return fmt.Errorf("the CDK CLI is not installed: run `npm ci` in %s first", root)
	}
	work, err := os.MkdirTemp("", "watchkeeper-deploylocal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	started := false
	if o.endpoint == "" {
		say("starting moto_server…")
		srv, err := moto.Launch(filepath.Join(work, "moto.log"))
		if err != nil {
			return err
		}
		defer srv.Stop()
		o.endpoint, started = srv.URL, true
	}
	endpoint := localEndpoint(o.endpoint)
	env := moto.Env(os.Environ(), endpoint, o.region)
	env = append(env, "CDK_DISABLE_CLI_TELEMETRY=true")
	// moto.Env drops every AWS_* variable; this one only quiets the CLI's
	// SDK about old Node.js versions (docs/deploy.md), so it passes.
	if v, ok := os.LookupEnv(sdkNodeWarning); ok {
		env = append(env, sdkNodeWarning+"="+v)
	}
	cli := func(dir string, args ...string) error {
		cmd := exec.CommandContext(ctx, cdk, append(args, "--no-notices")...)
		cmd.Dir, cmd.Env = dir, env
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("cdk %s: %w", args[0], err)
		}
		return nil
	}

	if o.assembly == "" {
		say("synthesizing the app against moto (account " + moto.Account + ", " + o.region + ")…")
		o.assembly = filepath.Join(work, "synth.out")
		if err := cli(root, append([]string{"synth", "--quiet", "--output", o.assembly}, o.synthArgs...)...); err != nil {
			return err
		}
	} else if len(o.synthArgs) > 0 {
		return errors.New("cdk synth arguments given with -assembly, which skips synth")
	}
	deployable := filepath.Join(work, "cdk.out")
	if err := os.CopyFS(deployable, os.DirFS(o.assembly)); err != nil {
		return fmt.Errorf("copy cloud assembly: %w", err)
	}
	templates, err := filepath.Glob(filepath.Join(deployable, "*.template.json"))
	if err != nil || len(templates) == 0 {
		return fmt.Errorf("no stack templates in %s (%v)", o.assembly, err)
	}
	for _, t := range templates {
		if err := stripKMSKeyTags(t); err != nil {
			return err
		}
	}
	empty := filepath.Join(work, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		return err
	}
	// Every environment the assembly's stacks name (more than one Region
	// when the app adds a us-east-1 stack), read from the assembly.
	say("bootstrapping…")
	if err := cli(empty, "bootstrap", "--app", deployable); err != nil {
		return err
	}
	say("deploying…")
	if err := cli(empty, "deploy", "--app", deployable, "--all", "--require-approval", "never"); err != nil {
		return err
	}
	say("deployed into moto_server at " + endpoint)
	if !started || !o.keep {
		return nil
	}
	fmt.Fprintf(os.Stderr, `
moto_server keeps running until you press Ctrl-C. Look around with the aws CLI, for example:

  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%[3]s AWS_DEFAULT_REGION=%[3]s AWS_ENDPOINT_URL=%s
  aws cloudformation describe-stack-resources --stack-name %s
  aws events list-rules
  aws sns list-topics

`, moto.AccessKeyID, moto.SecretAccessKey, o.region, endpoint, stackName)
	<-ctx.Done()
	say("stopping moto_server")
	return nil
}

func say(msg string) { fmt.Fprintln(os.Stderr, "deploylocal:", msg) }

// localEndpoint names moto's loopback address "localhost" (see the package
// comment: moto's CloudFormation only reads path-style S3 URLs from it).
func localEndpoint(url string) string {
	return strings.Replace(url, "://127.0.0.1:", "://localhost:", 1)
}

// stripKMSKeyTags removes Tags from every AWS::KMS::Key in the template at
// path (see the package comment).
func stripKMSKeyTags(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	resources, _ := doc["Resources"].(map[string]any)
	for _, r := range resources {
		res, _ := r.(map[string]any)
		if props, ok := res["Properties"].(map[string]any); ok && res["Type"] == "AWS::KMS::Key" {
			delete(props, "Tags")
		}
	}
	if b, err = json.Marshal(doc); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// moduleRoot returns the directory of the repository's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run deploylocal from the Watchkeeper repository")
	}
	return filepath.Dir(gomod), nil
}
