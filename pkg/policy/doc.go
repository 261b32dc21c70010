// Package policy evaluates a resource-based policy (an SNS topic access
// policy, a KMS key policy) for one request made by an AWS service
// principal, conservatively.
//
// Watchkeeper needs two verdicts for the CIS monitoring controls, where an
// alarm's notification must reach a topic with a confirmed subscriber:
//
//   - does the topic policy explicitly deny sns:Publish to
//     cloudwatch.amazonaws.com? (Evaluate with CloudWatchPublishRequest;
//     Decision.Denied. A same-account alarm needs no Allow in the topic
//     policy for our purposes, so only an explicit deny matters.)
//   - does the key policy of an encrypted topic allow CloudWatch both
//     kms:Decrypt and kms:GenerateDataKey, with no explicit deny?
//     (EvaluateAll with CloudWatchKeyRequests; Decision.Allowed.)
//
// A false pass hides alarms that are silently dropped, so anything that
// cannot be decided counts against the pass: a Deny that may apply counts
// as applying, an Allow that may not apply does not count, and each such
// part is named in Decision.Uncertain. Conditions on keys the request is
// documented to carry (aws:SourceAccount, aws:SourceArn,
// aws:PrincipalServiceName, ...) are evaluated rather than guessed, which
// keeps the common policies from failing needlessly; see
// CloudWatchKeyRequests for the keys and their sources.
//
// # What is modelled
//
//   - Statement as an object or a list; Effect Allow and Deny; Sid.
//   - Principal "*", {"AWS": "*"} and {"Service": name or list} (names
//     compared case-insensitively). Account, user and role principals never
//     match a service principal. NotPrincipal with Deny applies to every
//     principal it does not list; NotPrincipal with Allow is "not
//     supported" (IAM User Guide, "AWS JSON policy elements:
//     NotPrincipal") and never counts.
//   - Action and NotAction with * and ? wildcards, case-insensitive
//     ("IAM JSON policy elements: Action", "... NotAction").
//   - Resource and NotResource with wildcards within each ARN segment,
//     case-sensitive ("IAM JSON policy elements: Resource", "...
//     NotResource"); with neither element the statement covers the
//     resource, as a key policy's Resource means "this KMS key".
//   - Condition ("IAM JSON policy elements: Condition", "... Condition
//     operators"): StringEquals, StringNotEquals, StringEqualsIgnoreCase,
//     StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals,
//     ArnLike, ArnNotEquals, ArnNotLike, Bool and Null, each (but Null)
//     with the IfExists suffix and the ForAnyValue: and ForAllValues:
//     prefixes. Key names are case-insensitive; operators and keys in a
//     block are ANDed, a key's values ORed (NORed for a negated operator).
//     A missing key follows the guide: IfExists operators are true, Null
//     tests presence, ForAllValues is true and ForAnyValue false, other
//     negated operators are true and the rest false. That rule needs no
//     comparison, so it also decides the numeric, date, binary and IP
//     operators when the key is known to be absent; with the key present
//     they are reported as uncertain.
//   - Version "2012-10-17" makes "${...}" a policy variable, which is not
//     substituted: a condition or resource using one is uncertain.
//     Without Version, "2008-10-17" applies and the text is literal.
//
// # What is deliberately not modelled
//
// The resource policy is judged alone, for a principal that is an AWS
// service: identity-based policies, service control and resource control
// policies, permissions boundaries, session policies, VPC endpoint
// policies, KMS grants and cross-account rules play no part, and the
// Principal forms that name roles, users, accounts or sessions are only
// recognised as "not this service". Implicit deny is not reported
// separately from "no Allow applies". The evaluator does not validate a
// policy the way IAM does when it is stored: it rejects what it cannot
// read (with a *PolicyError naming the statement and element, or the byte
// offset of a JSON error) and otherwise assumes the document was accepted
// by AWS.
//
// Sources are the IAM User Guide pages "Policy evaluation logic", "IAM
// JSON policy elements: Principal / NotPrincipal / Action / NotAction /
// Resource / NotResource / Condition", "Condition operators", "Set
// operators for multivalued context keys" and "AWS global condition
// context keys"; the Amazon SNS Developer Guide ("Configure AWS KMS
// permissions for AWS services", "Example cases for Amazon SNS access
// control", "Amazon SNS security best practices"); and the AWS KMS
// Developer Guide ("Key policies", "Infrastructure security in AWS Key
// Management Service").
package policy
