package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
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
		awsCfg: func(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) },
		newRun: func(cfg aws.Config, opts engine.Options) (runner, error) { return engine.New(cfg, opts) },
		topics: func(cfg aws.Config) func(region string) publisher {
			return func(region string) publisher {
				return sns.NewFromConfig(cfg, func(o *sns.Options) { o.Region = region })
			}
		},
		logOut:  os.Stderr,
		metrics: os.Stdout,
	})
	lambda.Start(h)
}
