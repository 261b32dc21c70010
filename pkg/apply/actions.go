package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// do performs one action and returns the ARN the call returned, if any.
func (r *runner) do(ctx context.Context, a plan.Action) (string, error) {
	if a.Region == "" {
		return "", fmt.Errorf("%w: no region", ErrInvalidAction)
	}
	if err := r.checkOwned(a); err != nil {
		return "", err
	}
	switch a.Kind {
	case plan.CreateTopic:
		return r.createTopic(ctx, a)
	case plan.Subscribe:
		return r.subscribe(ctx, a)
	case plan.PutMetricFilter:
		return "", r.putMetricFilter(ctx, a)
	case plan.PutMetricAlarm:
		return "", r.putMetricAlarm(ctx, a)
	case plan.EnableAlarmActions:
		return "", r.enableAlarmActions(ctx, a)
	case plan.StartLogging, plan.PutEventSelectors, plan.UpdateTrail:
		return "", r.trail(ctx, a)
	case plan.CancelKeyDeletion, plan.EnableKey:
		return "", r.key(ctx, a)
	}
	return "", fmt.Errorf("%w: unknown kind %q", ErrInvalidAction, a.Kind)
}

// checkOwned enforces Options.OwnedPrefix.
func (r *runner) checkOwned(a plan.Action) error {
	p := r.opts.OwnedPrefix
	if p == "" {
		return nil
	}
	var name string
	switch {
	case a.Kind == plan.PutMetricFilter && a.Filter != nil:
		name = a.Filter.FilterName
	case a.Kind == plan.PutMetricAlarm && a.Alarm != nil:
		name = a.Alarm.AlarmName
	default:
		return nil
	}
	if !strings.HasPrefix(name, p) {
		return fmt.Errorf("%w: %q does not start with %q", ErrNotOwned, name, p)
	}
	return nil
}

func missing(what string) error { return fmt.Errorf("%w: no %s spec", ErrInvalidAction, what) }

func noClient(service, region string) error {
	return fmt.Errorf("%w: no %s client for %s", ErrInvalidAction, service, region)
}

func (r *runner) createTopic(ctx context.Context, a plan.Action) (string, error) {
	t := a.Topic
	if t == nil || t.Name == "" {
		return "", missing("topic")
	}
	c := r.clientsFor(a.Region).SNS
	if c == nil {
		return "", noClient("SNS", a.Region)
	}
	tags := withOwnerTag(t.Tags)
	in := &sns.CreateTopicInput{Name: aws.String(t.Name)}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, snstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if t.KMSKeyID != "" {
		in.Attributes = map[string]string{"KmsMasterKeyId": t.KMSKeyID}
	}
	out, err := c.CreateTopic(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create topic %s in %s: %w", t.Name, a.Region, err)
	}
	return aws.ToString(out.TopicArn), nil
}

func (r *runner) subscribe(ctx context.Context, a plan.Action) (string, error) {
	s := a.Subscription
	if s == nil || s.TopicARN == "" || s.Protocol == "" || s.Endpoint == "" {
		return "", missing("subscription")
	}
	c := r.clientsFor(a.Region).SNS
	if c == nil {
		return "", noClient("SNS", a.Region)
	}
	out, err := c.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(s.TopicARN),
		Protocol: aws.String(s.Protocol),
		Endpoint: aws.String(s.Endpoint),
		// Returns the existing subscription's ARN for an endpoint already
		// subscribed, instead of a new pending one (SNS API reference,
		// Subscribe, ReturnSubscriptionArn).
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		return "", fmt.Errorf("subscribe %s:%s to %s: %w", s.Protocol, s.Endpoint, s.TopicARN, err)
	}
	return aws.ToString(out.SubscriptionArn), nil
}

func (r *runner) putMetricFilter(ctx context.Context, a plan.Action) error {
	f := a.Filter
	if f == nil || f.LogGroupName == "" || f.FilterName == "" || f.MetricName == "" || f.Namespace == "" || f.MetricValue == "" {
		return missing("filter")
	}
	c := r.clientsFor(a.Region).Logs
	if c == nil {
		return noClient("CloudWatch Logs", a.Region)
	}
	_, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName:          aws.String(f.LogGroupName),
		FilterName:            aws.String(f.FilterName),
		FilterPattern:         aws.String(f.Pattern),
		MetricTransformations: metricTransformations(f),
	})
	if err != nil {
		return fmt.Errorf("put metric filter %s on %s: %w", f.FilterName, f.LogGroupName, err)
	}
	return nil
}

func (r *runner) putMetricAlarm(ctx context.Context, a plan.Action) error {
	s := a.Alarm
	if s == nil || s.AlarmName == "" || s.MetricName == "" || s.Namespace == "" || s.TopicARN == "" {
		return missing("alarm")
	}
	c := r.clientsFor(a.Region).CloudWatch
	if c == nil {
		return noClient("CloudWatch", a.Region)
	}
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(s.AlarmName),
		MetricName:         aws.String(s.MetricName),
		Namespace:          aws.String(s.Namespace),
		Statistic:          cwtypes.Statistic(s.Statistic),
		EvaluationPeriods:  aws.Int32(s.EvaluationPeriods),
		Threshold:          aws.Float64(s.Threshold),
		ComparisonOperator: cwtypes.ComparisonOperator(s.ComparisonOperator),
		AlarmActions:       []string{s.TopicARN},
		ActionsEnabled:     aws.Bool(true),
		Tags:               alarmTags(s.Tags),
	}
	if s.Description != "" {
		in.AlarmDescription = aws.String(s.Description)
	}
	if s.Period > 0 {
		in.Period = aws.Int32(s.Period)
	}
	if s.TreatMissingData != "" {
		in.TreatMissingData = aws.String(s.TreatMissingData)
	}
	if _, err := c.PutMetricAlarm(ctx, in); err != nil {
		return fmt.Errorf("put metric alarm %s: %w", s.AlarmName, err)
	}
	return nil
}

func (r *runner) enableAlarmActions(ctx context.Context, a plan.Action) error {
	if a.Alarm == nil || a.Alarm.AlarmName == "" {
		return missing("alarm")
	}
	c := r.clientsFor(a.Region).CloudWatch
	if c == nil {
		return noClient("CloudWatch", a.Region)
	}
	_, err := c.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{a.Alarm.AlarmName}})
	if err != nil {
		return fmt.Errorf("enable actions of alarm %s: %w", a.Alarm.AlarmName, err)
	}
	return nil
}

// trail performs the trail kinds. They are sent to the trail's home region:
// "UpdateTrail must be called from the Region in which the trail was
// created; otherwise, an InvalidHomeRegionException is thrown" (CloudTrail
// API reference; likewise PutEventSelectors and StartLogging).
func (r *runner) trail(ctx context.Context, a plan.Action) error {
	t := a.Trail
	if t == nil || t.TrailARN == "" {
		return missing("trail")
	}
	region := t.HomeRegion
	if region == "" {
		region = a.Region
	}
	c := r.clientsFor(region).CloudTrail
	if c == nil {
		return noClient("CloudTrail", region)
	}
	switch a.Kind {
	case plan.StartLogging:
		if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(t.TrailARN)}); err != nil {
			return fmt.Errorf("start logging on %s: %w", t.TrailARN, err)
		}
	case plan.PutEventSelectors:
		classic, advanced, err := eventSelectors(t.Selectors)
		if err != nil {
			return err
		}
		in := &cloudtrail.PutEventSelectorsInput{
			TrailName:              aws.String(t.TrailARN),
			EventSelectors:         classic,
			AdvancedEventSelectors: advanced,
		}
		if _, err := c.PutEventSelectors(ctx, in); err != nil {
			return fmt.Errorf("put event selectors on %s: %w", t.TrailARN, err)
		}
	case plan.UpdateTrail:
		in := &cloudtrail.UpdateTrailInput{Name: aws.String(t.TrailARN)}
		if t.MakeMultiRegion {
			in.IsMultiRegionTrail = aws.Bool(true)
		}
		if t.LogGroupARN != "" {
			in.CloudWatchLogsLogGroupArn = aws.String(trailLogGroupARN(t.LogGroupARN))
		}
		if t.LogsRoleARN != "" {
			in.CloudWatchLogsRoleArn = aws.String(t.LogsRoleARN)
		}
		if in.IsMultiRegionTrail == nil && in.CloudWatchLogsLogGroupArn == nil && in.CloudWatchLogsRoleArn == nil {
			return fmt.Errorf("%w: UpdateTrail changes nothing", ErrInvalidAction)
		}
		if _, err := c.UpdateTrail(ctx, in); err != nil {
			return fmt.Errorf("update trail %s: %w", t.TrailARN, err)
		}
	}
	return nil
}

// key performs the key kinds on the topic's KMS key, by key ARN, in the
// key's region (the region field of its ARN): a KMS key belongs to one
// region, and the inspector reads it there too.
//
// Both are idempotent, and the key state table (AWS KMS developer guide,
// "Key states of AWS KMS keys") says what each answers:
//   - EnableKey succeeds on an Enabled or Disabled key, so repeating it is
//     harmless; it fails with KMSInvalidStateException on a key pending
//     deletion or import, which is a real failure.
//   - CancelKeyDeletion succeeds only on a key pending deletion, which it
//     leaves Disabled ("When this operation succeeds, the key state of the
//     KMS key is Disabled. To enable the KMS key, use EnableKey", AWS KMS API
//     reference, CancelKeyDeletion); the planner follows it with EnableKey.
//     On a key in any other state it fails with KMSInvalidStateException,
//     "<key ARN> is not pending deletion" (key state table). For this call,
//     which is not a cryptographic operation, that exception means only
//     that the key state is incompatible with it (AWS KMS API reference,
//     KMSInvalidStateException), that is, the key is not pending deletion:
//     what the action wants. So it counts as done; if the key is in a state
//     EnableKey cannot fix, EnableKey fails and says so, and the next
//     observation reports the key state either way.
func (r *runner) key(ctx context.Context, a plan.Action) error {
	k := a.KMSKey
	if k == nil || k.KeyARN == "" {
		return missing("key")
	}
	svc, region, res, ok := arnParts(k.KeyARN)
	if !ok || svc != "kms" || region == "" || !strings.HasPrefix(res, "key/") {
		return fmt.Errorf("%w: %q is not a KMS key ARN", ErrInvalidAction, k.KeyARN)
	}
	c := r.clientsFor(region).KMS
	if c == nil {
		return noClient("KMS", region)
	}
	switch a.Kind {
	case plan.CancelKeyDeletion:
		_, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(k.KeyARN)})
		var invalid *kmstypes.KMSInvalidStateException
		if errors.As(err, &invalid) {
			r.log.LogAttrs(ctx, slog.LevelInfo, "key not pending deletion; nothing to cancel",
				slog.String("region", region), slog.String("target", k.KeyARN))
			return nil
		}
		if err != nil {
			return fmt.Errorf("cancel deletion of key %s: %w", k.KeyARN, err)
		}
	case plan.EnableKey:
		if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(k.KeyARN)}); err != nil {
			return fmt.Errorf("enable key %s: %w", k.KeyARN, err)
		}
	}
	return nil
}
