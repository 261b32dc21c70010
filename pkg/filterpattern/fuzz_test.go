package filterpattern_test

import (
	"errors"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError inside the input, and that the canonical form round-trips
// to an equal, equivalent pattern. The committed corpus in
// testdata/fuzz/FuzzParse holds the benchmark patterns and tricky inputs.
func FuzzParse(f *testing.F) {
	for _, s := range benchmarkPatterns(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := filterpattern.Parse(s)
		if err != nil {
			var se *filterpattern.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", s, err)
			}
			if se.Pos < 0 || se.Pos > len(s) || se.Expected == "" || se.Found == "" {
				t.Fatalf("Parse(%q) bad error %#v", s, *se)
			}
			return
		}
		q, err := filterpattern.Parse(p.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, p.String(), err)
		}
		if q.String() != p.String() {
			t.Fatalf("canonical form not stable:\n%s\n%s", p, q)
		}
		if !filterpattern.Equivalent(p, q) || !filterpattern.Covers(q, p) {
			t.Fatalf("round trip not equivalent: %s", p)
		}
		// A pattern with one more alternative has a different canonical
		// form, so this exercises the enumeration, which must prove it.
		c := p.String()
		wider, err := filterpattern.Parse("{ (" + c[2:len(c)-2] + ") || $.fuzzExtra = x }")
		if err == nil && !filterpattern.Covers(wider, p) && len(p.Atoms()) <= 8 { // small enough to stay within the enumeration guards
			t.Fatalf("Covers(p || extra, p) = false for %s", p)
		}
	})
}

// FuzzMatch checks that Match never panics, rejects non-objects with
// ErrNotJSONObject only, and agrees with the canonical form's Match.
func FuzzMatch(f *testing.F) {
	f.Add(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
		`{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`)
	f.Add(`{ $.a[1].b >= -2.5e1 || $.a[0] IS NULL }`, `{"a":[null,{"b":-25}]}`)
	f.Add(`{ $.n = 4* && $.s != %^x[0-9]+% }`, `{"n":404,"s":"x12"}`)
	f.Add(`{ $.a = "*" }`, `[1,2]`)
	f.Add(`{ $.a IS TRUE }`, `{"a":true} trailing`)
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := filterpattern.Parse(pattern)
		if err != nil {
			return
		}
		m, err := p.Match([]byte(event))
		if err != nil {
			if !errors.Is(err, filterpattern.ErrNotJSONObject) {
				t.Fatalf("Match error %v, want ErrNotJSONObject", err)
			}
			return
		}
		q := filterpattern.MustParse(p.String())
		mq, err := q.Match([]byte(event))
		if err != nil || mq != m {
			t.Fatalf("canonical form matches differently: %v/%v vs %v\n%s\n%s", mq, err, m, p, event)
		}
	})
}

// FuzzCoversSound checks the one property Covers must never break: if it
// says a covers b, no event matches b without matching a.
func FuzzCoversSound(f *testing.F) {
	f.Add(`{ $.a = "x*" && $.a = "*y" }`, `{ $.a = "x*y" }`, `{"a":"xzy"}`)
	f.Add(`{ $.n > 4 }`, `{ $.n >= 5 || $.n = "5" }`, `{"n":"5"}`)
	f.Add(`{ $.a.b = x || $.a NOT EXISTS }`, `{ $.a.b NOT EXISTS }`, `{"a":{"c":1}}`)
	f.Add(`{ $.c[1] = 1 }`, `{ $.c[0] = 1 && $.c[1] = * }`, `{"c":[1,"1"]}`)
	f.Add(cisPatterns["4.1 v2.0+"], cisPatterns["4.1 grouped"], `{"errorCode":"AccessDenied","eventName":"HeadBucket"}`)
	f.Fuzz(func(t *testing.T, as, bs, event string) {
		a, errA := filterpattern.Parse(as)
		b, errB := filterpattern.Parse(bs)
		if errA != nil || errB != nil || !filterpattern.Covers(a, b) {
			return
		}
		mb, err := b.Match([]byte(event))
		if err != nil || !mb {
			return
		}
		if ma, _ := a.Match([]byte(event)); !ma {
			t.Fatalf("Covers(a, b) but the event matches b only\na: %s\nb: %s\nevent: %s", a, b, event)
		}
	})
}
