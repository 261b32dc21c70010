package trigger

import (
	"encoding/json"
	"slices"
)

// RulePattern is the drift rule's EventBridge event pattern, as data: the
// CDK app deploys it (infra DriftPattern) and the moto tests put the same
// pattern on a rule, so what is deployed and what is tested cannot differ.
type RulePattern struct {
	Sources     []string
	DetailTypes []string
	// Detail is the pattern's "detail" member.
	Detail map[string]any
}

// JSON is the whole pattern document, as PutRule takes it.
func (p RulePattern) JSON() []byte {
	b, err := json.Marshal(map[string]any{"source": p.Sources, "detail-type": p.DetailTypes, "detail": p.Detail})
	if err != nil {
		panic(err) // strings, slices and maps only: cannot fail
	}
	return b
}

// Pattern is the drift rule's pattern for account: CloudTrail-recorded
// calls that can break a monitoring control (the control calls of Handled,
// the list Decode accepts), unless the remediator's own role (ownSessionPrefix, the prefix
// of its STS session ARNs), a service-linked role or auto scaling made them
// (Automated), and unless they failed.
//
// The filters follow EventBridge content filtering (EventBridge user guide,
// "Content filtering in Amazon EventBridge event patterns" and "Comparison
// operators": anything-but with a prefix or a list of strings, exists, and
// $or, which may appear at more than one level; aws/event-ruler README,
// "Parallel Or"):
//   - An anything-but never matches an event that lacks the field, and a
//     call made by an AWS service itself (userIdentity.type "AWSService")
//     carries no arn and no session issuer, so each exclusion is ORed with
//     "the field does not exist" to keep such events. Each exclusion needs
//     its own $or, so they sit at three levels: detail (arn),
//     detail.userIdentity (invokedBy) and its sessionContext.sessionIssuer
//     (arn).
//   - Calls that failed (CloudTrail recorded an errorCode, e.g.
//     AccessDenied) changed nothing, so "errorCode does not exist" drops
//     them: otherwise any principal in the account, even one without
//     permissions, could start full multi-region runs at will.
//
// The function applies the same rules again (Trigger.CausedBy, Failed and
// Automated).
func Pattern(partition, account, ownSessionPrefix string) RulePattern {
	var sources, eventSources, names []string
	for _, c := range Handled() {
		if c.Scope != AnyResource {
			continue // self-watch calls match only on own resources (infra/selfwatch.go)
		}
		sources = append(sources, c.Source)
		eventSources = append(eventSources, c.EventSource)
		names = append(names, c.Name)
	}
	sorted := func(s []string) []string { slices.Sort(s); return slices.Compact(s) }
	absent := []any{map[string]any{"exists": false}}
	return RulePattern{
		Sources:     sorted(sources),
		DetailTypes: []string{APICallDetailType},
		Detail: map[string]any{
			"eventSource": sorted(eventSources),
			"eventName":   sorted(names),
			"errorCode":   absent,
			"$or": []any{
				map[string]any{"userIdentity": map[string]any{"arn": []any{map[string]any{"anything-but": map[string]any{"prefix": ownSessionPrefix}}}}},
				map[string]any{"userIdentity": map[string]any{"arn": absent}},
			},
			"userIdentity": map[string]any{
				"$or": []any{
					map[string]any{"invokedBy": []any{map[string]any{"anything-but": AutoScalingInvokers()}}},
					map[string]any{"invokedBy": absent},
				},
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{
					"$or": []any{
						map[string]any{"arn": []any{map[string]any{"anything-but": map[string]any{"prefix": ServiceLinkedRoleIssuerPrefix(partition, account)}}}},
						map[string]any{"arn": absent},
					},
				}},
			},
		},
	}
}
