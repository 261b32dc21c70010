package filterpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrNotJSONObject is returned (wrapped) by Match when the event is not a
// single JSON object.
var ErrNotJSONObject = errors.New("log event is not a JSON object")

// ErrEventTooLarge is returned (wrapped) by Match for an event larger than
// MaxEventSize.
var ErrEventTooLarge = errors.New("log event is too large")

// MaxEventSize is the largest log event Match accepts: CloudWatch Logs
// rejects larger events ("Each log event can be no larger than 1 MB",
// PutLogEvents, Amazon CloudWatch Logs API Reference), so larger input
// cannot be a log event and is refused before it is decoded.
const MaxEventSize = 1 << 20

// errZeroPattern is returned by Match on a Pattern not made by Parse.
var errZeroPattern = errors.New("filter pattern: Pattern not created by Parse")

// valueKind is what a selector resolves to in an event.
type valueKind uint8

const (
	vAbsent    valueKind = iota // selector does not resolve
	vNull                       // JSON null
	vBool                       // true or false
	vString                     // JSON string
	vNumber                     // JSON number
	vComposite                  // object or array: not a value node
)

// value is the abstraction atoms are evaluated on, shared by Match and by
// the Equivalent/Covers enumeration.
type value struct {
	kind valueKind
	b    bool
	s    string  // string contents, or a number's JSON text
	n    float64 // a number's value
}

// Match reports whether p matches event, one JSON log event such as a
// CloudTrail record as CloudTrail delivers it to CloudWatch Logs. It
// returns an error wrapping ErrNotJSONObject if event is not exactly one
// JSON object.
func (p *Pattern) Match(event []byte) (bool, error) {
	if p == nil || p.root == nil {
		return false, errZeroPattern
	}
	doc, err := decodeObject(event)
	if err != nil {
		return false, err
	}
	return eval(p.root, func(a *Atom) bool { return a.eval(resolve(doc, a.path)) }), nil
}

// decodeObject decodes one JSON object, keeping numbers as json.Number so
// their text is available to wildcard matches.
func decodeObject(event []byte) (map[string]any, error) {
	if len(event) > MaxEventSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrEventTooLarge, len(event), MaxEventSize)
	}
	// Refuse a non-object from its first byte, before decoding allocates
	// for the whole value.
	if trimmed := bytes.TrimLeft(event, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: top-level value does not start with '{'", ErrNotJSONObject)
	}
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSONObject, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top-level value is %s", ErrNotJSONObject, jsonType(v))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", ErrNotJSONObject)
	}
	return obj, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	}
	return "not an object"
}

// resolve follows path through doc.
func resolve(doc map[string]any, path []step) value {
	var cur any = doc
	for _, s := range path {
		switch c := cur.(type) {
		case map[string]any:
			if s.name == "" {
				return value{kind: vAbsent}
			}
			v, ok := c[s.name]
			if !ok {
				return value{kind: vAbsent}
			}
			cur = v
		case []any:
			if s.name != "" || s.index >= len(c) {
				return value{kind: vAbsent}
			}
			cur = c[s.index]
		default:
			return value{kind: vAbsent}
		}
	}
	switch v := cur.(type) {
	case nil:
		return value{kind: vNull}
	case bool:
		return value{kind: vBool, b: v}
	case string:
		return value{kind: vString, s: v}
	case json.Number:
		// ParseFloat saturates to ±Inf on overflow, which still orders
		// correctly against finite literals.
		f, _ := strconv.ParseFloat(string(v), 64)
		return value{kind: vNumber, s: string(v), n: f}
	}
	return value{kind: vComposite}
}

// eval evaluates the tree with the given atom oracle, short-circuiting.
func eval(n *node, atom func(*Atom) bool) bool {
	switch n.kind {
	case nodeAnd:
		for _, k := range n.kids {
			if !eval(k, atom) {
				return false
			}
		}
		return true
	case nodeOr:
		for _, k := range n.kids {
			if eval(k, atom) {
				return true
			}
		}
		return false
	}
	return atom(n.atom)
}

// eval reports whether the atom holds for v (see the package doc for the
// semantics of each operator).
func (a *Atom) eval(v value) bool {
	switch a.Op {
	case OpNotExists:
		return v.kind == vAbsent
	case OpIsNull:
		return v.kind == vNull
	case OpIsTrue:
		return v.kind == vBool && v.b
	case OpIsFalse:
		return v.kind == vBool && !v.b
	case OpEq, OpNe:
		if v.kind != vString && v.kind != vNumber {
			return false
		}
		m := a.lit.matchText(v.s) ||
			(v.kind == vNumber && a.lit.re == nil && a.lit.isNum && a.lit.num == v.n)
		return m == (a.Op == OpEq)
	}
	if v.kind != vNumber {
		return false
	}
	switch a.Op {
	case OpLt:
		return v.n < a.lit.num
	case OpLe:
		return v.n <= a.lit.num
	case OpGt:
		return v.n > a.lit.num
	case OpGe:
		return v.n >= a.lit.num
	}
	return false
}
