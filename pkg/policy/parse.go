package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// A PolicyError reports what is malformed in a policy document. Where
// names the place: a byte offset for JSON that does not parse, otherwise
// the statement (numbered from 1, in document order) and element.
type PolicyError struct {
	Where string // "offset 17", "statement 2: Effect", "statement 1: Condition.StringEquals"
	Msg   string
}

func (e *PolicyError) Error() string { return "policy " + e.Where + ": " + e.Msg }

// document is a parsed resource-based policy.
type document struct {
	vars       bool // Version 2012-10-17: "${...}" is a policy variable
	statements []statement
}

type statement struct {
	label        string // `"Sid"` or `3`, for messages
	name         string // Sid, or "statement N", for Decision.DenyStatements
	deny         bool
	principal    *principals // nil when the element is absent
	notPrincipal *principals
	action       []string // exactly one of action and notAction is non-nil
	notAction    []string
	resource     []string // both nil: the element is absent
	notResource  []string
	conditions   []condition
}

// principals is a Principal or NotPrincipal element: "*", or a map from
// principal type ("AWS", "Service", ...) to values.
type principals struct {
	all    bool
	byType map[string][]string
}

type condition struct {
	operator string // as written, e.g. "ForAnyValue:StringNotLikeIfExists"
	key      string // as written; compared case-insensitively
	values   []string
}

var statementElements = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true,
	"NotAction": true, "Resource": true, "NotResource": true, "Condition": true,
}

func parse(text string) (*document, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		return nil, jsonError(err)
	}
	doc := &document{}
	if raw, ok := top["Version"]; ok {
		var v string
		if json.Unmarshal(raw, &v) != nil || (v != "2008-10-17" && v != "2012-10-17") {
			return nil, &PolicyError{"Version", fmt.Sprintf("%s is not \"2008-10-17\" or \"2012-10-17\"", raw)}
		}
		doc.vars = v == "2012-10-17" // without Version, 2008-10-17 applies: no variables
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, &PolicyError{"Statement", "missing"}
	}
	raws := []json.RawMessage{raw}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		raws = nil
		if err := json.Unmarshal(raw, &raws); err != nil {
			return nil, &PolicyError{"Statement", "not an object or a list of objects"}
		}
	}
	for i, r := range raws {
		st, err := parseStatement(i+1, r)
		if err != nil {
			return nil, err
		}
		doc.statements = append(doc.statements, st)
	}
	return doc, nil
}

func jsonError(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return &PolicyError{"offset " + strconv.FormatInt(se.Offset, 10), se.Error()}
	}
	return &PolicyError{"document", "not a JSON object: " + err.Error()}
}

func parseStatement(n int, raw json.RawMessage) (statement, error) {
	st := statement{label: strconv.Itoa(n), name: "statement " + strconv.Itoa(n)}
	fail := func(element, format string, args ...any) (statement, error) {
		return statement{}, &PolicyError{fmt.Sprintf("statement %d: %s", n, element), fmt.Sprintf(format, args...)}
	}
	var el map[string]json.RawMessage
	if json.Unmarshal(raw, &el) != nil || el == nil {
		return fail("Statement", "not an object")
	}
	for k := range el {
		if !statementElements[k] {
			return fail(k, "unknown element")
		}
	}
	if r, ok := el["Sid"]; ok {
		var sid string
		if json.Unmarshal(r, &sid) != nil {
			return fail("Sid", "not a string")
		}
		if sid != "" {
			st.label, st.name = strconv.Quote(sid), sid
		}
	}
	var effect string
	if json.Unmarshal(el["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return fail("Effect", "must be \"Allow\" or \"Deny\"")
	}
	st.deny = effect == "Deny"
	var err error
	for _, p := range []struct {
		name string
		dst  **principals
	}{{"Principal", &st.principal}, {"NotPrincipal", &st.notPrincipal}} {
		if r, ok := el[p.name]; ok {
			if *p.dst, err = parsePrincipals(r); err != nil {
				return fail(p.name, "%v", err)
			}
		}
	}
	if (st.principal == nil) == (st.notPrincipal == nil) {
		return fail("Principal", "exactly one of Principal and NotPrincipal is required")
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"Action", &st.action}, {"NotAction", &st.notAction}, {"Resource", &st.resource}, {"NotResource", &st.notResource}} {
		if r, ok := el[f.name]; ok {
			if *f.dst, err = stringOrList(r); err != nil {
				return fail(f.name, "%v", err)
			}
		}
	}
	if (st.action == nil) == (st.notAction == nil) {
		return fail("Action", "exactly one of Action and NotAction is required")
	}
	if st.resource != nil && st.notResource != nil {
		return fail("Resource", "Resource and NotResource are both present")
	}
	if r, ok := el["Condition"]; ok {
		if st.conditions, err = parseConditions(r); err != nil {
			return fail("Condition", "%v", err)
		}
	}
	return st, nil
}

func parsePrincipals(raw json.RawMessage) (*principals, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "*" {
			return nil, fmt.Errorf("the only string form is \"*\", not %q", s)
		}
		return &principals{all: true}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, errors.New("not \"*\" or an object")
	}
	p := &principals{byType: map[string][]string{}}
	for typ, r := range m {
		vs, err := stringOrList(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		p.byType[typ] = vs
	}
	return p, nil
}

// stringOrList decodes a JSON string or a non-empty list of strings.
func stringOrList(raw json.RawMessage) ([]string, error) {
	var s string
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, errors.New("null, not a string or a non-empty list of strings")
	}
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, nil
	}
	var l []string
	if json.Unmarshal(raw, &l) != nil || len(l) == 0 {
		return nil, errors.New("not a string or a non-empty list of strings")
	}
	return l, nil
}

// parseConditions flattens {"operator": {"key": value(s)}} into conditions,
// sorted so that evaluation and its messages do not depend on map order.
func parseConditions(raw json.RawMessage) ([]condition, error) {
	var block map[string]map[string]json.RawMessage
	if json.Unmarshal(raw, &block) != nil || block == nil {
		return nil, errors.New("not an object of operators, each an object of keys")
	}
	var out []condition
	for op, keys := range block {
		if len(keys) == 0 {
			return nil, fmt.Errorf("%s: no condition keys", op)
		}
		for key, r := range keys {
			vs, err := conditionValues(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", op, key, err)
			}
			out = append(out, condition{operator: op, key: key, values: vs})
		}
	}
	sortConditions(out)
	return out, nil
}

// conditionValues decodes a condition value: a string, boolean or number,
// or a list of them. Booleans and numbers keep their JSON spelling.
func conditionValues(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
			return nil, errors.New("empty or malformed list of values")
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var v any
		if json.Unmarshal(it, &v) != nil {
			return nil, errors.New("malformed value")
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case bool, float64:
			out = append(out, string(bytes.TrimSpace(it)))
		default:
			return nil, fmt.Errorf("value %s is not a string, boolean or number", bytes.TrimSpace(it))
		}
	}
	return out, nil
}
