package trigger

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Scope says on which resources a handled call matters. A control call
// (AnyResource) can break a monitoring control whatever it touches, since
// the customer's own filters, alarms and topics count too. The self-watch
// calls matter only on Watchkeeper's own resources: the drift rule's
// pattern names those resources (infra.DriftPattern), so that, for example,
// deploying some other Lambda function never starts a run.
type Scope string

const (
	// AnyResource is a control call: it matters on any resource.
	AnyResource Scope = ""
	// OwnRule is a call that can silence one of Watchkeeper's own
	// EventBridge rules (the nightly schedule, the drift rule and the
	// self-watch rule).
	OwnRule Scope = "own-rule"
	// OwnFunction is a call that can stop or change the remediator
	// function itself.
	OwnFunction Scope = "own-function"
	// DeliveryRole is a call that can stop CloudTrail from delivering to
	// CloudWatch Logs by changing the trail's delivery role. IAM is a
	// global service: its events arrive in us-east-1 only, so a stack in
	// another Region forwards them from there (infra/selfwatch.go).
	DeliveryRole Scope = "delivery-role"
)

// selfWatched are the calls that change Watchkeeper itself or the
// CloudTrail-to-CloudWatch-Logs delivery role. Watchkeeper can undo only
// DisableRule (it re-enables its own rules, events:EnableRule scoped to
// their ARNs); for every other call the run summary says what changed and
// who changed it, and a person restores it (usually by redeploying).
//
// Lambda records its calls under versioned event names: the AWS Lambda
// developer guide, "Logging AWS Lambda API calls using AWS CloudTrail",
// lists e.g. PutFunctionConcurrency with "event name:
// PutFunctionConcurrency20171031". EventBridge's events keep their API
// names (source "aws.events"); IAM's arrive with source "aws.iam".
var selfWatched = []APICall{
	{"aws.events", "events.amazonaws.com", "DeleteRule", OwnRule},
	{"aws.events", "events.amazonaws.com", "DisableRule", OwnRule},
	{"aws.events", "events.amazonaws.com", "RemoveTargets", OwnRule},
	{"aws.lambda", "lambda.amazonaws.com", "DeleteFunction20150331", OwnFunction},
	{"aws.lambda", "lambda.amazonaws.com", "DeleteFunctionConcurrency20171031", OwnFunction},
	{"aws.lambda", "lambda.amazonaws.com", "PutFunctionConcurrency20171031", OwnFunction},
	{"aws.lambda", "lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", OwnFunction},
	{"aws.iam", "iam.amazonaws.com", "AttachRolePolicy", DeliveryRole},
	{"aws.iam", "iam.amazonaws.com", "DeleteRole", DeliveryRole},
	{"aws.iam", "iam.amazonaws.com", "DeleteRolePolicy", DeliveryRole},
	{"aws.iam", "iam.amazonaws.com", "DetachRolePolicy", DeliveryRole},
	{"aws.iam", "iam.amazonaws.com", "PutRolePermissionsBoundary", DeliveryRole},
	{"aws.iam", "iam.amazonaws.com", "PutRolePolicy", DeliveryRole},
	{"aws.iam", "iam.amazonaws.com", "UpdateAssumeRolePolicy", DeliveryRole},
}

// SelfWatched returns the self-watch calls (Scope other than AnyResource),
// sorted by source then name. The slice is a copy. They are not in
// Handled: a pattern built from Handled must not match them on every
// resource, so the drift rule adds them narrowed to Watchkeeper's own
// names (infra withSelfWatch).
func SelfWatched() []APICall {
	out := append([]APICall(nil), selfWatched...)
	sortCalls(out)
	return out
}

// ResourceParameter names the requestParameters member that identifies
// the resource a self-watch call changed ("" for a control call): the
// member the drift rule's pattern matches against Watchkeeper's own names.
// EventBridge's DisableRule and DeleteRule name the rule in "name",
// RemoveTargets in "rule" (EventBridge API reference); Lambda's calls name
// the function in "functionName" (a name, an ARN or a partial ARN, as the
// caller gave it); IAM's role calls in "roleName".
func (c APICall) ResourceParameter() string {
	switch c.Scope {
	case OwnRule:
		if c.Name == "RemoveTargets" {
			return "rule"
		}
		return "name"
	case OwnFunction:
		return "functionName"
	case DeliveryRole:
		return "roleName"
	}
	return ""
}

// SelfWatch reports whether t is a change to Watchkeeper itself (its rules
// or its function) or to the trail's delivery role. Such a change may not
// show in the account's controls at all, so the run summary is published
// whatever the run finds, and says what changed and who changed it.
func (t Trigger) SelfWatch() bool { return t.Kind == Drift && t.Call.Scope != AnyResource }

// selfParameters is the part of a self-watch call's requestParameters
// that says what it changed.
type selfParameters struct {
	Name                string       `json:"name"`
	Rule                string       `json:"rule"`
	EventBusName        string       `json:"eventBusName"`
	IDs                 []string     `json:"ids"`
	FunctionName        string       `json:"functionName"`
	ReservedConcurrency *json.Number `json:"reservedConcurrentExecutions"`
	RoleName            string       `json:"roleName"`
	PolicyName          string       `json:"policyName"`
	PolicyArn           string       `json:"policyArn"`
	PermissionsBoundary string       `json:"permissionsBoundary"`
}

// configurationFields are the UpdateFunctionConfiguration members named in
// the summary with their value; any other member is named without it
// (environment variables may hold secrets, and CloudTrail may redact them).
var configurationFields = map[string]bool{
	"handler": true, "memorySize": true, "role": true, "runtime": true, "timeout": true,
}

// selfChange names what a self-watch call touched (Resources) and says in
// one sentence what it changed (Trigger.Change). requestParameters is
// informational, so an odd one never rejects the event: the sentence then
// names only the call.
func selfChange(c APICall, raw json.RawMessage) (res []string, target, change string) {
	var p selfParameters
	var all map[string]json.RawMessage
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &p)
		_ = json.Unmarshal(raw, &all)
	}
	add := func(label, v string) {
		if v != "" && len(res) < maxResources {
			res = append(res, label+" "+clipN(v, 256))
		}
	}
	switch c.Scope {
	case OwnRule:
		rule := p.Name
		if c.Name == "RemoveTargets" {
			rule = p.Rule
		}
		add("rule", rule)
		add("event bus", p.EventBusName)
		target = clipN(rule, 256)
		switch c.Name {
		case "DisableRule":
			return res, target, "rule " + quoted(rule) + " was disabled: it stops delivering events until it is enabled again"
		case "DeleteRule":
			return res, target, "rule " + quoted(rule) + " was deleted: redeploy the stack to restore it"
		default:
			ids := make([]string, 0, len(p.IDs))
			for i, id := range p.IDs {
				if i == maxResources {
					break
				}
				ids = append(ids, clip(id))
			}
			return res, target, fmt.Sprintf("target(s) %s were removed from rule %s: redeploy the stack to restore them", strings.Join(ids, ", "), quoted(rule))
		}
	case OwnFunction:
		add("function", p.FunctionName)
		target = clipN(p.FunctionName, 256)
		fn := quoted(p.FunctionName)
		switch c.Name {
		case "PutFunctionConcurrency20171031":
			n := "unknown"
			if p.ReservedConcurrency != nil {
				n = clip(p.ReservedConcurrency.String())
			}
			s := "reserved concurrency of function " + fn + " was set to " + n
			if v, err := strconv.Atoi(n); err == nil && v == 0 {
				s += ": the function cannot run at all until it is raised again (Watchkeeper expects 1)"
			} else {
				s += " (Watchkeeper expects 1, so that no two runs race)"
			}
			return res, target, s
		case "DeleteFunctionConcurrency20171031":
			return res, target, "reserved concurrency of function " + fn + " was removed: runs may now overlap (Watchkeeper expects 1)"
		case "DeleteFunction20150331":
			return res, target, "function " + fn + " was deleted: redeploy the stack to restore it"
		default:
			return res, target, "configuration of function " + fn + " was changed: " + configurationChange(all) + "; redeploy the stack to restore it"
		}
	case DeliveryRole:
		add("role", p.RoleName)
		add("policy", p.PolicyName)
		add("policy", p.PolicyArn)
		target = clipN(p.RoleName, 256)
		role := quoted(p.RoleName)
		what := map[string]string{
			"AttachRolePolicy":           "managed policy " + quoted(p.PolicyArn) + " was attached to",
			"DeleteRole":                 "was deleted:",
			"DeleteRolePolicy":           "inline policy " + quoted(p.PolicyName) + " was deleted from",
			"DetachRolePolicy":           "managed policy " + quoted(p.PolicyArn) + " was detached from",
			"PutRolePermissionsBoundary": "permissions boundary " + quoted(p.PermissionsBoundary) + " was set on",
			"PutRolePolicy":              "inline policy " + quoted(p.PolicyName) + " was written to",
			"UpdateAssumeRolePolicy":     "the trust policy was replaced on",
		}[c.Name]
		if c.Name == "DeleteRole" {
			return res, target, "CloudTrail's CloudWatch Logs delivery role " + role + " " + what + " CloudTrail can no longer deliver to the log group the controls need"
		}
		return res, target, what + " CloudTrail's CloudWatch Logs delivery role " + role + ": check that CloudTrail can still deliver to the log group the controls need"
	}
	return res, target, ""
}

// configurationChange lists the members an UpdateFunctionConfiguration
// call set, with the values of the harmless ones.
func configurationChange(all map[string]json.RawMessage) string {
	keys := make([]string, 0, len(all))
	for k := range all {
		if k != "functionName" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > maxResources {
		keys = keys[:maxResources]
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := bytesTrim(all[k])
		if configurationFields[k] && len(v) > 0 && v[0] != '{' && v[0] != '[' {
			parts = append(parts, clip(k)+"="+clip(strings.Trim(string(v), `"`)))
			continue
		}
		parts = append(parts, clip(k))
	}
	if len(parts) == 0 {
		return "settings not recorded"
	}
	return strings.Join(parts, ", ")
}

func bytesTrim(b json.RawMessage) []byte { return []byte(strings.TrimSpace(string(b))) }

// quoted names an untrusted value in a sentence, clipped.
func quoted(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return strconv.Quote(clip(s))
}
