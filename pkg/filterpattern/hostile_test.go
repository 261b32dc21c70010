package filterpattern_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
	"github.com/watchkeeper/watchkeeper/test/memtest"
)

// TestParseHugeInputs: inputs far beyond MaxLength are refused from their
// length alone, without being scanned or copied.
func TestParseHugeInputs(t *testing.T) {
	tenMiB := 10 << 20
	for name, s := range map[string]string{
		"10 MiB of one term":        `{ $.a = "` + strings.Repeat("x", tenMiB) + `" }`,
		"10 MiB of open parens":     "{" + strings.Repeat("(", tenMiB),
		"100,000 OR-ed terms":       "{ " + strings.Repeat(`$.eventName = "CreateNetworkAclEntry" || `, 100_000) + "$.a = b }",
		"10 MiB of invalid UTF-8":   "{ $.a = " + strings.Repeat("\xff", tenMiB) + " }",
		"10 MiB of NUL bytes":       strings.Repeat("\x00", tenMiB),
		"10 MiB regex":              "{ $.a = %" + strings.Repeat("[a-z]+", tenMiB/6) + "% }",
		"10 MiB of JSON, not a pat": `{"a":"` + strings.Repeat("b", tenMiB) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := memtest.Allocated(func() { _, err = filterpattern.Parse(s) })
			var se *filterpattern.SyntaxError
			if !errors.As(err, &se) || se.Pos != filterpattern.MaxLength || !strings.Contains(se.Expected, "at most 1024 bytes") {
				t.Fatalf("Parse = %v, want a length SyntaxError", err)
			}
			if n > 1<<20 {
				t.Errorf("refusing a %d-byte pattern allocated %d KiB", len(s), n>>10)
			}
		})
	}
}

// widest returns the pattern with the most terms that fits in MaxLength,
// each term on its own selector when distinct is set.
func widest(op string, distinct bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; ; i++ {
		sel := "$.a"
		if distinct {
			sel = fmt.Sprintf("$.s%d", i)
		}
		term := fmt.Sprintf("%s=v%d", sel, i)
		if i > 0 {
			term = op + term
		}
		if b.Len()+len(term)+1 > filterpattern.MaxLength {
			break
		}
		b.WriteString(term)
	}
	b.WriteString("}")
	return b.String()
}

// TestWidestPatterns: the patterns with the most terms that fit the length
// limit parse, compare and match in bounded memory; Equivalent and Covers
// stay within their guards (false when not proven) rather than explode.
func TestWidestPatterns(t *testing.T) {
	for _, tc := range []struct {
		name     string
		op       string
		distinct bool
	}{
		{"OR on one selector", "||", false},
		{"AND on one selector", "&&", false},
		{"OR on distinct selectors", "||", true},
		{"AND on distinct selectors", "&&", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := widest(tc.op, tc.distinct)
			var p, q *filterpattern.Pattern
			var err error
			n := memtest.Allocated(func() {
				p, err = filterpattern.Parse(s)
				if err != nil {
					return
				}
				// q drops the last term: a different, comparable pattern.
				q, err = filterpattern.Parse(s[:strings.LastIndex(s, tc.op)] + "}")
				if err != nil {
					return
				}
				_ = filterpattern.Equivalent(p, q)
				_ = filterpattern.Covers(p, q)
				_ = filterpattern.Covers(q, p)
				_, _ = p.Match([]byte(`{"a":"v1","s1":"v1"}`))
			})
			if err != nil {
				t.Fatalf("%d-byte pattern of %d terms: %v", len(s), len(p.Atoms()), err)
			}
			if len(p.Atoms()) < 50 {
				t.Fatalf("only %d terms", len(p.Atoms()))
			}
			// Dropping a term changes an OR and an AND of distinct
			// selectors; an AND of one selector equal to many values
			// matches nothing either way, and Equivalent proves that.
			wantEq := tc.op == "&&" && !tc.distinct
			if got := filterpattern.Equivalent(p, q); got != wantEq {
				t.Errorf("Equivalent(p, p minus a term) = %v, want %v", got, wantEq)
			}
			if n > memtest.Bound {
				t.Errorf("%d terms: allocated %d MiB, want < %d", len(p.Atoms()), n>>20, memtest.Bound>>20)
			}
		})
	}
}

// TestQuotesAndUnicodeRoundTrip: quoted values with quotes, backslashes,
// emoji, RTL and zero-width marks parse, print canonically, re-parse to an
// equivalent pattern, and match exactly the event holding that value.
func TestQuotesAndUnicodeRoundTrip(t *testing.T) {
	for _, v := range []struct{ pattern, json string }{
		{`\"quoted\"`, `\"quoted\"`},
		{`back\\slash`, `back\\slash`},
		{`emoji-🔥🚨`, `emoji-🔥🚨`},
		{"rtl-\u202egnp.exe", `rtl-\u202egnp.exe`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{`<script>alert(1)</script>`, `<script>alert(1)</script>`},
		{`'; DROP TABLE x; --`, `'; DROP TABLE x; --`},
		{"ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ", "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ"},
	} {
		t.Run(v.json, func(t *testing.T) {
			p, err := filterpattern.Parse(`{ $.userIdentity.arn = "` + v.pattern + `" && $.eventName != "` + v.pattern + `x" }`)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			q, err := filterpattern.Parse(p.String())
			if err != nil || q.String() != p.String() || !filterpattern.Equivalent(p, q) {
				t.Fatalf("canonical form %q does not round-trip: %v", p.String(), err)
			}
			for event, want := range map[string]bool{
				`{"userIdentity":{"arn":"` + v.json + `"},"eventName":"x"}`:               true,
				`{"userIdentity":{"arn":"` + v.json + `x"},"eventName":"x"}`:              false,
				`{"userIdentity":{"arn":"` + v.json + `"},"eventName":"` + v.json + `x"}`: false,
			} {
				got, err := p.Match([]byte(event))
				if err != nil || got != want {
					t.Errorf("Match(%s) = %v, %v; want %v", event, got, err, want)
				}
			}
		})
	}
	// Unquoted, such values are refused with the position of the problem.
	for _, s := range []string{`{ $.a = a"b }`, `{ $.a = a\b }`, "{ $.a = \u202eb }", `{ $.a = 🔥 }`, "{ $.a\u200b = b }"} {
		var se *filterpattern.SyntaxError
		if _, err := filterpattern.Parse(s); !errors.As(err, &se) || se.Pos <= 0 || se.Pos > len(s) {
			t.Errorf("Parse(%q) = %v, want a SyntaxError inside the pattern", s, err)
		}
	}
}

// TestMatchHostileEvents: an event over CloudWatch Logs' 1 MB limit is
// refused with ErrEventTooLarge before it is decoded; one just under it
// matches in bounded memory; deep nesting (bounded by encoding/json at
// depth 10,000) is an ErrNotJSONObject, not a crash.
func TestMatchHostileEvents(t *testing.T) {
	p := filterpattern.MustParse(`{ $.userIdentity.type = "Root" && $.a[0].b NOT EXISTS }`)
	tenMiB := strings.Repeat("x", 10<<20)
	almost1MiB := strings.Repeat("x", filterpattern.MaxEventSize-100)
	for _, tc := range []struct {
		name   string
		event  string
		want   bool
		err    bool
		tooBig bool
	}{
		{"10 MiB string member", `{"userIdentity":{"type":"Root"},"pad":"` + tenMiB + `"}`, false, false, true},
		{"10 MiB selector value", `{"userIdentity":{"type":"` + tenMiB + `"}}`, false, false, true},
		{"1 MiB string member", `{"userIdentity":{"type":"Root"},"pad":"` + almost1MiB + `"}`, true, false, false},
		{"1 MiB selector value", `{"userIdentity":{"type":"` + almost1MiB + `"}}`, false, false, false},
		{"deep arrays", `{"a":` + strings.Repeat("[", 200_000) + `}`, false, true, false},
		{"deep objects at the selector", `{"userIdentity":` + strings.Repeat(`{"type":`, 20_000) + `"Root"` + strings.Repeat("}", 20_000) + `}`, false, true, false},
		{"wrong types on the path", `{"userIdentity":["Root"],"a":{"0":{"b":1}}}`, false, false, false},
		{"null on the path", `{"userIdentity":null,"a":null}`, false, false, false},
		{"number for object", `{"userIdentity":1e999}`, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bool
			var err error
			n := memtest.Allocated(func() { got, err = p.Match([]byte(tc.event)) })
			if tc.tooBig {
				if !errors.Is(err, filterpattern.ErrEventTooLarge) {
					t.Errorf("Match = %v, %v; want ErrEventTooLarge", got, err)
				}
			} else if tc.err {
				if !errors.Is(err, filterpattern.ErrNotJSONObject) {
					t.Errorf("Match = %v, %v; want ErrNotJSONObject", got, err)
				}
			} else if err != nil || got != tc.want {
				if !(tc.name == "number for object" && errors.Is(err, filterpattern.ErrNotJSONObject)) {
					t.Errorf("Match = %v, %v; want %v", got, err, tc.want)
				}
			}
			if n > memtest.Bound {
				t.Errorf("matching a %d-byte event allocated %d MiB, want < %d", len(tc.event), n>>20, memtest.Bound>>20)
			}
		})
	}
}

// TestMatchNonObjectMemory: Match refuses a non-object from its first
// token and bounds the event's size (CloudWatch Logs' 1 MB event limit), so
// a 10 MiB array costs nothing like the ~500 MiB decoding it would.
func TestMatchNonObjectMemory(t *testing.T) {
	p := filterpattern.MustParse(`{ $.a NOT EXISTS }`)
	event := []byte(`[` + strings.Repeat("1,", (filterpattern.MaxEventSize-8)/2) + `1]`) // just under the size limit
	var err error
	n := memtest.Allocated(func() { _, err = p.Match(event) })
	if !errors.Is(err, filterpattern.ErrNotJSONObject) || n > memtest.Bound {
		t.Errorf("Match = %v after allocating %d MiB, want ErrNotJSONObject within %d MiB", err, n>>20, memtest.Bound>>20)
	}
}
