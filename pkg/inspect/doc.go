// Package inspect reads an account's CloudTrail, CloudWatch Logs, CloudWatch
// and SNS state across regions and returns it as a Snapshot of Watchkeeper's
// own types. It only reads: its client interfaces contain no mutating calls,
// so the compiler guarantees inspection cannot change the account, and
// ReadActions (the IAM actions the CDK app grants) is tested against them.
//
// Observation is scoped to what the controls depend on: the trails every
// region sees, the candidate trails' status and selectors, their log groups'
// metric filters, Watchkeeper's own alarms (one prefix listing per region)
// plus the alarms on the metrics of relevant filters (Options.RelevantFilter:
// those that could satisfy a control) that no own alarm watches or whose own
// alarms would not notify anyone, the topics those alarms notify and the
// topics' KMS keys.
//
// Call budget. For a compliant account whose alarms are Watchkeeper's own
// (named with its prefix), the number of calls is regions + 8 (+2 for an
// encrypted topic), within the "regions + 12" goal, and it does not grow
// with unrelated alarms, log groups, topics, or unrelated metric filters on
// the trail's own log group. That is the budget's precondition: alarms a
// person made (not named with the prefix) can only be found per metric, so
// each control they cover costs one DescribeAlarmsForMetric (regions + 8 +
// one per control: 24 calls for one region when person-made alarms cover
// all 15 controls of v3.0.0); so does each control whose own alarm would not notify
// anyone (disabled, no topic, topic gone or unsubscribed, key unusable),
// looked up in one extra stage so that a person's working alarm on the
// same metric still counts. test/bench reports both cases.
//
// Independent calls run concurrently, stage by stage, so a full observation
// takes 4 sequential round trips for a compliant account (6 when the topic
// is encrypted with a key named by alias), whatever the number of regions
// (test/bench measures both); up to 3 more when own alarms fail and other
// alarms on their metrics must be read.
//
// Failures narrower than the whole account are recorded in the Snapshot
// with their cause (Region.Error, Trail.StatusError, LogGroup.Error,
// Topic.Error, TopicKey.Error); Observe fails only when nothing can be
// evaluated.
package inspect
