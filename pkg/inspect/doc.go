// Package inspect reads an account's CloudTrail, CloudWatch Logs, CloudWatch
// and SNS state across regions and returns it as a Snapshot of Watchkeeper's
// own types. It only reads: its client interfaces contain no mutating calls,
// so the compiler guarantees inspection cannot change the account, and
// ReadActions (the IAM actions the CDK app grants) is tested against them.
//
// Observation is scoped to what the controls depend on: the trails every
// region sees, the candidate trails' status and selectors, their log groups'
// metric filters, Watchkeeper's own alarms (one prefix listing per region)
// plus alarms on filter metrics no own alarm watches, the topics those
// alarms notify and the topics' KMS keys. The number of calls for a
// compliant account is regions + 8 (+2 for an encrypted topic) and does not
// grow with unrelated alarms, log groups or topics.
//
// Independent calls run concurrently, stage by stage, so a full observation
// takes 4 sequential round trips for a compliant account (6 when the topic
// is encrypted with a key named by alias), whatever the number of regions
// (test/bench measures both).
//
// Failures narrower than the whole account are recorded in the Snapshot
// with their cause (Region.Error, Trail.StatusError, LogGroup.Error,
// Topic.Error, TopicKey.Error); Observe fails only when nothing can be
// evaluated.
package inspect
