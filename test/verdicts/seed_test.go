package verdicts_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// env is one case's account: a compliant account (world.Compliant) and the
// means to vary one link of it.
type env struct {
	t     *testing.T
	w     *world.World
	acct  world.Account
	bench catalog.Benchmark
	// mayChange lists resources (key ARNs) that Watchkeeper may change when
	// it heals this case although it does not own them by name: the topic
	// key it is configured with.
	mayChange []string
	// flags are added to every run of the case (e.g. --topic-kms-key).
	flags []string
}

func (e *env) region() string { return e.acct.HomeRegion }

func (e *env) logs() *cloudwatchlogs.Client { return cloudwatchlogs.NewFromConfig(cfg(e.region())) }
func (e *env) cw() *cloudwatch.Client       { return cloudwatch.NewFromConfig(cfg(e.region())) }
func (e *env) sns() *sns.Client             { return sns.NewFromConfig(cfg(e.region())) }
func (e *env) trails() *cloudtrail.Client   { return cloudtrail.NewFromConfig(cfg(e.region())) }

// ctl returns the benchmark's control with catalog key key.
func (e *env) ctl(key string) catalog.Control {
	e.t.Helper()
	for _, c := range e.bench.Controls {
		if c.Key == key {
			return c
		}
	}
	e.t.Fatalf("benchmark %s has no control %q", e.bench.ID, key)
	return catalog.Control{}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// ownFilterInput is the filter Watchkeeper writes for key (what
// world.ControlFilters seeded).
func (e *env) ownFilterInput(key string) *cloudwatchlogs.PutMetricFilterInput {
	c := e.ctl(key)
	return &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName:  aws.String(e.acct.Trail.LogGroupName),
		FilterName:    aws.String(prefix + c.Key),
		FilterPattern: aws.String(c.PatternFor(catalog.ProfileBenchmark)),
		MetricTransformations: []logtypes.MetricTransformation{{
			MetricName: aws.String(c.MetricName), MetricNamespace: aws.String(e.acct.Namespace), MetricValue: aws.String("1"),
		}},
	}
}

// ownFilter re-puts Watchkeeper's filter for key, changed by edit.
func (e *env) ownFilter(key string, edit func(*cloudwatchlogs.PutMetricFilterInput)) {
	e.t.Helper()
	in := e.ownFilterInput(key)
	edit(in)
	_, err := e.logs().PutMetricFilter(e.t.Context(), in)
	e.must(err)
}

// ownAlarm re-puts Watchkeeper's alarm for key, changed by edit.
func (e *env) ownAlarm(key string, edit func(*cloudwatch.PutMetricAlarmInput)) {
	e.t.Helper()
	in := world.AlarmSpec(e.ctl(key), e.acct.Namespace, e.acct.Prefix, e.acct.TopicARN)
	edit(in)
	_, err := e.cw().PutMetricAlarm(e.t.Context(), in)
	e.must(err)
}

// dropOwn deletes Watchkeeper's filter and alarm for key.
func (e *env) dropOwn(key string) {
	e.t.Helper()
	e.dropOwnFilter(key)
	e.dropOwnAlarm(key)
}

func (e *env) dropOwnFilter(key string) {
	e.t.Helper()
	_, err := e.logs().DeleteMetricFilter(e.t.Context(), &cloudwatchlogs.DeleteMetricFilterInput{
		LogGroupName: aws.String(e.acct.Trail.LogGroupName), FilterName: aws.String(prefix + key),
	})
	e.must(err)
}

func (e *env) dropOwnAlarm(key string) {
	e.t.Helper()
	_, err := e.cw().DeleteAlarms(e.t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{prefix + key}})
	e.must(err)
}

// A person's chain, under the person's own names.
const (
	userNamespace = "SecOps"
	userTopicName = "secops-alerts"
	// userEndpoint is the person's topic's default subscriber: a queue, so
	// a protocol other than Watchkeeper's email.
	userEndpoint = "sqs:arn:aws:sqs:us-east-1:123456789012:secops-inbox"
)

// chain is a person's filter, alarm and topic for one control.
type chain struct {
	FilterName, AlarmName, Metric, TopicARN string
	alarm                                   *cloudwatch.PutMetricAlarmInput
}

// chainSpec varies a person's chain. The zero value is a working chain:
// the control's benchmark pattern, metricValue 1, an alarm like
// Watchkeeper's but with missing data treated as missing (the default),
// and a topic with a confirmed sqs subscription.
type chainSpec struct {
	filter func(*cloudwatchlogs.PutMetricFilterInput)
	alarm  func(*cloudwatch.PutMetricAlarmInput)
	// endpoints subscribe the person's topic; nil means userEndpoint, and
	// an empty non-nil slice means none.
	endpoints []string
	// topic is applied to the person's topic after it is created.
	topic func(e *env, arn string)
}

// userChain replaces Watchkeeper's filter and alarm for key with a
// person's chain varied by spec.
func (e *env) userChain(key string, spec chainSpec) chain {
	e.t.Helper()
	ctx := e.t.Context()
	c := e.ctl(key)
	e.dropOwn(key)
	endpoints := spec.endpoints
	if endpoints == nil {
		endpoints = []string{userEndpoint}
	}
	topic, err := e.w.Topic(ctx, e.region(), userTopicName, endpoints...)
	e.must(err)
	if spec.topic != nil {
		spec.topic(e, topic)
	}
	ch := chain{FilterName: "SecOps-" + c.Key, AlarmName: "SecOps-" + c.Key + "-alarm", Metric: "SecOps" + c.MetricName, TopicARN: topic}
	f := &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName:  aws.String(e.acct.Trail.LogGroupName),
		FilterName:    aws.String(ch.FilterName),
		FilterPattern: aws.String(c.PatternFor(catalog.ProfileBenchmark)),
		MetricTransformations: []logtypes.MetricTransformation{{
			MetricName: aws.String(ch.Metric), MetricNamespace: aws.String(userNamespace), MetricValue: aws.String("1"),
		}},
	}
	if spec.filter != nil {
		spec.filter(f)
	}
	_, err = e.logs().PutMetricFilter(ctx, f)
	e.must(err)
	a := world.AlarmSpec(c, userNamespace, "", topic)
	a.AlarmName, a.MetricName = aws.String(ch.AlarmName), aws.String(ch.Metric)
	a.AlarmDescription = aws.String("SecOps: " + c.Title)
	a.TreatMissingData, a.Tags = nil, nil
	if spec.alarm != nil {
		spec.alarm(a)
	}
	_, err = e.cw().PutMetricAlarm(ctx, a)
	e.must(err)
	ch.alarm = a
	return ch
}

// extraAlarm puts another alarm named name, a copy of ch's alarm changed by
// edit.
func (e *env) extraAlarm(ch chain, name string, edit func(*cloudwatch.PutMetricAlarmInput)) {
	e.t.Helper()
	in := *ch.alarm
	in.AlarmName = aws.String(name)
	in.AlarmActions = append([]string(nil), ch.alarm.AlarmActions...)
	edit(&in)
	_, err := e.cw().PutMetricAlarm(e.t.Context(), &in)
	e.must(err)
}

// key creates a customer managed key in the home region with policy.
func (e *env) key(policy string) string {
	e.t.Helper()
	k, err := e.w.Key(e.t.Context(), e.region(), policy)
	e.must(err)
	return k
}

// Small editors for the cases.

func metricValue(v string) func(*cloudwatchlogs.PutMetricFilterInput) {
	return func(in *cloudwatchlogs.PutMetricFilterInput) { in.MetricTransformations[0].MetricValue = aws.String(v) }
}

func defaultValue(v float64) func(*cloudwatchlogs.PutMetricFilterInput) {
	return func(in *cloudwatchlogs.PutMetricFilterInput) {
		in.MetricTransformations[0].DefaultValue = aws.Float64(v)
	}
}

func pattern(p string) func(*cloudwatchlogs.PutMetricFilterInput) {
	return func(in *cloudwatchlogs.PutMetricFilterInput) { in.FilterPattern = aws.String(p) }
}

// both applies every editor in order.
func both[T any](fs ...func(T)) func(T) {
	return func(v T) {
		for _, f := range fs {
			f(v)
		}
	}
}

func threshold(op cwtypes.ComparisonOperator, v float64) func(*cloudwatch.PutMetricAlarmInput) {
	return func(in *cloudwatch.PutMetricAlarmInput) { in.ComparisonOperator, in.Threshold = op, aws.Float64(v) }
}

func statistic(s cwtypes.Statistic) func(*cloudwatch.PutMetricAlarmInput) {
	return func(in *cloudwatch.PutMetricAlarmInput) { in.Statistic = s }
}

func missingData(v string) func(*cloudwatch.PutMetricAlarmInput) {
	return func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String(v) }
}

// putSelectors replaces the compliant trail's event selectors.
func (e *env) putSelectors(sel []cttypes.EventSelector) {
	e.t.Helper()
	_, err := e.trails().PutEventSelectors(e.t.Context(), &cloudtrail.PutEventSelectorsInput{
		TrailName: aws.String(e.acct.Trail.ARN), EventSelectors: sel,
	})
	e.must(err)
}

func (e *env) dropAlarm(name string) {
	e.t.Helper()
	_, err := e.cw().DeleteAlarms(e.t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}})
	e.must(err)
}

func (e *env) deleteTopic(arn string) {
	e.t.Helper()
	_, err := e.sns().DeleteTopic(e.t.Context(), &sns.DeleteTopicInput{TopicArn: aws.String(arn)})
	e.must(err)
}

// unsubscribeAll removes every subscription of topic arn.
func (e *env) unsubscribeAll(arn string) {
	e.t.Helper()
	out, err := e.sns().ListSubscriptionsByTopic(e.t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	e.must(err)
	for _, s := range out.Subscriptions {
		_, err := e.sns().Unsubscribe(e.t.Context(), &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn})
		e.must(err)
	}
}

// ownTopicKey encrypts Watchkeeper's topic with a new key whose policy lets
// CloudWatch use it, configures Watchkeeper with that key
// (--topic-kms-key), and then applies breakKey to it (nil: leave it).
func (e *env) ownTopicKey(breakKey func(keyARN string)) {
	e.t.Helper()
	k := e.key(world.CloudWatchKeyPolicy(account))
	e.must(e.w.EncryptTopic(e.t.Context(), e.acct.TopicARN, k))
	e.flags = append(e.flags, "--topic-kms-key", k)
	e.mayChange = append(e.mayChange, k)
	if breakKey != nil {
		breakKey(k)
	}
}
