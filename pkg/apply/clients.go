package apply

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// TrailWriter is the part of the CloudTrail API that Run calls. Trail
// calls are sent to the trail's home region, the only region that accepts
// changes to a trail.
type TrailWriter interface {
	UpdateTrail(ctx context.Context, in *cloudtrail.UpdateTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error)
	PutEventSelectors(ctx context.Context, in *cloudtrail.PutEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error)
	StartLogging(ctx context.Context, in *cloudtrail.StartLoggingInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
}

// LogsWriter is the part of the CloudWatch Logs API that Run calls.
type LogsWriter interface {
	PutMetricFilter(ctx context.Context, in *cloudwatchlogs.PutMetricFilterInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutMetricFilterOutput, error)
}

// AlarmWriter is the part of the CloudWatch API that Run calls.
type AlarmWriter interface {
	PutMetricAlarm(ctx context.Context, in *cloudwatch.PutMetricAlarmInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	EnableAlarmActions(ctx context.Context, in *cloudwatch.EnableAlarmActionsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.EnableAlarmActionsOutput, error)
}

// TopicWriter is the part of the SNS API that Run calls.
type TopicWriter interface {
	CreateTopic(ctx context.Context, in *sns.CreateTopicInput, optFns ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
	Subscribe(ctx context.Context, in *sns.SubscribeInput, optFns ...func(*sns.Options)) (*sns.SubscribeOutput, error)
}

// KeyWriter is the part of the KMS API that Run calls, only ever on the
// KMS key Watchkeeper's topic is configured with (plan.KeySpec). Key calls
// are sent to the key's region, taken from its ARN.
type KeyWriter interface {
	CancelKeyDeletion(ctx context.Context, in *kms.CancelKeyDeletionInput, optFns ...func(*kms.Options)) (*kms.CancelKeyDeletionOutput, error)
	EnableKey(ctx context.Context, in *kms.EnableKeyInput, optFns ...func(*kms.Options)) (*kms.EnableKeyOutput, error)
}

// The SDK clients satisfy the writer interfaces; these fail to compile if
// the SDK drifts.
var (
	_ TrailWriter = (*cloudtrail.Client)(nil)
	_ LogsWriter  = (*cloudwatchlogs.Client)(nil)
	_ AlarmWriter = (*cloudwatch.Client)(nil)
	_ TopicWriter = (*sns.Client)(nil)
	_ KeyWriter   = (*kms.Client)(nil)
)

// Clients are the writers for one region.
type Clients struct {
	CloudTrail TrailWriter
	Logs       LogsWriter
	CloudWatch AlarmWriter
	SNS        TopicWriter
	KMS        KeyWriter
}

// WriteActions are the IAM actions Run may need, for the deployed policy:
// one per writer method above, plus the permissions AWS checks implicitly
// on some of those calls (ImpliedWriteActions).
var WriteActions = []string{
	"cloudtrail:PutEventSelectors",
	"cloudtrail:StartLogging",
	"cloudtrail:UpdateTrail",
	"cloudwatch:EnableAlarmActions",
	"cloudwatch:PutMetricAlarm",
	"cloudwatch:TagResource",
	"iam:PassRole",
	"kms:CancelKeyDeletion",
	"kms:EnableKey",
	"logs:PutMetricFilter",
	"sns:CreateTopic",
	"sns:Subscribe",
	"sns:TagResource",
}

// ImpliedWriteActions are the members of WriteActions that no writer method
// is named after, and why AWS checks them:
//   - sns:TagResource: CreateTopic with Tags needs it ("To be able to tag a
//     topic on creation, you must have the sns:CreateTopic and
//     sns:TagResource permissions", SNS API reference, CreateTopic).
//   - cloudwatch:TagResource: PutMetricAlarm with Tags needs it (CloudWatch
//     API reference, PutMetricAlarm, Tags).
//   - iam:PassRole: UpdateTrail with CloudWatchLogsRoleArn passes that role
//     to CloudTrail (CloudTrail user guide, "Granting permission to view and
//     configure CloudTrail"); scope it to the configured logs role.
var ImpliedWriteActions = []string{"cloudwatch:TagResource", "iam:PassRole", "sns:TagResource"}
