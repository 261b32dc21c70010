package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Condition operators, from the IAM User Guide, "IAM JSON policy elements:
// Condition operators". The value says how the operator compares a present
// key; operators marked unsupported are still recognised, because a key
// known to be absent decides them without comparing anything.
type opKind int8

const (
	unsupported opKind = iota
	stringEquals
	stringEqualsIgnoreCase
	stringLike
	arnLike // ArnEquals and ArnLike "behave identically"
	boolean
	null
)

// operator is a base condition operator: its comparison, and whether it is
// negated.
type operator struct {
	kind    opKind
	negated bool
}

// operators maps each documented base operator to its comparison and to
// whether it is negated ("requires that the key is not matched").
var operators = map[string]operator{
	"StringEquals": {stringEquals, false}, "StringNotEquals": {stringEquals, true},
	"StringEqualsIgnoreCase": {stringEqualsIgnoreCase, false}, "StringNotEqualsIgnoreCase": {stringEqualsIgnoreCase, true},
	"StringLike": {stringLike, false}, "StringNotLike": {stringLike, true},
	"ArnEquals": {arnLike, false}, "ArnLike": {arnLike, false},
	"ArnNotEquals": {arnLike, true}, "ArnNotLike": {arnLike, true},
	"Bool": {boolean, false}, "Null": {null, false},
	"NumericEquals": {}, "NumericNotEquals": {unsupported, true}, "NumericLessThan": {},
	"NumericLessThanEquals": {}, "NumericGreaterThan": {}, "NumericGreaterThanEquals": {},
	"DateEquals": {}, "DateNotEquals": {unsupported, true}, "DateLessThan": {},
	"DateLessThanEquals": {}, "DateGreaterThan": {}, "DateGreaterThanEquals": {},
	"BinaryEquals": {}, "IpAddress": {}, "NotIpAddress": {unsupported, true},
}

func sortConditions(cs []condition) {
	slices.SortFunc(cs, func(a, b condition) int {
		return cmp.Or(cmp.Compare(a.operator, b.operator), cmp.Compare(a.key, b.key))
	})
}

// context is a request's condition keys, lower-cased.
type context struct {
	known  map[string][]string
	absent map[string]bool
	prefix []string // absent key families, such as "aws:principaltag/"
}

// presence is whether a key is in the request context: 1 present, 0 absent,
// -1 not known.
func (c *context) presence(key string) int {
	k := strings.ToLower(key)
	if _, ok := c.known[k]; ok {
		return 1
	}
	if c.absent[k] {
		return 0
	}
	for _, p := range c.prefix {
		if strings.HasPrefix(k, p) {
			return 0
		}
	}
	return -1
}

// eval decides one operator-key pair. Within a pair the policy's values
// are ORed (NORed for a negated operator); a statement ANDs its pairs.
func (c condition) eval(ctx *context, vars bool) (verdict, string) {
	op := c.operator
	set := ""
	if s, rest, ok := strings.Cut(op, ":"); ok && (s == "ForAnyValue" || s == "ForAllValues") {
		set, op = s, rest
	}
	base, ifExists := strings.CutSuffix(op, "IfExists")
	o, known := operators[base]
	if !known || (o.kind == null && (ifExists || set != "")) {
		return unknown, "condition operator " + c.operator + " is not supported"
	}
	where := "condition key " + c.key + " (operator " + c.operator + ")"
	presence := ctx.presence(c.key)
	if presence < 0 {
		return unknown, where + " is not known for this request"
	}
	if o.kind == null {
		return c.evalNull(presence, where)
	}
	if presence == 0 {
		switch {
		case ifExists: // "If the key is not present, evaluate the condition element as true."
			return yes, ""
		case set == "ForAllValues": // "returns true if there are no keys in the request"
			return yes, ""
		case set == "ForAnyValue": // "For no matching key or a null dataset, the condition returns false."
			return no, ""
		}
		// "If the key that you specify in a policy condition is not present in the request
		// context, the values do not match and the condition is false. If the policy condition
		// requires that the key is not matched, such as StringNotLike or ArnNotLike, and the
		// right key is not present, the condition is true."
		return truth(o.negated), ""
	}
	if o.kind == unsupported {
		return unknown, "condition operator " + c.operator + " is not supported"
	}
	if vars {
		for _, p := range c.values {
			if strings.Contains(p, "${") {
				return unknown, where + " uses a policy variable in " + quote(p)
			}
		}
	}
	return c.evalValues(o, set, where, ctx.known[strings.ToLower(c.key)])
}

// evalNull evaluates the Null operator: "use either true (the key doesn't
// exist — it is null) or false (the key exists and its value is not null)".
func (c condition) evalNull(presence int, where string) (verdict, string) {
	v := no
	for _, want := range c.values {
		switch {
		case strings.EqualFold(want, "true"):
			v = v.or(truth(presence == 0))
		case strings.EqualFold(want, "false"):
			v = v.or(truth(presence == 1))
		default:
			return unknown, where + " has value " + quote(want) + ", not true or false"
		}
	}
	return v, ""
}

// evalValues compares the request's values got for the key with the
// condition's values, under the set operator set ("", ForAnyValue or
// ForAllValues).
func (c condition) evalValues(o operator, set, where string, got []string) (verdict, string) {
	one := func(v string) (verdict, string) {
		m, why := c.match(o.kind, v)
		if o.negated {
			m = m.not()
		}
		return m, why
	}
	switch set {
	case "ForAnyValue":
		v, why := no, ""
		for _, g := range got {
			w, reason := one(g)
			if w == unknown {
				why = reason
			}
			v = v.or(w)
		}
		return v, explain(v, where, why)
	case "ForAllValues":
		v, why := yes, ""
		for _, g := range got {
			w, reason := one(g)
			if w == unknown {
				why = reason
			}
			v = v.and(w)
		}
		return v, explain(v, where, why)
	}
	if len(got) != 1 {
		return unknown, fmt.Sprintf("%s has %d values in the request; a single value is expected without ForAnyValue or ForAllValues", where, len(got))
	}
	v, why := one(got[0])
	return v, explain(v, where, why)
}

func explain(v verdict, where, why string) string {
	if v != unknown {
		return ""
	}
	return where + ": " + why
}

// match reports whether a request value matches any of the policy's
// values under a positive operator.
func (c condition) match(kind opKind, got string) (verdict, string) {
	v, why := no, ""
	for _, want := range c.values {
		var w verdict
		var reason string
		switch kind {
		case stringEquals:
			w = truth(got == want)
		case stringEqualsIgnoreCase:
			w = truth(strings.EqualFold(got, want))
		case stringLike:
			w = truth(glob(want, got))
		case arnLike:
			w, reason = arnMatch(want, got)
		case boolean:
			if !strings.EqualFold(want, "true") && !strings.EqualFold(want, "false") {
				w, reason = unknown, "value "+quote(want)+" is not true or false"
			} else {
				w = truth(strings.EqualFold(got, want))
			}
		}
		if w == unknown {
			why = reason
		}
		v = v.or(w)
	}
	return v, why
}
