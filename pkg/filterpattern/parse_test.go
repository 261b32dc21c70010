package filterpattern_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// benchmarkPatterns reads testdata/cis_patterns.txt: every distinct pattern
// string in the CIS fact sheet, verbatim.
func benchmarkPatterns(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/cis_patterns.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	if len(out) < 50 {
		t.Fatalf("read %d patterns from testdata/cis_patterns.txt, want at least 50", len(out))
	}
	return out
}

// malformedTranscriptions are the fact sheet's transcription artifacts that
// CloudWatch Logs would reject too, with the error each must produce.
var malformedTranscriptions = map[string]string{
	// PDF line breaks inside names ("$.eventNa me").
	"($.eventNa me=DeleteUserPolicy)": `filter pattern: position 77: expected "=", "!=", "<", ">", "<=", ">=", "IS" or "NOT", found "me"`,
	// "$eventName" without the dot.
	"($eventName=DetachRolePolicy)": `filter pattern: position 346: expected "." and a property name after "$", found "e"`,
	// prowler's stripped quotes leave a value with a space unquoted.
	"$.errorMessage = Failed authentication": `filter pattern: position 59: expected "&&", "||" or ")", found "authentication"`,
}

func TestParseBenchmarkPatterns(t *testing.T) {
	failed := map[string]bool{}
	for _, s := range benchmarkPatterns(t) {
		var wantErr string
		for frag, msg := range malformedTranscriptions {
			if strings.Contains(s, frag) {
				wantErr = msg
				failed[frag] = true
			}
		}
		p, err := filterpattern.Parse(s)
		if wantErr != "" {
			if err == nil || err.Error() != wantErr {
				t.Errorf("Parse(%q) error = %v, want %s", s, err, wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		q, err := filterpattern.Parse(p.String())
		if err != nil {
			t.Errorf("Parse(String()) of %q: %v", p.String(), err)
			continue
		}
		if q.String() != p.String() || !filterpattern.Equivalent(p, q) {
			t.Errorf("round trip of %q changed it:\n got %s\nwant %s", s, q, p)
		}
	}
	for frag := range malformedTranscriptions {
		if !failed[frag] {
			t.Errorf("no pattern in testdata contains %q", frag)
		}
	}
}

func TestCanonicalForm(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string // all must print as want
		want string
	}{
		{
			name: "whitespace, quotes, parens and order",
			in: []string{
				`{($.eventName=A)||($.eventName=B)}`,
				`{ $.eventName = "B" || $.eventName = "A" }`,
				"{\t(( $.eventName=\"A\" )) ||\n($.eventName = B)}",
			},
			want: `{ $.eventName = "A" || $.eventName = "B" }`,
		},
		{
			name: "ungrouped && binds tighter and is shown grouped",
			in: []string{
				`{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }`,
				`{ $.errorCode = "*UnauthorizedOperation" || ($.errorCode = "AccessDenied*" && ($.sourceIPAddress != delivery.logs.amazonaws.com && $.eventName != HeadBucket)) }`,
			},
			want: `{ $.errorCode = "*UnauthorizedOperation" || ($.errorCode = "AccessDenied*" && $.eventName != "HeadBucket" && $.sourceIPAddress != "delivery.logs.amazonaws.com") }`,
		},
		{
			name: "nested same operator flattened, duplicates dropped",
			in: []string{
				`{ ($.a = 1 && ($.b = 2 && $.a = 1)) }`,
				`{$.b=2&&$.a=1}`,
			},
			want: `{ $.a = "1" && $.b = "2" }`,
		},
		{
			name: "unary operators, indexes and numbers",
			in: []string{
				`{ $.objectList[1].id >= +10e3 && $.SomeObject IS NULL && $.x NOT EXISTS && $.f IS TRUE && $.g IS FALSE }`,
				`{ $.g IS FALSE && $.f IS TRUE && $.x NOT EXISTS && $.SomeObject IS NULL && $.objectList[1].id >= 10000 }`,
			},
			want: `{ $.SomeObject IS NULL && $.f IS TRUE && $.g IS FALSE && $.objectList[1].id >= 10000 && $.x NOT EXISTS }`,
		},
		{
			name: "escapes and interior asterisk",
			in: []string{
				`{ $.m = "say \"hi\" \\ bye" || $.n = Ev*ent }`,
			},
			want: `{ $.m = "say \"hi\" \\ bye" || $.n = "Ev*ent" }`,
		},
		{
			name: "regex",
			in:   []string{`{ $.message = %ERROR:[0-9]+% }`},
			want: `{ $.message = %ERROR:[0-9]+% }`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.in {
				p, err := filterpattern.Parse(s)
				if err != nil {
					t.Fatalf("Parse(%q): %v", s, err)
				}
				if got := p.String(); got != tc.want {
					t.Errorf("Parse(%q).String()\n got %s\nwant %s", s, got, tc.want)
				}
				if p.Source() != s {
					t.Errorf("Source() = %q, want %q", p.Source(), s)
				}
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	long := "{ " + strings.Repeat(`$.eventName = "CreateNetworkAclEntry" || `, 30) + "$.a = b }"
	deep := "{ " + strings.Repeat("(", filterpattern.MaxDepth+1) + "$.a = b" + strings.Repeat(")", filterpattern.MaxDepth+1) + " }"
	for _, tc := range []struct {
		name, in string
		want     filterpattern.SyntaxError
	}{
		{"empty", "", filterpattern.SyntaxError{Pos: 0, Expected: `"{" (only JSON filter patterns are supported)`, Found: "end of pattern"}},
		{"text pattern", "ERROR Exception", filterpattern.SyntaxError{Pos: 0, Expected: `"{" (only JSON filter patterns are supported)`, Found: `"ERROR"`}},
		{"space-delimited pattern", "[ip, user]", filterpattern.SyntaxError{Pos: 0, Expected: `"{" (only JSON filter patterns are supported)`, Found: `"["`}},
		{"empty braces", "{ }", filterpattern.SyntaxError{Pos: 2, Expected: `a selector such as "$.eventName" or "("`, Found: `"}"`}},
		{"missing operator", "{ $.eventName foo }", filterpattern.SyntaxError{Pos: 14, Expected: `"=", "!=", "<", ">", "<=", ">=", "IS" or "NOT"`, Found: `"foo"`}},
		{"missing value", "{ $.eventName = }", filterpattern.SyntaxError{Pos: 16, Expected: "a quoted string, an unquoted word, a number or a %regex%", Found: `"}"`}},
		{"missing close brace", "{ $.eventName = A", filterpattern.SyntaxError{Pos: 17, Expected: `"&&", "||" or "}"`, Found: "end of pattern"}},
		{"missing close paren", "{ ($.a = A }", filterpattern.SyntaxError{Pos: 11, Expected: `"&&", "||" or ")"`, Found: `"}"`}},
		{"extra close paren", "{ $.a = A) }", filterpattern.SyntaxError{Pos: 9, Expected: `"&&", "||" or "}"`, Found: `")"`}},
		{"trailing text", "{ $.a = A } x", filterpattern.SyntaxError{Pos: 12, Expected: "end of pattern", Found: `"x"`}},
		{"dangling or", "{ $.a = A || }", filterpattern.SyntaxError{Pos: 13, Expected: `a selector such as "$.eventName" or "("`, Found: `"}"`}},
		{"single ampersand", "{ $.a = A & $.b = B }", filterpattern.SyntaxError{Pos: 11, Expected: `"&&"`, Found: `" "`}},
		{"single bar", "{ $.a = A | $.b = B }", filterpattern.SyntaxError{Pos: 11, Expected: `"||"`, Found: `" "`}},
		{"bang alone", "{ $.a ! A }", filterpattern.SyntaxError{Pos: 7, Expected: `"!="`, Found: `" "`}},
		{"selector without dot", "{ $eventName = A }", filterpattern.SyntaxError{Pos: 3, Expected: `"." and a property name after "$"`, Found: `"e"`}},
		{"empty property", "{ $..a = A }", filterpattern.SyntaxError{Pos: 4, Expected: `a property name (letters, digits, "-" or "_")`, Found: `"."`}},
		{"array wildcard", "{ $.resources[*].ARN = A }", filterpattern.SyntaxError{Pos: 14, Expected: "an array index (digits)", Found: `"*"`}},
		{"unclosed index", "{ $.a[1 = A }", filterpattern.SyntaxError{Pos: 7, Expected: `"]"`, Found: `" "`}},
		{"index first", "{ $[0] = A }", filterpattern.SyntaxError{Pos: 3, Expected: `"." and a property name after "$"`, Found: `"["`}},
		{"selector glued to word", "{ $.a* = A }", filterpattern.SyntaxError{Pos: 5, Expected: `".name", "[index]" or an operator after the selector`, Found: `"*"`}},
		{"unquoted at sign", "{ $.a = bob@example.com }", filterpattern.SyntaxError{Pos: 11, Expected: `a selector, value, operator, "(", ")" or "}" (characters other than letters, digits and "_-.*:/+" must be inside double quotes)`, Found: `"@"`}},
		{"unterminated string", `{ $.a = "abc }`, filterpattern.SyntaxError{Pos: 14, Expected: `closing '"' of the string that starts at position 8`, Found: "end of pattern"}},
		{"IS without keyword", "{ $.a IS EMPTY }", filterpattern.SyntaxError{Pos: 9, Expected: `"NULL", "TRUE" or "FALSE" after "IS"`, Found: `"EMPTY"`}},
		{"lower-case keyword", "{ $.a is null }", filterpattern.SyntaxError{Pos: 6, Expected: `"=", "!=", "<", ">", "<=", ">=", "IS" or "NOT"`, Found: `"is"`}},
		{"NOT without EXISTS", "{ $.a NOT NULL }", filterpattern.SyntaxError{Pos: 10, Expected: `"EXISTS" after "NOT"`, Found: `"NULL"`}},
		{"relational needs number", `{ $.latency > "500" }`, filterpattern.SyntaxError{Pos: 14, Expected: `a number (e.g. 500, -1.5 or 10e3) after ">"`, Found: `"\"500\""`}},
		{"relational overflow", `{ $.latency > 1e999 }`, filterpattern.SyntaxError{Pos: 14, Expected: "a number within float64 range", Found: `"1e999"`}},
		{"unterminated regex", "{ $.a = %abc }", filterpattern.SyntaxError{Pos: 14, Expected: `closing "%" of the regex`, Found: "end of pattern"}},
		{"regex with parentheses", "{ $.a = %a(b)% }", filterpattern.SyntaxError{Pos: 10, Expected: `a supported regex character (letters, digits, _#=@/;,-: and ^$?[]{}|\*+.)`, Found: `"("`}},
		{"regex quota", "{ $.a = %a% || $.b = %b% || $.c = %c% }", filterpattern.SyntaxError{Pos: 34, Expected: "at most 2 regular expressions per pattern", Found: `"%c%"`}},
		{"too long", long, filterpattern.SyntaxError{Pos: 1024, Expected: "a pattern of at most 1024 bytes", Found: "1241 bytes"}},
		{"thousands of terms", "{" + strings.Repeat("$.a=b||", 5000) + "$.a=b}", filterpattern.SyntaxError{Pos: 1024, Expected: "a pattern of at most 1024 bytes", Found: "35007 bytes"}},
		{"hostile nesting", "{" + strings.Repeat("(", 100000), filterpattern.SyntaxError{Pos: 1024, Expected: "a pattern of at most 1024 bytes", Found: "100001 bytes"}},
		{"nesting within the length limit", "{" + strings.Repeat("(", 1000) + "}", filterpattern.SyntaxError{Pos: 33, Expected: "at most 32 nested parentheses", Found: `"("`}},
		{"too deep", deep, filterpattern.SyntaxError{Pos: 34, Expected: "at most 32 nested parentheses", Found: `"("`}},
		{"long found text is cut", "{ $.a " + strings.Repeat("x", 100) + " }", filterpattern.SyntaxError{Pos: 6, Expected: `"=", "!=", "<", ">", "<=", ">=", "IS" or "NOT"`, Found: `"` + strings.Repeat("x", 32) + `"...`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error", tc.in, p)
			}
			var se *filterpattern.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", tc.in, err, err)
			}
			if *se != tc.want {
				t.Errorf("Parse(%q) error\n got %#v\nwant %#v", tc.in, *se, tc.want)
			}
			if se.Pos < 0 || se.Pos > len(tc.in) {
				t.Errorf("Pos %d outside the pattern (len %d)", se.Pos, len(tc.in))
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := filterpattern.Parse(`{ $.eventName foo }`)
	want := `filter pattern: position 14: expected "=", "!=", "<", ">", "<=", ">=", "IS" or "NOT", found "foo"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestLimitsAccepted checks the limits are not off by one.
func TestLimitsAccepted(t *testing.T) {
	deep := "{ " + strings.Repeat("(", filterpattern.MaxDepth) + "$.a = b" + strings.Repeat(")", filterpattern.MaxDepth) + " }"
	if _, err := filterpattern.Parse(deep); err != nil {
		t.Errorf("depth %d: %v", filterpattern.MaxDepth, err)
	}
	body := "{ $.a = " + `"`
	exact := body + strings.Repeat("x", filterpattern.MaxLength-len(body)-3) + `" }`
	if len(exact) != filterpattern.MaxLength {
		t.Fatalf("test pattern is %d bytes", len(exact))
	}
	if _, err := filterpattern.Parse(exact); err != nil {
		t.Errorf("length %d: %v", len(exact), err)
	}
	if _, err := filterpattern.Parse(`{ $.a = %x% || $.b != %y% }`); err != nil {
		t.Errorf("2 regexes: %v", err)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		r := recover()
		if _, ok := r.(*filterpattern.SyntaxError); !ok {
			t.Errorf("MustParse panicked with %v, want *SyntaxError", r)
		}
	}()
	filterpattern.MustParse("{")
	t.Error("MustParse did not panic")
}

func TestAtomsAndSelectors(t *testing.T) {
	p := filterpattern.MustParse(`{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) && $.userIdentity.invokedBy NOT EXISTS}`)
	var got []string
	for _, a := range p.Atoms() {
		got = append(got, a.Selector+"|"+a.Op.String()+"|"+a.Value)
	}
	want := []string{
		"$.eventName|=|DisableKey",
		"$.eventName|=|ScheduleKeyDeletion",
		"$.eventSource|=|kms.amazonaws.com",
		"$.userIdentity.invokedBy|NOT EXISTS|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Atoms()\n got %q\nwant %q", got, want)
	}
	sels := strings.Join(p.Selectors(), ",")
	if sels != "$.eventName,$.eventSource,$.userIdentity.invokedBy" {
		t.Errorf("Selectors() = %s", sels)
	}
}

func TestZeroPattern(t *testing.T) {
	var zero filterpattern.Pattern
	if ok, err := zero.Match([]byte(`{}`)); ok || err == nil {
		t.Errorf("zero Pattern Match = %v, %v; want false and an error", ok, err)
	}
	p := filterpattern.MustParse(`{ $.a NOT EXISTS }`)
	if filterpattern.Covers(&zero, p) || filterpattern.Covers(p, &zero) || filterpattern.Equivalent(&zero, &zero) {
		t.Error("zero Pattern must not cover or be equivalent to anything")
	}
}

// TestTranscriptionsCollapse: the fact sheet's many transcriptions of each
// control differ in spacing, quoting and parentheses only, so each valid
// one is equivalent to exactly one reference pattern, and has its
// canonical form.
func TestTranscriptionsCollapse(t *testing.T) {
	refs := map[string]*filterpattern.Pattern{}
	for name, s := range cisPatterns {
		refs[name] = filterpattern.MustParse(s)
	}
	used := map[string]bool{}
	for _, s := range benchmarkPatterns(t) {
		p, err := filterpattern.Parse(s)
		if err != nil {
			continue // the malformed transcriptions, checked elsewhere
		}
		var eq []string
		for name, r := range refs {
			if filterpattern.Equivalent(p, r) {
				eq = append(eq, name)
				if p.String() != r.String() {
					t.Errorf("%q is equivalent to %s but prints differently:\n%s\n%s", s, name, p, r)
				}
			}
		}
		if len(eq) != 1 {
			t.Errorf("%q is equivalent to %d reference patterns %v, want exactly 1", s, len(eq), eq)
			continue
		}
		used[eq[0]] = true
	}
	for name := range refs {
		if !used[name] {
			t.Errorf("reference %s matches no transcription", name)
		}
	}
}
