package policy

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// verdict is a three-valued truth: a part of a statement matches (yes),
// does not (no), or cannot be decided from what is known (unknown).
// Combining follows Kleene logic, so a part that certainly fails decides a
// conjunction even when another part is unknown.
type verdict int8

const (
	no verdict = iota
	yes
	unknown
)

func truth(b bool) verdict {
	if b {
		return yes
	}
	return no
}

func (v verdict) not() verdict {
	switch v {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// or is the Kleene disjunction.
func (v verdict) or(w verdict) verdict {
	switch {
	case v == yes || w == yes:
		return yes
	case v == unknown || w == unknown:
		return unknown
	}
	return no
}

// and is the Kleene conjunction.
func (v verdict) and(w verdict) verdict { return v.not().or(w.not()).not() }

// glob reports whether s matches pattern, where * matches any run of
// characters (including none) and ? exactly one, as in the Action,
// Resource and StringLike wildcards of the IAM User Guide.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]) && pattern[p] != '*':
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

// arnMatch compares an ARN with a pattern segment by segment, each segment
// a case-sensitive glob: "Each of the six colon-delimited components of the
// ARN is checked separately and each can include multi-character match
// wildcards (*) or single-character match wildcards (?)" (IAM User Guide,
// "IAM JSON policy elements: Condition operators", ARN condition operators;
// "IAM JSON policy elements: Resource" says the same of Resource
// wildcards: they apply "within ARN segments (the parts separated by
// colons)"). Pattern and ARN are both split by arn.Parse: the first
// segment is the literal "arn", and the resource segment keeps any further
// colons. A pattern that is not shaped like an ARN is unknown: how AWS
// treats it is not documented.
func arnMatch(pattern, resource string) (verdict, string) {
	p, err := arn.Parse(pattern)
	if err != nil {
		return unknown, "pattern " + quote(pattern) + " is not an ARN"
	}
	a, err := arn.Parse(resource)
	if err != nil {
		return no, ""
	}
	return truth(glob(p.Partition, a.Partition) && glob(p.Service, a.Service) && glob(p.Region, a.Region) &&
		glob(p.AccountID, a.AccountID) && glob(p.Resource, a.Resource)), ""
}

// matchAction reports whether an Action or NotAction pattern matches the
// action; "The prefix and the action name are case insensitive" (IAM User
// Guide, "IAM JSON policy elements: Action").
func matchAction(patterns []string, action string) verdict {
	action = strings.ToLower(action)
	for _, p := range patterns {
		if glob(strings.ToLower(p), action) {
			return yes
		}
	}
	return no
}

// matchResource reports whether a Resource or NotResource list matches the
// resource ARN; vars says whether "${...}" is a policy variable here.
func matchResource(patterns []string, resource string, vars bool) (verdict, string) {
	v, why := no, ""
	for _, p := range patterns {
		var w verdict
		var reason string
		switch {
		case p == "*":
			w = yes
		case vars && strings.Contains(p, "${"):
			w, reason = unknown, "resource "+quote(p)+" uses a policy variable"
		default:
			if _, err := arn.Parse(resource); err != nil {
				w, reason = unknown, "request resource "+quote(resource)+" is not an ARN"
			} else {
				w, reason = arnMatch(p, resource)
				if reason != "" {
					reason = "resource " + reason
				}
			}
		}
		if w == unknown && v != unknown {
			why = reason
		}
		v = v.or(w)
		if v == yes {
			return yes, ""
		}
	}
	return v, why
}

func quote(s string) string { return `"` + s + `"` }
