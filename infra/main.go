// Command infra is Watchkeeper's CDK app. `npx cdk deploy` (see cdk.json)
// runs it with `go run ./infra`, through infra/launcher; it reads its
// configuration from the CDK context, validates it, and synthesizes one
// stack, building the Lambda's bootstrap with the local Go toolchain on the
// way.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// StackName is the CloudFormation stack name.
const StackName = "Watchkeeper"

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "watchkeeper:", err)
		jsii.Close()
		os.Exit(1)
	}
}

func run() error {
	// Without StackTraces, each construct annotation carries the stack of
	// its creation, and the CLI prints its top frame above every warning.
	// In a Go app that frame is always inside the jsii runtime's bundle
	// (".../jsii-runtime.NNN/lib/program.js:1:5565"), never in our code.
	app := awscdk.NewApp(&awscdk.AppProps{StackTraces: jsii.Bool(false)})
	AddNagChecks(app)
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := findModuleRoot(wd)
	if err != nil {
		return err
	}
	central := NewWatchkeeperStack(app, StackName, &WatchkeeperStackProps{
		StackProps: awscdk.StackProps{Env: env(), Description: jsii.String("Watchkeeper: keeps the CIS AWS Foundations Benchmark monitoring controls true")},
		Config:     cfg,
		ModuleRoot: root,
	})
	if cfg.Org.Enabled { // -c organization=true: the StackSet and its buckets (stackset.go)
		if _, err := NewOrganization(app, central, cfg, *app.Outdir()); err != nil {
			return err
		}
	}
	app.Synth(nil)
	return nil
}

// env pins the stack to the account and region the CDK CLI resolved from
// the caller's credentials, so ARNs in the template are literal; without
// them (plain `go run`) the stack stays environment-agnostic.
func env() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}
