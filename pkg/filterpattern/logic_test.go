package filterpattern_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

func TestEquivalentAndCovers(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		a, b                 string
		aCoversB, bCoversA   bool
		wantEquivalentDiffer bool // only for documentation; Equivalent = both
	}{
		{name: "issue example", a: `{($.eventName=A)||($.eventName=B)}`, b: `{ $.eventName = "B" || $.eventName = "A" }`, aCoversB: true, bCoversA: true},
		{name: "trailing wildcard covers the exact value", a: `{ $.errorCode = "AccessDenied*" }`, b: `{ $.errorCode = "AccessDenied" }`, aCoversB: true},
		{name: "leading wildcard covers its suffix", a: `{ $.errorCode = "*UnauthorizedOperation" }`, b: `{ $.errorCode = "Client.UnauthorizedOperation" }`, aCoversB: true},
		{name: "interior asterisk is literal", a: `{ $.a = "x*" && $.a = "*y" }`, b: `{ $.a = "x*y" }`, aCoversB: true},
		{name: "prefix and suffix do not imply one value", a: `{ $.a = "xy" }`, b: `{ $.a = "x*" && $.a = "*y" }`, bCoversA: true},
		{name: "contains covers prefix", a: `{ $.a = "*bc*" }`, b: `{ $.a = "bcd*" }`, aCoversB: true},
		{name: "overlapping prefix and suffix", a: `{ $.a = "*abc*" }`, b: `{ $.a = "ab*" && $.a = "*bc" }`, aCoversB: false, bCoversA: false},
		{name: "= or != is any value node", a: `{ $.a = "x" || $.a != "x" }`, b: `{ $.a = * }`, aCoversB: true, bCoversA: true},
		{name: "!= is not the negation of =", a: `{ $.a != "x" }`, b: `{ $.a NOT EXISTS }`},
		{name: "!= excludes null", a: `{ $.a != "x" }`, b: `{ $.a IS NULL }`},
		{name: "NOT EXISTS and IS NULL differ", a: `{ $.a NOT EXISTS }`, b: `{ $.a IS NULL }`},
		{name: "booleans", a: `{ $.f IS TRUE || $.f IS FALSE }`, b: `{ $.f IS TRUE }`, aCoversB: true},
		{name: "contradiction is covered by anything", a: `{ $.z = "never" }`, b: `{ $.a = "x" && $.a = "y" }`, aCoversB: true},
		{name: "independent selectors", a: `{ $.a = "x" }`, b: `{ $.a = "x" && $.b = "y" }`, aCoversB: true},
		{name: "absorption", a: `{ $.a = "x" || ($.a = "x" && $.b = "y") }`, b: `{ $.a = "x" }`, aCoversB: true, bCoversA: true},
		{name: "distribution", a: `{ $.s = "k" && ($.n = "A" || $.n = "B") }`, b: `{ ($.s = "k" && $.n = "A") || ($.n = "B" && $.s = "k") }`, aCoversB: true, bCoversA: true},
		{name: "precedence: v2.0+ 4.1 is A || (B && C && D)", a: cisPatterns["4.1 v2.0+"], b: `{ $.errorCode = "*UnauthorizedOperation" || ($.errorCode = "AccessDenied*" && $.sourceIPAddress != "delivery.logs.amazonaws.com" && $.eventName != "HeadBucket") }`, aCoversB: true, bCoversA: true},
		{name: "v2.0+ 4.1 is wider than the grouped form", a: cisPatterns["4.1 v2.0+"], b: cisPatterns["4.1 grouped"], aCoversB: true},
		{name: "v1.3 4.1 covers v1.2", a: cisPatterns["4.1 v1.3-v1.5"], b: cisPatterns["4.1 v1.2"], aCoversB: true},
		{name: "v1.2 4.1 covers v2.0+", a: cisPatterns["4.1 v1.2"], b: cisPatterns["4.1 v2.0+"], aCoversB: true},
		{name: "4.2 covers its SSO variant", a: cisPatterns["4.2"], b: cisPatterns["4.2 SSO variant"], aCoversB: true},
		{name: "4.13 remediation covers Security Hub", a: cisPatterns["4.13 remediation"], b: cisPatterns["4.13 Security Hub"], aCoversB: true},
		{name: "4.13 v3 audit covers Security Hub", a: cisPatterns["4.13 v3 audit"], b: cisPatterns["4.13 Security Hub"], aCoversB: true},
		{name: "4.13 remediation covers v3 audit", a: cisPatterns["4.13 remediation"], b: cisPatterns["4.13 v3 audit"], aCoversB: true},
		{name: "4.3 spacing variants", a: `{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}`, b: cisPatterns["4.3"], aCoversB: true, bCoversA: true},
		{name: "4.3 without the invokedBy term is wider", a: `{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }`, b: cisPatterns["4.3"], aCoversB: true},
		{name: "4.7 quoting", a: cisPatterns["4.7"], b: `{ $.eventSource = "kms.amazonaws.com" && ($.eventName = "ScheduleKeyDeletion" || $.eventName = "DisableKey") }`, aCoversB: true, bCoversA: true},
		{name: "4.7 without eventSource is wider", a: `{ $.eventName = DisableKey || $.eventName = ScheduleKeyDeletion }`, b: cisPatterns["4.7"], aCoversB: true},
		{name: "numeric ranges", a: `{ $.n > 4 }`, b: `{ $.n >= 5 }`, aCoversB: true},
		{name: "numeric equality and range", a: `{ $.n >= 5 }`, b: `{ $.n > 5 || $.n = 5 }`, bCoversA: true},
		{name: "number text and value", a: `{ $.n = 5 || $.n = "5" }`, b: `{ $.n = "5" }`, aCoversB: true, bCoversA: true},
		{name: "same regex", a: `{ $.m = %ab+% && $.x = y }`, b: `{ $.x = "y" && $.m = %ab+% }`, aCoversB: true, bCoversA: true},
		{name: "regex or its negation", a: `{ $.m = %ab+% || $.m != %ab+% }`, b: `{ $.m = * }`, aCoversB: true, bCoversA: true},
		{name: "different regexes are not compared", a: `{ $.m = %a% }`, b: `{ $.m = %ab% }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := filterpattern.MustParse(tc.a), filterpattern.MustParse(tc.b)
			if got := filterpattern.Covers(a, b); got != tc.aCoversB {
				t.Errorf("Covers(a, b) = %v, want %v\na: %s\nb: %s", got, tc.aCoversB, a, b)
			}
			if got := filterpattern.Covers(b, a); got != tc.bCoversA {
				t.Errorf("Covers(b, a) = %v, want %v\na: %s\nb: %s", got, tc.bCoversA, a, b)
			}
			want := tc.aCoversB && tc.bCoversA
			if got := filterpattern.Equivalent(a, b); got != want {
				t.Errorf("Equivalent = %v, want %v", got, want)
			}
			if got := filterpattern.Equivalent(b, a); got != want {
				t.Errorf("Equivalent(b, a) = %v, want %v", got, want)
			}
		})
	}
}

func TestNilPatterns(t *testing.T) {
	p := filterpattern.MustParse(`{ $.a = b }`)
	if filterpattern.Covers(p, nil) || filterpattern.Covers(nil, p) || filterpattern.Equivalent(nil, nil) {
		t.Error("nil patterns must never be proven to cover or be equivalent")
	}
}

// eventNameLists are the ||-lists of the benchmark patterns, with the
// eventSource a pattern pins (or "").
var eventNameLists = []struct {
	control, source string
	names           []string
}{
	{"4.4", "", strings.Fields("DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy PutRolePolicy PutUserPolicy CreatePolicy DeletePolicy CreatePolicyVersion DeletePolicyVersion AttachRolePolicy DetachRolePolicy AttachUserPolicy DetachUserPolicy AttachGroupPolicy DetachGroupPolicy")},
	{"4.5", "", strings.Fields("CreateTrail UpdateTrail DeleteTrail StartLogging StopLogging")},
	{"4.7", "kms.amazonaws.com", strings.Fields("DisableKey ScheduleKeyDeletion")},
	{"4.8", "s3.amazonaws.com", strings.Fields("PutBucketAcl PutBucketPolicy PutBucketCors PutBucketLifecycle PutBucketReplication DeleteBucketPolicy DeleteBucketCors DeleteBucketLifecycle DeleteBucketReplication")},
	{"4.9", "config.amazonaws.com", strings.Fields("StopConfigurationRecorder DeleteDeliveryChannel PutDeliveryChannel PutConfigurationRecorder")},
	{"4.10", "", strings.Fields("AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress RevokeSecurityGroupIngress RevokeSecurityGroupEgress CreateSecurityGroup DeleteSecurityGroup")},
	{"4.11", "", strings.Fields("CreateNetworkAcl CreateNetworkAclEntry DeleteNetworkAcl DeleteNetworkAclEntry ReplaceNetworkAclEntry ReplaceNetworkAclAssociation")},
	{"4.12", "", strings.Fields("CreateCustomerGateway DeleteCustomerGateway AttachInternetGateway CreateInternetGateway DeleteInternetGateway DetachInternetGateway")},
	{"4.13", "ec2.amazonaws.com", strings.Fields("CreateRoute CreateRouteTable ReplaceRoute ReplaceRouteTableAssociation DeleteRouteTable DeleteRoute DisassociateRouteTable")},
	{"4.14", "", strings.Fields("CreateVpc DeleteVpc ModifyVpcAttribute AcceptVpcPeeringConnection CreateVpcPeeringConnection DeleteVpcPeeringConnection RejectVpcPeeringConnection AttachClassicLinkVpc DetachClassicLinkVpc DisableVpcClassicLink EnableVpcClassicLink")},
	{"4.15", "organizations.amazonaws.com", strings.Fields("AcceptHandshake AttachPolicy CreateAccount CreateOrganizationalUnit CreatePolicy DeclineHandshake DeleteOrganization DeleteOrganizationalUnit DeletePolicy DetachPolicy DisablePolicyType EnablePolicyType InviteAccountToOrganization LeaveOrganization MoveAccount RemoveAccountFromOrganization UpdatePolicy UpdateOrganizationalUnit")},
}

// eventListPattern renders an event-name list pattern in a random style.
func eventListPattern(rng *rand.Rand, source string, names []string) string {
	terms := make([]*tnode, len(names))
	for i, n := range names {
		terms[i] = &tnode{sel: "$.eventName", op: "=", val: n}
	}
	var root *tnode = &tnode{op: "||", kids: terms}
	if len(terms) == 1 {
		root = terms[0]
	}
	if source != "" {
		root = &tnode{op: "&&", kids: []*tnode{{sel: "$.eventSource", op: "=", val: source}, root}}
	}
	return "{" + render(rng, root, true) + "}"
}

// TestPropertyDropAndAddEventName: dropping one event name from a
// benchmark list is never covering; adding one still covers; any
// re-rendering is equivalent.
func TestPropertyDropAndAddEventName(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 7))
	for _, l := range eventNameLists {
		t.Run(l.control, func(t *testing.T) {
			full := filterpattern.MustParse(eventListPattern(rng, l.source, l.names))
			again := filterpattern.MustParse(eventListPattern(rng, l.source, l.names))
			if !filterpattern.Equivalent(full, again) || full.String() != again.String() {
				t.Errorf("re-rendering changed meaning:\n%s\n%s", full.Source(), again.Source())
			}
			for i := range l.names {
				fewer := append(append([]string{}, l.names[:i]...), l.names[i+1:]...)
				if len(fewer) == 0 {
					continue
				}
				p := filterpattern.MustParse(eventListPattern(rng, l.source, fewer))
				if filterpattern.Covers(p, full) {
					t.Errorf("without %s: Covers(reduced, full) = true\n%s", l.names[i], p.Source())
				}
				if !filterpattern.Covers(full, p) {
					t.Errorf("without %s: Covers(full, reduced) = false", l.names[i])
				}
				if filterpattern.Equivalent(p, full) {
					t.Errorf("without %s: Equivalent = true", l.names[i])
				}
			}
			extra := append(append([]string{}, l.names...), "CreateSomethingElse")
			rng.Shuffle(len(extra), func(i, j int) { extra[i], extra[j] = extra[j], extra[i] })
			p := filterpattern.MustParse(eventListPattern(rng, l.source, extra))
			if !filterpattern.Covers(p, full) {
				t.Errorf("with an extra name: Covers(extended, full) = false\n%s", p.Source())
			}
			if filterpattern.Covers(full, p) || filterpattern.Equivalent(full, p) {
				t.Errorf("with an extra name: full still covers the extended pattern")
			}
			// Dropping the eventSource pin widens the pattern.
			if l.source != "" {
				wide := filterpattern.MustParse(eventListPattern(rng, "", l.names))
				if !filterpattern.Covers(wide, full) || filterpattern.Covers(full, wide) {
					t.Errorf("dropping eventSource: Covers(wide, full) must hold and not the reverse")
				}
			}
		})
	}
}

// tnode is the test's own pattern tree, rendered in random styles.
type tnode struct {
	op       string // "&&", "||" or an atom operator
	kids     []*tnode
	sel, val string
}

var simpleWord = regexp.MustCompile(`^[A-Za-z0-9_.:/+*-]+$`)

func space(rng *rand.Rand) string {
	return []string{"", " ", "  ", "\t", "\n "}[rng.IntN(5)]
}

// render prints n with random spacing, operand order, redundant
// parentheses and quoting. top says whether n is the whole expression.
func render(rng *rand.Rand, n *tnode, top bool) string {
	var s string
	switch n.op {
	case "&&", "||":
		kids := append([]*tnode{}, n.kids...)
		rng.Shuffle(len(kids), func(i, j int) { kids[i], kids[j] = kids[j], kids[i] })
		parts := make([]string, len(kids))
		for i, k := range kids {
			parts[i] = render(rng, k, false)
			// An || inside && needs parentheses; add them elsewhere at random.
			if (n.op == "&&" && k.op == "||") || (k.op == "&&" || k.op == "||") && rng.IntN(2) == 0 {
				parts[i] = "(" + space(rng) + parts[i] + space(rng) + ")"
			}
		}
		s = strings.Join(parts, space(rng)+n.op+space(rng))
	case "IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE":
		s = n.sel + " " + strings.ReplaceAll(n.op, " ", []string{" ", "  ", "\t"}[rng.IntN(3)])
	default:
		v := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n.val) + `"`
		if simpleWord.MatchString(n.val) && rng.IntN(2) == 0 {
			v = n.val
		}
		if n.op != "=" && n.op != "!=" {
			v = n.val
		}
		s = n.sel + space(rng) + n.op + space(rng) + v
	}
	for rng.IntN(4) == 0 {
		s = "(" + space(rng) + s + space(rng) + ")"
	}
	if top {
		s = space(rng) + s + space(rng)
	}
	return s
}

// randomTree builds a random expression over the given vocabulary.
func randomTree(rng *rand.Rand, depth int, sels, vals []string, unary bool) *tnode {
	if depth == 0 || rng.IntN(3) == 0 {
		sel := sels[rng.IntN(len(sels))]
		if unary && rng.IntN(5) == 0 {
			return &tnode{sel: sel, op: []string{"IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE"}[rng.IntN(4)]}
		}
		return &tnode{sel: sel, op: []string{"=", "!="}[rng.IntN(2)], val: vals[rng.IntN(len(vals))]}
	}
	n := &tnode{op: []string{"&&", "||"}[rng.IntN(2)]}
	for i := 0; i < 2+rng.IntN(2); i++ {
		n.kids = append(n.kids, randomTree(rng, depth-1, sels, vals, unary))
	}
	return n
}

// TestPropertyReformattingIsEquivalent: random re-orderings, re-spacings,
// redundant parentheses and quote toggles give the same canonical form and
// equivalent patterns that match the same events.
func TestPropertyReformattingIsEquivalent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sels := []string{"$.a", "$.b", "$.c.d", "$.e[0]", "$.e[1].f"}
	vals := []string{"x", "y", "xy", "x*", "*y", "*x*", "*", "1", "a b", `q"uote`, "kms.amazonaws.com"}
	events := []string{
		`{}`, `{"a":"x","b":"y"}`, `{"a":"xy","c":{"d":"x"},"e":["y",{"f":"1"}]}`,
		`{"a":null,"b":true,"c":{"d":false},"e":[]}`, `{"a":1,"b":"a b","c":{"d":"q\"uote"},"e":["xyz"]}`,
		`{"a":{"x":1},"b":["x"],"c":"d"}`, `{"a":"yx","b":"kms.amazonaws.com","e":[null,{"f":1.0}]}`,
	}
	for i := 0; i < 300; i++ {
		tree := randomTree(rng, 3, sels, vals, true)
		s1, s2 := "{"+render(rng, tree, true)+"}", "{"+render(rng, tree, true)+"}"
		p1, err := filterpattern.Parse(s1)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s1, err)
		}
		p2, err := filterpattern.Parse(s2)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s2, err)
		}
		if p1.String() != p2.String() {
			t.Errorf("canonical forms differ:\n%s -> %s\n%s -> %s", s1, p1, s2, p2)
		}
		if !filterpattern.Equivalent(p1, p2) || !filterpattern.Covers(p1, p2) {
			t.Errorf("not equivalent:\n%s\n%s", s1, s2)
		}
		for _, ev := range events {
			m1, err1 := p1.Match([]byte(ev))
			m2, err2 := p2.Match([]byte(ev))
			if err1 != nil || err2 != nil || m1 != m2 {
				t.Errorf("Match(%s) differs: %v %v / %v %v\n%s\n%s", ev, m1, err1, m2, err2, s1, s2)
			}
		}
	}
}

// universe returns JSON events that set $.a to every value class: absent,
// null, booleans, an object, and every string over {x,y,z} up to length 5.
func universe() [][]byte {
	out := [][]byte{[]byte(`{}`), []byte(`{"a":null}`), []byte(`{"a":true}`), []byte(`{"a":false}`), []byte(`{"a":{"x":"x"}}`), []byte(`{"a":["x"]}`)}
	strs := []string{""}
	for l := 0; l < 5; l++ {
		var next []string
		for _, s := range strs {
			if len(s) == l {
				for _, c := range "xyz" {
					next = append(next, s+string(c))
				}
			}
		}
		strs = append(strs, next...)
	}
	for _, s := range strs {
		out = append(out, []byte(fmt.Sprintf(`{"a":%q}`, s)))
	}
	return out
}

// TestPropertyCoversIsExact compares Covers with brute force over every
// value class of one selector, for random patterns over = and != with
// wildcards, NOT EXISTS, IS NULL, IS TRUE and IS FALSE: the fragment where
// Covers claims to be exact. Strings over {x,y,z} up to length 5 realise
// every combination of outcomes of the literals used (at most two letters
// from {x,y}), so brute force is the ground truth.
func TestPropertyCoversIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	events := universe()
	vals := []string{"x", "y", "xy", "yx", "x*", "*x", "*y", "y*", "*x*", "*xy*", "xy*", "*", ""}
	matches := func(p *filterpattern.Pattern) []bool {
		out := make([]bool, len(events))
		for i, ev := range events {
			m, err := p.Match(ev)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = m
		}
		return out
	}
	covers, notCovers := 0, 0
	for i := 0; i < 150; i++ {
		a := filterpattern.MustParse("{" + render(rng, randomTree(rng, 2, []string{"$.a"}, vals, true), true) + "}")
		b := filterpattern.MustParse("{" + render(rng, randomTree(rng, 2, []string{"$.a"}, vals, true), true) + "}")
		ma, mb := matches(a), matches(b)
		want := true
		for j := range events {
			if mb[j] && !ma[j] {
				want = false
				break
			}
		}
		if got := filterpattern.Covers(a, b); got != want {
			t.Errorf("Covers = %v, brute force %v\na: %s\nb: %s", got, want, a, b)
		}
		if want {
			covers++
		} else {
			notCovers++
		}
	}
	// The generator must exercise both answers for the test to mean much.
	if covers < 15 || notCovers < 15 {
		t.Errorf("only %d covering and %d non-covering pairs", covers, notCovers)
	}
}

// TestPropertyCoversIsSound checks, over several selectors (where Covers
// may be conservative), that Covers never claims coverage that an event
// refutes.
func TestPropertyCoversIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sels := []string{"$.a", "$.a.b", "$.c[0]", "$.c[1]", "$.n"}
	vals := []string{"x", "y", "x*", "*y", "*", "1", "2e0", "x*y"}
	var events [][]byte
	av := []string{``, `"a":null`, `"a":"x"`, `"a":"xy"`, `"a":{"b":"x"}`, `"a":{"b":"y"}`, `"a":{"b":1}`}
	cv := []string{``, `"c":[]`, `"c":["x"]`, `"c":["y","x"]`, `"c":[1,2]`, `"c":[null,"xzy"]`}
	nv := []string{``, `"n":1`, `"n":2`, `"n":"1"`, `"n":"x*y"`, `"n":true`}
	for _, a := range av {
		for _, c := range cv {
			for _, n := range nv {
				var parts []string
				for _, p := range []string{a, c, n} {
					if p != "" {
						parts = append(parts, p)
					}
				}
				events = append(events, []byte("{"+strings.Join(parts, ",")+"}"))
			}
		}
	}
	proven := 0
	for i := 0; i < 200; i++ {
		a := filterpattern.MustParse("{" + render(rng, randomTree(rng, 2, sels, vals, true), true) + "}")
		b := filterpattern.MustParse("{" + render(rng, randomTree(rng, 2, sels, vals, true), true) + "}")
		if !filterpattern.Covers(a, b) {
			continue
		}
		proven++
		for _, ev := range events {
			ma, _ := a.Match(ev)
			mb, _ := b.Match(ev)
			if mb && !ma {
				t.Errorf("Covers(a, b) but %s matches b only\na: %s\nb: %s", ev, a, b)
				break
			}
		}
	}
	if proven < 10 {
		t.Errorf("only %d pairs proven covering; the test is not exercising Covers", proven)
	}
}

// TestCatchAllFilter: one deployed filter that ORs several benchmark
// patterns covers each of them (the search stays exact and small however
// many selectors the filter has) and none of them covers it.
func TestCatchAllFilter(t *testing.T) {
	parts := []string{"4.2", "4.3", "4.5", "4.6", "4.7", "4.9"}
	var terms []string
	for _, name := range parts {
		c := filterpattern.MustParse(cisPatterns[name]).String()
		terms = append(terms, "("+c[2:len(c)-2]+")")
	}
	all := filterpattern.MustParse("{" + strings.Join(terms, "||") + "}")
	if n := len(all.Selectors()); n < 7 {
		t.Fatalf("catch-all has %d selectors, want a wide pattern", n)
	}
	for _, name := range parts {
		p := filterpattern.MustParse(cisPatterns[name])
		if !filterpattern.Covers(all, p) {
			t.Errorf("catch-all does not cover %s", name)
		}
		if filterpattern.Covers(p, all) {
			t.Errorf("%s covers the catch-all", name)
		}
	}
	if filterpattern.Covers(all, filterpattern.MustParse(cisPatterns["4.4"])) {
		t.Error("catch-all covers 4.4, which it does not include")
	}
}

// TestConservativeBeyondGuards: more "*x*" literals on one selector than
// the search handles give the documented conservative false, even where
// the true answer is true.
func TestConservativeBeyondGuards(t *testing.T) {
	var terms []string
	for c := 'a'; c <= 'j'; c++ {
		terms = append(terms, "$.m = *"+string(c)+"*")
	}
	p := filterpattern.MustParse("{" + strings.Join(terms, " || ") + "}")
	wider := filterpattern.MustParse("{" + strings.Join(terms, " || ") + " || $.other = x }")
	if filterpattern.Covers(wider, p) {
		t.Error("Covers beyond maxContains returned true; the guard is documented to answer false")
	}
	if !filterpattern.Equivalent(p, filterpattern.MustParse("{"+strings.Join(terms[1:], "||")+"||"+terms[0]+"}")) {
		t.Error("reordering must still be recognised through the canonical form")
	}
}
