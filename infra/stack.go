package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// Sizing of the remediator. A full run reads a few dozen API pages per
// region and holds one snapshot in memory; the Lambda engineer's benchmark
// (make bench) targets under 64 MB peak RSS, so 256 MB leaves ample headroom
// and buys proportionally more CPU for JSON decoding. A full run over all
// enabled regions is network-bound; 5 minutes covers the slowest regions
// with retries, and the remediator stops starting actions before its
// deadline, so the next run finishes any remainder.
const (
	FunctionMemoryMB       = 256
	FunctionTimeoutMinutes = 5
	// LogRetention keeps the remediator's logs (what it changed and why)
	// for a quarter, long enough to investigate drift found by a nightly run.
	LogRetention = awslogs.RetentionDays_THREE_MONTHS
	// asyncRetryAttempts and asyncMaxEventAgeHours bound the retries of
	// EventBridge delivery and of failed asynchronous invocations. Runs are
	// level-based and idempotent, so a retry is always safe; after an hour a
	// newer event or the nightly run has superseded the event anyway.
	asyncRetryAttempts    = 2
	asyncMaxEventAgeHours = 1
	// TrailName is the managed trail's name when provisionTrail is set.
	TrailName = "watchkeeper-management-events"
)

// WatchkeeperStackProps configures the stack.
type WatchkeeperStackProps struct {
	awscdk.StackProps
	// Config is the validated deployment configuration.
	Config Config
	// ModuleRoot is the directory with the Go module's go.mod, from which the
	// remediator is built.
	ModuleRoot string
	// Code, when set, returns the remediator's code instead of the bundled
	// asset: a member stack of the organization StackSet reads it from the
	// per-Region code bucket (stackset.go), since a StackSet template
	// cannot carry CDK assets.
	Code func(awscdk.Stack) awslambda.Code
	// RegionalRoleName suffixes the remediator role's name with the
	// Region, so instances of the member stack in several Regions of one
	// account do not collide (IAM names are account-global).
	RegionalRoleName bool
	// CentralRoleARN, in a member stack, is the central account's
	// read-only role the remediator assumes to judge the central chain
	// (pkg/config FieldCentralRoleARN, WATCHKEEPER_CENTRAL_ROLE_ARN).
	CentralRoleARN string
}

// NewWatchkeeperStack defines everything one `cdk deploy` installs.
func NewWatchkeeperStack(scope constructs.Construct, id string, props *WatchkeeperStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	// Grant S3 server access logging through a bucket policy to the
	// logging service instead of the legacy LogDeliveryWrite ACL, which needs
	// ACLs enabled on the log bucket. Set here, before any child exists, so
	// the template does not depend on cdk.json's feature flags.
	stack.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	cfg := props.Config
	awscdk.Tags_Of(stack).Add(jsii.String("ManagedBy"), jsii.String("watchkeeper"), nil)

	partition, account, region := *stack.Partition(), *stack.Account(), *stack.Region()

	topicKey := newTopicKey(stack, account)
	topic := newAlarmTopic(stack, cfg, topicKey, partition, account, region)

	// The drift queue and the one dead-letter queue (queue.go), both
	// encrypted with the queue key: they hold CloudTrail records.
	queueKey := newQueueKey(stack, partition, account, region)
	dlq := newDeadLetterQueue(stack, queueKey)
	driftQueue := newDriftQueue(stack, queueKey, dlq)

	var trail *managedTrail
	if cfg.ProvisionTrail {
		trail = newManagedTrail(stack, partition, account, region)
		if cfg.Healing() != "full" {
			// The user chose a level explicitly ("auto" would be full):
			// respect it, but say what it costs.
			awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("watchkeeper:managedTrailNotFullyHealed"),
				jsii.String("provisionTrail is true but trailHealing is \""+cfg.TrailHealing+"\": the remediator will not re-attach CloudWatch Logs to (or re-enable multi-region on) the managed trail "+TrailName+" if someone changes it; only trailHealing=full (the default, \"auto\", with provisionTrail) restores it completely"))
		}
	}

	logGroup := awslogs.NewLogGroup(stack, jsii.String("RemediatorLogs"), &awslogs.LogGroupProps{
		Retention: LogRetention,
		// The log is the record of what Watchkeeper changed; keep it when
		// the stack is deleted.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	roleName := remediatorRoleName(props.RegionalRoleName, region)
	role, policy := newRemediatorRole(stack, cfg, roleName, topicKey, trail, logGroup, dlq, driftQueue, queueKey)
	fn := newRemediatorFunction(stack, props, role, policy, topicKey, trail, logGroup, dlq)
	newRules(stack, cfg, roleName, fn, dlq, driftQueue, policy)
	newSelfWatch(stack, cfg, topic, fn, dlq)

	awscdk.NewCfnOutput(stack, jsii.String("TopicArn"), &awscdk.CfnOutputProps{Value: topic.TopicArn()})
	awscdk.NewCfnOutput(stack, jsii.String("FunctionName"), &awscdk.CfnOutputProps{Value: fn.FunctionName()})
	awscdk.NewCfnOutput(stack, jsii.String("DeadLetterQueueUrl"), &awscdk.CfnOutputProps{Value: dlq.QueueUrl()})
	return stack
}

// newRemediatorRole creates the function's role and its least-privilege
// policy (remediatorStatements, plus its own logs and dead-letter queue).
func newRemediatorRole(stack awscdk.Stack, cfg Config, roleName string, topicKey awskms.Key, trail *managedTrail, logGroup awslogs.LogGroup, dlq, driftQueue awssqs.IQueue, queueKey awskms.IKey) (awsiam.Role, awsiam.Policy) {
	partition, account := *stack.Partition(), *stack.Account()
	role := awsiam.NewRole(stack, jsii.String("RemediatorRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(roleName),
		Description: jsii.String("Watchkeeper remediator: inspects and heals CIS monitoring controls"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	perms := permissionScope{
		partition: partition, account: account, topicName: cfg.TopicName, topicKeyArn: *topicKey.KeyArn(),
		apply: cfg.Mode == "apply", healing: cfg.Healing(), subscriptions: cfg.endpoints(),
	}
	if cfg.Findings == string(config.FindingsSecurityHub) {
		perms.findingsRegion = *stack.Region()
	}
	if trail != nil {
		perms.trailLogsRoleArn = *trail.logsRole.RoleArn()
		// The managed trail's home Region is the stack's.
		perms.trailArns = []string{"arn:" + partition + ":cloudtrail:" + *stack.Region() + ":" + account + ":trail/" + TrailName}
	} else if name := cfg.HealedTrail(); name != "" {
		perms.trailArns = []string{trailArn(partition, account, name)}
	}
	statements := remediatorStatements(perms)
	statements = append(statements, selfWatchStatements(partition, account, *stack.Region(), perms.apply)...) // selfwatch.go
	statements = append(statements,
		// The function's own logging, written here instead of attaching the
		// AWSLambdaBasicExecutionRole managed policy, which allows every log
		// group in the account.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteOwnLogs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*logGroup.LogGroupArn()),
		}),
		// Lambda sends failed asynchronous invocations to the on-failure
		// destination with the function's role (Lambda developer guide,
		// "Adding a destination": SQS needs sqs:SendMessage).
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SendFailedInvocationsToDeadLetterQueue"),
			Actions:   jsii.Strings("sqs:SendMessage"),
			Resources: jsii.Strings(*dlq.QueueArn()),
		}))
	// The drift queue's event source mapping and the queue key (queue.go).
	statements = append(statements, queueStatements(*driftQueue.QueueArn(), *queueKey.KeyArn())...)
	// The explicit Deny statements come last, after every Allow
	// (guardStatements; TestGuardNeverDeniesAGrantedAction).
	statements = append(statements, guardStatements(perms)...)
	policy := awsiam.NewPolicy(stack, jsii.String("RemediatorPolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: &statements,
	})
	suppressRemediatorPolicy(policy)

	return role, policy
}

// newRemediatorFunction creates the remediator Lambda with its
// configuration and asynchronous-invocation settings.
func newRemediatorFunction(stack awscdk.Stack, props *WatchkeeperStackProps, role awsiam.Role, policy awsiam.Policy, topicKey awskms.Key, trail *managedTrail, logGroup awslogs.LogGroup, dlq awssqs.Queue) awslambda.Function {
	cfg, region := props.Config, *stack.Region()
	env := map[string]*string{
		"WATCHKEEPER_BENCHMARK":       jsii.String(cfg.Benchmark),
		"WATCHKEEPER_MODE":            jsii.String(cfg.Mode),
		"WATCHKEEPER_PATTERN_PROFILE": jsii.String(cfg.PatternProfile),
		"WATCHKEEPER_NAMESPACE":       jsii.String(cfg.Namespace),
		"WATCHKEEPER_TOPIC_NAME":      jsii.String(cfg.TopicName),
		"WATCHKEEPER_TOPIC_KMS_KEY":   topicKey.KeyArn(),
		"WATCHKEEPER_SUBSCRIPTIONS":   jsii.String(cfg.Subscriptions()),
		"WATCHKEEPER_EXCLUDE":         jsii.String(strings.Join(cfg.ExcludedControls, ",")),
		"WATCHKEEPER_HOME_REGION":     jsii.String(region),
		"WATCHKEEPER_TRAIL_HEALING":   jsii.String(cfg.Healing()),
		"WATCHKEEPER_SELF_ROLE_ARN":   role.RoleArn(),
		"WATCHKEEPER_NOTIFY":          jsii.String("true"),
		"WATCHKEEPER_FINDINGS":        jsii.String(cfg.Findings),
		"LOG_LEVEL":                   jsii.String("INFO"),
	}
	if props.CentralRoleARN != "" { // a member of an organization (stackset.go)
		env[config.EnvCentralRoleARN] = jsii.String(props.CentralRoleARN)
	}
	if len(cfg.Regions) > 0 { // else every enabled Region
		env["WATCHKEEPER_REGIONS"] = jsii.String(strings.Join(cfg.Regions, ","))
	}
	if name := cfg.HealedTrail(); name != "" { // the only trail IAM lets it change
		env["WATCHKEEPER_TRAIL_NAME"] = jsii.String(name)
	}
	if trail != nil {
		env["WATCHKEEPER_TRAIL_LOG_GROUP_ARN"] = trail.logGroup.LogGroupArn()
		env["WATCHKEEPER_TRAIL_LOGS_ROLE_ARN"] = trail.logsRole.RoleArn()
	}

	code := remediatorCode
	if props.Code != nil {
		code = func(string) awslambda.Code { return props.Code(stack) }
	}
	fn := awslambda.NewFunction(stack, jsii.String("Remediator"), &awslambda.FunctionProps{
		Description:                  jsii.String("Watchkeeper: keeps the CIS AWS Foundations Benchmark monitoring controls true"),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         code(props.ModuleRoot),
		MemorySize:                   jsii.Number(FunctionMemoryMB),
		Timeout:                      awscdk.Duration_Minutes(jsii.Number(FunctionTimeoutMinutes)),
		ReservedConcurrentExecutions: jsii.Number(1), // no two runs race on the same resources
		Role:                         role,
		Environment:                  &env,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
		LogGroup:                     logGroup,
	})
	// The asynchronous-invocation settings are written at the L1 level
	// because the L2 destination grants sqs:GetQueueAttributes and
	// sqs:GetQueueUrl besides the sqs:SendMessage Lambda needs.
	invokeConfig := awslambda.NewCfnEventInvokeConfig(stack, jsii.String("RemediatorAsyncConfig"), &awslambda.CfnEventInvokeConfigProps{
		FunctionName:             fn.FunctionName(),
		Qualifier:                jsii.String("$LATEST"),
		MaximumRetryAttempts:     jsii.Number(asyncRetryAttempts),
		MaximumEventAgeInSeconds: jsii.Number(asyncMaxEventAgeHours * 3600),
		DestinationConfig: &awslambda.CfnEventInvokeConfig_DestinationConfigProperty{
			OnFailure: &awslambda.CfnEventInvokeConfig_OnFailureProperty{Destination: dlq.QueueArn()},
		},
	})
	// Lambda checks the role can reach the destination when the config is
	// written, and the function must not run before its permissions exist.
	invokeConfig.Node().AddDependency(policy)
	fn.Node().AddDependency(policy)

	return fn
}

// newRules creates the nightly schedule, which invokes the function, and
// the drift rule, which sends to the drift queue that the function reads in
// batches (queue.go); both with retries and the dead-letter queue.
func newRules(stack awscdk.Stack, cfg Config, roleName string, fn awslambda.Function, dlq, driftQueue awssqs.Queue, policy awsiam.Policy) {
	partition, account := *stack.Partition(), *stack.Account()
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: dlq,
			RetryAttempts:   jsii.Number(asyncRetryAttempts),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(asyncMaxEventAgeHours)),
		})
	}
	awsevents.NewRule(stack, jsii.String("ScheduleRule"), &awsevents.RuleProps{
		RuleName:    jsii.String(selfwatch.ScheduleRule), // fixed: the function re-enables it by name
		Description: jsii.String("Watchkeeper nightly full check and heal"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(cfg.Schedule)),
		Targets:     &[]awsevents.IRuleTarget{target()},
	})
	drift := awsevents.NewRule(stack, jsii.String("DriftRule"), &awsevents.RuleProps{
		RuleName:     jsii.String(selfwatch.DriftRule), // fixed: the function re-enables it by name
		Description:  jsii.String("Watchkeeper: API calls that can break a CIS monitoring control, except Watchkeeper's own"),
		EventPattern: withSelfWatch(driftPattern(partition, account, roleName), ownResourcesOf(fn)), // + changes to Watchkeeper itself (selfwatch.go)
	})
	targetDriftQueue(drift, driftQueue, dlq)
	newDriftEventSource(stack, fn, driftQueue, policy)

}

// newTopicKey creates the customer managed key of the alarm topic. An alarm
// cannot publish to a topic encrypted with the AWS managed alias/aws/sns key
// (its policy cannot be changed); this key's policy lets CloudWatch use it,
// but only on behalf of this account.
func newTopicKey(stack awscdk.Stack, account string) awskms.Key {
	key := newRotatedKey(stack, "TopicKey", "Watchkeeper alarm topic encryption")
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToUseTheKey"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}},
	}), jsii.Bool(false))
	return key
}

// newAlarmTopic creates the topic every Watchkeeper alarm notifies.
func newAlarmTopic(stack awscdk.Stack, cfg Config, key awskms.IKey, partition, account, region string) awssns.Topic {
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		TopicName:   jsii.String(cfg.TopicName),
		DisplayName: jsii.String("Watchkeeper CIS alarms"),
		MasterKey:   key,
		// Not EnforceSSL: the L2 denies only sns:Publish over plain HTTP.
		// The statement below denies every SNS action on the topic.
	})
	alarmTopicPolicy(topic, partition, account, region)
	for _, e := range cfg.NotificationEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	if len(cfg.NotificationEmails) == 0 {
		// Not an error: a subscriber may be added outside the stack. But
		// every CIS control needs a confirmed subscriber, so say so.
		awscdk.Annotations_Of(topic).AddWarningV2(jsii.String("watchkeeper:noNotificationEmails"),
			jsii.String("context \"notificationEmails\" is empty: the alarm topic has no subscriber, so every CIS monitoring control fails until one is added and confirmed (deploy with -c notificationEmails=you@example.com)"))
	}
	return topic
}

// DriftPattern is the drift rule's event pattern for the control calls:
// trigger.Pattern, the one definition the function's decoder and the moto
// tests share, with the remediator's own role excluded by its session ARN
// prefix. It drops calls that failed, the remediator's own calls, and
// calls by service-linked roles or auto scaling; trigger.Pattern says how.
func DriftPattern(partition, account string) *awsevents.EventPattern {
	return driftPattern(partition, account, RoleName)
}

// driftPattern is DriftPattern for the remediator role named roleName.
func driftPattern(partition, account, roleName string) *awsevents.EventPattern {
	p := trigger.Pattern(partition, account, sessionARNPrefix(partition, account, roleName))
	return &awsevents.EventPattern{
		Source:     jsii.Strings(p.Sources...),
		DetailType: jsii.Strings(p.DetailTypes...),
		Detail:     &p.Detail,
	}
}

// OwnSessionARNPrefix is the prefix of every STS session ARN of the
// remediator's role: "arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/".
func OwnSessionARNPrefix(partition, account string) string {
	return sessionARNPrefix(partition, account, RoleName)
}

func sessionARNPrefix(partition, account, roleName string) string {
	return "arn:" + partition + ":sts::" + account + ":assumed-role/" + roleName + "/"
}

// remediatorRoleName is RoleName, or with regional RoleName-REGION: a
// StackSet deploys the member stack into several Regions of one account,
// and IAM role names are unique per account (IAM User Guide, "IAM object
// quotas and names"), so a fixed name would fail every Region after the
// first. The drift rule's self-exclusion uses the same name, so it keeps
// matching the role's sessions. region may be a token (the member template
// is Region-agnostic): CloudFormation resolves it at deploy time, in the
// role name and in the event pattern alike.
func remediatorRoleName(regional bool, region string) string {
	if !regional {
		return RoleName
	}
	return RoleName + "-" + region
}

// alarmTopicPolicy is the access policy of a topic this account's alarms
// notify (the alarm topic and the watchdog topic): every SNS action over
// plain HTTP is denied (the L2's EnforceSSL denies only sns:Publish), and
// CloudWatch may publish only for this account's alarms in this Region.
func alarmTopicPolicy(topic awssns.Topic, partition, account, region string) {
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyNonTLSAccess"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
		Actions:    jsii.Strings("sns:*"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}))
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": account},
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + partition + ":cloudwatch:" + region + ":" + account + ":alarm:*"},
		},
	}))
}

// newRotatedKey is a customer managed key for the stack's topics and
// queues: rotated yearly, and deleted with the stack only on KMS's
// schedule, never at once: 30 days in which the deletion can be cancelled. The managed trail's key is different: it decrypts retained
// audit logs, so it is kept (trail.go).
func newRotatedKey(stack awscdk.Stack, id, description string) awskms.Key {
	return awskms.NewKey(stack, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(description),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
}
