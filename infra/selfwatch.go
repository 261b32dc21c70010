package main

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// Watchkeeper watches itself (issue #11). What is here, and why:
//
//   - The watchdog topic: a second SNS topic with its own customer managed
//     key and the same subscribers. The self-alarms and the self-watch rule
//     notify it as well as the alarm topic, so a person still hears when
//     the alarm topic is broken (its key disabled, its subscription
//     removed). The remediator never heals, writes or publishes to it: its
//     role has no grant on the watchdog topic or key, so nothing Watchkeeper
//     does, and nothing a stolen remediator session does, can break both.
//   - The dead man's switch: an alarm on the run heartbeat (pkg/notify),
//     missing data breaching, that fires when no run succeeded for 26
//     hours, whatever stopped them.
//   - The self-watch rule: a change to Watchkeeper's own rules or function,
//     or to the trail's CloudWatch Logs delivery role, is sent straight to
//     the watchdog topic by EventBridge, so a person is told even when the
//     function cannot run (reserved concurrency 0, deleted). The drift rule
//     catches the same changes (withSelfWatch) so the function can undo
//     what it can (re-enable its own rule) and explain the rest.
//   - In us-east-1, when the home Region is another, a rule forwarding
//     IAM's events on the delivery role to the home Region's default event
//     bus: IAM is a global service whose CloudTrail events are delivered in
//     us-east-1 only.
//
// EventBridge matches an event against the rules enabled when it arrives,
// so a rule never hears its own disabling: the drift rule hears the
// schedule's and the self-watch rule's, the self-watch rule hears the drift
// rule's and the schedule's. Both disabled is the one gap, closed by the
// dead man's switch and by every run re-enabling the own rules
// (pkg/selfwatch).

// heartbeatWindowHours is how long without a successful run the dead man's
// switch tolerates: one nightly schedule plus two hours for a slow or
// retried run. The alarm evaluates one-hour periods, which CloudWatch
// allows up to seven days of (PutMetricAlarm: Period times
// EvaluationPeriods at most 604,800 s for periods of an hour or more).
const heartbeatWindowHours = 26

// IAMEventsRegion is where CloudTrail delivers IAM's events (and so where
// EventBridge receives them): global service events are recorded in US
// East (N. Virginia).
const IAMEventsRegion = "us-east-1"

// ownResources are the names the drift and self-watch rules narrow the
// self-watch calls to (trigger.SelfWatched, by trigger.Scope).
type ownResources struct {
	rules []string
	// functions names the remediator the ways a caller may: name, ARN and
	// partial ARN (Lambda API reference, "FunctionName").
	functions []string
	// deliveryRoles is the managed trail's CloudWatch Logs role, when the
	// stack provisions the trail; a customer's trail's role is unknown at
	// synth time (the judge still reports a trail whose delivery fails).
	deliveryRoles []string
}

// ownResourcesOf names the stack's own rules, its function and, when the
// stack manages the trail, the trail's delivery role.
func ownResourcesOf(fn awslambda.Function) ownResources {
	stack := awscdk.Stack_Of(fn)
	partition, account, region := *stack.Partition(), *stack.Account(), *stack.Region()
	name := *fn.FunctionName()
	own := ownResources{
		rules:     selfwatch.Rules(),
		functions: []string{name, "arn:" + partition + ":lambda:" + region + ":" + account + ":function:" + name, account + ":function:" + name},
	}
	if role := deliveryRole(stack); role != nil {
		own.deliveryRoles = []string{*role.RoleName()}
	}
	return own
}

// deliveryRole finds the managed trail's CloudWatch Logs role (the L2
// Trail's "LogsRole" child), or nil without a managed trail.
func deliveryRole(stack awscdk.Stack) awsiam.IRole {
	trail := stack.Node().TryFindChild(jsii.String("Trail"))
	if trail == nil {
		return nil
	}
	role, _ := trail.Node().TryFindChild(jsii.String("LogsRole")).(awsiam.IRole)
	return role
}

func (o ownResources) names(s trigger.Scope) []string {
	switch s {
	case trigger.OwnRule:
		return o.rules
	case trigger.OwnFunction:
		return o.functions
	case trigger.DeliveryRole:
		return o.deliveryRoles
	}
	return nil
}

// selfWatchBranches are the "$or" branches of the detail that select the
// self-watch calls on own resources only: one branch per requestParameters
// member (trigger.APICall.ResourceParameter), each requiring the call to
// have succeeded. Scopes without names (no managed trail) get no branch.
func selfWatchBranches(own ownResources) (branches []any, sources []string) {
	type key struct {
		scope trigger.Scope
		param string
	}
	var order []key
	groups := map[key][]trigger.APICall{}
	for _, c := range trigger.SelfWatched() {
		k := key{c.Scope, c.ResourceParameter()}
		if len(own.names(c.Scope)) == 0 {
			continue
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}
	for _, k := range order {
		var eventSources, names []string
		for _, c := range groups[k] {
			sources = append(sources, c.Source)
			eventSources = append(eventSources, c.EventSource)
			names = append(names, c.Name)
		}
		branches = append(branches, map[string]any{
			"eventSource":       sortedSet(eventSources),
			"eventName":         sortedSet(names),
			"errorCode":         []any{map[string]any{"exists": false}},
			"requestParameters": map[string]any{k.param: own.names(k.scope)},
		})
	}
	return branches, sortedSet(sources)
}

// withSelfWatch widens the drift rule's pattern p (the control calls) to
// the self-watch calls on own resources: the detail becomes an "$or" of
// p's detail and the self-watch branches, and the sources their union.
// p's detail keeps its own "$or"s, nested one level down (EventBridge's
// matcher, aws/event-ruler README, "Nested 'Or' and 'And'").
func withSelfWatch(p *awsevents.EventPattern, own ownResources) *awsevents.EventPattern {
	branches, sources := selfWatchBranches(own)
	if len(branches) == 0 {
		return p
	}
	out := *p
	if p.Source != nil {
		for _, src := range *p.Source {
			sources = append(sources, *src)
		}
	}
	out.Source = jsii.Strings(sortedSet(sources)...)
	out.Detail = &map[string]any{"$or": append([]any{*p.Detail}, branches...)}
	return &out
}

// selfWatchPattern is the self-watch rule's pattern: the self-watch calls
// on own resources, and nothing else.
func selfWatchPattern(own ownResources) *awsevents.EventPattern {
	branches, sources := selfWatchBranches(own)
	return &awsevents.EventPattern{
		Source:     jsii.Strings(sources...),
		DetailType: jsii.Strings(trigger.APICallDetailType),
		Detail:     &map[string]any{"$or": branches},
	}
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// newSelfWatch adds everything by which Watchkeeper watches itself (see the
// comment at the top of this file): the watchdog topic, the self-alarms on
// both topics, the self-watch rule and, away from us-east-1, the IAM
// forwarding stack.
func newSelfWatch(stack awscdk.Stack, cfg Config, alarmTopic awssns.Topic, fn awslambda.Function, dlq awssqs.Queue) {
	partition, account, region := *stack.Partition(), *stack.Account(), *stack.Region()
	watchdog := newWatchdogTopic(stack, cfg, partition, account, region)
	newSelfAlarms(stack, []awssns.ITopic{alarmTopic, watchdog}, fn, dlq, account)
	own := ownResourcesOf(fn)

	rule := awsevents.NewRule(stack, jsii.String("SelfWatchRule"), &awsevents.RuleProps{
		RuleName:     jsii.String(selfwatch.WatchRule),
		Description:  jsii.String("Watchkeeper: tells a person, without the function, that Watchkeeper's own rules, function or the trail's delivery role changed"),
		EventPattern: selfWatchPattern(own),
	})
	targetWatchdog(rule, watchdog, dlq, "arn:"+partition+":events:"+region+":"+account+":rule/"+selfwatch.WatchRule)

	regionKnown := !*awscdk.Token_IsUnresolved(jsii.String(region))
	switch {
	case len(own.deliveryRoles) == 0 || region == IAMEventsRegion:
		// Nothing to forward: no delivery role to watch, or IAM's events
		// arrive here already.
	case regionKnown:
		fwd := newIAMForwardStack(stack, account, region)
		stack.AddStackDependency(fwd, jsii.String("IAM events reach the home Region only through the forwarding rule in "+IAMEventsRegion))
	default:
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("watchkeeper:iamForwardNeedsRegion"),
			jsii.String("the stack's Region is not known at synth time, so no "+IAMEventsRegion+" forwarding rule is added: changes to the trail's CloudWatch Logs delivery role (IAM events, delivered in "+IAMEventsRegion+" only) are caught only when the stack is deployed there; deploy with `cdk deploy --all` and credentials that name the account and Region"))
	}
}

// targetWatchdog makes the watchdog topic the self-watch rule's only
// target, with the rules' retry policy and dead-letter queue, at the L1
// level like the drift queue (targetDriftQueue): the L2 SnsTopic target
// lets events.amazonaws.com publish to the topic and use its key without
// naming a rule or account, so any account's rule could write to the
// watchdog topic. Here the topic policy and the dead-letter queue's name
// the self-watch rule (its fixed name: ruleArn), and the key policy this
// account (newWatchdogTopic).
func targetWatchdog(rule awsevents.Rule, topic awssns.Topic, dlq awssqs.IQueue, ruleArn string) {
	cfn := rule.Node().DefaultChild().(awsevents.CfnRule)
	cfn.SetTargets([]any{&awsevents.CfnRule_TargetProperty{
		Id:  jsii.String("Watchdog"),
		Arn: topic.TopicArn(),
		InputTransformer: &awsevents.CfnRule_InputTransformerProperty{
			InputPathsMap: &selfWatchPaths,
			InputTemplate: jsii.String(selfWatchTemplate),
		},
		DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
		RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
			MaximumRetryAttempts:     jsii.Number(asyncRetryAttempts),
			MaximumEventAgeInSeconds: jsii.Number(asyncMaxEventAgeHours * 3600),
		},
	}})
	events := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)}
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowTheSelfWatchRule"),
		Principals: events,
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": ruleArn}},
	}))
	dlq.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowTheSelfWatchRuleToDeadLetter"),
		Principals: events,
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  jsii.Strings(*dlq.QueueArn()),
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": ruleArn}},
	}))
}

// selfWatchPaths and selfWatchTemplate are the self-watch rule's input
// transformer: the message names the call, who made it, when, where, and
// what it changed, from the CloudTrail record. It quotes only the request
// parameters that identify the resource or say what changed (rule,
// function, new reserved concurrency, role, policy), never the whole
// request: an UpdateFunctionConfiguration request can carry environment
// variables, which may be secrets. Every variable sits inside quotes, so
// the message stays a JSON document whichever members a call lacks (a path
// the event lacks creates no variable: EventBridge user guide, "Amazon
// EventBridge input transformation", common issues).
var selfWatchPaths = map[string]*string{
	"call":        jsii.String("$.detail.eventName"),
	"service":     jsii.String("$.detail.eventSource"),
	"by":          jsii.String("$.detail.userIdentity.arn"),
	"byType":      jsii.String("$.detail.userIdentity.type"),
	"at":          jsii.String("$.detail.eventTime"),
	"region":      jsii.String("$.detail.awsRegion"),
	"account":     jsii.String("$.account"),
	"rule":        jsii.String("$.detail.requestParameters.name"),
	"targetsOf":   jsii.String("$.detail.requestParameters.rule"),
	"function":    jsii.String("$.detail.requestParameters.functionName"),
	"concurrency": jsii.String("$.detail.requestParameters.reservedConcurrentExecutions"),
	"role":        jsii.String("$.detail.requestParameters.roleName"),
	"policy":      jsii.String("$.detail.requestParameters.policyName"),
	"policyArn":   jsii.String("$.detail.requestParameters.policyArn"),
}

const selfWatchTemplate = `{"watchkeeper": "Watchkeeper itself was changed, and may not be able to tell you more or to undo it. ` +
	`A disabled Watchkeeper rule is re-enabled by the next run; anything else (a deleted rule or function, removed targets, ` +
	`changed function settings or concurrency, a changed CloudTrail delivery role) stays until a person restores it, usually by redeploying the stack. ` +
	`Members that do not apply to this call are empty.", ` +
	`"call": "<call>", "service": "<service>", "by": "<by>", "identityType": "<byType>", "at": "<at>", "region": "<region>", "account": "<account>", ` +
	`"rule": "<rule>", "targetsRemovedFromRule": "<targetsOf>", "function": "<function>", "reservedConcurrentExecutions": "<concurrency>", ` +
	`"role": "<role>", "inlinePolicy": "<policy>", "managedPolicy": "<policyArn>"}`

// newWatchdogTopic creates the watchdog topic and its key. Same subscribers
// as the alarm topic, its own key, a policy that lets this account's
// CloudWatch alarms and EventBridge rules publish, and nothing for the
// remediator.
func newWatchdogTopic(stack awscdk.Stack, cfg Config, partition, account, region string) awssns.Topic {
	key := newRotatedKey(stack, "WatchdogKey", "Watchkeeper watchdog topic encryption (independent of the alarm topic's key)")
	// Both publishers encrypt with the key through SNS, as the services
	// themselves (SNS developer guide, "Key management": the publishing
	// service needs kms:GenerateDataKey* and kms:Decrypt in the key policy).
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AllowThisAccountsAlarmsAndRulesToUseTheKey"),
		Principals: &[]awsiam.IPrincipal{
			awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil),
			awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}},
	}), jsii.Bool(false))
	topic := awssns.NewTopic(stack, jsii.String("WatchdogTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Watchkeeper watchdog"),
		MasterKey:   key,
	})
	alarmTopicPolicy(topic, partition, account, region) // stack.go
	for _, e := range cfg.NotificationEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	awscdk.NewCfnOutput(stack, jsii.String("WatchdogTopicArn"), &awscdk.CfnOutputProps{Value: topic.TopicArn()})
	return topic
}

// newSelfAlarms alarms on Watchkeeper itself, on every topic in topics:
// failed runs, events waiting in the dead-letter queue, and the dead man's
// switch (no successful run for heartbeatWindowHours).
func newSelfAlarms(stack awscdk.Stack, topics []awssns.ITopic, fn awslambda.Function, dlq awssqs.Queue, account string) {
	notifyAll := func(a awscloudwatch.Alarm) {
		for _, t := range topics {
			a.AddAlarmAction(awscloudwatchactions.NewSnsAction(t))
		}
	}
	alarmOnTopic := func(id, description string, metric awscloudwatch.IMetric) {
		notifyAll(awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}))
	}
	alarmOnTopic("RemediatorErrorsAlarm", "Watchkeeper's remediator failed: its controls may be out of date. See its log group.",
		fn.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}))
	alarmOnTopic("DeadLetterQueueAlarm", "Watchkeeper events or runs failed after retries and are waiting in the dead-letter queue.",
		dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}))

	// The dead man's switch: every hour-long period of the window must lack
	// a heartbeat (missing data breaching) for the alarm to fire, so one
	// successful run in the last 26 hours keeps it OK.
	heartbeat := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(notify.MetricNamespace),
		MetricName:    jsii.String(notify.HeartbeatMetric),
		DimensionsMap: &map[string]*string{notify.HeartbeatDimension: jsii.String(account)},
		Statistic:     jsii.String("Sum"),
		Period:        awscdk.Duration_Hours(jsii.Number(1)),
	})
	notifyAll(awscloudwatch.NewAlarm(stack, jsii.String("DeadMansSwitchAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Watchkeeper has not completed a run for 26 hours: the schedule may be disabled, or the function stopped, deleted or failing. " +
			"Right after the first deployment this fires until the first run; invoke the function once with {\"mode\":\"report\"} to clear it."),
		Metric:             heartbeat,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(heartbeatWindowHours),
		DatapointsToAlarm:  jsii.Number(heartbeatWindowHours),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	}))
}

// newIAMForwardStack creates, in us-east-1, the stack whose one rule sends
// the delivery-role calls (trigger.DeliveryRole) to the home Region's
// default event bus, where the drift and self-watch rules narrow them to
// the delivery role by name. EventBridge supports an event bus in another
// Region as a rule target, with a role allowed to events:PutEvents on it
// (EventBridge user guide, "Sending and receiving events between AWS
// Regions"). It forwards every successful call of those names, not only
// the delivery role's: the role's name is a token of the home stack, which
// a stack in another Region cannot reference.
func newIAMForwardStack(home awscdk.Stack, account, homeRegion string) awscdk.Stack {
	id := *home.Node().Id() + "IamForward"
	app, ok := home.Node().Scope().(constructs.Construct)
	if !ok {
		panic("the Watchkeeper stack has no construct scope")
	}
	fwd := awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(IAMEventsRegion)},
		Description: jsii.String("Watchkeeper: forwards IAM events on CloudTrail's delivery role from " + IAMEventsRegion + " to the home Region " + homeRegion),
	})
	awscdk.Tags_Of(fwd).Add(jsii.String("ManagedBy"), jsii.String("watchkeeper"), nil)
	var sources, eventSources, names []string
	for _, c := range trigger.SelfWatched() {
		if c.Scope == trigger.DeliveryRole {
			sources, eventSources, names = append(sources, c.Source), append(eventSources, c.EventSource), append(names, c.Name)
		}
	}
	homeBus := awsevents.EventBus_FromEventBusArn(fwd, jsii.String("HomeBus"),
		jsii.String("arn:"+*fwd.Partition()+":events:"+homeRegion+":"+account+":event-bus/default"))
	role := awsiam.NewRole(fwd, jsii.String("ForwardRole"), &awsiam.RoleProps{
		Description: jsii.String("Watchkeeper: lets EventBridge put the forwarded IAM events on the home Region's default bus"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
	})
	awsevents.NewRule(fwd, jsii.String("ForwardRule"), &awsevents.RuleProps{
		RuleName:    jsii.String(selfwatch.ForwardRule),
		Description: jsii.String("Watchkeeper: IAM calls that can change CloudTrail's delivery role, to the home Region " + homeRegion),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(sortedSet(sources)...),
			DetailType: jsii.Strings(trigger.APICallDetailType),
			Detail: &map[string]any{
				"eventSource": sortedSet(eventSources),
				"eventName":   sortedSet(names),
				"errorCode":   []any{map[string]any{"exists": false}},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewEventBus(homeBus, &awseventstargets.EventBusProps{Role: role})},
	})
	return fwd
}

// SelfWatchActions are the actions the own-rule check (pkg/selfwatch,
// through the function's EventBridge adapter) calls, besides
// inspect.ReadActions, apply.WriteActions and NotifyActions.
var SelfWatchActions = []string{"events:DescribeRule", "events:EnableRule"}

// ownRuleArns are the ARNs of the stack's own rules in region, from their
// fixed names (selfwatch.Rules).
func ownRuleArns(partition, account, region string) []string {
	var out []string
	for _, name := range selfwatch.Rules() {
		out = append(out, "arn:"+partition+":events:"+region+":"+account+":rule/"+name)
	}
	return out
}

// selfWatchStatements let the function read its own rules' state and, in
// a healing deployment, re-enable them: events:DescribeRule and
// events:EnableRule authorise on the rule ARN (Service Authorization
// Reference, Amazon EventBridge: resource type rule-on-default-event-bus),
// so the grant names exactly the stack's three rules and no other.
// Nothing grants DisableRule, DeleteRule, RemoveTargets or PutRule.
func selfWatchStatements(partition, account, region string, apply bool) []awsiam.PolicyStatement {
	rules := ownRuleArns(partition, account, region)
	out := []awsiam.PolicyStatement{allow("CheckOwnRules", []string{"events:DescribeRule"}, rules...)}
	if apply {
		out = append(out, allow("ReEnableOwnRules", []string{"events:EnableRule"}, rules...))
	}
	return out
}
