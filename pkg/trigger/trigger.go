// Package trigger decodes the events that start a Watchkeeper Lambda run:
// the nightly EventBridge Scheduled Event, EventBridge "AWS API Call via
// CloudTrail" events for the API calls that can break a monitoring control,
// and a direct invocation asking for a report-only (or apply) run.
//
// Decode is pure and strict. It uses its own structs rather than
// aws-lambda-go's events package so that every field it relies on is checked
// for presence and JSON type, and anything it does not recognise is an error:
// the handler makes no AWS call for an event it cannot name. The event says
// when to run; what to change is always decided from the account's state
// (level-based), so the decoder keeps only what a report needs to explain
// the run: which call, by whom, on what.
package trigger

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/watchkeeper/watchkeeper/pkg/truncate"
)

// MaxEventBytes bounds the raw events Decode accepts. EventBridge limits a
// PutEvents entry to 256 KB ("The maximum size for a PutEvents event entry is
// 256 KB", EventBridge API Reference, PutEvents), and CloudTrail-originated
// events obey the same bus limit, so anything larger did not come from
// EventBridge. The envelope adds a little over the entry, hence the margin.
const MaxEventBytes = 256*1024 + 4*1024

// Kind says what started a run.
type Kind string

const (
	// Scheduled is the nightly EventBridge Scheduled Event.
	Scheduled Kind = "scheduled"
	// Drift is an "AWS API Call via CloudTrail" event for a handled call.
	Drift Kind = "drift"
	// Direct is a direct invocation, e.g. {"mode":"report"}.
	Direct Kind = "direct"
)

// Mode is the run mode a direct invocation asks for.
type Mode string

const (
	// ModeDefault means "as configured" (WATCHKEEPER_MODE).
	ModeDefault Mode = ""
	// ModeReport evaluates and plans, and never writes.
	ModeReport Mode = "report"
	// ModeApply heals, unless configuration says report only. A direct
	// invocation can narrow a run to report-only but never widen a
	// report-only deployment to apply.
	ModeApply Mode = "apply"
)

// EventBridge constants used by the events Decode accepts.
const (
	ScheduledSource     = "aws.events"
	ScheduledDetailType = "Scheduled Event"
	APICallDetailType   = "AWS API Call via CloudTrail"
)

// APICall is one CloudTrail-recorded API call that can break a monitoring
// control and so triggers an immediate check.
type APICall struct {
	// Source is the EventBridge "source" of the event, e.g. "aws.logs".
	Source string `json:"source"`
	// EventSource is the CloudTrail eventSource, e.g. "logs.amazonaws.com".
	EventSource string `json:"eventSource"`
	// Name is the CloudTrail eventName, e.g. "DeleteMetricFilter".
	Name string `json:"eventName"`
	// Scope says on which resources the call matters; see Scope.
	Scope Scope `json:"scope,omitempty"`
}

// handled is the single source of truth for drift events; the CDK app builds
// its EventBridge rule from Handled so the rule and the decoder cannot drift.
// CloudWatch's API calls arrive with source "aws.monitoring" and eventSource
// "monitoring.amazonaws.com" ("Amazon CloudWatch Monitoring events delivered
// via AWS CloudTrail", docs.aws.amazon.com/eventbridge/latest/ref/events-ref-monitoring.html);
// KMS's with source "aws.kms" and eventSource "kms.amazonaws.com" ("AWS KMS
// events delivered via AWS CloudTrail", docs.aws.amazon.com/eventbridge/latest/ref/events-ref-kms.html).
//
// Besides the calls that remove or rewrite a filter, alarm, trail or
// topic, it lists the calls that silently stop alarm notifications without
// touching those: disabling or scheduling the deletion of the topic's KMS
// key, or changing its key policy (CloudWatch can then no longer encrypt
// for the topic), and changing the topic's access policy (AddPermission,
// RemovePermission, and SetTopicAttributes with attributeName Policy).
// Watchkeeper's own calls (CreateTopic, Subscribe, PutMetricFilter, ...,
// EnableKey, CancelKeyDeletion) are dropped by the drift rule's pattern and
// by Trigger.CausedBy, whichever call it is.
var handled = []APICall{
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "DeleteTrail", AnyResource},
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "PutEventSelectors", AnyResource},
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "StopLogging", AnyResource},
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "UpdateTrail", AnyResource},
	{"aws.monitoring", "monitoring.amazonaws.com", "DeleteAlarms", AnyResource},
	{"aws.monitoring", "monitoring.amazonaws.com", "DisableAlarmActions", AnyResource},
	{"aws.monitoring", "monitoring.amazonaws.com", "PutMetricAlarm", AnyResource},
	{"aws.logs", "logs.amazonaws.com", "DeleteLogGroup", AnyResource},
	{"aws.logs", "logs.amazonaws.com", "DeleteMetricFilter", AnyResource},
	{"aws.logs", "logs.amazonaws.com", "PutMetricFilter", AnyResource},
	{"aws.kms", "kms.amazonaws.com", "DisableKey", AnyResource},
	{"aws.kms", "kms.amazonaws.com", "PutKeyPolicy", AnyResource},
	{"aws.kms", "kms.amazonaws.com", "ScheduleKeyDeletion", AnyResource},
	{"aws.sns", "sns.amazonaws.com", "AddPermission", AnyResource},
	{"aws.sns", "sns.amazonaws.com", "DeleteTopic", AnyResource},
	{"aws.sns", "sns.amazonaws.com", "RemovePermission", AnyResource},
	{"aws.sns", "sns.amazonaws.com", "SetTopicAttributes", AnyResource},
	{"aws.sns", "sns.amazonaws.com", "Unsubscribe", AnyResource},
}

// Handled returns the control calls (the list above) whose CloudTrail
// events trigger a run, sorted by source then name. The slice is a copy.
// The decoder also accepts the self-watch calls (SelfWatched), which matter
// only on Watchkeeper's own resources.
func Handled() []APICall {
	out := append([]APICall(nil), handled...)
	sortCalls(out)
	return out
}

// sortCalls sorts calls by source then name.
func sortCalls(out []APICall) {
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Name < out[j].Name
	})
}

// HandledBySource groups Handled by EventBridge source: source -> sorted
// event names. It is the shape an EventBridge rule's pattern needs.
func HandledBySource() map[string][]string {
	m := map[string][]string{}
	for _, c := range Handled() {
		m[c.Source] = append(m[c.Source], c.Name)
	}
	return m
}

func lookupCall(eventSource, name string) (APICall, bool) {
	for _, c := range append(Handled(), selfWatched...) {
		if c.EventSource == eventSource && c.Name == name {
			return c, true
		}
	}
	return APICall{}, false
}

// Actor is who made the API call, from the CloudTrail userIdentity.
type Actor struct {
	// Type is the identity type, e.g. "AssumedRole", "IAMUser", "Root".
	Type string `json:"type,omitempty"`
	// ARN is the principal's ARN, e.g. an assumed-role session ARN.
	ARN         string `json:"arn,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	// IssuerARN is sessionContext.sessionIssuer.arn: for an assumed role,
	// the role's own ARN (with its path).
	IssuerARN string `json:"issuerArn,omitempty"`
	// InvokedBy names the AWS service that made the call on the
	// principal's behalf, if any.
	InvokedBy string `json:"invokedBy,omitempty"`
}

// String names the actor for people: the ARN, else the type.
func (a Actor) String() string {
	switch {
	case a.ARN != "":
		return a.ARN
	case a.InvokedBy != "":
		return a.InvokedBy
	case a.Type != "":
		return a.Type
	}
	return "unknown"
}

// Trigger is a decoded event.
type Trigger struct {
	Kind Kind `json:"kind"`
	// Mode is the mode a direct invocation asked for; ModeDefault otherwise.
	Mode Mode `json:"mode,omitempty"`
	// ID, Account, Region and Time come from the EventBridge envelope.
	ID      string    `json:"id,omitempty"`
	Account string    `json:"account,omitempty"`
	Region  string    `json:"region,omitempty"`
	Time    time.Time `json:"time,omitzero"`
	// Call is the API call of a Drift trigger.
	Call APICall `json:"call,omitzero"`
	// Actor is who made the call, for Drift triggers.
	Actor Actor `json:"actor,omitzero"`
	// Resources name what the call touched, from its requestParameters
	// (e.g. "log group CloudTrail/Default, filter watchkeeper-root-usage").
	// Informational only: it never decides what a run changes.
	Resources []string `json:"resources,omitempty"`
	// Change says in one sentence what a self-watch call (SelfWatch)
	// changed, e.g. that a rule was disabled or the function's reserved
	// concurrency set to 0. Informational, like Resources.
	Change string `json:"change,omitempty"`
	// Target is the name of the resource a self-watch call changed (the
	// rule, function or role name as the caller gave it), e.g. so that a
	// summary can tell whether this run re-enabled that very rule.
	Target string `json:"target,omitempty"`
	// ErrorCode is the CloudTrail errorCode when the call failed (e.g.
	// "AccessDenied"). A failed call changed nothing, so the handler skips
	// it (Failed) instead of running: otherwise any principal in the
	// account, even one without permissions, could start full runs at will.
	ErrorCode string `json:"errorCode,omitempty"`
}

// Failed reports whether t is a drift event for a call that failed
// (CloudTrail recorded an errorCode): nothing changed, so nothing needs
// checking. The drift rule already drops such events; this is the second
// line for events delivered some other way.
func (t Trigger) Failed() bool { return t.Kind == Drift && t.ErrorCode != "" }

// Describe says in a few words what started the run, for logs and summaries.
func (t Trigger) Describe() string {
	switch t.Kind {
	case Scheduled:
		return "scheduled run"
	case Drift:
		s := fmt.Sprintf("%s (%s) by %s", t.Call.Name, t.Call.EventSource, t.Actor)
		if len(t.Resources) > 0 {
			s += " on " + strings.Join(t.Resources, "; ")
		}
		if t.Region != "" {
			s += " in " + t.Region
		}
		return s
	case Direct:
		if t.Mode == ModeDefault {
			return "direct invocation"
		}
		return "direct invocation (" + string(t.Mode) + ")"
	}
	return string(t.Kind)
}

// CausedBy reports whether the event was caused by the IAM role roleARN
// (Watchkeeper's own execution role), so the handler can skip it and never
// chase its own writes. roleARN is the role's ARN as IAM names it,
// "arn:PARTITION:iam::ACCOUNT:role/PATH/NAME". The event's principal matches
// when its session issuer is that role, or when its ARN is an STS
// assumed-role session of that role,
// "arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION" (STS drops the path).
func (t Trigger) CausedBy(roleARN string) bool {
	if t.Kind != Drift || roleARN == "" {
		return false
	}
	role, ok := parseRoleARN(roleARN)
	if !ok {
		return false
	}
	if t.Actor.IssuerARN != "" && t.Actor.IssuerARN == roleARN {
		return true
	}
	if t.Actor.ARN == roleARN {
		return true
	}
	s, ok := parseAssumedRoleARN(t.Actor.ARN)
	return ok && s.partition == role.partition && s.account == role.account && s.name == role.name
}

type roleID struct{ partition, account, name string }

// parseRoleARN splits "arn:aws:iam::123456789012:role/path/Name".
func parseRoleARN(s string) (roleID, bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || a.Region != "" || a.AccountID == "" {
		return roleID{}, false
	}
	res, ok := strings.CutPrefix(a.Resource, "role/")
	if !ok {
		return roleID{}, false
	}
	name := res[strings.LastIndex(res, "/")+1:]
	if name == "" {
		return roleID{}, false
	}
	return roleID{a.Partition, a.AccountID, name}, true
}

// parseAssumedRoleARN splits "arn:aws:sts::123456789012:assumed-role/Name/Session".
func parseAssumedRoleARN(s string) (roleID, bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "sts" || a.AccountID == "" {
		return roleID{}, false
	}
	res, ok := strings.CutPrefix(a.Resource, "assumed-role/")
	if !ok {
		return roleID{}, false
	}
	name, session, ok := strings.Cut(res, "/")
	if !ok || name == "" || session == "" {
		return roleID{}, false
	}
	return roleID{a.Partition, a.AccountID, name}, true
}

// clip shortens untrusted strings before they go into error messages.
func clip(s string) string { return clipN(s, 80) }

// clipN shortens s to at most max bytes (plus an ellipsis) on a rune boundary.
func clipN(s string, max int) string { return truncate.String(s, max) }
