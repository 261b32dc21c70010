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

type tokKind uint8

const (
	tEOF tokKind = iota
	tLBrace
	tRBrace
	tLParen
	tRParen
	tAnd
	tOr
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tSelector
	tQuoted
	tRegex
	tWord
)

type token struct {
	kind tokKind
	pos  int
	raw  string // source text of the token
	val  string // unescaped string, regex body or word
	path []step // for tSelector
}

// found describes t for a SyntaxError.
func (t token) found() string {
	if t.kind == tEOF {
		return endOfPattern
	}
	return foundText(t.raw)
}

func foundText(s string) string {
	if len(s) > maxFoundLen {
		cut := maxFoundLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

type lexer struct {
	src string
	pos int
}

func (lx *lexer) errAt(pos int, expected string) *SyntaxError {
	if pos >= len(lx.src) {
		return &SyntaxError{Pos: pos, Expected: expected, Found: endOfPattern}
	}
	r, _ := utf8.DecodeRuneInString(lx.src[pos:])
	return &SyntaxError{Pos: pos, Expected: expected, Found: foundText(string(r))}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// isWordByte reports whether c may appear in an unquoted value.
func isWordByte(c byte) bool {
	return isNameByte(c) || strings.IndexByte(".*:/+", c) >= 0
}

// next scans the next token.
func (lx *lexer) next() (token, error) {
	for lx.pos < len(lx.src) && isSpace(lx.src[lx.pos]) {
		lx.pos++
	}
	start := lx.pos
	if start >= len(lx.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := lx.src[start]
	single := func(k tokKind, n int) (token, error) {
		lx.pos += n
		return token{kind: k, pos: start, raw: lx.src[start:lx.pos]}, nil
	}
	peek := byte(0)
	if start+1 < len(lx.src) {
		peek = lx.src[start+1]
	}
	switch c {
	case '{':
		return single(tLBrace, 1)
	case '}':
		return single(tRBrace, 1)
	case '(':
		return single(tLParen, 1)
	case ')':
		return single(tRParen, 1)
	case '&':
		if peek == '&' {
			return single(tAnd, 2)
		}
		return token{}, lx.errAt(start+1, `"&&"`)
	case '|':
		if peek == '|' {
			return single(tOr, 2)
		}
		return token{}, lx.errAt(start+1, `"||"`)
	case '=':
		return single(tEq, 1)
	case '!':
		if peek == '=' {
			return single(tNe, 2)
		}
		return token{}, lx.errAt(start+1, `"!="`)
	case '<':
		if peek == '=' {
			return single(tLe, 2)
		}
		return single(tLt, 1)
	case '>':
		if peek == '=' {
			return single(tGe, 2)
		}
		return single(tGt, 1)
	case '"':
		return lx.quoted()
	case '%':
		end := strings.IndexByte(lx.src[start+1:], '%')
		if end < 0 {
			return token{}, &SyntaxError{Pos: len(lx.src), Expected: `closing "%" of the regex`, Found: endOfPattern}
		}
		lx.pos = start + 1 + end + 1
		return token{kind: tRegex, pos: start, raw: lx.src[start:lx.pos], val: lx.src[start+1 : lx.pos-1]}, nil
	case '$':
		return lx.selector()
	}
	if isWordByte(c) {
		for lx.pos < len(lx.src) && isWordByte(lx.src[lx.pos]) {
			lx.pos++
		}
		w := lx.src[start:lx.pos]
		return token{kind: tWord, pos: start, raw: w, val: w}, nil
	}
	return token{}, lx.errAt(start, `a selector, value, operator, "(", ")" or "}" (characters other than letters, digits and "_-.*:/+" must be inside double quotes)`)
}

// quoted scans a double-quoted string; \" and \\ are escapes, any other
// backslash is literal.
func (lx *lexer) quoted() (token, error) {
	start := lx.pos
	var b strings.Builder
	for i := start + 1; i < len(lx.src); i++ {
		c := lx.src[i]
		switch {
		case c == '"':
			lx.pos = i + 1
			return token{kind: tQuoted, pos: start, raw: lx.src[start:lx.pos], val: b.String()}, nil
		case c == '\\' && i+1 < len(lx.src) && (lx.src[i+1] == '"' || lx.src[i+1] == '\\'):
			i++
			b.WriteByte(lx.src[i])
		default:
			b.WriteByte(c)
		}
	}
	return token{}, &SyntaxError{Pos: len(lx.src), Expected: `closing '"' of the string that starts at position ` + strconv.Itoa(start), Found: endOfPattern}
}

// selector scans $ followed by .name and [index] steps.
func (lx *lexer) selector() (token, error) {
	start := lx.pos
	i := start + 1
	var path []step
	for i < len(lx.src) {
		c := lx.src[i]
		if c == '.' {
			j := i + 1
			for j < len(lx.src) && isNameByte(lx.src[j]) {
				j++
			}
			if j == i+1 {
				return token{}, lx.errAt(i+1, "a property name (letters, digits, \"-\" or \"_\")")
			}
			path = append(path, step{name: lx.src[i+1 : j]})
			i = j
			continue
		}
		if c == '[' {
			if len(path) == 0 {
				break
			}
			j := i + 1
			for j < len(lx.src) && lx.src[j] >= '0' && lx.src[j] <= '9' {
				j++
			}
			if j == i+1 {
				return token{}, lx.errAt(i+1, "an array index (digits)")
			}
			if j >= len(lx.src) || lx.src[j] != ']' {
				return token{}, lx.errAt(j, `"]"`)
			}
			idx, err := strconv.Atoi(lx.src[i+1 : j])
			if err != nil || idx > math.MaxInt32 {
				return token{}, &SyntaxError{Pos: i + 1, Expected: "an array index below 2147483648", Found: foundText(lx.src[i+1 : j])}
			}
			path = append(path, step{index: idx})
			i = j + 1
			continue
		}
		break
	}
	if len(path) == 0 {
		return token{}, lx.errAt(start+1, `"." and a property name after "$"`)
	}
	if i < len(lx.src) && (isWordByte(lx.src[i]) || lx.src[i] == '[') {
		// e.g. "$.a*" or "$.a[*]": a selector runs into something that is
		// neither an operator nor whitespace.
		return token{}, lx.errAt(i, `".name", "[index]" or an operator after the selector`)
	}
	lx.pos = i
	return token{kind: tSelector, pos: start, raw: lx.src[start:i], path: path}, nil
}

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
