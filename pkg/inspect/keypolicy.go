package inspect

import (
	"encoding/json"
	"fmt"
	"strings"
)

// cloudWatchPrincipal is the service that publishes alarm notifications to
// SNS. For an encrypted topic it must be able to use the topic's key
// (Amazon SNS developer guide, "Configure AWS KMS permissions for AWS
// services": CloudWatch needs kms:GenerateDataKey* and kms:Decrypt).
const cloudWatchPrincipal = "cloudwatch.amazonaws.com"

// cloudWatchActions are the KMS actions CloudWatch needs on the key.
var cloudWatchActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// KeyPolicyAllowsCloudWatch reports whether the key policy document lets
// the cloudwatch.amazonaws.com service principal call kms:Decrypt and
// kms:GenerateDataKey on keyARN.
//
// The evaluation is deliberately simple and conservative, because a false
// "yes" hides silently dropped alarm notifications:
//   - an Allow counts when its Principal is "*", {"AWS": "*"} or names the
//     CloudWatch service (string or list), its Action/NotAction admits the
//     action (IAM wildcards, case-insensitive), and its Resource is absent,
//     "*" or matches keyARN;
//   - an Allow for a wildcard principal that carries a Condition does not
//     count: such conditions (kms:CallerAccount, aws:PrincipalOrgID, ...)
//     usually exclude service principals and cannot be proven here;
//   - a Condition on an Allow naming CloudWatch itself is accepted (it is
//     typically aws:SourceAccount/aws:SourceArn scoping, which CloudWatch
//     satisfies for the account's own alarms);
//   - a Deny without a Condition that covers CloudWatch and the action
//     overrides any Allow; a conditional Deny is ignored;
//   - NotPrincipal statements are ignored.
func KeyPolicyAllowsCloudWatch(policy, keyARN string) (bool, error) {
	var doc struct {
		Statement statements `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return false, fmt.Errorf("parse key policy: %w", err)
	}
	allowed := map[string]bool{}
	for _, st := range doc.Statement {
		if st.NotPrincipal != nil {
			continue
		}
		named, wildcard := st.principal()
		if !named && !wildcard {
			continue
		}
		if !st.coversResource(keyARN) {
			continue
		}
		for _, action := range cloudWatchActions {
			if !st.coversAction(action) {
				continue
			}
			switch {
			case strings.EqualFold(st.Effect, "Deny") && len(st.Condition) == 0:
				return false, nil
			case strings.EqualFold(st.Effect, "Allow") && (named || len(st.Condition) == 0):
				allowed[action] = true
			}
		}
	}
	for _, action := range cloudWatchActions {
		if !allowed[action] {
			return false, nil
		}
	}
	return true, nil
}

type statement struct {
	Effect       string          `json:"Effect"`
	Principal    json.RawMessage `json:"Principal"`
	NotPrincipal json.RawMessage `json:"NotPrincipal"`
	Action       stringList      `json:"Action"`
	NotAction    stringList      `json:"NotAction"`
	Resource     stringList      `json:"Resource"`
	Condition    map[string]any  `json:"Condition"`
}

// statements accepts a single statement object or a list of them.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = statements{one}
		return nil
	}
	var many []statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// stringList accepts a JSON string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// principal reports whether the statement names the CloudWatch service
// principal, or applies to everyone.
func (st statement) principal() (named, wildcard bool) {
	if len(st.Principal) == 0 {
		return false, false
	}
	var all string
	if json.Unmarshal(st.Principal, &all) == nil {
		return false, all == "*"
	}
	var m map[string]stringList
	if json.Unmarshal(st.Principal, &m) != nil {
		return false, false
	}
	for kind, values := range m {
		for _, v := range values {
			switch {
			case v == "*" && (kind == "AWS" || kind == "Service"):
				wildcard = true
			case kind == "Service" && strings.EqualFold(v, cloudWatchPrincipal):
				named = true
			}
		}
	}
	return named, wildcard
}

func (st statement) coversAction(action string) bool {
	if len(st.NotAction) > 0 {
		for _, p := range st.NotAction {
			if wildcardMatch(strings.ToLower(p), strings.ToLower(action)) {
				return false
			}
		}
		return true
	}
	for _, p := range st.Action {
		if wildcardMatch(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func (st statement) coversResource(keyARN string) bool {
	if len(st.Resource) == 0 {
		return true // key policies may omit Resource; it then means this key
	}
	for _, r := range st.Resource {
		if r == "*" || (keyARN != "" && wildcardMatch(r, keyARN)) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM pattern where * matches any run of
// characters and ? any one character.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
