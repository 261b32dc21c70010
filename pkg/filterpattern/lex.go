package filterpattern

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The lexer: it turns a pattern's text into tokens (braces, parentheses,
// && and ||, comparison operators, selectors, quoted strings, words and
// %regexes%), with the position of each for error messages.

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
