package findings

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/region"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// ASFF constants.
const (
	// SchemaVersion is the only ASFF schema version (User Guide, "Required
	// top-level ASFF attributes": SchemaVersion).
	SchemaVersion = "2018-10-08"
	// FindingType is the ASFF finding type of every Watchkeeper finding,
	// the one Security Hub's own CIS control findings carry
	// (namespace/category/classifier; User Guide, "ASFF types taxonomy").
	FindingType = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
	// ProductName names Watchkeeper in the findings; a custom integration
	// may set it (API reference, AwsSecurityFinding.ProductName).
	ProductName = "Watchkeeper"
	// IDPrefix starts every Id and GeneratorId Watchkeeper writes.
	IDPrefix = "watchkeeper/"
)

// ASFF limits (API reference, AwsSecurityFinding, Recommendation,
// Resource; Partner Guide, "Guidelines for using the BatchImportFindings
// API"). Lengths are in characters.
const (
	MaxTitle            = 256
	MaxDescription      = 1024
	MaxID               = 512
	MaxResources        = 32
	MaxProductFields    = 50
	MaxProductFieldKey  = 128
	MaxProductFieldVal  = 2048
	MaxRecommendation   = 512
	MaxFindingsPerBatch = 100
	MaxFindingBytes     = 240 * 1024
	MaxBatchBytes       = 6 * 1024 * 1024
	// MaxStatusReasons and MaxReasonDescription are Watchkeeper's own
	// bounds: the API reference sets none on Compliance.StatusReasons or
	// StatusReason.Description beyond non-blank text, and these keep a
	// finding far below MaxFindingBytes.
	MaxStatusReasons     = 32
	MaxReasonDescription = 1024
)

// Reason codes Build uses for reasons Watchkeeper's judge gives no code
// (plan's codes, e.g. CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT, are used as
// they are). Security Hub requires a ReasonCode on every StatusReason (API
// reference, StatusReason).
const (
	// ReasonAlertPathVerified: on PASSED, says which chain satisfies the
	// control.
	ReasonAlertPathVerified = "ALERT_PATH_VERIFIED"
	// ReasonNotEvaluated: a reason the control could not be evaluated
	// (ERROR verdict, Compliance.Status NOT_AVAILABLE).
	ReasonNotEvaluated = "CONTROL_NOT_EVALUATED"
	// ReasonExcluded: the control is excluded by configuration.
	ReasonExcluded = "CONTROL_EXCLUDED"
	// ReasonNote: advice without a code of its own (e.g. what the trail
	// healing level forbids).
	ReasonNote = "WATCHKEEPER_NOTE"
)

// ProductFields keys. Security Hub reserves the "aws/" prefix for its own
// keys (e.g. aws/securityhub/FindingId), so Watchkeeper's start with
// "watchkeeper/".
const (
	FieldVersion       = "watchkeeper/Version"
	FieldBenchmark     = "watchkeeper/Benchmark"
	FieldControl       = "watchkeeper/ControlId"
	FieldSecurityHubID = "watchkeeper/SecurityHubControlId"
	FieldVerdict       = "watchkeeper/Verdict"
	FieldMode          = "watchkeeper/Mode"
	FieldActions       = "watchkeeper/Actions"
)

// Meta is what Build needs besides the report. The zero value of each
// field is a documented default.
type Meta struct {
	// Region is the Region whose Security Hub receives the findings; ""
	// means the report's HomeRegion.
	Region string
	// Partition is the account's partition ("aws", "aws-cn",
	// "aws-us-gov"); "" means Region's partition (pkg/region).
	Partition string
	// Version is Watchkeeper's version, recorded in ProductFields; ""
	// means "dev".
	Version string
	// Now is the time of the run: UpdatedAt, LastObservedAt, and the
	// CreatedAt of a finding Security Hub has not seen before (Publish keeps
	// the CreatedAt of one it has). The zero time means time.Now().
	Now time.Time
}

func (m Meta) withDefaults(rep report.Report) Meta {
	if m.Region == "" {
		m.Region = rep.HomeRegion
	}
	if m.Partition == "" {
		m.Partition = region.Partition(m.Region)
	}
	if m.Version == "" {
		m.Version = "dev"
	}
	if m.Now.IsZero() {
		m.Now = time.Now()
	}
	return m
}

// Timestamp formats t as Security Hub timestamps are written: RFC 3339 in
// UTC with milliseconds (API reference, "Timestamps").
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ProductARN is the default product ARN of account in region, the product
// an account imports its own findings into (API reference,
// BatchImportFindings: the caller must be the finding's account "if you are
// using the default product ARN"; its example uses
// arn:aws:securityhub:us-west-1:123456789012:product/123456789012/default).
func ProductARN(partition, region, account string) string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, account, account)
}

// ID is the finding Id of control in benchmark for account: stable, so a
// later run updates the same finding.
func ID(account, benchmark, control string) string {
	return IDPrefix + account + "/" + benchmark + "/" + control
}

// GeneratorID names the benchmark and the control whose check produced the
// finding.
func GeneratorID(benchmark, control string) string {
	return IDPrefix + benchmark + "/" + control
}

// Build returns one finding per control of rep, in the report's order. It
// performs no I/O and is deterministic for a given meta.Now. The findings
// are in the form for a finding Security Hub has not seen before
// (CreatedAt is meta.Now, Workflow set); Publisher.Publish adapts them for
// findings that already exist.
func Build(rep report.Report, meta Meta) []types.AwsSecurityFinding {
	meta = meta.withDefaults(rep)
	bench, _ := catalog.Lookup(rep.Benchmark) // unknown: no version or keys, generic texts
	now := Timestamp(meta.Now)
	out := make([]types.AwsSecurityFinding, 0, len(rep.Controls))
	for _, c := range rep.Controls {
		ctl, _ := bench.Control(c.ID)
		out = append(out, build(rep, meta, bench, ctl, c, now))
	}
	return out
}

func build(rep report.Report, meta Meta, bench catalog.Benchmark, ctl catalog.Control, c plan.ControlResult, now string) types.AwsSecurityFinding {
	compliance := complianceStatus(c.Status)
	sev := severityFor(ctl.Key, c.Status)
	record := types.RecordStateActive
	if c.Status == plan.StatusExcluded {
		record = types.RecordStateArchived
	}
	workflow := types.WorkflowStatusNew
	if compliance == types.ComplianceStatusPassed {
		workflow = types.WorkflowStatusResolved
	}
	return types.AwsSecurityFinding{
		SchemaVersion: aws.String(SchemaVersion),
		Id:            aws.String(clip(ID(rep.Account, rep.Benchmark, c.ID), MaxID)),
		ProductArn:    aws.String(ProductARN(meta.Partition, meta.Region, rep.Account)),
		ProductName:   aws.String(ProductName),
		GeneratorId:   aws.String(clip(GeneratorID(rep.Benchmark, c.ID), MaxID)),
		AwsAccountId:  aws.String(rep.Account),
		Types:         []string{FindingType},
		CreatedAt:     aws.String(now),
		UpdatedAt:     aws.String(now),
		// LastObservedAt: this run observed the control's state.
		LastObservedAt: aws.String(now),
		Severity:       &types.Severity{Label: sev},
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: sev},
			Types:    []string{FindingType},
		},
		Title:       aws.String(clip(title(bench, c), MaxTitle)),
		Description: aws.String(clip(description(ctl, c), MaxDescription)),
		Remediation: &types.Remediation{Recommendation: &types.Recommendation{
			Text: aws.String(clip(recommendation(rep, c), MaxRecommendation)),
		}},
		Compliance: &types.Compliance{
			Status:              compliance,
			RelatedRequirements: []string{requirement(bench, rep.Benchmark, c.ID)},
			StatusReasons:       statusReasons(c),
		},
		Resources:     resources(rep, meta, c),
		ProductFields: productFields(rep, meta, c),
		RecordState:   record,
		Workflow:      &types.Workflow{Status: workflow},
	}
}

// complianceStatus maps a verdict to Compliance.Status: PASS is PASSED,
// FAIL is FAILED, CENTRAL is WARNING, and anything that is not a verdict on
// the account (ERROR, EXCLUDED, unknown) is NOT_AVAILABLE.
//
// The Security Hub API reference (Compliance.Status) defines WARNING as
// "Some information is missing or this check is not supported for your
// configuration" and NOT_AVAILABLE as "Check could not be performed due to
// a service outage, API error, or because the result of the Config
// evaluation was NOT_APPLICABLE" (such findings are archived after 3
// days). CENTRAL is the former: the check ran, and in this configuration
// (a member account whose events an organization trail delivers to the
// owner account's log group) the alert path lives where the member cannot
// read it. It is no outage, and no failure: FAILED would page the member
// for what only the trail owner can change.
func complianceStatus(s plan.Status) types.ComplianceStatus {
	switch s {
	case plan.StatusPass:
		return types.ComplianceStatusPassed
	case plan.StatusFail:
		return types.ComplianceStatusFailed
	case plan.StatusCentral:
		return types.ComplianceStatusWarning
	}
	return types.ComplianceStatusNotAvailable
}

// controlSeverity is each control's severity, by catalog key. Security Hub
// rates every one of its CloudWatch.1–14 controls "Severity: Low" (User
// Guide, "Security Hub CSPM controls for Amazon CloudWatch"; the fact sheet
// shared/reference/cis-monitoring-controls.md §2): a missing alarm is not
// itself an exposure, it leaves one unnoticed. The benchmark gives no
// severity of its own (only profile levels). organizations-changes (CIS
// 4.15 in v1.3.0+) has no Security Hub control; it is rated Low like its
// siblings, being the same kind of detective control.
var controlSeverity = map[string]types.SeverityLabel{
	"unauthorized-api-calls":     types.SeverityLabelLow, // CloudWatch.2
	"console-signin-without-mfa": types.SeverityLabelLow, // CloudWatch.3
	"root-account-usage":         types.SeverityLabelLow, // CloudWatch.1
	"iam-policy-changes":         types.SeverityLabelLow, // CloudWatch.4
	"cloudtrail-config-changes":  types.SeverityLabelLow, // CloudWatch.5
	"console-auth-failures":      types.SeverityLabelLow, // CloudWatch.6
	"cmk-disable-or-delete":      types.SeverityLabelLow, // CloudWatch.7
	"s3-bucket-policy-changes":   types.SeverityLabelLow, // CloudWatch.8
	"config-changes":             types.SeverityLabelLow, // CloudWatch.9
	"security-group-changes":     types.SeverityLabelLow, // CloudWatch.10
	"nacl-changes":               types.SeverityLabelLow, // CloudWatch.11
	"network-gateway-changes":    types.SeverityLabelLow, // CloudWatch.12
	"route-table-changes":        types.SeverityLabelLow, // CloudWatch.13
	"vpc-changes":                types.SeverityLabelLow, // CloudWatch.14
	"organizations-changes":      types.SeverityLabelLow, // no Security Hub control
}

// Severity returns the severity of the control with catalog key key when
// it does not pass (LOW for an unknown key).
func Severity(key string) types.SeverityLabel {
	if s, ok := controlSeverity[key]; ok {
		return s
	}
	return types.SeverityLabelLow
}

// severityFor is the finding's severity: the control's severity while it
// fails or cannot be evaluated; INFORMATIONAL, "No issue was found" (API
// reference, Severity.Label), when it passes or is excluded.
func severityFor(key string, s plan.Status) types.SeverityLabel {
	if s == plan.StatusPass || s == plan.StatusExcluded || s == plan.StatusCentral {
		return types.SeverityLabelInformational
	}
	return Severity(key)
}

// requirement names the benchmark requirement as Security Hub does in
// Compliance.RelatedRequirements ("CIS AWS Foundations Benchmark
// v1.2.0/3.3", User Guide, CloudWatch controls' "Related requirements").
func requirement(b catalog.Benchmark, benchmarkID, control string) string {
	v := b.Version
	if v == "" {
		v = strings.TrimPrefix(benchmarkID, "cis-aws-v")
	}
	return fmt.Sprintf("CIS AWS Foundations Benchmark v%s/%s", v, control)
}

func title(b catalog.Benchmark, c plan.ControlResult) string {
	if b.Version == "" {
		return fmt.Sprintf("CIS %s %s", c.ID, c.Title)
	}
	return fmt.Sprintf("CIS v%s %s %s", b.Version, c.ID, c.Title)
}

// watches says, per catalog key, what the control watches and why it
// matters (after the CIS rationale and Security Hub's CloudWatch control
// descriptions).
var watches = map[string]string{
	"unauthorized-api-calls":     "API calls rejected as unauthorized (AccessDenied, UnauthorizedOperation). A burst of them can reveal someone probing with stolen credentials, or an application that lost its permissions.",
	"console-signin-without-mfa": "AWS Management Console sign-ins without multi-factor authentication. A single-factor sign-in is one stolen password away from a takeover.",
	"root-account-usage":         "Use of the root user, which has unrestricted access to every service and resource in the account and should be used only for the few tasks that need it.",
	"iam-policy-changes":         "Changes to IAM policies: created, deleted, attached, detached or edited. They change who may do what in the account.",
	"cloudtrail-config-changes":  "Changes to CloudTrail trails: created, updated, deleted, logging stopped or started. Stopping or changing a trail blinds every other control.",
	"console-auth-failures":      "Failed AWS Management Console sign-ins. Repeated failures can be a brute-force attack on a password.",
	"cmk-disable-or-delete":      "Customer managed KMS keys disabled or scheduled for deletion. Data encrypted under a deleted key can never be decrypted again.",
	"s3-bucket-policy-changes":   "Changes to S3 bucket policies, ACLs, CORS, lifecycle and replication settings. One change can make a bucket's data public.",
	"config-changes":             "Changes to AWS Config recorders and delivery channels. Stopping AWS Config ends the configuration history and compliance evaluation of the account.",
	"security-group-changes":     "Changes to security groups. An opened rule can expose a service to the internet.",
	"nacl-changes":               "Changes to network ACLs, the stateless firewalls of subnets. An opened entry can expose whole subnets.",
	"network-gateway-changes":    "Changes to network gateways (internet, customer and VPN gateways and their attachments). They decide what traffic can enter or leave the VPCs.",
	"route-table-changes":        "Changes to route tables. A changed route can send traffic through an unexpected path.",
	"vpc-changes":                "Changes to VPCs, their peering connections and ClassicLink. They change the network boundary of the account.",
	"organizations-changes":      "Changes to AWS Organizations: accounts, organizational units and policies. They change the guardrails of every account in the organization.",
}

// description says what the control watches, why it matters, what
// Watchkeeper checks, and the verdict in one line.
func description(ctl catalog.Control, c plan.ControlResult) string {
	w, ok := watches[ctl.Key]
	if !ok {
		w = "The CloudTrail events this CIS AWS Foundations Benchmark monitoring control exists to catch."
	}
	var b strings.Builder
	b.WriteString("Watches: ")
	b.WriteString(w)
	b.WriteString(" The control holds when one such event, recorded by an active multi-region trail that delivers all management events to CloudWatch Logs, is counted by a metric filter whose alarm notifies an SNS topic with a confirmed subscriber.")
	switch c.Status {
	case plan.StatusPass:
		b.WriteString(" Verdict: PASS.")
	case plan.StatusFail:
		b.WriteString(" Verdict: FAIL; see the status reasons.")
	case plan.StatusExcluded:
		b.WriteString(" Verdict: excluded by configuration; Watchkeeper neither checks nor heals it.")
	case plan.StatusCentral:
		b.WriteString(" Verdict: CENTRAL, enforced in the organization trail's owner account; see the status reasons.")
	default:
		fmt.Fprintf(&b, " Verdict: %s, it could not be evaluated; see the status reasons.", c.Status)
	}
	return b.String()
}

// statusReasons pairs each reason with its code (plan.ControlResult.
// Problems). A report read back from JSON has no Problems; then each
// reason gets the verdict's generic code and each code its own entry.
func statusReasons(c plan.ControlResult) []types.StatusReason {
	generic := ReasonNotEvaluated // ERROR, and a verdict this package does not know
	switch c.Status {
	case plan.StatusPass, plan.StatusFail, plan.StatusCentral:
		generic = ReasonNote
	case plan.StatusExcluded:
		generic = ReasonExcluded
	}
	var out []types.StatusReason
	add := func(code, desc string) {
		if strings.TrimSpace(code) == "" {
			code = generic
		}
		r := types.StatusReason{ReasonCode: aws.String(code)}
		if strings.TrimSpace(desc) != "" {
			r.Description = aws.String(clip(desc, MaxReasonDescription))
		}
		out = append(out, r)
	}
	if c.Status == plan.StatusPass && len(c.Reasons) > 0 {
		add(ReasonAlertPathVerified, c.Reasons[0])
	}
	switch {
	case len(c.Problems) > 0:
		for _, p := range c.Problems {
			add(p.Code, p.Reason)
		}
	default:
		reasons := c.Reasons
		if c.Status == plan.StatusPass && len(reasons) > 0 {
			reasons = reasons[1:]
		}
		for _, r := range reasons {
			add("", r)
		}
		for _, code := range c.Codes {
			add(code, "")
		}
	}
	if len(out) == 0 && c.Status != plan.StatusPass {
		add(generic, fmt.Sprintf("verdict %s", c.Status))
	}
	if len(out) > MaxStatusReasons {
		more := len(out) - (MaxStatusReasons - 1)
		out = append(out[:MaxStatusReasons-1], types.StatusReason{
			ReasonCode:  aws.String(ReasonNote),
			Description: aws.String(fmt.Sprintf("%d more reasons in Watchkeeper's report", more)),
		})
	}
	return out
}

// resources are the account, then the control's chain (plan.Chain): its
// log group, metric filter, alarm and topic, by ARN where they have one.
// Security Hub's own account-level control findings name the account as
// {"Type": "AwsAccount", "Id": "AWS::::Account:<id>"}; types without an
// ASFF details object are "Other" (API reference, Resource.Type), with
// Details.Other saying what they are.
func resources(rep report.Report, meta Meta, c plan.ControlResult) []types.Resource {
	partition := types.Partition(meta.Partition)
	out := []types.Resource{{
		Type: aws.String("AwsAccount"), Id: aws.String("AWS::::Account:" + rep.Account),
		Partition: partition, Region: aws.String(meta.Region),
	}}
	ch := c.Chain
	if ch == nil {
		return out
	}
	add := func(typ, id, kind, reg string, other map[string]string) {
		if id == "" {
			return
		}
		r := types.Resource{Type: aws.String(typ), Id: aws.String(id), Partition: partition}
		if reg != "" {
			r.Region = aws.String(reg)
		}
		if other != nil {
			other["Type"] = kind
			r.Details = &types.ResourceDetails{Other: other}
		}
		out = append(out, r)
	}
	lgID := ch.LogGroupARN
	if lgID == "" {
		lgID = ch.LogGroupName
	}
	add("Other", lgID, "AWS::Logs::LogGroup", ch.Region, map[string]string{"LogGroupName": ch.LogGroupName})
	if ch.FilterName != "" {
		// Metric filters have no ARN; the id is the one Watchkeeper's
		// actions use (plan.Action.Target): "logGroupName/filterName".
		add("Other", ch.LogGroupName+"/"+ch.FilterName, "AWS::Logs::MetricFilter", ch.Region,
			map[string]string{"LogGroupName": ch.LogGroupName, "FilterName": ch.FilterName})
	}
	alarmID := ch.AlarmARN
	if alarmID == "" {
		alarmID = ch.AlarmName
	}
	add("AwsCloudWatchAlarm", alarmID, "", ch.Region, nil)
	add("AwsSnsTopic", ch.TopicARN, "", arnRegion(ch.TopicARN), nil)
	if len(out) > MaxResources {
		out = out[:MaxResources]
	}
	return out
}

// arnRegion is the Region field of an ARN, or "".
func arnRegion(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// controlActions are the report's actions for control id, in report order.
func controlActions(rep report.Report, id string) []report.Action {
	var out []report.Action
	for _, a := range rep.Actions {
		if slices.Contains(a.Controls, id) {
			out = append(out, a)
		}
	}
	return out
}

// recommendation says what Watchkeeper did, or would do, for the control:
// its actions in the report, by outcome.
func recommendation(rep report.Report, c plan.ControlResult) string {
	acts := controlActions(rep, c.ID)
	if len(acts) == 0 {
		switch c.Status {
		case plan.StatusPass:
			return "Nothing to do: the alert path works."
		case plan.StatusExcluded:
			return "Excluded by configuration: Watchkeeper neither checks nor heals this control."
		case plan.StatusError:
			return "Watchkeeper could not evaluate this control and took no action; the status reasons say what could not be read."
		case plan.StatusCentral:
			return "Nothing to do in this account: the organization trail's owner account enforces this control."
		}
		return "Watchkeeper takes no action for this control in this run; the status reasons say what to fix."
	}
	groups := map[report.Status][]string{}
	for _, a := range acts {
		groups[a.Status] = append(groups[a.Status], fmt.Sprintf("%s %s (%s)", a.Action, a.Target, a.Region))
	}
	var parts []string
	for _, g := range []struct {
		s    report.Status
		verb string
	}{
		{report.StatusApplied, "Watchkeeper applied"},
		{report.StatusFailed, "Watchkeeper failed to apply (the next run retries)"},
		{report.StatusSkipped, "Watchkeeper skipped"},
		{report.StatusPlanned, "Watchkeeper would apply (run apply to heal)"},
	} {
		if len(groups[g.s]) > 0 {
			parts = append(parts, g.verb+": "+strings.Join(groups[g.s], "; "))
		}
	}
	return strings.Join(parts, ". ") + "."
}

// productFields carry Watchkeeper's version, the run's mode and verdict,
// and the actions taken for the control with their outcomes.
func productFields(rep report.Report, meta Meta, c plan.ControlResult) map[string]string {
	f := map[string]string{
		FieldVersion:   meta.Version,
		FieldBenchmark: rep.Benchmark,
		FieldControl:   c.ID,
		FieldVerdict:   string(c.Status),
		FieldActions:   "none",
	}
	if rep.Mode != "" {
		f[FieldMode] = rep.Mode
	}
	if c.SecurityHubID != "" {
		f[FieldSecurityHubID] = c.SecurityHubID
	}
	if acts := controlActions(rep, c.ID); len(acts) > 0 {
		lines := make([]string, 0, len(acts))
		for _, a := range acts {
			l := fmt.Sprintf("%s %s (%s): %s", a.Action, a.Target, a.Region, a.Status)
			if a.Error != "" {
				l += " (" + a.Error + ")"
			}
			lines = append(lines, l)
		}
		f[FieldActions] = strings.Join(lines, "; ")
	}
	for k, v := range f {
		if strings.TrimSpace(v) == "" {
			delete(f, k) // values must be non-blank (NonEmptyString in the API model)
			continue
		}
		f[k] = clip(v, MaxProductFieldVal)
	}
	return f
}

// clip bounds s to max characters (ASFF limits count characters), ending
// with an ellipsis when cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
