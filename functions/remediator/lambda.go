package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
)

// The handler takes the raw payload (lambda.Handler), so trigger.Decode
// sees exactly what Lambda delivered.
var _ lambda.Handler = (*handler)(nil)

// startLambda serves Lambda invocations until the runtime stops the
// process. Configuration, the AWS configuration and the engines are built
// once here, at init; see handler.Invoke for one invocation.
func startLambda() {
	ctx := context.Background()
	h := newHandler(ctx, handlerDeps{
		getenv: os.Getenv,
		// The retry policy sized for the function's timeout, set here so
		// the summary's publisher (SNS Publish) retries as the engine does.
		awsCfg: func(ctx context.Context) (aws.Config, error) {
			return awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRetryer(engine.Retryer(engine.DefaultRunTime)))
		},
		newRun: func(cfg aws.Config, opts engine.Options) (runner, error) { return engine.New(cfg, opts) },
		topics: func(cfg aws.Config) func(region string) publisher {
			return func(region string) publisher {
				return sns.NewFromConfig(cfg, func(o *sns.Options) { o.Region = region })
			}
		},
		rules: func(cfg aws.Config, region string) selfwatch.Client {
			return eventRules{eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.Region = region })}
		},
		securityHub: newSecurityHub,
		logOut:      os.Stderr,
		metrics:     os.Stdout,
	})
	lambda.Start(h)
}
