package apply_test

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
)

// fake implements every writer with function fields; a nil field succeeds.
// It records each call as "Operation@region" and keeps the inputs.
type fake struct {
	region string
	rec    *recorder

	updateTrail        func(*cloudtrail.UpdateTrailInput) error
	putEventSelectors  func(*cloudtrail.PutEventSelectorsInput) error
	startLogging       func(*cloudtrail.StartLoggingInput) error
	putMetricFilter    func(*cloudwatchlogs.PutMetricFilterInput) error
	putMetricAlarm     func(*cloudwatch.PutMetricAlarmInput) error
	enableAlarmActions func(*cloudwatch.EnableAlarmActionsInput) error
	createTopic        func(*sns.CreateTopicInput) (string, error)
	subscribe          func(*sns.SubscribeInput) error
	cancelKeyDeletion  func(*kms.CancelKeyDeletionInput) error
	enableKey          func(*kms.EnableKeyInput) error
}

var (
	_ apply.TrailWriter = (*fake)(nil)
	_ apply.LogsWriter  = (*fake)(nil)
	_ apply.AlarmWriter = (*fake)(nil)
	_ apply.TopicWriter = (*fake)(nil)
	_ apply.KeyWriter   = (*fake)(nil)
)

// recorder collects calls from every region's fake.
type recorder struct {
	mu     sync.Mutex
	calls  []string
	inputs []any
}

func (r *recorder) add(call string, in any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
	r.inputs = append(r.inputs, in)
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func run[In any](f *fake, op string, fn func(In) error, in In) error {
	f.rec.add(op+"@"+f.region, in)
	if fn == nil {
		return nil
	}
	return fn(in)
}

func (f *fake) UpdateTrail(_ context.Context, in *cloudtrail.UpdateTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error) {
	return &cloudtrail.UpdateTrailOutput{}, run(f, "UpdateTrail", f.updateTrail, in)
}

func (f *fake) PutEventSelectors(_ context.Context, in *cloudtrail.PutEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error) {
	return &cloudtrail.PutEventSelectorsOutput{}, run(f, "PutEventSelectors", f.putEventSelectors, in)
}

func (f *fake) StartLogging(_ context.Context, in *cloudtrail.StartLoggingInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error) {
	return &cloudtrail.StartLoggingOutput{}, run(f, "StartLogging", f.startLogging, in)
}

func (f *fake) PutMetricFilter(_ context.Context, in *cloudwatchlogs.PutMetricFilterInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutMetricFilterOutput, error) {
	return &cloudwatchlogs.PutMetricFilterOutput{}, run(f, "PutMetricFilter", f.putMetricFilter, in)
}

func (f *fake) PutMetricAlarm(_ context.Context, in *cloudwatch.PutMetricAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	return &cloudwatch.PutMetricAlarmOutput{}, run(f, "PutMetricAlarm", f.putMetricAlarm, in)
}

func (f *fake) EnableAlarmActions(_ context.Context, in *cloudwatch.EnableAlarmActionsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.EnableAlarmActionsOutput, error) {
	return &cloudwatch.EnableAlarmActionsOutput{}, run(f, "EnableAlarmActions", f.enableAlarmActions, in)
}

func (f *fake) CreateTopic(_ context.Context, in *sns.CreateTopicInput, _ ...func(*sns.Options)) (*sns.CreateTopicOutput, error) {
	f.rec.add("CreateTopic@"+f.region, in)
	if f.createTopic == nil {
		arn := "arn:aws:sns:" + f.region + ":123456789012:" + *in.Name
		return &sns.CreateTopicOutput{TopicArn: &arn}, nil
	}
	arn, err := f.createTopic(in)
	return &sns.CreateTopicOutput{TopicArn: &arn}, err
}

func (f *fake) Subscribe(_ context.Context, in *sns.SubscribeInput, _ ...func(*sns.Options)) (*sns.SubscribeOutput, error) {
	arn := *in.TopicArn + ":sub"
	return &sns.SubscribeOutput{SubscriptionArn: &arn}, run(f, "Subscribe", f.subscribe, in)
}

func (f *fake) CancelKeyDeletion(_ context.Context, in *kms.CancelKeyDeletionInput, _ ...func(*kms.Options)) (*kms.CancelKeyDeletionOutput, error) {
	return &kms.CancelKeyDeletionOutput{KeyId: in.KeyId}, run(f, "CancelKeyDeletion", f.cancelKeyDeletion, in)
}

func (f *fake) EnableKey(_ context.Context, in *kms.EnableKeyInput, _ ...func(*kms.Options)) (*kms.EnableKeyOutput, error) {
	return &kms.EnableKeyOutput{}, run(f, "EnableKey", f.enableKey, in)
}

// fakes returns an Options.Clients that gives each region a copy of base.
func fakes(base fake) (func(string) apply.Clients, *recorder) {
	rec := &recorder{}
	return func(region string) apply.Clients {
		f := base
		f.region, f.rec = region, rec
		return apply.Clients{CloudTrail: &f, Logs: &f, CloudWatch: &f, SNS: &f, KMS: &f}
	}, rec
}
