package main

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Organization is what organization mode adds to the app.
type Organization struct {
	// StackSet deploys the member template to the target OUs.
	StackSet awscloudformation.CfnStackSet
	// AssetStacks hold the per-Region code buckets, by Region.
	AssetStacks map[string]awscdk.Stack
	// MemberTemplate is the path of the synthesized member template.
	MemberTemplate string
	// CentralRole is the read-only role members assume to judge the
	// central chain.
	CentralRole awsiam.Role
}

// NewOrganization adds organization mode to app around the central stack
// (the ordinary Watchkeeper stack, which covers the management account:
// service-managed StackSets never deploy to it, CloudFormation User Guide,
// "Create stack sets with service-managed permissions"):
//
//   - per member Region, a stack in the central account with the code
//     bucket, readable by principals of the organization only;
//   - in the central stack, a copy of the remediator's code asset into
//     each code bucket (a BucketDeployment, extract=false, so the key is
//     the asset's hash);
//   - the member stack, synthesized into its own cloud assembly under
//     outdir: Region- and account-agnostic, no bootstrap-version rule, its
//     code read from the Region's bucket, its role named per Region;
//   - the service-managed StackSet carrying that template, with
//     auto-deployment, targeting the OUs;
//   - the read-only central role, and with scp=true the SCP (scp.go).
//
// The central stack's account and Region must be known (credentials that
// name them): the bucket names and the member template embed the account.
func NewOrganization(app awscdk.App, central awscdk.Stack, cfg Config, outdir string) (*Organization, error) {
	account, region, partition := *central.Account(), *central.Region(), *central.Partition()
	if *awscdk.Token_IsUnresolved(jsii.String(account)) || *awscdk.Token_IsUnresolved(jsii.String(region)) {
		return nil, errors.New("organization=true needs the central account and Region at synth time: run `cdk deploy` with credentials and a Region (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION)")
	}
	o := cfg.Org
	regions := o.MemberRegions
	if len(regions) == 0 {
		regions = []string{region}
	}
	code, ok := central.Node().TryFindChild(jsii.String("Remediator")).(awslambda.Function)
	if !ok {
		return nil, errors.New("the central stack has no Remediator function")
	}
	codeAsset, ok := code.Node().TryFindChild(jsii.String("Code")).(awss3assets.Asset)
	if !ok {
		return nil, errors.New("the central Remediator's code is not an asset")
	}
	codeKey := memberCodePrefix + path.Base(*codeAsset.S3ObjectKey())

	out := &Organization{AssetStacks: map[string]awscdk.Stack{}}
	var deployments []constructs.IConstruct
	for _, r := range regions {
		st := newAssetBucketStack(app, account, r, o.OrganizationID)
		out.AssetStacks[r] = st
		central.AddStackDependency(st, jsii.String("the code bucket must exist before the code is copied into it"))
		dest := awss3.Bucket_FromBucketName(central, jsii.String("CodeBucket-"+r), jsii.String(assetBucketName(account, r)))
		d := awss3deployment.NewBucketDeployment(central, jsii.String("MemberCode-"+r), &awss3deployment.BucketDeploymentProps{
			Sources:              &[]awss3deployment.ISource{awss3deployment.Source_Bucket(codeAsset.Bucket(), codeAsset.S3ObjectKey())},
			DestinationBucket:    dest,
			DestinationKeyPrefix: jsii.String(memberCodePrefix),
			// The zip as is: Lambda wants the archive, and its key is then
			// prefix + the asset's key (the handler copies extract=false
			// sources through unchanged), which the member template names.
			Extract: jsii.Bool(false),
			// Keep earlier versions: a stack instance that rolls back
			// needs the code it had.
			Prune:                jsii.Bool(false),
			RetainOnDelete:       jsii.Bool(true),
			MemoryLimit:          jsii.Number(512),
			EphemeralStorageSize: awscdk.Size_Mebibytes(jsii.Number(1024)),
		})
		deployments = append(deployments, d)
	}
	suppressBucketDeployment(central)

	centralRoleArn := o.CentralRoleARN
	if centralRoleArn == "" {
		out.CentralRole = newCentralRole(central, o.OrganizationID, partition)
		centralRoleArn = "arn:" + partition + ":iam::" + account + ":role/" + CentralRoleName
	}

	tpl, err := synthMember(app, cfg.memberConfig(), account, codeKey, centralRoleArn, filepath.Join(outdir, "member.out"))
	if err != nil {
		return nil, err
	}
	out.MemberTemplate = tpl
	tplAsset := awss3assets.NewAsset(central, jsii.String("MemberTemplate"), &awss3assets.AssetProps{Path: jsii.String(tpl)})

	set := awscloudformation.NewCfnStackSet(central, jsii.String("MemberStackSet"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String(StackSetName),
		Description:     jsii.String("Watchkeeper member stacks: keep the CIS monitoring controls true in every account of the target OUs"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		// SELF: deployed from the management account. From a delegated
		// administrator account CallAs must be DELEGATED_ADMIN (CloudFormation
		// User Guide, "Register a delegated administrator").
		CallAs: jsii.String("SELF"),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			// Accounts that join a target OU get the stack; accounts that
			// leave lose it (their alarms notify a central endpoint they
			// may no longer reach).
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		Capabilities: jsii.Strings("CAPABILITY_NAMED_IAM"),
		// Concurrent operations queue instead of failing (CloudFormation
		// User Guide, "managed execution"). A JSON property, spelt as
		// CloudFormation does.
		ManagedExecution: map[string]any{"Active": true},
		OperationPreferences: &awscloudformation.CfnStackSet_OperationPreferencesProperty{
			// A bad template stops after a tenth of the accounts of a
			// Region fail, not after all of them.
			FailureTolerancePercentage: jsii.Number(10),
			MaxConcurrentPercentage:    jsii.Number(25),
			RegionConcurrencyType:      jsii.String("PARALLEL"),
		},
		StackInstancesGroup: []any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(o.TargetOUs...)},
			Regions:           jsii.Strings(regions...),
		}},
		TemplateUrl: tplAsset.HttpUrl(),
	})
	for _, d := range deployments {
		set.Node().AddDependency(d) // no instance before its code is in place
	}
	out.StackSet = set
	if o.SCP {
		newSCP(central, cfg) // scp.go
	}
	awscdk.NewCfnOutput(central, jsii.String("StackSetName"), &awscdk.CfnOutputProps{Value: jsii.String(StackSetName)})
	return out, nil
}

// newAssetBucketStack creates, in the central account and region, the
// member code bucket: no public access, TLS only, S3-managed encryption,
// versioned, kept on stack deletion, and readable (objects under the code
// prefix only) by principals of the organization: aws:PrincipalOrgID
// (IAM User Guide, "AWS global condition context keys"). The reader is
// CloudFormation's StackSets execution role in each member account, whose
// credentials Lambda uses to fetch the code on CreateFunction.
func newAssetBucketStack(app awscdk.App, account, region, orgID string) awscdk.Stack {
	st := awscdk.NewStack(app, jsii.String("WatchkeeperAssets-"+region), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
		Description: jsii.String("Watchkeeper: the member stacks' Lambda code in " + region + ", readable by the organization " + orgID),
	})
	awscdk.Tags_Of(st).Add(jsii.String("ManagedBy"), jsii.String("watchkeeper"), nil)
	props := privateBucketProps()
	props.BucketName = jsii.String(assetBucketName(account, region))
	bucket := awss3.NewBucket(st, jsii.String("CodeBucket"), props)
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OrganizationReadsMemberCode"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String(memberCodePrefix + "*"))),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID}},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("The bucket holds build output (the remediator's zip), written only by the central stack's deployment; CloudTrail data events, not access logs, are the record to use if reads need auditing."),
	}}, jsii.Bool(true))
	return st
}

// suppressBucketDeployment explains cdk-nag's findings on the CDK's own
// BucketDeployment handler, which the CDK writes and versions.
func suppressBucketDeployment(central awscdk.Stack) {
	for _, c := range *central.Node().Children() {
		id := *c.Node().Id()
		if !strings.HasPrefix(id, "Custom::CDKBucketDeployment") {
			continue
		}
		cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("The CDK's BucketDeployment handler logs with AWSLambdaBasicExecutionRole; it runs only during deployment.")},
			{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("The handler reads the asset and writes under remediator/ in the code buckets; the CDK grants object wildcards for that.")},
			{Id: jsii.String("AwsSolutions-L1"), Reason: jsii.String("The handler's runtime is chosen by the CDK version (aws-cdk-lib), upgraded with it.")},
		}, jsii.Bool(true))
	}
}

// centralReadActions are what a member may do with the central role:
// read the central account's monitoring chain (its trail, metric filters,
// alarms, topic and the topic's key) to judge it, and nothing else.
var centralReadActions = []string{
	"cloudtrail:DescribeTrails",
	"cloudtrail:GetEventSelectors",
	"cloudtrail:GetTrail",
	"cloudtrail:GetTrailStatus",
	"cloudwatch:DescribeAlarms",
	"cloudwatch:DescribeAlarmsForMetric",
	"kms:DescribeKey",
	"kms:GetKeyPolicy",
	"logs:DescribeMetricFilters",
	"sns:GetTopicAttributes",
	"sns:ListSubscriptionsByTopic",
}

// newCentralRole creates the read-only role in the central account. Its
// trust policy admits the remediator roles of the organization's accounts
// only: aws:PrincipalOrgID for the organization, aws:PrincipalArn for the
// role name (both global condition keys, evaluated on the caller of
// sts:AssumeRole).
func newCentralRole(central awscdk.Stack, orgID, partition string) awsiam.Role {
	role := awsiam.NewRole(central, jsii.String("CentralReaderRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(CentralRoleName),
		Description: jsii.String("Watchkeeper: member remediators read the central monitoring chain (read-only)"),
		AssumedBy: awsiam.NewPrincipalWithConditions(awsiam.NewAnyPrincipal(), &map[string]any{
			"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID},
			"ArnLike":      map[string]any{"aws:PrincipalArn": "arn:" + partition + ":iam::*:role/" + RoleName + "-*"},
		}),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadCentralMonitoringChain"),
		Actions:   jsii.Strings(centralReadActions...),
		Resources: jsii.Strings("*"),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Read-only describe/get actions on the central chain, whose trail, log group, alarms, topic and key names are the customer's; DescribeTrails and DescribeAlarmsForMetric support no resource-level permissions."),
	}}, jsii.Bool(true))
	return role
}

// synthMember synthesizes the member stack into its own cloud assembly in
// dir and returns its template's path. A StackSet carries one plain
// template, so the member stack has:
//
//   - no environment: every account and Region of the StackSet fills in
//     AWS::AccountId and AWS::Region;
//   - no CDK asset and no bootstrap-version rule (DefaultStackSynthesizer
//     with GenerateBootstrapVersionRule false): member accounts are not
//     CDK-bootstrapped, and the code comes from the Region's code bucket;
//   - the remediator role named per Region (remediatorRoleName);
//   - sts:AssumeRole on the central read-only role, whose ARN it gets as
//     WATCHKEEPER_CENTRAL_ROLE_ARN.
//
// Its cdk-nag findings fail the app like the central stack's: the CLI
// reads only the outer assembly's, so they are checked here.
func synthMember(app awscdk.App, cfg Config, centralAccount, codeKey, centralRoleArn, dir string) (string, error) {
	ctx, _ := app.Node().GetAllContext(nil).(map[string]any)
	mapp := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), StackTraces: jsii.Bool(false), Context: &ctx})
	AddNagChecks(mapp)
	stack := NewWatchkeeperStack(mapp, StackName, &WatchkeeperStackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("Watchkeeper member stack (StackSet " + StackSetName + "): keeps the CIS AWS Foundations Benchmark monitoring controls true"),
			Synthesizer: awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{GenerateBootstrapVersionRule: jsii.Bool(false)}),
		},
		Config:           cfg,
		RegionalRoleName: true,
		Code:             memberCode(centralAccount, codeKey),
		CentralRoleARN:   centralRoleArn,
	})
	if p, ok := stack.Node().TryFindChild(jsii.String("RemediatorPolicy")).(awsiam.Policy); ok {
		p.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AssumeCentralReader"),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(centralRoleArn),
		}))
	}
	asm := mapp.Synth(nil)
	art := asm.GetStackArtifact(stack.ArtifactId())
	var errs []error
	// The CLI reads only the outer assembly's messages, so the member's
	// cdk-nag errors are read here. awscdk v2.270.0's Go binding has no
	// other type for them (the replacement, @aws-cdk/cloud-assembly-api,
	// ships no Go module), hence the lint:ignore directives.
	for _, m := range *art.Messages() {
		//lint:ignore SA1019 no non-deprecated Go type for synthesis messages in awscdk v2.270.0
		if m.Level == cxapi.SynthesisMessageLevel_ERROR {
			//lint:ignore SA1019 see above
			errs = append(errs, fmt.Errorf("member stack %s: %v", *m.Id, m.Entry.Data))
		}
	}
	return *art.TemplateFullPath(), errors.Join(errs...)
}

// memberCode is the member remediator's code: key in the code bucket of
// the stack's own Region (Fn::Sub resolves AWS::Region per instance).
func memberCode(centralAccount, key string) func(awscdk.Stack) awslambda.Code {
	return func(stack awscdk.Stack) awslambda.Code {
		name := awscdk.Fn_Sub(jsii.String(assetBucketName(centralAccount, "${AWS::Region}")), nil)
		return awslambda.Code_FromBucket(awss3.Bucket_FromBucketName(stack, jsii.String("CodeBucket"), name), jsii.String(key), nil)
	}
}
