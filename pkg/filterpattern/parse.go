package filterpattern

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports a malformed pattern.
type SyntaxError struct {
	// Pos is the 0-based byte offset in the pattern where the problem was
	// found.
	Pos int
	// Expected describes what would have been valid there, e.g.
	// `"=", "!=", "<", ">", "<=", ">=", "IS" or "NOT"`.
	Expected string
	// Found describes what was there instead: a quoted token or
	// "end of pattern".
	Found string
}

// Error returns "filter pattern: position N: expected X, found Y".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter pattern: position %d: expected %s, found %s", e.Pos, e.Expected, e.Found)
}

// Expected-token descriptions shared by several errors.
const (
	expOperator  = `"=", "!=", "<", ">", "<=", ">=", "IS" or "NOT"`
	expPrimary   = `a selector such as "$.eventName" or "("`
	expValue     = "a quoted string, an unquoted word, a number or a %regex%"
	expAfterTerm = `"&&", "||" or "}"`
	expAfterPar  = `"&&", "||" or ")"`
	endOfPattern = "end of pattern"
	maxFoundLen  = 32
)

type parser struct {
	lx      lexer
	tok     token
	depth   int
	regexes int
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(expected string) *SyntaxError {
	return &SyntaxError{Pos: p.tok.pos, Expected: expected, Found: p.tok.found()}
}

// Parse parses a CloudWatch Logs JSON filter pattern. Errors are
// *SyntaxError.
func Parse(s string) (*Pattern, error) {
	if len(s) > MaxLength {
		return nil, &SyntaxError{Pos: MaxLength, Expected: fmt.Sprintf("a pattern of at most %d bytes", MaxLength), Found: fmt.Sprintf("%d bytes", len(s))}
	}
	p := &parser{lx: lexer{src: s}}
	start := strings.IndexFunc(s, func(r rune) bool { return r > 0x7f || !isSpace(byte(r)) })
	if start < 0 || s[start] != '{' {
		// Text-term and space-delimited patterns are not JSON patterns;
		// say so rather than report their first unusual character.
		found := endOfPattern
		if start >= 0 {
			end := start
			for end < len(s) && isWordByte(s[end]) {
				end++
			}
			if end == start {
				_, n := utf8.DecodeRuneInString(s[start:])
				end = start + n
			}
			found = foundText(s[start:end])
		} else {
			start = len(s)
		}
		return nil, &SyntaxError{Pos: start, Expected: `"{" (only JSON filter patterns are supported)`, Found: found}
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	root, err := p.parseOr(tRBrace)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRBrace {
		return nil, p.unexpected(expAfterTerm)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected(endOfPattern)
	}
	root = normalise(root)
	return &Pattern{root: root, canon: "{ " + root.canon + " }", src: s}, nil
}

// parseOr parses and-terms joined by ||. Parsing || above && gives &&
// the tighter binding the CloudWatch Logs guide documents: "the syntax
// follows standard order of operations () > && > ||" (see doc.go).
// closer is the token that may end the expression, used to word errors.
func (p *parser) parseOr(closer tokKind) (*node, error) {
	n, err := p.parseAnd(closer)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tOr {
		return n, nil
	}
	or := &node{kind: nodeOr, kids: []*node{n}}
	for p.tok.kind == tOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		k, err := p.parseAnd(closer)
		if err != nil {
			return nil, err
		}
		or.kids = append(or.kids, k)
	}
	return or, nil
}

func (p *parser) parseAnd(closer tokKind) (*node, error) {
	n, err := p.parsePrimary(closer)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tAnd {
		return n, p.checkAfterTerm(closer)
	}
	and := &node{kind: nodeAnd, kids: []*node{n}}
	for p.tok.kind == tAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		k, err := p.parsePrimary(closer)
		if err != nil {
			return nil, err
		}
		and.kids = append(and.kids, k)
	}
	return and, p.checkAfterTerm(closer)
}

// checkAfterTerm gives a precise error when a term is followed by
// something other than &&, || or the closer.
func (p *parser) checkAfterTerm(closer tokKind) error {
	switch p.tok.kind {
	case tAnd, tOr, closer:
		return nil
	}
	if closer == tRParen {
		return p.unexpected(expAfterPar)
	}
	return p.unexpected(expAfterTerm)
}

func (p *parser) parsePrimary(closer tokKind) (*node, error) {
	switch p.tok.kind {
	case tLParen:
		if p.depth >= MaxDepth {
			return nil, &SyntaxError{Pos: p.tok.pos, Expected: fmt.Sprintf("at most %d nested parentheses", MaxDepth), Found: p.tok.found()}
		}
		p.depth++
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.parseOr(tRParen)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.unexpected(expAfterPar)
		}
		p.depth--
		if err := p.advance(); err != nil {
			return nil, err
		}
		return n, nil
	case tSelector:
		return p.parseAtom()
	}
	return nil, p.unexpected(expPrimary)
}

func (p *parser) parseAtom() (*node, error) {
	a := &Atom{path: p.tok.path, Selector: selectorString(p.tok.path)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	op := p.tok
	switch op.kind {
	case tEq, tNe:
		a.Op = OpEq
		if op.kind == tNe {
			a.Op = OpNe
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.parseValue(a); err != nil {
			return nil, err
		}
	case tLt, tLe, tGt, tGe:
		a.Op = map[tokKind]Op{tLt: OpLt, tLe: OpLe, tGt: OpGt, tGe: OpGe}[op.kind]
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tWord || !numberRE.MatchString(p.tok.val) {
			return nil, p.unexpected(`a number (e.g. 500, -1.5 or 10e3) after "` + a.Op.String() + `"`)
		}
		f, err := strconv.ParseFloat(p.tok.val, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, p.unexpected("a number within float64 range")
		}
		a.lit = literal{isNum: true, num: f}
		a.Value = strconv.FormatFloat(f, 'g', -1, 64)
	case tWord:
		switch op.val {
		case "IS":
			if err := p.advance(); err != nil {
				return nil, err
			}
			ops := map[string]Op{"NULL": OpIsNull, "TRUE": OpIsTrue, "FALSE": OpIsFalse}
			o, ok := ops[p.tok.val]
			if p.tok.kind != tWord || !ok {
				return nil, p.unexpected(`"NULL", "TRUE" or "FALSE" after "IS"`)
			}
			a.Op = o
		case "NOT":
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tWord || p.tok.val != "EXISTS" {
				return nil, p.unexpected(`"EXISTS" after "NOT"`)
			}
			a.Op = OpNotExists
		default:
			return nil, p.unexpected(expOperator)
		}
	default:
		return nil, p.unexpected(expOperator)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return &node{kind: nodeAtom, atom: a}, nil
}

// parseValue reads the value of an = or != atom; p.tok is the value token
// and stays current.
func (p *parser) parseValue(a *Atom) error {
	switch p.tok.kind {
	case tQuoted, tWord:
		a.lit = newLiteral(p.tok.val)
		a.Value = p.tok.val
		return nil
	case tRegex:
		if p.regexes >= MaxRegex {
			return &SyntaxError{Pos: p.tok.pos, Expected: fmt.Sprintf("at most %d regular expressions per pattern", MaxRegex), Found: p.tok.found()}
		}
		p.regexes++
		body := p.tok.val
		if body == "" {
			return &SyntaxError{Pos: p.tok.pos + 1, Expected: "a regular expression between the % signs", Found: foundText("%")}
		}
		for i := 0; i < len(body); i++ {
			if !isRegexByte(body[i]) {
				r, _ := utf8.DecodeRuneInString(body[i:])
				return &SyntaxError{Pos: p.tok.pos + 1 + i, Expected: "a supported regex character (letters, digits, _#=@/;,-: and ^$?[]{}|\\*+.)", Found: foundText(string(r))}
			}
		}
		re, err := regexp.Compile(body)
		if err != nil {
			return &SyntaxError{Pos: p.tok.pos + 1, Expected: "a valid regular expression", Found: foundText(body)}
		}
		a.lit = literal{re: re}
		a.Value = body
		a.Regex = true
		return nil
	}
	return p.unexpected(expValue)
}

// isRegexByte reports whether c is in the documented regex character set:
// alphanumerics, the symbols _ # = @ / ; , - : and the operators
// ^ $ ? [ ] { } | \ * + . ("The ( and ) operators are not supported").
func isRegexByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("_#=@/;,-:^$?[]{}|\\*+.", c) >= 0
}
