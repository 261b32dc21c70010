// Package inspect reads an account's CloudTrail, CloudWatch Logs, CloudWatch
// and SNS state across regions and returns it as a Snapshot of Watchkeeper's
// own types. It only reads: its client interfaces contain no mutating calls,
// so the compiler guarantees inspection cannot change the account, and
// ReadActions (the IAM actions the CDK app grants) is tested against them.
//
// Observation is scoped to what the controls depend on: the trails the
// home region sees, the candidate trails' status and selectors, their log
// groups' metric filters, Watchkeeper's own alarms (one prefix listing per
// region) plus the alarms on the metrics of relevant filters
// (Options.RelevantFilter: those that could satisfy a control) that no own
// alarm watches or whose own alarms would not notify anyone
// (Options.AlarmNotifies, the planner's verdict), the topics those alarms
// notify and the topics' KMS keys.
//
// Regions. DescribeTrails in one region lists that region's trails and a
// shadow copy of every multi-region trail of the account (CloudTrail API
// reference, DescribeTrails, includeShadowTrails: "information for all
// trails in the current Region and any associated shadow trails in other
// Regions"), and a multi-region trail applies to every enabled region
// (CloudTrail user guide, "Creating a multi-Region trail"). So
// the trails are listed in the home region only, together with the
// identity and region list; when one of them covers every region
// (multi-region, logging, and recording read and write management events;
// see Region.CoveredBy), the other regions are not listed: they could only
// add single-region trails, which change no region's coverage and qualify
// for no control. Only when no trail seen from the home region covers every
// region, or the home region's listing fails, is every other region listed
// (one call each, concurrently), and the candidate trails found there read.
//
// Call budget. For a compliant account whose alarms are Watchkeeper's own
// (named with its prefix), a full observation makes 9 calls whatever the
// number of regions (identity, regions, the home region's trails, the
// covering trail's status and selectors, its log group's filters, the own
// alarms, the topic's attributes and subscriptions), 11 when the topic is
// encrypted with a customer managed key (DescribeKey and GetKeyPolicy; 10
// for an AWS managed key, whose policy is not read), within the goal of 12. It does not grow with regions, unrelated alarms,
// log groups, topics (a topic's key is read only when an alarm or
// Watchkeeper's configuration names the topic), or unrelated metric filters
// on the trail's own log group. That is the budget's precondition: alarms a
// person made (not named with the prefix) can only be found per metric, so
// each control they cover costs one DescribeAlarmsForMetric (24 calls when
// person-made alarms cover all 15 controls of v3.0.0); so does each control
// whose own alarm would not notify anyone (disabled, no topic, topic gone
// or unsubscribed, key unusable, ...), looked up in one extra stage so that
// a person's working alarm on the same metric still counts. Without
// Options.AlarmNotifies every control's metric is looked up that way. An
// account without a covering trail costs one DescribeTrails per further
// region, plus the reads of the candidate trails found there. test/bench
// reports these cases.
//
// Round trips. Independent calls run concurrently, stage by stage, so a
// compliant account's full observation takes 2 sequential round trips
// (identity ‖ regions ‖ home trails; status ‖ selectors ‖ filters ‖ own
// alarms ‖ topic attributes ‖ subscriptions), 3 when its topic is encrypted
// with a key named by id or ARN (DescribeKey ‖ GetKeyPolicy) and 4 with a
// key named by alias (GetKeyPolicy takes no alias, so DescribeKey resolves
// it first), whatever the number of regions (test/bench measures them);
// up to 2 more when the regions' trails must be listed (then the candidate
// trails found there are read), and up to 3 more when own
// alarms fail and other alarms on their metrics, their topics and keys
// must be read.
//
// Organizations. A member account's DescribeTrails shows its organization's
// organization trail, owned by the management account (or a delegated
// administrator) and delivering to a log group there (CloudTrail User
// Guide, "Creating a trail for an organization"); the member cannot read
// that trail's status, selectors or log group, and records why. With
// Options.Central (a read-only role assumed in the owner's account), the
// trail, its log group's filters and alarms, and the topics and keys of
// that account are read through the role instead, listings keyed by
// account and Region; nothing else of another account is read, and the
// role's clients are readers only. Options.Organization lists the
// organization's accounts (ListAccounts, paginated) in the first stage.
//
// Failures narrower than the whole account are recorded in the Snapshot
// with their cause (Region.Error, Trail.StatusError, LogGroup.Error,
// Topic.Error, TopicKey.Error); Observe fails only when nothing can be
// evaluated.
package inspect
