package main

import (
	"regexp"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/config"
)

// Organization mode (issue #13, docs/organizations.md): with
// -c organization=true the app synthesizes, besides the central stack in the
// account it runs in, the member stack (the same Watchkeeper stack, Region-
// and account-agnostic) and a service-managed StackSet that deploys it into
// every account of the target OUs, with auto-deployment. What is here is the
// configuration; stackset.go builds the StackSet and its asset buckets,
// scp.go the optional service control policy.

// Context keys of organization mode.
const (
	ctxOrganization        = "organization"
	ctxOrganizationID      = "organizationId"
	ctxTargetOUs           = "targetOus"
	ctxMemberRegions       = "memberRegions"
	ctxMemberSubscriptions = "memberSubscriptions"
	ctxCentralRoleARN      = "centralRoleArn"
	ctxSCP                 = "scp"
	ctxBreakGlassRoleARN   = "breakGlassRoleArn"
)

// Fixed names in organization mode. Each is unique where it must be: the
// StackSet per management account, the reader role per account (the
// central stack is deployed once), the asset buckets per Region (the
// Region is part of the name), the SCP per organization.
const (
	StackSetName     = "watchkeeper-members"
	CentralRoleName  = "watchkeeper-central-reader"
	AssetBucketStem  = "watchkeeper-assets"
	SCPName          = "watchkeeper-protect-monitoring"
	memberCodePrefix = "remediator/"
)

// OrgConfig is the organization-mode part of Config. Its zero value is
// "not an organization": the app builds the single account stack only.
type OrgConfig struct {
	// Enabled is -c organization=true.
	Enabled bool
	// OrganizationID (o-...) is what the asset buckets, the central reader
	// role and the SCP's exceptions are conditioned on (aws:PrincipalOrgID).
	OrganizationID string
	// TargetOUs are the OUs (ou-...) or the root (r-...) the StackSet
	// deploys to; auto-deployment adds accounts that join them later.
	TargetOUs []string
	// MemberRegions are the Regions of the stack instances; none means the
	// central stack's Region.
	MemberRegions []string
	// MemberSubscriptions are the PROTOCOL:ENDPOINT subscriptions every
	// member's alarm topic gets instead of e-mail addresses: a central
	// HTTPS endpoint, or an SQS queue (docs/organizations.md, "Notifying
	// a central endpoint"). Required: e-mail confirmations from every
	// member account do not scale.
	MemberSubscriptions []string
	// CentralRoleARN is the read-only role members may assume to judge the
	// central chain; "" means the role the central stack creates
	// (CentralRoleName).
	CentralRoleARN string
	// SCP creates the service control policy of scp.go.
	SCP bool
	// BreakGlassRoleARN is the role the SCP exempts besides Watchkeeper's
	// own; required with SCP.
	BreakGlassRoleARN string
}

var (
	orgIDExpr  = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	ouExpr     = regexp.MustCompile(`^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`)
	regionExpr = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	roleARN    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}|\*):role/[\w+=,.@/-]{1,512}$`)
)

// orgFromContext reads the organization keys through r (whose get
// records each key as read, for checkContextKeys). Shapes are checked
// here; the rules that tie keys together are in validate.
func orgFromContext(r *contextReader) OrgConfig {
	var o OrgConfig
	r.flag(ctxOrganization, &o.Enabled)
	r.str(ctxOrganizationID, &o.OrganizationID)
	r.list(ctxTargetOUs, &o.TargetOUs)
	r.list(ctxMemberRegions, &o.MemberRegions)
	r.list(ctxMemberSubscriptions, &o.MemberSubscriptions)
	r.str(ctxCentralRoleARN, &o.CentralRoleARN)
	r.flag(ctxSCP, &o.SCP)
	r.str(ctxBreakGlassRoleARN, &o.BreakGlassRoleARN)
	return o
}

// validate reports every problem of the organization keys. The keys only
// mean something with organization=true, so setting one without it is an
// error rather than silently ignored.
func (o OrgConfig) validate() []error {
	var errs []error
	bad := func(key, value, allowed string) {
		errs = append(errs, &ContextError{Key: key, Value: value, Allowed: allowed})
	}
	if !o.Enabled {
		for _, k := range []struct {
			key string
			set bool
		}{
			{ctxOrganizationID, o.OrganizationID != ""}, {ctxTargetOUs, len(o.TargetOUs) > 0}, {ctxMemberRegions, len(o.MemberRegions) > 0},
			{ctxMemberSubscriptions, len(o.MemberSubscriptions) > 0}, {ctxCentralRoleARN, o.CentralRoleARN != ""},
			{ctxSCP, o.SCP}, {ctxBreakGlassRoleARN, o.BreakGlassRoleARN != ""},
		} {
			if k.set {
				bad(k.key, "set", "only with organization=true")
			}
		}
		return errs
	}
	if !orgIDExpr.MatchString(o.OrganizationID) {
		bad(ctxOrganizationID, o.OrganizationID, "the organization's id, o-xxxxxxxxxx (aws organizations describe-organization)")
	}
	if len(o.TargetOUs) == 0 {
		bad(ctxTargetOUs, "", "one or more OU ids (ou-xxxx-xxxxxxxx) or the root id (r-xxxx)")
	}
	for _, ou := range o.TargetOUs {
		if !ouExpr.MatchString(ou) {
			bad(ctxTargetOUs, ou, "OU ids (ou-xxxx-xxxxxxxx) or the root id (r-xxxx)")
		}
	}
	for _, r := range o.MemberRegions {
		if !regionExpr.MatchString(r) {
			bad(ctxMemberRegions, r, "Region names such as eu-west-1")
		}
	}
	if len(o.MemberSubscriptions) == 0 {
		bad(ctxMemberSubscriptions, "", "one or more PROTOCOL:ENDPOINT subscriptions of a central endpoint (https:..., sqs:arn:...): e-mail from every member account does not scale")
	}
	for _, s := range o.MemberSubscriptions {
		if _, err := config.ParseSubscription(s); err != nil {
			bad(ctxMemberSubscriptions, s, "PROTOCOL:ENDPOINT ("+err.Error()+")")
		} else if strings.HasPrefix(s, "email") {
			bad(ctxMemberSubscriptions, s, "a machine endpoint (https, sqs, lambda): every e-mail subscription needs a person to confirm it, in every member account and Region")
		}
	}
	if o.CentralRoleARN != "" {
		// The function checks WATCHKEEPER_CENTRAL_ROLE_ARN with the same rule.
		if err := config.CheckRoleARN(o.CentralRoleARN); err != nil {
			bad(ctxCentralRoleARN, o.CentralRoleARN, "an IAM role ARN ("+err.Error()+")")
		}
	}
	switch {
	case o.SCP && o.BreakGlassRoleARN == "":
		bad(ctxBreakGlassRoleARN, "", "a role ARN: with scp=true, only Watchkeeper's role and the break-glass role may change the protected resources")
	case o.BreakGlassRoleARN != "" && !roleARN.MatchString(o.BreakGlassRoleARN):
		bad(ctxBreakGlassRoleARN, o.BreakGlassRoleARN, "an IAM role ARN")
	case o.BreakGlassRoleARN != "" && !o.SCP:
		bad(ctxBreakGlassRoleARN, o.BreakGlassRoleARN, "only with scp=true")
	}
	return errs
}

// memberConfig is the configuration of the member stack: the central one,
// except that members notify the central endpoint instead of e-mail
// addresses, and never provision a trail (an organization's trail is the
// management account's organization trail, which members see but cannot
// change: CloudTrail User Guide, "Creating a trail for an organization").
func (c Config) memberConfig() Config {
	m := c
	m.Org = OrgConfig{}
	m.NotificationEmails = nil
	m.Subscribe = append([]string(nil), c.Org.MemberSubscriptions...)
	m.ProvisionTrail = false
	return m
}

// assetBucketName is the per-Region bucket in the central account that
// holds the member stack's Lambda code. Lambda reads code only from a
// bucket in the function's Region (Lambda API reference, CreateFunction:
// "S3Bucket ... in the same AWS Region"), hence one bucket per member
// Region; region may be "${AWS::Region}" for Fn::Sub.
func assetBucketName(centralAccount, region string) string {
	return AssetBucketStem + "-" + centralAccount + "-" + region
}
