package world

// Seeding helpers for the links of the alert path past the alarm: the
// topic's access policy and KMS key, the key's state, and the alarm's state.
// Each is one AWS call, so a test can break exactly one link of a compliant
// account.

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// SetTopicPolicy replaces the access policy of topicARN (SNS
// SetTopicAttributes, AttributeName "Policy").
func (w *World) SetTopicPolicy(ctx context.Context, topicARN, policy string) error {
	return w.setTopicAttribute(ctx, topicARN, "Policy", policy)
}

// EncryptTopic turns on server-side encryption of topicARN under kmsKeyID
// (a key id, key ARN, alias or alias ARN; "" turns encryption off), with
// SetTopicAttributes, AttributeName "KmsMasterKeyId".
func (w *World) EncryptTopic(ctx context.Context, topicARN, kmsKeyID string) error {
	return w.setTopicAttribute(ctx, topicARN, "KmsMasterKeyId", kmsKeyID)
}

func (w *World) setTopicAttribute(ctx context.Context, topicARN, name, value string) error {
	a, err := arn.Parse(topicARN)
	if err != nil || a.Region == "" {
		return fmt.Errorf("set %s: %q is not a topic ARN", name, topicARN)
	}
	_, err = sns.NewFromConfig(w.cfg(a.Region)).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(topicARN), AttributeName: aws.String(name), AttributeValue: aws.String(value),
	})
	if err != nil {
		return fmt.Errorf("set %s of %s: %w", name, topicARN, err)
	}
	return nil
}

// CloudWatchKeyPolicy returns a key policy for a topic key that CloudWatch
// alarms can publish through: the account administers the key, and
// cloudwatch.amazonaws.com may call kms:Decrypt and kms:GenerateDataKey*
// (Amazon SNS Developer Guide, "Configure AWS KMS permissions for AWS
// services", the CloudWatch row of the example key policy).
func CloudWatchKeyPolicy(account string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[`+
		`{"Sid":"EnableAccountAdministration","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"},`+
		`{"Sid":"AllowCloudWatchToPublishToEncryptedTopics","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}`, account)
}

// AccountOnlyKeyPolicy returns AWS's default key policy (the account
// administers the key; no service principal may use it), under which
// CloudWatch cannot encrypt an alarm notification.
func AccountOnlyKeyPolicy(account string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"EnableAccountAdministration","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"}]}`, account)
}

// DisableKey disables the KMS key keyARN (KMS DisableKey; its KeyState
// becomes Disabled).
func (w *World) DisableKey(ctx context.Context, keyARN string) error {
	a, _ := arn.Parse(keyARN) // the zero ARN when keyARN is not an ARN
	_, err := kms.NewFromConfig(w.cfg(a.Region)).DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID(keyARN))})
	if err != nil {
		return fmt.Errorf("disable key %s: %w", keyARN, err)
	}
	return nil
}

// ScheduleKeyDeletion schedules the KMS key keyARN for deletion after days
// (7 to 30) days; its KeyState becomes PendingDeletion.
func (w *World) ScheduleKeyDeletion(ctx context.Context, keyARN string, days int32) error {
	a, _ := arn.Parse(keyARN) // the zero ARN when keyARN is not an ARN
	_, err := kms.NewFromConfig(w.cfg(a.Region)).ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
		KeyId: aws.String(keyID(keyARN)), PendingWindowInDays: aws.Int32(days),
	})
	if err != nil {
		return fmt.Errorf("schedule deletion of key %s: %w", keyARN, err)
	}
	return nil
}

// KeyState returns the KeyState of keyARN (KMS DescribeKey).
func (w *World) KeyState(ctx context.Context, keyARN string) (string, error) {
	a, _ := arn.Parse(keyARN) // the zero ARN when keyARN is not an ARN
	out, err := kms.NewFromConfig(w.cfg(a.Region)).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyARN)})
	if err != nil {
		return "", fmt.Errorf("describe key %s: %w", keyARN, err)
	}
	return string(out.KeyMetadata.KeyState), nil
}

// SetAlarmState sets an alarm's state (CloudWatch SetAlarmState: "the alarm
// state ... is set to the specified value until the next evaluation"),
// e.g. to leave it in ALARM.
func (w *World) SetAlarmState(ctx context.Context, region, alarmName string, state cwtypes.StateValue) error {
	_, err := cloudwatch.NewFromConfig(w.cfg(region)).SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(alarmName), StateValue: state, StateReason: aws.String("set by a test"),
	})
	if err != nil {
		return fmt.Errorf("set state of alarm %s in %s: %w", alarmName, region, err)
	}
	return nil
}

// MetricMathAlarmSpec returns an alarm on ctl's metric written as a
// metric-math expression (FILL(m1, 0) over the metric's Sum), notifying
// topicARN: the alarm has Metrics and no MetricName (PutMetricAlarm,
// Metrics). Only the caller's name and tags distinguish it from AlarmSpec.
func MetricMathAlarmSpec(ctl catalog.Control, namespace, metricName, alarmName, topicARN string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(alarmName),
		AlarmDescription:   aws.String(fmt.Sprintf("CIS %s %s (metric math)", ctl.ID, ctl.Title)),
		EvaluationPeriods:  aws.Int32(1),
		Threshold:          aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData:   aws.String("notBreaching"),
		ActionsEnabled:     aws.Bool(true),
		AlarmActions:       []string{topicARN},
		Metrics: []cwtypes.MetricDataQuery{
			{
				Id: aws.String("m1"), ReturnData: aws.Bool(false),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(metricName)},
					Period: aws.Int32(300), Stat: aws.String("Sum"),
				},
			},
			{Id: aws.String("e1"), Expression: aws.String("FILL(m1, 0)"), Label: aws.String(metricName), ReturnData: aws.Bool(true)},
		},
	}
}

// AnomalyDetectionAlarmSpec returns an anomaly-detection alarm on ctl's
// metric (a band from ANOMALY_DETECTION_BAND, ThresholdMetricId set),
// notifying topicARN.
func AnomalyDetectionAlarmSpec(ctl catalog.Control, namespace, metricName, alarmName, topicARN string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(alarmName),
		AlarmDescription:   aws.String(fmt.Sprintf("CIS %s %s (anomaly detection)", ctl.ID, ctl.Title)),
		EvaluationPeriods:  aws.Int32(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanUpperThreshold,
		ThresholdMetricId:  aws.String("ad1"),
		TreatMissingData:   aws.String("notBreaching"),
		ActionsEnabled:     aws.Bool(true),
		AlarmActions:       []string{topicARN},
		Metrics: []cwtypes.MetricDataQuery{
			{
				Id: aws.String("m1"), ReturnData: aws.Bool(true),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(metricName)},
					Period: aws.Int32(300), Stat: aws.String("Sum"),
				},
			},
			{Id: aws.String("ad1"), Expression: aws.String("ANOMALY_DETECTION_BAND(m1, 2)"), Label: aws.String("expected"), ReturnData: aws.Bool(true)},
		},
	}
}

// keyID returns the key id a key ARN ends in (arn:...:key/KEY_ID). AWS
// takes either in KeyId; moto 5.2.1's key-state operations (DisableKey,
// EnableKey, ScheduleKeyDeletion, CancelKeyDeletion) take only the id, so
// World sends the id.
func keyID(keyARN string) string {
	if a, err := arn.Parse(keyARN); err == nil {
		if id, ok := strings.CutPrefix(a.Resource, "key/"); ok {
			return id
		}
	}
	return keyARN
}
