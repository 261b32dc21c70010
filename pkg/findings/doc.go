// Package findings puts Watchkeeper's verdicts where security teams already
// look: AWS Security Hub, as findings in the AWS Security Finding Format
// (ASFF), one per control per account, in the home Region (issue #12).
//
// Three pieces, so that wiring them into a front end is a few lines:
//
//   - Build (pure) turns a report.Report into findings, built from the SDK's
//     types.AwsSecurityFinding rather than hand-written JSON;
//   - Document renders findings as the ASFF JSON document the CLI prints for
//     --output asff: the BatchImportFindings request body {"Findings": [...]}
//     (Security Hub User Guide, "AWS Security Finding Format (ASFF)", which
//     shows the format as that "Findings" array);
//   - Publisher.Publish imports them with BatchImportFindings, keeping each
//     finding's identity and history across runs.
//
// Identity. Id is "watchkeeper/<account>/<benchmark>/<control>", so a later
// run updates the same finding (Security Hub Partner Guide, "Guidelines for
// mapping findings into ASFF": "To update a finding, resubmit the finding
// with the same identifier"). GeneratorId is "watchkeeper/<benchmark>/
// <control>". ProductArn is the account's default product,
// arn:<partition>:securityhub:<region>:<account>:product/<account>/default,
// which any account may import into (BatchImportFindings API reference:
// the calling account must be the finding's AwsAccountId "if you are using
// the default product ARN").
//
// Documented facts this package relies on:
//
//   - Required attributes (User Guide, "Required top-level ASFF
//     attributes"): AwsAccountId, CreatedAt, Description, GeneratorId, Id,
//     ProductArn, Resources, SchemaVersion ("2018-10-08"), Severity, Title,
//     Types, UpdatedAt. Validate checks them.
//   - Limits (API reference, AwsSecurityFinding and Recommendation; Partner
//     Guide, "Guidelines for using the BatchImportFindings API"): Title 1–256
//     characters, Description 1–1024, Id and GeneratorId 1–512, Resources
//     1–32, ProductFields at most 50 pairs with keys up to 128 and values up
//     to 2048 characters, Remediation.Recommendation.Text up to 512; up to
//     100 findings per batch, 240 KB per finding and 6 MB per batch. The API
//     reference gives StatusReason.ReasonCode and .Description only the
//     pattern .*\S.* (non-blank, no length); Build keeps each description
//     within 1024 characters and at most 32 status reasons per finding, so a
//     finding stays far below 240 KB.
//   - Severity (User Guide, "Security Hub CSPM controls for Amazon
//     CloudWatch"): every CloudWatch.1–14 control is "Severity: Low". A
//     failing control's finding carries that severity (see Severity); a
//     passing or excluded one carries INFORMATIONAL, "No issue was found"
//     (API reference, Severity.Label).
//   - Workflow (API reference, BatchImportFindings): "After a finding is
//     created, BatchImportFindings cannot be used to update ... Workflow";
//     customers and tools use BatchUpdateFindings for it (User Guide,
//     "BatchImportFindings for finding providers"). So Workflow.Status is
//     sent only when a finding is created (NEW, or RESOLVED for a passing
//     control), and a finding whose control has come to pass is RESOLVED
//     with BatchUpdateFindings. Re-opening needs no call: Security Hub
//     "resets WorkFlowStatus from NOTIFIED or RESOLVED to NEW" when the
//     record state changes from ARCHIVED to ACTIVE or the compliance status
//     changes from PASSED to WARNING, FAILED or NOT_AVAILABLE (API
//     reference, Workflow / WorkflowUpdate). SUPPRESSED is a person's
//     decision and is never changed.
//   - Severity and Types are provided through FindingProviderFields as well,
//     which is how finding providers update them (API reference,
//     BatchImportFindings, FindingProviderFields).
//   - Security Hub not enabled: "Security Hub CSPM can only accept finding
//     updates for accounts that have Security Hub CSPM enabled"; the
//     findings come back in FailedFindings with an InvalidAccess error (User
//     Guide, "BatchImportFindings for finding providers"), and calls fail
//     with InvalidAccessException ("not subscribed"). Publish turns both,
//     and AccessDenied, into a warning: the run goes on.
package findings
