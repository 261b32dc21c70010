package plan

import (
	"fmt"
	"strings"
	"sync"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// cloudTrailShape holds for every CloudTrail record: the CloudTrail User
// Guide, "CloudTrail record contents for management, data, and network
// activity events", marks eventTime, eventVersion, eventSource and
// eventName "Optional: False" (always present).
const cloudTrailShape = `$.eventVersion = * && $.eventTime = * && $.eventSource = * && $.eventName = *`

// Breadth. A filter that covers a control's pattern but also matches
// routine activity does not satisfy the control: its metric receives data
// all day, so its alarm sits in ALARM, and CloudWatch sends an alarm's
// actions only when its state changes (CloudWatch User Guide, "Using Amazon
// CloudWatch alarms": "Alarms invoke actions only when the alarm changes
// state"). One real occurrence of the control's events then reaches no one.
// "Routine" is decided against catalog.RoutineEvents, a shipped corpus of
// realistic high-frequency records (read-only calls, MFA sign-ins,
// AssumeRole, S3 data events, service-linked-role activity), so a superset
// that adds only rare configuration changes still passes. This applies to
// every filter, even one equivalent to an accepted variant: the v1.3.0 to
// v1.5.0 literal 4.1 text matches almost every event, and its alarm can
// never notify (the catalog warns, and Watchkeeper writes the grouped form).

// routineHit reports the name of the first routine event p matches.
func (fc *filterCache) routineHit(text string, p *filterpattern.Pattern) (string, bool) {
	if ev, ok := fc.routine[text]; ok {
		return ev, ev != ""
	}
	hit := ""
	for _, ev := range catalog.RoutineEvents() {
		if ok, err := p.Match(ev.Record); err == nil && ok {
			hit = ev.Name
			break
		}
	}
	fc.routine[text] = hit
	return hit, hit != ""
}

// matcher decides whether filter patterns satisfy one control.
type matcher struct {
	variants []variant
	cache    *filterCache
}

// variant is one accepted pattern of a control.
type variant struct {
	p *filterpattern.Pattern
	// shaped is p restricted to CloudTrail-shaped records: a filter only
	// ever sees CloudTrail records, so { $.eventName = * } does cover a
	// pattern that does not mention eventName. Nil if it cannot be built.
	shaped *filterpattern.Pattern
	hits   []bool // which witnesses p matches
}

// filterCache remembers what one Compute learned about pattern texts and
// control variants, so each is parsed and run against the witnesses once.
type filterCache struct {
	witnesses [][]byte
	filters   map[string]parsedFilter
	controls  map[string]matcher
	// routine remembers, per filter text, the first routine event it
	// matches ("" for none).
	routine map[string]string
}

// variantCache keeps parsed accepted variants across Compute calls. It
// holds only texts that come from the catalog (bounded, immutable data),
// never filter patterns found in an account.
var variantCache = struct {
	sync.Mutex
	m map[string]parsedVariant
}{m: map[string]parsedVariant{}}

type parsedVariant struct {
	pf     parsedFilter
	shaped *filterpattern.Pattern
}

type parsedFilter struct {
	p    *filterpattern.Pattern
	err  error
	hits *witnessHits
}

func newFilterCache() *filterCache {
	return &filterCache{witnesses: allWitnesses(), filters: map[string]parsedFilter{}, controls: map[string]matcher{}, routine: map[string]string{}}
}

func (fc *filterCache) parse(text string) parsedFilter {
	if pf, ok := fc.filters[text]; ok {
		return pf
	}
	variantCache.Lock()
	pv, known := variantCache.m[text]
	variantCache.Unlock()
	if known {
		fc.filters[text] = pv.pf
		return pv.pf
	}
	// A filter found in an account is matched against a witness only when
	// a variant needs that witness: most are refuted by the first.
	p, err := filterpattern.Parse(text)
	pf := parsedFilter{p: p, err: err}
	if err == nil {
		pf.hits = newWitnessHits(p, fc.witnesses)
	}
	fc.filters[text] = pf
	return pf
}

// parseWith parses a variant and matches it against every witness.
func parseWith(text string, witnesses [][]byte) parsedFilter {
	p, err := filterpattern.Parse(text)
	pf := parsedFilter{p: p, err: err}
	if err == nil {
		pf.hits = newWitnessHits(p, witnesses)
		pf.hits.all()
	}
	return pf
}

// matcher returns the matcher for c under profile.
func (fc *filterCache) matcher(c catalog.Control, profile catalog.Profile) matcher {
	key := c.ID + "\x00" + string(profile)
	if m, ok := fc.controls[key]; ok {
		return m
	}
	m := matcher{cache: fc}
	texts := []string{c.PatternFor(profile)}
	for _, v := range c.Accepted {
		texts = append(texts, v.Pattern)
	}
	for _, t := range texts {
		pv := fc.variant(t)
		if pv.pf.err != nil {
			continue
		}
		m.variants = append(m.variants, variant{p: pv.pf.p, shaped: pv.shaped, hits: pv.pf.hits.all()})
	}
	fc.controls[key] = m
	return m
}

// variant parses an accepted variant's text, through variantCache.
func (fc *filterCache) variant(text string) parsedVariant {
	variantCache.Lock()
	defer variantCache.Unlock()
	if pv, ok := variantCache.m[text]; ok {
		return pv
	}
	pv := parsedVariant{pf: parseWith(text, fc.witnesses)}
	if pv.pf.err == nil {
		inner := strings.TrimSuffix(strings.TrimPrefix(pv.pf.p.String(), "{"), "}")
		if sp, err := filterpattern.Parse("{ (" + inner + ") && " + cloudTrailShape + " }"); err == nil {
			pv.shaped = sp
		}
	}
	variantCache.m[text] = pv
	return pv
}

// Why a filter's pattern does not satisfy a control.
const (
	unrelated   = iota // it simply does not match the control's events
	unparseable        // it is not a valid JSON filter pattern
	overBroad          // it covers the control but also matches routine activity
)

// satisfies reports whether pattern text satisfies the control; when it
// does not, kind and why say why (why is empty for unrelated).
func (m matcher) satisfies(text string) (ok bool, kind int, why string) {
	f := m.cache.parse(text)
	if f.err != nil {
		return false, unparseable, fmt.Sprintf("its pattern does not parse (%v)", f.err)
	}
	var candidates []variant
	for _, v := range m.variants {
		// Witnesses are CloudTrail-shaped, so v and v.shaped match the
		// same ones: one refutation rules out both.
		if !refutes(f.hits, v.hits) {
			candidates = append(candidates, v)
		}
	}
	for _, v := range candidates {
		if filterpattern.Equivalent(f.p, v.p) {
			return true, 0, ""
		}
	}
	covers := false
	for _, v := range candidates {
		if filterpattern.Covers(f.p, v.p) || (v.shaped != nil && filterpattern.Covers(f.p, v.shaped)) {
			covers = true
			break
		}
	}
	if !covers {
		return false, unrelated, ""
	}
	if ev, broad := m.cache.routineHit(text, f.p); broad {
		return false, overBroad, fmt.Sprintf("its pattern also matches routine activity such as %s, so its metric gets data all the time, its alarm sits in ALARM, and CloudWatch, which notifies only when an alarm changes state, sends nothing when one of this control's events comes", ev)
	}
	return true, 0, ""
}
