package plan

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
)

// cloudTrailShape holds for every CloudTrail record: the CloudTrail User
// Guide, "CloudTrail record contents for management, data, and network
// activity events", marks eventTime, eventVersion, eventSource and
// eventName "Optional: False" (always present).
const cloudTrailShape = `$.eventVersion = * && $.eventTime = * && $.eventSource = * && $.eventName = *`

// everyEvent matches every CloudTrail record. A filter that covers it counts
// every event, so an alarm on it fires on routine activity and hides the
// events the control exists to catch.
//
// Decision: such a filter does not satisfy a control, even though it
// technically covers the prescribed pattern (FAIL with
// CLOUDTRAIL_METRIC_FILTER_NOT_VALID). A filter whose pattern is equivalent
// to an accepted variant is always accepted, so a benchmark text that is
// itself over-broad (the catalog warns about those) never makes Watchkeeper
// fight its own filter.
var everyEvent = mustParseOrNil("{ " + cloudTrailShape + " }")

func mustParseOrNil(s string) *filterpattern.Pattern {
	p, err := filterpattern.Parse(s)
	if err != nil {
		return nil // the over-broad check is then skipped; tests guard this
	}
	return p
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
	return &filterCache{witnesses: allWitnesses(), filters: map[string]parsedFilter{}, controls: map[string]matcher{}}
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
	overBroad          // it covers the control but matches every event
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
	if everyEvent != nil && filterpattern.Covers(f.p, everyEvent) {
		return false, overBroad, "its pattern matches every CloudTrail event, so an alarm on it fires on routine activity and cannot single out the events this control is about"
	}
	return true, 0, ""
}

// metricRef is a metric a filter publishes, counting one per event.
type metricRef struct {
	filter    string
	name      string
	namespace string
}

// verdict is a judgement with its reasons and Security Hub codes.
type verdict struct {
	status  Status
	reasons []string
	codes   []string
}

func (v *verdict) add(code, reason string) {
	v.reasons = append(v.reasons, reason)
	if code != "" && !slices.Contains(v.codes, code) {
		v.codes = append(v.codes, code)
	}
}

// lgState is one control judged on one log group: what satisfies it there
// and what is missing.
type lgState struct {
	lg verdict
	// satisfying are the metrics of filters that satisfy the control,
	// Watchkeeper's own filter first, then by filter name.
	satisfying []metricRef
	// ownFilter is Watchkeeper's filter for the control, if present.
	ownFilter *inspect.MetricFilter
	passWhere string
}

// judgeLogGroup judges control c on log group lg.
func (p *planner) judgeLogGroup(c catalog.Control, m matcher, lg *inspect.LogGroup) lgState {
	var st lgState
	where := fmt.Sprintf("log group %s (%s)", lg.Name, lg.Region)
	if lg.Error != "" {
		st.lg.status = StatusError
		st.lg.add("", fmt.Sprintf("could not read the metric filters and alarms of %s: %s", where, lg.Error))
		return st
	}
	ownName := p.ownName(c)
	filters := slices.Clone(lg.Filters)
	slices.SortFunc(filters, func(a, b inspect.MetricFilter) int {
		switch {
		case a.Name == ownName && b.Name != ownName:
			return -1
		case b.Name == ownName && a.Name != ownName:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	var filterNotes verdict
	for i := range filters {
		f := &filters[i]
		own := f.Name == ownName
		if own {
			st.ownFilter = f
		}
		ok, kind, why := m.satisfies(f.Pattern)
		if !ok {
			// A foreign filter that does not parse or is about
			// something else is simply not this control's filter.
			switch {
			case own && kind == unrelated:
				filterNotes.add(CodeFilterNotValid, fmt.Sprintf("Watchkeeper's metric filter %s on %s has pattern %s, which does not match this control's events", f.Name, where, f.Pattern))
			case own || kind == overBroad:
				filterNotes.add(CodeFilterNotValid, fmt.Sprintf("metric filter %s on %s does not count: %s", f.Name, where, why))
			}
			continue
		}
		ref, counts := countingMetric(*f)
		if !counts && hasDimensionedCount(*f) {
			// Decision: dimensions disqualify the filter, since its
			// events land only in per-dimension series; Watchkeeper adds
			// its own dimensionless filter instead.
			filterNotes.add(CodeFilterNotValid, fmt.Sprintf("metric filter %s on %s matches this control's events but publishes its metric with dimensions (%s), so it emits only per-dimension series; the alarm on the dimensionless metric never fires", f.Name, where, describeDimensions(*f)))
			continue
		}
		if !counts {
			filterNotes.add(CodeFilterNotValid, fmt.Sprintf("metric filter %s on %s matches this control's events but publishes %s instead of 1 per event, so an alarm threshold of 1 does not mean one event", f.Name, where, describeValues(*f)))
			continue
		}
		st.satisfying = append(st.satisfying, ref)
	}
	if len(st.satisfying) == 0 {
		st.lg.status = StatusFail
		st.lg.add(CodeFiltersNotPresent, fmt.Sprintf("no metric filter on %s matches this control's pattern %s", where, c.PatternFor(p.opts.Profile)))
		st.lg.reasons = append(st.lg.reasons, filterNotes.reasons...)
		st.lg.codes = append(st.lg.codes, filterNotes.codes...)
		return st
	}

	var problems verdict
	unknown := false
	for _, ref := range st.satisfying {
		alarms := alarmsOn(lg, ref)
		if len(alarms) == 0 {
			problems.add(CodeAlarmsNotPresent, fmt.Sprintf("no alarm watches metric %s/%s published by metric filter %s on %s", ref.namespace, ref.name, ref.filter, where))
			continue
		}
		for _, a := range alarms {
			ok, code, why, unk := p.judgeAlarm(a)
			if ok {
				st.lg.status = StatusPass
				st.lg.reasons = []string{fmt.Sprintf("metric filter %s on %s counts this control's events and alarm %s notifies %s", ref.filter, where, a.Name, why)}
				st.lg.codes = nil
				st.passWhere = lg.ARN
				return st
			}
			unknown = unknown || unk
			problems.add(code, why)
		}
	}
	st.lg = problems
	st.lg.status = StatusFail
	if unknown {
		st.lg.status = StatusError
	}
	return st
}

// countingMetric returns the first metric the filter publishes with value
// "1" (one per matching event) and without dimensions.
func countingMetric(f inspect.MetricFilter) (metricRef, bool) {
	for _, t := range f.Transformations {
		if strings.TrimSpace(t.MetricValue) == "1" && len(t.Dimensions) == 0 {
			return metricRef{filter: f.Name, name: t.MetricName, namespace: t.MetricNamespace}, true
		}
	}
	return metricRef{}, false
}

// hasDimensionedCount reports whether the filter counts events only into
// metrics with dimensions.
func hasDimensionedCount(f inspect.MetricFilter) bool {
	return slices.ContainsFunc(f.Transformations, func(t inspect.MetricTransformation) bool {
		return strings.TrimSpace(t.MetricValue) == "1" && len(t.Dimensions) > 0
	})
}

// describeDimensions lists a filter's dimensions as name=field, sorted.
func describeDimensions(f inspect.MetricFilter) string {
	var ds []string
	for _, t := range f.Transformations {
		for k, v := range t.Dimensions {
			ds = append(ds, k+"="+v)
		}
	}
	slices.Sort(ds)
	return strings.Join(slices.Compact(ds), ", ")
}

func describeValues(f inspect.MetricFilter) string {
	if len(f.Transformations) == 0 {
		return "no metric"
	}
	var vs []string
	for _, t := range f.Transformations {
		vs = append(vs, fmt.Sprintf("%q as %s/%s", t.MetricValue, t.MetricNamespace, t.MetricName))
	}
	return strings.Join(vs, ", ")
}

// alarmsOn returns the log group's alarms that watch ref's metric without
// dimensions (a filter's metric has none), sorted by name.
func alarmsOn(lg *inspect.LogGroup, ref metricRef) []inspect.Alarm {
	var out []inspect.Alarm
	for _, a := range lg.Alarms {
		if a.MetricName == ref.name && a.Namespace == ref.namespace && !a.HasDimensions {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b inspect.Alarm) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// judgeAlarm reports whether alarm a can notify a person. When it can,
// detail names the topic; otherwise code and detail say what is wrong, and
// unknown is true when that could not be observed.
func (p *planner) judgeAlarm(a inspect.Alarm) (ok bool, code, detail string, unknown bool) {
	if !a.ActionsEnabled {
		return false, CodeAlarmActionsNotValid, fmt.Sprintf("alarm %s (%s) has its actions disabled, so it never notifies anyone; enable them (aws cloudwatch enable-alarm-actions --alarm-names %s --region %s)", a.Name, a.Region, a.Name, a.Region), false
	}
	var topics []string
	for _, act := range a.AlarmActions {
		if strings.HasPrefix(act, "arn:") && strings.Contains(act, ":sns:") {
			topics = append(topics, act)
		}
	}
	if len(topics) == 0 {
		return false, CodeAlarmActionsNotValid, fmt.Sprintf("alarm %s (%s) notifies no SNS topic; add one with a confirmed subscriber to its alarm actions", a.Name, a.Region), false
	}
	var firstCode, firstWhy string
	var anyUnknown bool
	for _, arn := range topics {
		tv := p.judgeTopic(arn)
		if tv.ok {
			return true, "", fmt.Sprintf("topic %s (confirmed subscriptions: %d)", arn, tv.confirmed), false
		}
		anyUnknown = anyUnknown || tv.unknown
		if firstWhy == "" {
			firstCode, firstWhy = tv.code, fmt.Sprintf("alarm %s (%s) notifies %s", a.Name, a.Region, tv.why)
		}
	}
	return false, firstCode, firstWhy, anyUnknown
}

type topicVerdict struct {
	ok        bool
	confirmed int
	code, why string
	unknown   bool
}

// judgeTopic decides whether an alarm notification sent to the topic
// reaches a person.
func (p *planner) judgeTopic(arn string) topicVerdict {
	t, seen := p.s.Topics[arn]
	if !seen && p.isOwnTopic(arn) {
		// The inspector records Watchkeeper's own topic only if it
		// exists (inspect.Snapshot.Topics), so absence means it is gone.
		t, seen = inspect.Topic{ARN: arn}, true
	}
	switch {
	case !seen:
		return topicVerdict{unknown: true, why: fmt.Sprintf("topic %s, which was not observed%s", arn, elsewhere(arn, p.s.Account))}
	case t.Error != "":
		return topicVerdict{unknown: true, why: fmt.Sprintf("topic %s, which could not be read: %s%s", arn, t.Error, elsewhere(arn, p.s.Account))}
	case !t.Exists:
		return topicVerdict{code: CodeAlarmActionsNotValid, why: fmt.Sprintf("topic %s, which does not exist; point the alarm at an existing topic with a confirmed subscriber", arn)}
	}
	if t.KMSKeyID != "" {
		switch {
		case t.KMS == nil:
			return topicVerdict{unknown: true, why: fmt.Sprintf("topic %s, encrypted with KMS key %s whose policy was not observed", arn, t.KMSKeyID)}
		case t.KMS.Error != "":
			return topicVerdict{unknown: true, why: fmt.Sprintf("topic %s, encrypted with KMS key %s whose policy could not be read: %s", arn, t.KMSKeyID, t.KMS.Error)}
		case t.KMS.AWSManaged:
			return topicVerdict{code: CodeTopicInvalid, why: fmt.Sprintf("topic %s, which is encrypted with the AWS managed key alias/aws/sns; CloudWatch cannot use that key, so every alarm notification is silently dropped; encrypt the topic with a customer managed key whose policy lets cloudwatch.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt", arn)}
		case !t.KMS.CloudWatchCanUse:
			return topicVerdict{code: CodeTopicInvalid, why: fmt.Sprintf("topic %s, which is encrypted with KMS key %s whose key policy does not let cloudwatch.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt, so every alarm notification is silently dropped; add that statement to the key policy", arn, keyName(t))}
		}
	}
	if t.ConfirmedSubscriptions == 0 {
		if pending := pendingEndpoints(t); len(pending) > 0 {
			return topicVerdict{code: CodeSubscriptionNotPresent, why: fmt.Sprintf("topic %s, which has no confirmed subscription; confirm the subscription sent to %s", arn, strings.Join(pending, ", "))}
		}
		return topicVerdict{code: CodeSubscriptionNotPresent, why: fmt.Sprintf("topic %s, which has no subscriptions; subscribe a person or system that acts on security alerts", arn)}
	}
	return topicVerdict{ok: true, confirmed: t.ConfirmedSubscriptions}
}

// isOwnTopic reports whether arn is Watchkeeper's topic in some region.
func (p *planner) isOwnTopic(arn string) bool {
	return strings.HasPrefix(arn, "arn:"+p.partition+":sns:") &&
		strings.HasSuffix(arn, ":"+p.s.Account+":"+p.opts.TopicName) &&
		strings.Count(arn, ":") == 5
}

func keyName(t inspect.Topic) string {
	if t.KMS != nil && t.KMS.KeyARN != "" {
		return t.KMS.KeyARN
	}
	return t.KMSKeyID
}

// pendingEndpoints lists the endpoints whose subscriptions await
// confirmation, sorted.
func pendingEndpoints(t inspect.Topic) []string {
	var out []string
	for _, s := range t.Subscriptions {
		if !s.Confirmed() && s.ARN != "Deleted" {
			out = append(out, s.Endpoint)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
