// Generated once from ../shared/reference/cis-monitoring-controls.md by
// copying its fenced code blocks programmatically; never retype a pattern. Each comment
// names the fact-sheet section and the sources it cites.

package catalog

// Exact pattern texts, character for character as the fact sheet quotes them.
const (
	// §3.1 v1.2.0 audit = remediation [mitre] v1.2.0.
	unauthorizedV120 = `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`
	// §3.1 v1.3.0–v1.5.0 remediation [elastic] v1.5.0, [prowler-cloud] 1.4/1.5, [turbot] v130–v150. ORs two != terms: see Warnings.
	unauthorizedV130 = `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }`
	// §3.1 v2.0.0–v7.0.0 audit = remediation [mitre] v2.0.0, [turbot] v200–v500, [CyberStrikeus] v7.0.0. Ungrouped mix of || and &&.
	unauthorizedV200 = `{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }`
	// §3.1 Security Hub CloudWatch.2 [awsdocs] 2023, [SH-current], [ASR].
	unauthorizedSecurityHub = `{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}`
	// §3.2 all versions, audit = remediation [mitre] v1.2.0 and v2.0.0, [elastic] v1.5.0, [CyberStrikeus] v7.0.0.
	mfaV120 = `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`
	// §3.2 v1.4.0+ SSO alternative ("To reduce false positives incase Single Sign-On (SSO) is used"), audit and remediation; also Security Hub CloudWatch.3 since 2022 ([SH-current]).
	mfaSSO = `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`
	// §3.2 Security Hub CloudWatch.3 before 2022 ([awsdocs] up to b26b871), still deployed by [ASR].
	mfaSecurityHubLegacy = `{($.eventName="ConsoleLogin") && ($.additionalEventData.MFAUsed !="Yes")}`
	// §3.3 all versions, audit = remediation.
	rootV120 = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`
	// §3.3 Security Hub CloudWatch.1 [awsdocs], [SH-current], [ASR].
	rootSecurityHub = `{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}`
	// §3.4 all versions, audit = remediation [mitre], [elastic], [CyberStrikeus].
	iamV120 = `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}`
	// §3.4 Security Hub CloudWatch.4 [awsdocs] 2023.
	iamSecurityHub = `{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}`
	// §3.4 [SH-current] recommended pattern scoped to iam.amazonaws.com (reconstructed from a split table: character-exactness UNCONFIRMED).
	iamSecurityHubScoped = `{($.eventSource=iam.amazonaws.com) && (($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy))}`
	// §3.5 all versions, audit = remediation.
	cloudTrailV120 = `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`
	// §3.5 Security Hub CloudWatch.5.
	cloudTrailSecurityHub = `{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}`
	// §3.6 all versions, audit = remediation.
	authFailuresV120 = `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`
	// §3.6 Security Hub CloudWatch.6.
	authFailuresSecurityHub = `{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}`
	// §3.7 all versions, audit = remediation.
	cmkV120 = `{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }`
	// §3.7 Security Hub CloudWatch.7.
	cmkSecurityHub = `{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}`
	// §3.8 all versions, audit = remediation.
	s3PolicyV120 = `{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }`
	// §3.8 Security Hub CloudWatch.8.
	s3PolicySecurityHub = `{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}`
	// §3.9 all versions, audit = remediation.
	configV120 = `{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }`
	// §3.9 Security Hub CloudWatch.9.
	configSecurityHub = `{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}`
	// §3.10 v1.2.0–v4.0.x, audit = remediation.
	securityGroupV120 = `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`
	// §3.10 v5.0.0–v7.0.0 (adds ModifySecurityGroupRules) [turbot] v500/v600, [prowler-cloud] 5.0–7.0, [CyberStrikeus] v7.
	securityGroupV500 = `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules) }`
	// §3.10 Security Hub CloudWatch.10 (six names, no ModifySecurityGroupRules).
	securityGroupSecurityHub = `{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}`
	// §3.11 all versions, audit = remediation.
	naclV120 = `{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`
	// §3.11 Security Hub CloudWatch.11.
	naclSecurityHub = `{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}`
	// §3.12 all versions, audit = remediation.
	gatewayV120 = `{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`
	// §3.12 Security Hub CloudWatch.12.
	gatewaySecurityHub = `{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}`
	// §3.13 v1.2.0–v2.0.0 audit and remediation in every version.
	routeTableV120 = `{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }`
	// §3.13 v3.0.0 audit [prowler-cloud] cis_3.0 (irregular PDF spacing); eventSource term prepended without grouping.
	routeTableAuditV300 = `{($.eventSource = ec2.amazonaws.com) && ($.eventName =CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName =ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName= DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName =DisassociateRouteTable) }`
	// §3.13 v4.0.x–v7.0.0 audit [prowler-cloud] 4.0–7.0, [CyberStrikeus] v7; eventSource term prepended without grouping.
	routeTableAuditV401 = `{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }`
	// §3.13 Security Hub CloudWatch.13 [awsdocs] 2023.
	routeTableSecurityHub = `{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}`
	// §3.13 [SH-current] recommended pattern scoped to ec2.amazonaws.com (reconstructed: character-exactness UNCONFIRMED).
	routeTableSecurityHubScoped = `{($.eventSource=ec2.amazonaws.com) && (($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable))}`
	// §3.14 all versions, audit = remediation.
	vpcV120 = `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }`
	// §3.14 Security Hub CloudWatch.14.
	vpcSecurityHub = `{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}`
	// §3 "4.15 / 5.15" v1.3.0–v7.0.0 [elastic] v1.5.0, [mitre] v2.0.0, [CyberStrikeus] v7.
	organizationsV130 = `{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }`
	// §3.1 explicitly grouped 4.1 form (nozaq/terraform-aws-secure-baseline 3d5332a PR #212,
	// terraform-aws-cloudwatch PR #26, steampipe #272): the evident intent of the
	// v1.3.0+ text. Not CIS text (UNCONFIRMED as such); Security Hub fails it.
	unauthorizedGrouped = `{(($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && (($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket"))}`
)
