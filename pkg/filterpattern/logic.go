package filterpattern

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Guards on the Equivalent/Covers search. Beyond them the answer is the
// conservative false.
const (
	// maxSteps bounds the partial assignments the search visits (each
	// costs one evaluation of both trees).
	maxSteps = 1 << 17
	// maxContains bounds the "*x*" literals per selector; witnesses grow
	// as 2^maxContains.
	maxContains = 8
	// maxWitnesses bounds the representative values built per selector.
	maxWitnesses = 1 << 14
)

// Equivalent reports whether a and b match exactly the same events. It is
// exact for the operators the benchmark patterns use and conservative
// (false when not proven) elsewhere; see the package doc.
func Equivalent(a, b *Pattern) bool {
	if a == nil || b == nil || a.root == nil || b.root == nil {
		return false
	}
	if a.canon == b.canon {
		return true
	}
	return decide(a, b) && decide(b, a)
}

// Covers reports whether a matches every event that b matches. It returns
// false when that is not proven; see the package doc for where the answer
// is exact.
func Covers(a, b *Pattern) bool {
	if a == nil || b == nil || a.root == nil || b.root == nil {
		return false
	}
	if a.canon == b.canon {
		return true
	}
	return decide(a, b)
}

// selSpace is one selector's share of the search: its distinct atoms and
// the distinct truth vectors its representative values produce.
type selSpace struct {
	atoms []*Atom
	vecs  [][]bool
}

// cnode is a tree compiled against the selector spaces.
type cnode struct {
	kind   nodeKind
	si, ai int
	kids   []*cnode
}

// Three-valued truth for partial assignments.
const (
	tvFalse uint8 = iota
	tvTrue
	tvUnknown
)

// decide reports whether a covers b by searching for a counterexample: an
// assignment of one truth vector per selector under which b holds and a
// does not. Because each atom depends on its own selector's value only
// and each selector's vectors include every vector a real value can
// produce, the assignments over-approximate the events that can exist: a
// true answer is sound, and exact when the selectors are independent.
//
// The search assigns b's selectors first and evaluates both trees in
// three-valued logic after each assignment, abandoning a branch as soon as
// b is certainly false or a certainly true, so a benchmark pattern pinned
// to one eventSource and a list of event names costs a few hundred steps
// however many other selectors a carries.
func decide(a, b *Pattern) bool {
	bySel := map[string]int{}
	var spaces []*selSpace
	atomIdx := map[string][2]int{}
	var collect func(n *node)
	collect = func(n *node) {
		if n.kind != nodeAtom {
			for _, k := range n.kids {
				collect(k)
			}
			return
		}
		if _, ok := atomIdx[n.canon]; ok {
			return
		}
		si, ok := bySel[n.atom.Selector]
		if !ok {
			si = len(spaces)
			bySel[n.atom.Selector] = si
			spaces = append(spaces, &selSpace{})
		}
		sp := spaces[si]
		atomIdx[n.canon] = [2]int{si, len(sp.atoms)}
		sp.atoms = append(sp.atoms, n.atom)
	}
	collect(b.root) // b's selectors first: they prune soonest
	collect(a.root)
	for _, sp := range spaces {
		vecs, ok := truthVectors(sp.atoms)
		if !ok {
			return false
		}
		sp.vecs = vecs
	}

	var compile func(n *node) *cnode
	compile = func(n *node) *cnode {
		if n.kind == nodeAtom {
			ix := atomIdx[n.canon]
			return &cnode{kind: nodeAtom, si: ix[0], ai: ix[1]}
		}
		c := &cnode{kind: n.kind}
		for _, k := range n.kids {
			c.kids = append(c.kids, compile(k))
		}
		return c
	}
	s := &search{spaces: spaces, ca: compile(a.root), cb: compile(b.root), choice: make([]int, len(spaces))}
	for i := range s.choice {
		s.choice[i] = -1
	}
	found := s.counterexample(0)
	return !found && s.steps <= maxSteps
}

type search struct {
	spaces []*selSpace
	ca, cb *cnode
	choice []int // vector index per selector, -1 while unassigned
	steps  int
}

// counterexample reports whether assigning selectors from i on can make b
// true and a false. It gives up (returning true, i.e. "not proven") once
// the step budget is spent.
func (s *search) counterexample(i int) bool {
	s.steps++
	if s.steps > maxSteps {
		return true
	}
	tb, ta := s.eval(s.cb), s.eval(s.ca)
	if tb == tvFalse || ta == tvTrue {
		return false
	}
	if i == len(s.spaces) {
		// Fully assigned: b true and a false.
		return true
	}
	for v := range s.spaces[i].vecs {
		s.choice[i] = v
		if s.counterexample(i + 1) {
			return true
		}
	}
	s.choice[i] = -1
	return false
}

func (s *search) eval(n *cnode) uint8 {
	switch n.kind {
	case nodeAnd:
		r := tvTrue
		for _, k := range n.kids {
			switch s.eval(k) {
			case tvFalse:
				return tvFalse
			case tvUnknown:
				r = tvUnknown
			}
		}
		return r
	case nodeOr:
		r := tvFalse
		for _, k := range n.kids {
			switch s.eval(k) {
			case tvTrue:
				return tvTrue
			case tvUnknown:
				r = tvUnknown
			}
		}
		return r
	}
	c := s.choice[n.si]
	if c < 0 {
		return tvUnknown
	}
	if s.spaces[n.si].vecs[c][n.ai] {
		return tvTrue
	}
	return tvFalse
}

// truthVectors returns the distinct vectors of atom outcomes that values of
// one selector can produce, over-approximated where exactness would be too
// costly (regexes, numbers); ok is false when the guards are exceeded.
func truthVectors(atoms []*Atom) ([][]bool, bool) {
	c := classifyAtoms(atoms)
	vals, ok := c.witnessValues()
	if !ok {
		return nil, false
	}
	return outcomeVectors(atoms, vals, c.regexes), true
}

// atomClasses are the literals of a selector's atoms, by how they test a
// value.
type atomClasses struct {
	exact, prefix, suffix, contains, regexes []string
	nums                                     []float64
	numeric                                  bool
}

// classifyAtoms sorts the literals of atoms into their classes.
func classifyAtoms(atoms []*Atom) atomClasses {
	var c atomClasses
	for _, a := range atoms {
		if a.Op.Unary() {
			continue
		}
		l := a.lit
		switch {
		case l.re != nil:
			c.regexes = append(c.regexes, a.Value)
			continue
		case a.Op != OpEq && a.Op != OpNe:
			c.numeric = true
			c.nums = append(c.nums, l.num)
			continue
		}
		if l.isNum {
			c.numeric = true
			c.nums = append(c.nums, l.num)
		}
		switch l.kind {
		case globExact:
			c.exact = append(c.exact, l.core)
		case globPrefix:
			c.prefix = append(c.prefix, l.core)
		case globSuffix:
			c.suffix = append(c.suffix, l.core)
		case globContains:
			c.contains = append(c.contains, l.core)
		}
	}
	c.prefix, c.suffix, c.contains = dedupe(c.prefix), dedupe(c.suffix), dedupe(c.contains)
	c.regexes = dedupe(c.regexes)
	return c
}

// witnessValues returns one value per combination of outcomes the classes
// can tell apart, or false when there would be too many.
func (c atomClasses) witnessValues() ([]value, bool) {
	if len(c.contains) > maxContains {
		return nil, false
	}
	texts, ok := witnessTexts(c.exact, c.prefix, c.suffix, c.contains)
	if !ok {
		return nil, false
	}

	vals := []value{{kind: vAbsent}, {kind: vNull}, {kind: vBool, b: true}, {kind: vBool, b: false}, {kind: vComposite}}
	for _, t := range texts {
		vals = append(vals, value{kind: vString, s: t})
	}
	if c.numeric {
		// A JSON number has a text (seen by wildcard and regex atoms) and
		// a value (seen by numeric atoms). For every numeric class rep n,
		// pair n with its own text, the witness texts that are JSON
		// numbers equal to n, and the witness texts that are not JSON
		// numbers at all. A real number's text is either an exact core
		// (a constant, hence some rep n, kept) or has the outcomes of a
		// separator witness, which is never a JSON number, so this
		// over-approximates: sound, and exact unless a wildcard or regex
		// atom and a numeric atom share a selector.
		for _, n := range numberReps(c.nums) {
			ntexts := []string{strconv.FormatFloat(n, 'g', -1, 64)}
			for _, t := range texts {
				if !jsonNumberRE.MatchString(t) {
					ntexts = append(ntexts, t)
				} else if f, err := strconv.ParseFloat(t, 64); err == nil && f == n {
					ntexts = append(ntexts, t)
				}
			}
			if len(vals)+len(ntexts) > maxWitnesses {
				return nil, false
			}
			for _, t := range ntexts {
				vals = append(vals, value{kind: vNumber, s: t, n: n})
			}
		}
	}

	return vals, true
}

// outcomeVectors evaluates every atom on every value (each distinct regex
// both ways) and returns the distinct outcome vectors.
func outcomeVectors(atoms []*Atom, vals []value, regexes []string) [][]bool {
	regexBit := map[string]int{}
	for i, r := range regexes {
		regexBit[r] = i
	}
	seen := map[string]bool{}
	var out [][]bool
	for _, v := range vals {
		free := 0
		if v.kind == vString || v.kind == vNumber {
			free = len(regexes)
		}
		// Each distinct regex is an unknown predicate on string and
		// number values: try both outcomes.
		for bits := 0; bits < 1<<free; bits++ {
			vec := make([]bool, len(atoms))
			var key strings.Builder
			for i, a := range atoms {
				if a.lit.re != nil && free > 0 {
					m := bits&(1<<regexBit[a.Value]) != 0
					vec[i] = m == (a.Op == OpEq)
				} else {
					vec[i] = a.eval(v)
				}
				if vec[i] {
					key.WriteByte('1')
				} else {
					key.WriteByte('0')
				}
			}
			if !seen[key.String()] {
				seen[key.String()] = true
				out = append(out, vec)
			}
		}
	}
	return out
}

// witnessTexts returns strings that realise every combination of outcomes
// of exact, prefix, suffix and contains tests over the given cores: the
// cores themselves, "", and p+F+c1+F+...+ck+F+s for every prefix core p
// (or none), suffix core s (or none) and subset {c1..ck} of the contains
// cores, where F is a character no core contains. For any string x, the
// witness built from the longest prefix core of x, the longest suffix core
// of x and the contains cores inside x has the same outcomes as x (F keeps
// the parts from forming new matches), unless x is itself a core.
func witnessTexts(exact, prefix, suffix, contains []string) ([]string, bool) {
	all := append(append(append(append([]string{}, exact...), prefix...), suffix...), contains...)
	f := separator(all)
	ps := append([]string{""}, prefix...)
	ss := append([]string{""}, suffix...)
	n := len(ps) * len(ss) << len(contains)
	if n+len(all) > maxWitnesses {
		return nil, false
	}
	out := append([]string{""}, all...)
	for _, p := range ps {
		for _, s := range ss {
			for mask := 0; mask < 1<<len(contains); mask++ {
				var b strings.Builder
				b.WriteString(p)
				b.WriteString(f)
				for i, c := range contains {
					if mask&(1<<i) != 0 {
						b.WriteString(c)
						b.WriteString(f)
					}
				}
				b.WriteString(s)
				out = append(out, b.String())
			}
		}
	}
	return out, true
}

// separator returns a one-character string that occurs in none of cores.
func separator(cores []string) string {
	for r := rune(1); ; r++ {
		used := false
		for _, c := range cores {
			if strings.ContainsRune(c, r) {
				used = true
				break
			}
		}
		if !used {
			return string(r)
		}
	}
}

// jsonNumberRE is the JSON number grammar (RFC 8259, section 6).
var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// numberReps returns one number from every class that numeric atoms over
// the constants nums can distinguish: each constant, a point between
// neighbours, and points below and above all of them.
func numberReps(nums []float64) []float64 {
	sort.Float64s(nums)
	var ks []float64
	for i, n := range nums {
		if i == 0 || n != nums[i-1] {
			ks = append(ks, n)
		}
	}
	if len(ks) == 0 {
		return nil
	}
	out := []float64{math.Inf(-1), math.Inf(1)}
	for i, k := range ks {
		out = append(out, k)
		if i+1 < len(ks) {
			out = append(out, k/2+ks[i+1]/2) // no overflow, unlike k+(next-k)/2
		}
	}
	return out
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
