package inspect

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The interfaces below are the whole of the AWS API the inspector may call.
// They contain only reads, so the compiler guarantees that inspection never
// changes an account, and ReadActions (the IAM policy the CDK app grants)
// is checked against their method sets by a test.

// TrailReader is the part of the CloudTrail API the inspector calls.
type TrailReader interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

// LogsReader is the part of the CloudWatch Logs API the inspector calls.
type LogsReader interface {
	DescribeMetricFilters(ctx context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error)
}

// AlarmReader is the part of the CloudWatch API the inspector calls.
type AlarmReader interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	DescribeAlarmsForMetric(ctx context.Context, in *cloudwatch.DescribeAlarmsForMetricInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsForMetricOutput, error)
}

// TopicReader is the part of the SNS API the inspector calls.
type TopicReader interface {
	GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, opts ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, opts ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
}

// KeyReader is the part of the KMS API the inspector calls, to record an
// encrypted topic's key: its state and its key policy.
type KeyReader interface {
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, opts ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, opts ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// IdentityReader tells the inspector which account and partition it is in.
type IdentityReader interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// RegionLister lists the account's regions with their opt-in status.
type RegionLister interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

// OrgLister lists the accounts of the caller's organization: the trail
// owner's run reports which of them its organization trail covers.
type OrgLister interface {
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, opts ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

var (
	_ OrgLister      = (*organizations.Client)(nil)
	_ TrailReader    = (*cloudtrail.Client)(nil)
	_ LogsReader     = (*cloudwatchlogs.Client)(nil)
	_ AlarmReader    = (*cloudwatch.Client)(nil)
	_ TopicReader    = (*sns.Client)(nil)
	_ KeyReader      = (*kms.Client)(nil)
	_ IdentityReader = (*sts.Client)(nil)
	_ RegionLister   = (*ec2.Client)(nil)
)

// Clients are one region's readers.
type Clients struct {
	CloudTrail TrailReader
	Logs       LogsReader
	CloudWatch AlarmReader
	SNS        TopicReader
	KMS        KeyReader
}

// ReadActions are the IAM actions the inspector calls: the CDK app grants
// exactly these for observation. sts:GetCallerIdentity is absent because it
// needs no permission (AWS STS API reference, GetCallerIdentity: "No
// permissions are required to perform this operation").
var ReadActions = []string{
	"cloudtrail:DescribeTrails",
	"cloudtrail:GetEventSelectors",
	"cloudtrail:GetTrailStatus",
	"cloudwatch:DescribeAlarms",
	"cloudwatch:DescribeAlarmsForMetric",
	"ec2:DescribeRegions",
	"kms:DescribeKey",
	"kms:GetKeyPolicy",
	"logs:DescribeMetricFilters",
	"sns:GetTopicAttributes",
	"sns:ListSubscriptionsByTopic",
}

// OrganizationActions are the IAM actions the inspector calls only when it
// lists the organization's accounts (Options.Organization): granted in the
// management or delegated administrator account that runs with
// --organization, and nowhere else. ListAccounts may be called only from
// the management account or a delegated administrator (Organizations API
// reference, ListAccounts).
var OrganizationActions = []string{"organizations:ListAccounts"}

// CentralActions are the IAM actions a member account needs when a central
// role is configured: sts:AssumeRole on that role. Through the role the
// inspector calls only ReadActions, which the role must grant in the trail
// owner's account.
var CentralActions = []string{"sts:AssumeRole"}

// SDKClients returns a Clients factory backed by real SDK clients built from
// cfg with the region overridden. Clients are built once per region and
// shared, so their connection pools are reused across calls.
func SDKClients(cfg aws.Config) func(region string) Clients {
	var (
		mu    sync.Mutex
		cache = map[string]Clients{}
	)
	return func(region string) Clients {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cache[region]; ok {
			return c
		}
		rc := cfg.Copy()
		rc.Region = region
		c := Clients{
			CloudTrail: cloudtrail.NewFromConfig(rc),
			Logs:       cloudwatchlogs.NewFromConfig(rc),
			CloudWatch: cloudwatch.NewFromConfig(rc),
			SNS:        sns.NewFromConfig(rc),
			KMS:        kms.NewFromConfig(rc),
		}
		cache[region] = c
		return c
	}
}
