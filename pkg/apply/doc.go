// Package apply carries out a plan's actions against AWS, idempotently.
//
// Run executes actions phase by phase (plan.Kind.Phase): a topic exists
// before the subscriptions and alarms that use it. Within a phase, actions
// run concurrently in a bounded pool, so independent regions proceed in
// parallel; only the changes to one trail run one after another
// (configuration first, StartLogging last), since CloudTrail rejects
// concurrent changes to a trail. Trail changes are sent to the trail's home
// region. Run keeps going after a failed action and records one Outcome
// per action; an action whose prerequisite was not applied (for example the
// CreateTopic of the topic an alarm notifies) is skipped rather than
// attempted, and so is any action that would start too close to the
// context's deadline, which is left for the next run.
//
// Every write is idempotent, so a run that is repeated, interrupted or run
// concurrently with another converges on the same state without duplicates:
// PutMetricFilter and PutMetricAlarm are upserts; CreateTopic returns the
// existing topic when name, attributes and tags match; Subscribe with
// ReturnSubscriptionArn returns the existing subscription of an endpoint;
// EnableAlarmActions and StartLogging are no-ops when already done;
// PutEventSelectors writes the complete selector set the plan computed;
// UpdateTrail sets only the fields the plan names; EnableKey is a no-op on
// an enabled key; and CancelKeyDeletion on a key that is no longer pending
// deletion counts as done (see runner.key). Everything Run creates is
// tagged ManagedBy=watchkeeper, and with Options.OwnedPrefix set Run refuses
// to overwrite a topic, filter or alarm whose name is not Watchkeeper's.
//
// There is no dry-run switch here: a dry run is a plan that is reported and
// never handed to Run.
package apply
