// Package main pins dependencies during parallel development; removed at integration.
package main

import (
	_ "github.com/aws/aws-cdk-go/awscdk/v2"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	_ "github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	_ "github.com/aws/constructs-go/constructs/v10"
	_ "github.com/aws/jsii-runtime-go"
	_ "github.com/cdklabs/cdk-nag-go/cdknag/v2"
	_ "github.com/aws/aws-lambda-go/lambda"
	_ "github.com/aws/aws-lambda-go/events"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	_ "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	_ "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	_ "github.com/aws/aws-sdk-go-v2/service/ec2"
	_ "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	_ "github.com/aws/aws-sdk-go-v2/service/kms"
	_ "github.com/aws/aws-sdk-go-v2/service/sns"
	_ "github.com/aws/aws-sdk-go-v2/service/sqs"
	_ "github.com/aws/aws-sdk-go-v2/service/sts"
	_ "github.com/google/go-cmp/cmp"
)

func main() {}
