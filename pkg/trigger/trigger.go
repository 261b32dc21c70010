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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "DeleteTrail"},
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "PutEventSelectors"},
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "StopLogging"},
	{"aws.cloudtrail", "cloudtrail.amazonaws.com", "UpdateTrail"},
	{"aws.monitoring", "monitoring.amazonaws.com", "DeleteAlarms"},
	{"aws.monitoring", "monitoring.amazonaws.com", "DisableAlarmActions"},
	{"aws.monitoring", "monitoring.amazonaws.com", "PutMetricAlarm"},
	{"aws.logs", "logs.amazonaws.com", "DeleteLogGroup"},
	{"aws.logs", "logs.amazonaws.com", "DeleteMetricFilter"},
	{"aws.logs", "logs.amazonaws.com", "PutMetricFilter"},
	{"aws.kms", "kms.amazonaws.com", "DisableKey"},
	{"aws.kms", "kms.amazonaws.com", "PutKeyPolicy"},
	{"aws.kms", "kms.amazonaws.com", "ScheduleKeyDeletion"},
	{"aws.sns", "sns.amazonaws.com", "AddPermission"},
	{"aws.sns", "sns.amazonaws.com", "DeleteTopic"},
	{"aws.sns", "sns.amazonaws.com", "RemovePermission"},
	{"aws.sns", "sns.amazonaws.com", "SetTopicAttributes"},
	{"aws.sns", "sns.amazonaws.com", "Unsubscribe"},
}

// Handled returns the API calls whose CloudTrail events trigger a run,
// sorted by source then name. The slice is a copy.
func Handled() []APICall {
	out := append([]APICall(nil), handled...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Name < out[j].Name
	})
	return out
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
	for _, c := range handled {
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

// DecodeError says why an event was rejected. Field is a JSON path such as
// "detail.eventName" ("" for the document as a whole).
type DecodeError struct {
	Field   string
	Problem string
	// Unsupported is set when the event is well-formed but not one
	// Watchkeeper handles (an unknown source, detail-type or call); such an
	// error matches ErrUnsupported.
	Unsupported bool
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "decode event: " + e.Problem
	}
	return fmt.Sprintf("decode event: %s: %s", e.Field, e.Problem)
}

// Is makes errors.Is(err, ErrUnsupported) true for unsupported events.
func (e *DecodeError) Is(target error) bool { return target == ErrUnsupported && e.Unsupported }

// ErrUnsupported matches errors about events that are well-formed but not
// ones Watchkeeper handles.
var ErrUnsupported = errors.New("unsupported event")

func bad(field, format string, args ...any) error {
	return &DecodeError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

func unsupported(field, format string, args ...any) error {
	return &DecodeError{Field: field, Problem: fmt.Sprintf(format, args...), Unsupported: true}
}

// Decode parses one invocation payload. It accepts exactly the three kinds
// of event described in the package comment and returns a *DecodeError
// (matching ErrUnsupported where the event is valid but not handled) for
// anything else.
func Decode(raw json.RawMessage) (Trigger, error) {
	if len(raw) > MaxEventBytes {
		return Trigger{}, bad("", "event is %d bytes, more than the %d EventBridge allows", len(raw), MaxEventBytes)
	}
	if !utf8.Valid(raw) {
		return Trigger{}, bad("", "event is not valid UTF-8")
	}
	var top map[string]json.RawMessage
	if err := strictUnmarshal(raw, &top); err != nil {
		return Trigger{}, bad("", "not a JSON object: %v", describeJSONError(err))
	}
	if top == nil {
		return Trigger{}, bad("", "not a JSON object: null")
	}
	if _, ok := top["detail-type"]; ok {
		return decodeEventBridge(top)
	}
	if _, ok := top["source"]; ok {
		return Trigger{}, bad("detail-type", "missing (an EventBridge event has source and detail-type)")
	}
	return decodeDirect(top)
}

// directFields are the only members a direct invocation may carry.
var directFields = map[string]bool{"mode": true}

func decodeDirect(top map[string]json.RawMessage) (Trigger, error) {
	for k := range top {
		if !directFields[k] {
			return Trigger{}, unsupported(clip(k), "unknown member; expected an EventBridge event or a direct invocation {\"mode\":\"report\"|\"apply\"}")
		}
	}
	modeRaw, ok := top["mode"]
	if !ok {
		return Trigger{}, unsupported("", "empty object; expected an EventBridge event or a direct invocation {\"mode\":\"report\"|\"apply\"}")
	}
	var mode string
	if err := stringField(modeRaw, "mode", &mode); err != nil {
		return Trigger{}, err
	}
	switch Mode(mode) {
	case ModeReport, ModeApply:
		return Trigger{Kind: Direct, Mode: Mode(mode)}, nil
	}
	return Trigger{}, bad("mode", "%q is not a mode (allowed: report, apply)", clip(mode))
}

// envelope is the EventBridge event structure common to every event.
type envelope struct {
	Version    string
	ID         string
	DetailType string
	Source     string
	Account    string
	Time       time.Time
	Region     string
	Detail     json.RawMessage
}

func decodeEventBridge(top map[string]json.RawMessage) (Trigger, error) {
	var env envelope
	for _, f := range []struct {
		name string
		dst  *string
	}{{"detail-type", &env.DetailType}, {"source", &env.Source}, {"id", &env.ID}, {"account", &env.Account}, {"region", &env.Region}} {
		raw, ok := top[f.name]
		if !ok {
			return Trigger{}, bad(f.name, "missing")
		}
		if err := stringField(raw, f.name, f.dst); err != nil {
			return Trigger{}, err
		}
		if *f.dst == "" {
			return Trigger{}, bad(f.name, "empty")
		}
	}
	if raw, ok := top["version"]; ok {
		if err := stringField(raw, "version", &env.Version); err != nil {
			return Trigger{}, err
		}
	}
	if !isAccountID(env.Account) {
		return Trigger{}, bad("account", "%q is not a 12-digit account id", clip(env.Account))
	}
	if !IsRegionName(env.Region) {
		return Trigger{}, bad("region", "%q is not a region name", clip(env.Region))
	}
	if raw, ok := top["time"]; ok {
		var ts string
		if err := stringField(raw, "time", &ts); err != nil {
			return Trigger{}, err
		}
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return Trigger{}, bad("time", "%q is not an RFC 3339 time", clip(ts))
		}
		env.Time = t
	}
	env.Detail = top["detail"]
	tr := Trigger{ID: env.ID, Account: env.Account, Region: env.Region, Time: env.Time}

	switch env.DetailType {
	case ScheduledDetailType:
		if env.Source != ScheduledSource {
			return Trigger{}, unsupported("source", "%q with detail-type %q (want %q)", clip(env.Source), ScheduledDetailType, ScheduledSource)
		}
		tr.Kind = Scheduled
		return tr, nil
	case APICallDetailType:
		if env.Detail == nil {
			return Trigger{}, bad("detail", "missing")
		}
		if err := decodeAPICall(env, &tr); err != nil {
			return Trigger{}, err
		}
		return tr, nil
	}
	return Trigger{}, unsupported("detail-type", "%q is not handled (allowed: %q, %q)", clip(env.DetailType), ScheduledDetailType, APICallDetailType)
}

// apiCallDetail is the part of a CloudTrail record Decode reads.
type apiCallDetail struct {
	EventVersion      string          `json:"eventVersion"`
	UserIdentity      *userIdentity   `json:"userIdentity"`
	EventSource       *string         `json:"eventSource"`
	EventName         *string         `json:"eventName"`
	AWSRegion         string          `json:"awsRegion"`
	ErrorCode         string          `json:"errorCode"`
	RequestParameters json.RawMessage `json:"requestParameters"`
}

type userIdentity struct {
	Type           string `json:"type"`
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	InvokedBy      string `json:"invokedBy"`
	SessionContext *struct {
		SessionIssuer *struct {
			Type string `json:"type"`
			ARN  string `json:"arn"`
		} `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

func decodeAPICall(env envelope, tr *Trigger) error {
	var d apiCallDetail
	if err := strictUnmarshal(env.Detail, &d); err != nil {
		return bad("detail", "%v", describeJSONError(err))
	}
	if d.EventSource == nil {
		return bad("detail.eventSource", "missing")
	}
	if d.EventName == nil {
		return bad("detail.eventName", "missing")
	}
	call, ok := lookupCall(*d.EventSource, *d.EventName)
	if !ok {
		return unsupported("detail.eventName", "%s from %s is not a handled call (handled: %s)", clip(*d.EventName), clip(*d.EventSource), handledNames())
	}
	if env.Source != call.Source {
		return unsupported("source", "%q does not match eventSource %s (want %q)", clip(env.Source), call.EventSource, call.Source)
	}
	if d.UserIdentity == nil {
		return bad("detail.userIdentity", "missing")
	}
	tr.Kind = Drift
	tr.Call = call
	tr.ErrorCode = clip(d.ErrorCode)
	if d.AWSRegion != "" {
		if !IsRegionName(d.AWSRegion) {
			return bad("detail.awsRegion", "%q is not a region name", clip(d.AWSRegion))
		}
		tr.Region = d.AWSRegion
	}
	u := d.UserIdentity
	tr.Actor = Actor{Type: u.Type, ARN: u.ARN, PrincipalID: u.PrincipalID, AccountID: u.AccountID, InvokedBy: u.InvokedBy}
	if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
		tr.Actor.IssuerARN = u.SessionContext.SessionIssuer.ARN
	}
	tr.Resources = resources(d.RequestParameters)
	return nil
}

// requestParameters names the members of requestParameters that identify
// what a handled call touched, across the five services. KMS records the
// key as given (key id, key ARN, alias name or alias ARN) in keyId (AWS KMS
// developer guide, "Logging AWS KMS API calls with AWS CloudTrail", e.g. the
// ScheduleKeyDeletion and PutKeyPolicy entries); SNS AddPermission and
// RemovePermission name the topic and the statement's label (SNS API
// reference, AddPermission: TopicArn, Label).
type requestParameters struct {
	LogGroupName    string   `json:"logGroupName"`
	FilterName      string   `json:"filterName"`
	AlarmName       string   `json:"alarmName"`
	AlarmNames      []string `json:"alarmNames"`
	Name            string   `json:"name"`      // CloudTrail trail name or ARN
	TrailName       string   `json:"trailName"` // PutEventSelectors
	TopicArn        string   `json:"topicArn"`
	SubscriptionArn string   `json:"subscriptionArn"`
	AttributeName   string   `json:"attributeName"`
	Label           string   `json:"label"` // SNS AddPermission, RemovePermission
	KeyID           string   `json:"keyId"` // KMS
}

// maxResources bounds how many names a trigger carries into logs and
// notifications (DeleteAlarms takes up to 100 names).
const maxResources = 10

// resources extracts resource names best-effort: requestParameters is
// informational, so a missing or odd one never rejects an event.
func resources(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var p requestParameters
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil
	}
	var out []string
	add := func(label, v string) {
		if v != "" && len(out) < maxResources {
			out = append(out, label+" "+clipN(v, 256))
		}
	}
	add("log group", p.LogGroupName)
	add("filter", p.FilterName)
	add("alarm", p.AlarmName)
	for _, a := range p.AlarmNames {
		add("alarm", a)
	}
	add("trail", p.Name)
	add("trail", p.TrailName)
	add("topic", p.TopicArn)
	add("subscription", p.SubscriptionArn)
	add("attribute", p.AttributeName)
	add("permission", p.Label)
	add("key", p.KeyID)
	return out
}

func handledNames() string {
	names := make([]string, 0, len(handled))
	for _, c := range Handled() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// strictUnmarshal decodes one JSON value and rejects trailing data.
func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// describeJSONError turns encoding/json errors into a field-naming problem.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s: got JSON %s, want %s", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
		}
		return fmt.Sprintf("got JSON %s, want %s", te.Value, jsonKind(te.Type.Kind().String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.EOF) {
		return "empty payload"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: truncated"
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	case "ptr":
		return "object"
	}
	return goKind
}

func stringField(raw json.RawMessage, name string, dst *string) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return bad(name, "want a JSON string, got %s", jsonType(raw))
	}
	return nil
}

func jsonType(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// IsRegionName reports whether s is shaped like an AWS region name, e.g.
// "us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1",
// "ap-southeast-7": lowercase letters and digits in dash-separated parts,
// ending in a number, at most 32 characters.
func IsRegionName(s string) bool {
	if len(s) < 4 || len(s) > 32 {
		return false
	}
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		last := i == len(parts)-1
		for _, r := range p {
			switch {
			case last && r >= '0' && r <= '9':
			case !last && r >= 'a' && r <= 'z':
			default:
				return false
			}
		}
	}
	return true
}

// clip shortens untrusted strings before they go into error messages.
func clip(s string) string { return clipN(s, 80) }

// clipN shortens s to at most max bytes (plus an ellipsis) on a rune boundary.
func clipN(s string, max int) string { return truncate.String(s, max) }
