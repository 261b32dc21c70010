// Package cfn helps tests read synthesized CloudFormation templates.
package cfn

import "strings"

// ResolvePseudo replaces {"Ref": pseudo parameter} with its value from
// values, and folds {"Fn::Join": [sep, parts]} whose parts are then all
// strings, so tests compare ARNs and event patterns as the strings
// CloudFormation would produce. It rewrites v in place and returns the
// result; anything else (other intrinsics, unknown pseudo parameters) is
// left for the caller to reject.
func ResolvePseudo(v any, values map[string]string) any {
	switch t := v.(type) {
	case map[string]any:
		if r, ok := t["Ref"].(string); ok && len(t) == 1 {
			if s, ok := values[r]; ok {
				return s
			}
		}
		for k, e := range t {
			t[k] = ResolvePseudo(e, values)
		}
		if j, ok := t["Fn::Join"].([]any); ok && len(t) == 1 && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			strs := make([]string, len(parts))
			for i, p := range parts {
				s, ok := p.(string)
				if !ok {
					return t
				}
				strs[i] = s
			}
			return strings.Join(strs, sep)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = ResolvePseudo(e, values)
		}
		return t
	}
	return v
}
