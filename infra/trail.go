package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// The managed trail (provisionTrail=true): a multi-region trail of all
// management events that delivers to S3 and CloudWatch Logs.

// managedTrail is the optional multi-region trail the stack owns.
type managedTrail struct {
	logGroup awslogs.LogGroup
	logsRole awsiam.IRole
}

// newManagedTrail creates a multi-region trail of all management events,
// delivering to an encrypted, versioned, TLS-only, access-logged bucket and
// to a CloudWatch Logs group, which is what the CIS monitoring controls hang
// their metric filters on. Log files are encrypted with a customer managed
// key (CIS "ensure CloudTrail logs are encrypted at rest using KMS CMKs").
func newManagedTrail(stack awscdk.Stack, partition, account, region string) *managedTrail {
	trailArn := "arn:" + partition + ":cloudtrail:" + region + ":" + account + ":trail/" + TrailName
	key := awskms.NewKey(stack, jsii.String("TrailKey"), &awskms.KeyProps{
		Description:       jsii.String("Watchkeeper managed trail log file encryption"),
		EnableKeyRotation: jsii.Bool(true),
		// The key decrypts retained audit logs: never delete it with the stack.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// The key policy CloudTrail requires (CloudTrail user guide,
	// "Configure AWS KMS key policies for CloudTrail"): encrypt for this
	// trail only, and describe the key. Readers in the account decrypt
	// through IAM, which the default root statement delegates to.
	cloudtrail := awsiam.NewServicePrincipal(jsii.String("cloudtrail.amazonaws.com"), nil)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudTrailToEncryptThisTrailsLogs"),
		Principals: &[]awsiam.IPrincipal{cloudtrail},
		Actions:    jsii.Strings("kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceArn": trailArn},
			"StringLike":   map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": "arn:" + partition + ":cloudtrail:*:" + account + ":trail/*"},
		},
	}), jsii.Bool(false))
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudTrailToDescribeTheKey"),
		Principals: &[]awsiam.IPrincipal{cloudtrail},
		Actions:    jsii.Strings("kms:DescribeKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceArn": trailArn}},
	}), jsii.Bool(false))

	logsProps := privateBucketProps()
	logsProps.LifecycleRules = trailLifecycle()
	accessLogs := awss3.NewBucket(stack, jsii.String("TrailAccessLogsBucket"), logsProps)
	trailProps := privateBucketProps()
	trailProps.ServerAccessLogsBucket = accessLogs
	trailProps.ServerAccessLogsPrefix = jsii.String("trail-bucket/")
	trailProps.LifecycleRules = trailLifecycle()
	bucket := awss3.NewBucket(stack, jsii.String("TrailBucket"), trailProps)
	logGroup := awslogs.NewLogGroup(stack, jsii.String("TrailLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	trail := awscloudtrail.NewTrail(stack, jsii.String("Trail"), &awscloudtrail.TrailProps{
		TrailName:                  jsii.String(TrailName),
		Bucket:                     bucket,
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		ManagementEvents:           awscloudtrail.ReadWriteType_ALL,
		EnableFileValidation:       jsii.Bool(true),
		EncryptionKey:              key,
		SendToCloudWatchLogs:       jsii.Bool(true),
		CloudWatchLogGroup:         logGroup,
	})
	restrictBucketToTrail(bucket, trailArn)
	// The L2 Trail creates its CloudWatch Logs delivery role ("LogsRole",
	// logs:CreateLogStream and logs:PutLogEvents on this group only) without
	// exposing it; the remediator needs its ARN to restore the trail.
	logsRole, ok := trail.Node().FindChild(jsii.String("LogsRole")).(awsiam.IRole)
	if !ok {
		panic("awscloudtrail.Trail no longer has a LogsRole child: update newManagedTrail")
	}
	return &managedTrail{logGroup: logGroup, logsRole: logsRole}
}

// restrictBucketToTrail adds aws:SourceArn (this trail's ARN, built from
// its name so the bucket policy does not depend on the trail resource,
// which depends on the policy) to the two statements the L2 Trail adds to
// the bucket policy for cloudtrail.amazonaws.com, so that no other trail,
// in this account or another, can use the service to write here (the
// confused-deputy protection of the CloudTrail user guide, "Amazon S3
// bucket policy for CloudTrail"). The L2 offers no hook for conditions, so
// this overrides by position: statement 0 is EnforceSSL's deny, 1 the
// s3:GetBucketAcl, 2 the s3:PutObject; the stack test pins that order.
func restrictBucketToTrail(bucket awss3.Bucket, trailArn string) {
	cfn, ok := bucket.Policy().Node().DefaultChild().(awss3.CfnBucketPolicy)
	if !ok {
		panic("trail bucket has no CfnBucketPolicy: update restrictBucketToTrail")
	}
	cfn.AddPropertyOverride(jsii.String("PolicyDocument.Statement.1.Condition"),
		map[string]any{"StringEquals": map[string]any{"aws:SourceArn": trailArn}})
	cfn.AddPropertyOverride(jsii.String("PolicyDocument.Statement.2.Condition.StringEquals.aws:SourceArn"), trailArn)
}

// trailLifecycle moves trail logs to Glacier after 90 days and expires them
// after 400 days (CIS asks for at least a year of retention), and keeps
// overwritten versions for 30 days.
func trailLifecycle() *[]*awss3.LifecycleRule {
	return &[]*awss3.LifecycleRule{{
		Id:      jsii.String("archive-then-expire"),
		Enabled: jsii.Bool(true),
		Transitions: &[]*awss3.Transition{{
			StorageClass:    awss3.StorageClass_GLACIER(),
			TransitionAfter: awscdk.Duration_Days(jsii.Number(90)),
		}},
		Expiration:                          awscdk.Duration_Days(jsii.Number(400)),
		NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	}}
}

// privateBucketProps are what every bucket the stacks create shares: no
// public access, S3-managed encryption, TLS only, versioned, ACLs disabled
// (bucket owner enforced), and kept when the stack is deleted, because audit
// logs and deployed code outlive it. Callers add what differs.
func privateBucketProps() *awss3.BucketProps {
	return &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	}
}
