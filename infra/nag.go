package main

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddNagChecks applies the cdk-nag AwsSolutions rule pack to every stack in
// app, so `cdk synth` itself fails on a finding that is neither fixed nor
// suppressed with a reason.
func AddNagChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{}), nil)
}

// wildcardResource is one wildcard resource of the remediator's policy that
// AwsSolutions-IAM5 flags, with why it cannot be narrower.
type wildcardResource struct {
	// pattern matches the resource as cdk-nag renders it (tokens appear as
	// <AWS::Partition>, <AWS::AccountId>).
	pattern string
	reason  string
}

// How cdk-nag renders the partition and account: as token names when the
// stack is environment-agnostic, as literals otherwise.
const (
	nagPartition = `(<AWS::Partition>|aws[a-z-]*)`
	nagAccount   = `(<AWS::AccountId>|[0-9]{12})`
)

// remediatorWildcards are the suppressions of AwsSolutions-IAM5 on the
// remediator's policy, one per wildcard resource, each with its reason.
var remediatorWildcards = []wildcardResource{
	{`\*`, "ec2:DescribeRegions, cloudtrail:DescribeTrails and cloudwatch:DescribeAlarmsForMetric support no resource-level permissions (Service Authorization Reference: resource type column empty); they only read."},
	{`arn:` + nagPartition + `:cloudtrail:\*:` + nagAccount + `:trail/\*`, "The remediator inspects and restores whichever trail the account relies on, in any region; trail names are the customer's, so no narrower ARN exists."},
	{`arn:` + nagPartition + `:cloudtrail:\*:` + nagAccount + `:trail/[A-Za-z0-9._-]+`, "Trail writes name the one trail the trailName context key configures; its home Region is not known at synth time, so the Region is a wildcard (a trail name is unique per Region)."},
	{`arn:` + nagPartition + `:logs:\*:` + nagAccount + `:log-group:\*`, "Metric filters have no ARN; DescribeMetricFilters and PutMetricFilter are authorised on the log group, which is the customer's trail log group, named by the customer, in any region."},
	{`arn:` + nagPartition + `:cloudwatch:\*:` + nagAccount + `:alarm:\*`, "DescribeAlarms must see the customer's own alarms to credit a control that is already met; read-only."},
	{`arn:` + nagPartition + `:cloudwatch:\*:` + nagAccount + `:alarm:watchkeeper-\*`, "Writes are limited to alarms named watchkeeper-*, the only alarms Watchkeeper creates; the region is a wildcard because every enabled region is managed."},
	{`arn:` + nagPartition + `:sns:\*:` + nagAccount + `:\*`, "GetTopicAttributes and ListSubscriptionsByTopic must read the topics the customer's alarms notify (any name) to verify a confirmed subscriber; read-only."},
	{`arn:` + nagPartition + `:sns:\*:` + nagAccount + `:[A-Za-z0-9_-]+`, "Writes are limited to the configured topic name; the region is a wildcard because the topic is kept in every managed region."},
	{`arn:` + nagPartition + `:kms:\*:` + nagAccount + `:key/\*`, "DescribeKey and GetKeyPolicy check that the customer's topic keys let CloudWatch publish; key ids are random, so no narrower ARN exists; read-only."},
}

// suppressRemediatorPolicy records, on the remediator's policy, why each
// wildcard resource is needed.
func suppressRemediatorPolicy(policy constructs.IConstruct) {
	var s []*cdknag.NagPackSuppression
	for _, w := range remediatorWildcards {
		s = append(s, &cdknag.NagPackSuppression{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String(w.reason),
			AppliesTo: &[]any{map[string]any{"regex": "/^Resource::" + w.pattern + "$/"}},
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &s, jsii.Bool(false))
}

// suppressDeadLetterQueue explains AwsSolutions-SQS3 on the dead-letter
// queue: cdk-nag only recognises a queue as a DLQ through another queue's
// redrive policy, not as an EventBridge target DLQ or a Lambda on-failure
// destination, which is all this queue is.
func suppressDeadLetterQueue(queue constructs.IConstruct) {
	cdknag.NagSuppressions_AddResourceSuppressions(queue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the dead-letter queue of both EventBridge rule targets and of the function's failed asynchronous invocations; a DLQ has no DLQ of its own."),
	}}, jsii.Bool(false))
}

// compile-time check that every pattern is a valid regular expression.
var _ = func() bool {
	for _, w := range remediatorWildcards {
		regexp.MustCompile(w.pattern)
	}
	return true
}()
