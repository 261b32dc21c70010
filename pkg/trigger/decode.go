package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/region"
)

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
	if !region.Valid(env.Region) {
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
		if !region.Valid(d.AWSRegion) {
			return bad("detail.awsRegion", "%q is not a region name", clip(d.AWSRegion))
		}
		tr.Region = d.AWSRegion
	}
	u := d.UserIdentity
	tr.Actor = Actor{Type: u.Type, ARN: u.ARN, PrincipalID: u.PrincipalID, AccountID: u.AccountID, InvokedBy: u.InvokedBy}
	if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
		tr.Actor.IssuerARN = u.SessionContext.SessionIssuer.ARN
	}
	if call.Scope == AnyResource {
		tr.Resources = resources(d.RequestParameters)
	} else {
		tr.Resources, tr.Target, tr.Change = selfChange(call, d.RequestParameters)
	}
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
