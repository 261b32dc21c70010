package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// Bursts coalesce: drift events reach the function through the drift
// queue, and Lambda's event source mapping hands the function a batch of
// them per invocation, which the function answers with one run. An
// infrastructure-as-code apply that touches 500 alarms in a minute thus
// starts a few runs instead of 500 (test/coalesce measures it). The nightly
// schedule still invokes the function directly.
//
// The figures, and why (Lambda developer guide: "Lambda parameters for
// Amazon SQS event source mappings", "Configuring scaling behavior for SQS
// event source mappings", "Creating and configuring an Amazon SQS event
// source mapping", "Handling errors for an SQS event source in Lambda"):
//
//   - DriftBatchWindowSeconds, 90 s (the window may be 0-300 s). The mapping
//     gathers records until the window ends, the batch holds
//     DriftBatchSize records, or it reaches the 6 MB payload of a
//     synchronous invocation. Each concurrent poller gathers its own
//     batch, so a burst makes about one batch per poller per window: a
//     window at least as long as the burst (one minute) plus 30 s for
//     CloudTrail and EventBridge delivery to spread it makes one batch per
//     poller, two in all with DriftMaxConcurrency 2, and leaves one for
//     stragglers under the goal of three runs. With a 60 s window, a
//     minute-long burst that delivery stretches by a few seconds is cut at
//     the window's edge: up to four batches (test/coalesce,
//     TestBatchingWindowChoice: 500 events over a minute, delivered up to
//     10 or 30 s late, make 4 batches with a 60 s window and 2 with 90 s;
//     on moto, TestBurstOf500AlarmEventsCoalesces counts 2 runs). The
//     cost is latency: drift is healed up to 90 s later than without a
//     window, which is small beside CloudTrail's own delivery delay.
//   - DriftBatchSize, 10,000, the largest a standard queue allows with a
//     window. A run's cost does not grow with its events (it is
//     level-based), so a batch is as large as the payload limit lets it
//     be: 500 CloudTrail alarm events of 2-5 KB are 1-2.5 MB, under 6 MB.
//   - DriftMaxConcurrency, 2, the smallest maximum concurrency the mapping
//     accepts (ScalingConfig: 2-1,000). The function's reserved
//     concurrency stays 1, so no two runs race; the docs advise a reserved
//     concurrency at least the maximum concurrency because otherwise the
//     mapping's second invocation is throttled. A throttled batch is
//     retried, with backoff, until the queue's visibility timeout, so it
//     runs once the first run ends (at most 5 minutes) and stays in the
//     queue meanwhile: nothing is lost, and the maximum concurrency stops
//     the mapping from reading batches it cannot invoke.
//   - DriftVisibilityTimeout, six times the function's timeout, as the
//     guide asks, so throttled batches are retried before they become
//     visible again.
//   - DriftMaxReceiveCount, 5. A record returns to the queue only when an
//     invocation fails or it is reported as a batch item failure (its
//     body is no drift event), so 5 receives, 2.5 hours at the visibility
//     timeout, separate a record that cannot be processed from one caught
//     in a passing failure; then SQS moves it to the dead-letter queue,
//     whose alarm tells a person. Throttling alone cannot get there: a
//     throttled batch waits at most two runs ahead of it, 10 minutes.
//   - DriftRetention, 4 days: longer than the 2.5 hours a record can spend
//     being retried, so no record expires before SQS can move it to the
//     dead-letter queue (the dead-letter queue keeps the original enqueue
//     time, and keeps messages 14 days).
const (
	DriftBatchWindowSeconds = 90
	DriftBatchSize          = 10000
	DriftMaxConcurrency     = 2
	DriftMaxReceiveCount    = 5
	DriftRetentionDays      = 4
)

// DriftVisibilityTimeoutMinutes is the drift queue's visibility timeout.
const DriftVisibilityTimeoutMinutes = 6 * FunctionTimeoutMinutes

// newQueueKey creates the customer managed key of the drift queue and the
// dead-letter queue: both hold CloudTrail records (who called what, from
// which address), which the account's key policy, not SQS's, should
// govern. EventBridge sends to both queues (the drift rule's target and
// the rules' dead-letter queue), which with a customer managed key takes
// kms:GenerateDataKey and kms:Decrypt for events.amazonaws.com in the key
// policy (SQS developer guide, "Amazon SQS key management": an AWS service
// that sends to an encrypted queue needs both). The statement names this
// account's rules (aws:SourceAccount, aws:SourceArn): a literal ARN
// pattern, because naming the rules themselves would make the key depend
// on rules that depend on the queues that depend on the key. The
// function's role uses the key through its own policy (queueStatements).
func newQueueKey(stack awscdk.Stack, partition, account, region string) awskms.Key {
	key := newRotatedKey(stack, "QueueKey", "Watchkeeper drift and dead-letter queues (CloudTrail records)")
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowThisAccountsRulesToSendToTheQueues"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": account},
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + partition + ":events:" + region + ":" + account + ":rule/*"},
		},
	}), jsii.Bool(false))
	return key
}

// newDeadLetterQueue creates the one dead-letter queue for everything that
// could not be delivered or failed after retries: EventBridge deliveries
// from both rules, the function's failed asynchronous invocations, and
// drift-queue records received DriftMaxReceiveCount times.
func newDeadLetterQueue(stack awscdk.Stack, key awskms.IKey) awssqs.Queue {
	dlq := awssqs.NewQueue(stack, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
	})
	suppressDeadLetterQueue(dlq)
	return dlq
}

// newDriftQueue creates the queue the drift rule sends to and the function
// reads in batches (see the constants above).
func newDriftQueue(stack awscdk.Stack, key awskms.IKey, dlq awssqs.IQueue) awssqs.Queue {
	return awssqs.NewQueue(stack, jsii.String("DriftQueue"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		VisibilityTimeout:   awscdk.Duration_Minutes(jsii.Number(DriftVisibilityTimeoutMinutes)),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(DriftRetentionDays)),
		DeadLetterQueue:     &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(DriftMaxReceiveCount)},
	})
}

// targetDriftQueue makes the drift queue the drift rule's only target, with
// the rules' retry policy and dead-letter queue. The target is written at
// the L1 level because the L2 SqsQueue target, for an encrypted queue,
// lets events.amazonaws.com send without naming the rule (it cannot name
// it in the key policy, see newQueueKey), and this account's other rules
// must not be able to feed the queue: the queue policy below names the
// drift rule. EventBridge's deliveries that fail after retries go to the
// dead-letter queue, whose policy names the rule too (as the L2 target
// would write it).
func targetDriftQueue(rule awsevents.Rule, queue, dlq awssqs.IQueue) {
	cfn := rule.Node().DefaultChild().(awsevents.CfnRule)
	cfn.SetTargets([]any{&awsevents.CfnRule_TargetProperty{
		Id:               jsii.String("Target0"),
		Arn:              queue.QueueArn(),
		DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
		RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
			MaximumRetryAttempts:     jsii.Number(asyncRetryAttempts),
			MaximumEventAgeInSeconds: jsii.Number(asyncMaxEventAgeHours * 3600),
		},
	}})
	for _, q := range []struct {
		sid   string
		queue awssqs.IQueue
	}{{"AllowTheDriftRuleToSend", queue}, {"AllowTheDriftRuleToDeadLetter", dlq}} {
		q.queue.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(q.sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
			Actions:    jsii.Strings("sqs:SendMessage"),
			Resources:  jsii.Strings(*q.queue.QueueArn()),
			Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": rule.RuleArn()}},
		}))
	}
}

// newDriftEventSource maps the drift queue to the function (see the
// constants above). Partial batch responses (ReportBatchItemFailures) let
// the function report the records it cannot use without failing the
// others. The mapping is created after the function's policy, which grants
// it the queue: Lambda checks the role when the mapping is created.
func newDriftEventSource(stack awscdk.Stack, fn awslambda.IFunction, queue awssqs.IQueue, policy awsiam.Policy) awslambda.EventSourceMapping {
	esm := awslambda.NewEventSourceMapping(stack, jsii.String("DriftEventSource"), &awslambda.EventSourceMappingProps{
		Target:                  fn,
		EventSourceArn:          queue.QueueArn(),
		BatchSize:               jsii.Number(DriftBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(DriftBatchWindowSeconds)),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(DriftMaxConcurrency),
	})
	esm.Node().AddDependency(policy)
	return esm
}
