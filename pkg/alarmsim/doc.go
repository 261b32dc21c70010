// Package alarmsim decides whether a CloudWatch metric alarm on a metric
// filter's metric turns one matching log event into a notification.
//
// A benchmark monitoring control (CloudTrail -> CloudWatch Logs metric
// filter -> metric -> alarm -> SNS topic) is only worth a PASS if one event
// reaches a person. Finding an alarm on the right metric is not enough:
// CloudWatch runs an alarm's actions only when its state changes ("An alarm
// invokes actions only when the alarm changes state"; the actions "are not
// performed again if the condition persists for hours or days"). An alarm
// that never reaches ALARM on one event, or that already sits in ALARM when
// nothing happens, sends nothing when the event comes. Simulate answers both
// questions from the alarm's definition and the filter's metricValue,
// defaultValue and unit, without calling AWS.
//
// # Model
//
// One matching event falls in one period; nothing else matches.
//
//   - A period without log events has no datapoint: it is missing. A
//     period with non-matching events has no datapoint either, unless the
//     filter sets a defaultValue: then each non-matching event publishes it
//     (any number of them: 1, 1000, and arbitrarily many are checked), and
//     the event period holds the event's value plus 0, 1, 1000 or
//     arbitrarily many defaults.
//   - The statistic is computed over those datapoints (SampleCount counts
//     them whatever their value; percentiles use the nearest rank, an
//     approximation). The event period must breach in every case, and no
//     quiet period may breach.
//   - The breaching period then ages through the evaluation range, the
//     other periods being missing or, with a defaultValue, non-breaching.
//     Evaluate applies the documented missing-data rules at each step; the
//     alarm must enter ALARM from OK or INSUFFICIENT_DATA in both cases.
//   - A unit on the alarm that differs from the filter's unit leaves it in
//     INSUFFICIENT_DATA. Anomaly-band operators are not judged.
//
// Simulate does not look at AlarmActions or ActionsEnabled; callers check
// that ALARM has an SNS action.
//
// # Sources
//
// Amazon CloudWatch User Guide:
//
//   - "Alarm evaluation" / "Evaluating an alarm": Period, Evaluation Periods,
//     Datapoints to Alarm, "M out of N" alarms, and "Alarm actions".
//   - "Configuring how CloudWatch alarms treat missing data", with "How alarm
//     state is evaluated when data is missing" (the tables of 3-of-3 and
//     2-of-3 alarms that evaluate_test.go encodes) and "Avoiding premature
//     transitions to alarm state". The tables and quotations follow the
//     guide's published source, github.com/awsdocs/amazon-cloudwatch-user-guide,
//     doc_source/AlarmThatSendsEmail.md at commit b355497 (May 2023), the
//     last revision before the repository was archived. The live guide has
//     since split that page into "Alarm evaluation" and "Configuring how
//     CloudWatch alarms treat missing data", which open with the same
//     definitions.
//   - "Percentile-based CloudWatch alarms and low data samples".
//   - "CloudWatch statistics definitions" and "Percentiles" (Using Amazon
//     CloudWatch metrics): SampleCount, Sum, Average, Minimum, Maximum,
//     pNN, trimmed and winsorized means; percentiles "are not available for
//     metrics when any of the metric values are negative numbers".
//
// Amazon CloudWatch API Reference, PutMetricAlarm: Unit ("We recommend
// omitting Unit so that you don't inadvertently specify an incorrect unit
// that is not published for this metric. Doing so causes the alarm to be
// stuck in the INSUFFICIENT DATA state."), DatapointsToAlarm ("This is used
// only if you are setting an 'M out of N' alarm. In that case, this value is
// the M."), TreatMissingData ("Valid Values: breaching | notBreaching |
// ignore | missing"; "If TreatMissingData is omitted, the default behavior of
// missing is used"), ComparisonOperator (the three band operators "are used
// only for alarms based on anomaly detection models"), Period and
// EvaluateLowSampleCountPercentile.
//
// Amazon CloudWatch Logs API Reference, PutMetricFilter / MetricTransformation:
// metricValue ("The value to publish to the CloudWatch metric when a filter
// pattern matches a log event"), defaultValue ("The value to emit when a
// filter pattern does not match a log event"), unit ("If you omit this, the
// unit is set as None"). The CloudWatch Logs User Guide ("Creating metrics
// from log events using filters", Concepts) describes the default value per
// period instead ("reported to the metric filter during a period when logs
// are ingested but no matching logs are found"); counting it once per
// non-matching event covers that reading too.
package alarmsim
