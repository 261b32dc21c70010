package filterpattern

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Limits enforced by Parse.
const (
	// MaxLength is the longest pattern CloudWatch Logs accepts, in bytes
	// (MetricFilter.filterPattern, "Maximum length of 1024").
	MaxLength = 1024
	// MaxDepth is the deepest parenthesis nesting Parse accepts. AWS
	// documents no limit; 32 is far beyond any real pattern and keeps
	// recursion bounded.
	MaxDepth = 32
	// MaxRegex is the documented quota of regular expressions in one JSON
	// filter pattern ("There is a limit of 2 regex for each filter
	// pattern").
	MaxRegex = 2
)

// Op is the comparison an Atom makes.
type Op int

// The operators of the JSON filter-pattern language.
const (
	OpEq        Op = iota + 1 // =
	OpNe                      // !=
	OpLt                      // <
	OpLe                      // <=
	OpGt                      // >
	OpGe                      // >=
	OpIsNull                  // IS NULL
	OpNotExists               // NOT EXISTS
	OpIsTrue                  // IS TRUE
	OpIsFalse                 // IS FALSE
)

// String returns the operator as written in a pattern.
func (o Op) String() string {
	switch o {
	case OpEq:
		return "="
	case OpNe:
		return "!="
	case OpLt:
		return "<"
	case OpLe:
		return "<="
	case OpGt:
		return ">"
	case OpGe:
		return ">="
	case OpIsNull:
		return "IS NULL"
	case OpNotExists:
		return "NOT EXISTS"
	case OpIsTrue:
		return "IS TRUE"
	case OpIsFalse:
		return "IS FALSE"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Unary reports whether o takes no value (IS NULL, NOT EXISTS, IS TRUE,
// IS FALSE).
func (o Op) Unary() bool { return o >= OpIsNull }

// Atom is one comparison in a pattern, such as $.eventName = "DisableKey".
type Atom struct {
	// Selector is the canonical selector, e.g. "$.userIdentity.type".
	Selector string
	Op       Op
	// Value is the literal as written without quotes (wildcards kept), the
	// regex between the % signs, or the canonical number for <, <=, >, >=.
	// It is empty for unary operators.
	Value string
	// Regex reports whether Value is a %regex%.
	Regex bool

	path []step
	lit  literal
}

// String returns the atom in canonical form.
func (a *Atom) String() string {
	var b strings.Builder
	b.WriteString(a.Selector)
	b.WriteByte(' ')
	b.WriteString(a.Op.String())
	switch {
	case a.Op.Unary():
	case a.Regex:
		b.WriteString(" %")
		b.WriteString(a.Value)
		b.WriteByte('%')
	case a.Op == OpEq || a.Op == OpNe:
		b.WriteByte(' ')
		b.WriteString(quote(a.lit.canonical()))
	default:
		b.WriteByte(' ')
		b.WriteString(a.Value)
	}
	return b.String()
}

// step is one selector step: a property name or an array index.
type step struct {
	name  string
	index int // used when name == ""
}

// globKind classifies a literal by where its wildcards are.
type globKind uint8

const (
	globExact    globKind = iota // abc
	globPrefix                   // abc*
	globSuffix                   // *abc
	globContains                 // *abc*
	globAny                      // *
)

// literal is the compiled value of an = or != atom, or the number of a
// relational atom.
type literal struct {
	kind  globKind
	core  string         // text between the wildcards
	re    *regexp.Regexp // %regex% values
	isNum bool           // exact literal that is also a documented number
	num   float64
}

// canonical returns the literal text with its wildcards, as Parse reads it.
func (l literal) canonical() string {
	switch l.kind {
	case globPrefix:
		return l.core + "*"
	case globSuffix:
		return "*" + l.core
	case globContains:
		return "*" + l.core + "*"
	case globAny:
		return "*"
	}
	return l.core
}

// newLiteral compiles the text of an = or != value. Only a leading and a
// trailing "*" are wildcards (see the package doc).
func newLiteral(text string) literal {
	if text == "*" {
		return literal{kind: globAny}
	}
	rest := text
	lead := strings.HasPrefix(rest, "*")
	if lead {
		rest = rest[1:]
	}
	trail := strings.HasSuffix(rest, "*")
	if trail {
		rest = rest[:len(rest)-1]
	}
	l := literal{core: rest}
	switch {
	case lead && trail && rest == "":
		l.kind = globAny
	case lead && trail:
		l.kind = globContains
	case lead:
		l.kind = globSuffix
	case trail:
		l.kind = globPrefix
	default:
		l.kind = globExact
		if numberRE.MatchString(rest) {
			if f, err := strconv.ParseFloat(rest, 64); err == nil {
				l.isNum, l.num = true, f
			}
		}
	}
	return l
}

// numberRE is the documented NUMBER syntax.
var numberRE = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// matchText reports whether the literal matches the text s.
func (l literal) matchText(s string) bool {
	if l.re != nil {
		return l.re.MatchString(s)
	}
	switch l.kind {
	case globAny:
		return true
	case globPrefix:
		return strings.HasPrefix(s, l.core)
	case globSuffix:
		return strings.HasSuffix(s, l.core)
	case globContains:
		return strings.Contains(s, l.core)
	}
	return s == l.core
}

// nodeKind is the kind of an expression node.
type nodeKind uint8

const (
	nodeAtom nodeKind = iota
	nodeAnd
	nodeOr
)

// node is an expression tree node. After normalisation And and Or nodes
// have at least two children, none of the same kind as the parent, sorted
// by canonical text and without duplicates.
type node struct {
	kind  nodeKind
	atom  *Atom
	kids  []*node
	canon string // canonical text, set by normalise
}

// Pattern is a parsed JSON filter pattern. It is immutable and safe for
// concurrent use. Create it with Parse or MustParse; the zero Pattern
// matches nothing and covers nothing.
type Pattern struct {
	root  *node
	canon string
	src   string
}

// MustParse is like Parse but panics on error. It is meant for tests and
// static catalog data.
func MustParse(s string) *Pattern {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the canonical form of the pattern: single spaces, every
// string value quoted, && and || operands flattened, de-duplicated and
// sorted, parentheses exactly around each group nested in the other
// operator (none elsewhere). Patterns that
// differ only in those respects have equal canonical forms. It is meant for
// comparison and display; Parse(p.String()) yields an equal pattern.
func (p *Pattern) String() string { return p.canon }

// Source returns the text p was parsed from.
func (p *Pattern) Source() string { return p.src }

// Atoms returns the distinct atoms of p in canonical order.
func (p *Pattern) Atoms() []Atom {
	seen := map[string]bool{}
	var out []Atom
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == nodeAtom {
			if !seen[n.canon] {
				seen[n.canon] = true
				out = append(out, *n.atom)
			}
			return
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(p.root)
	return out
}

// Selectors returns the distinct selectors p tests, sorted.
func (p *Pattern) Selectors() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range p.Atoms() {
		if !seen[a.Selector] {
			seen[a.Selector] = true
			out = append(out, a.Selector)
		}
	}
	sort.Strings(out)
	return out
}

// normalise rewrites n in place into canonical shape (see node) and sets
// canon on every node. Recursion depth is bounded by MaxDepth via Parse.
func normalise(n *node) *node {
	if n.kind == nodeAtom {
		n.canon = n.atom.String()
		return n
	}
	var kids []*node
	for _, k := range n.kids {
		k = normalise(k)
		if k.kind == n.kind {
			kids = append(kids, k.kids...)
		} else {
			kids = append(kids, k)
		}
	}
	sort.SliceStable(kids, func(i, j int) bool { return kids[i].canon < kids[j].canon })
	uniq := kids[:0]
	for i, k := range kids {
		if i > 0 && k.canon == kids[i-1].canon {
			continue
		}
		uniq = append(uniq, k)
	}
	if len(uniq) == 1 {
		return uniq[0]
	}
	n.kids = uniq
	parts := make([]string, len(uniq))
	for i, k := range uniq {
		parts[i] = k.canon
		// Mixed operators are always grouped: "(a || b) && c" needs the
		// parentheses, and "a || (b && c)" keeps them although && binds
		// tighter, so that a reader never has to know the precedence
		// (the ungrouped CIS 4.1 and 4.13 texts show how easily it is
		// misread). Parentheses the source had around anything else are
		// dropped.
		if k.kind != nodeAtom {
			parts[i] = "(" + k.canon + ")"
		}
	}
	sep := " || "
	if n.kind == nodeAnd {
		sep = " && "
	}
	n.canon = strings.Join(parts, sep)
	return n
}

// quote returns s as a quoted pattern string, escaping only what Parse
// unescapes.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// selectorString renders a path canonically.
func selectorString(path []step) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range path {
		if s.name != "" {
			b.WriteByte('.')
			b.WriteString(s.name)
			continue
		}
		fmt.Fprintf(&b, "[%d]", s.index)
	}
	return b.String()
}
