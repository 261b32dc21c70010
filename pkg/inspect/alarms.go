package inspect

import (
	"context"
	"slices"
	"sync"
)

// readAlarms is stages 3 to 5: the alarms on relevant metrics, found as
// cheaply as the account allows, and the topics they notify.
func (o *observation) readAlarms(ctx context.Context) {
	var wg sync.WaitGroup
	topicsWG := &o.topicsWG
	// Stage 3: alarms on relevant metrics no own alarm watches, and the
	// topics known so far; topics found by the fallback are read as soon
	// as they are found, and every topic's key right after its attributes.
	for _, lg := range o.logGroups {
		if lg.Error != "" || !lg.Exists {
			continue
		}
		ra := o.ownAlarms[scope{lg.Account, lg.Region}]
		if ra.err != nil {
			lg.Error = "describe alarms: " + cause(ra.err)
			continue
		}
		for _, m := range o.relevantMetrics(lg) {
			if len(ownOn(m.key, ra.alarms)) == 0 {
				o.lookUpMetric(ctx, &wg, topicsWG, m.key)
			}
		}
		for _, a := range ra.alarms {
			o.topicsOf(ctx, topicsWG, a)
		}
	}
	wg.Wait()
	topicsWG.Wait()

	// Stage 4: where no own alarm on a relevant metric would notify anyone
	// (Options.AlarmNotifies: actions disabled, no topic, topic gone or
	// unsubscribed, key unusable, ...), a person's alarm on the same metric
	// may: read the other alarms on it, and their topics. A compliant
	// account makes no call here. The predicate sees a copy of the topics,
	// so topics read meanwhile cannot race with it.
	topic := o.topicsRead()
	for _, lg := range o.logGroups {
		if lg.Error != "" || !lg.Exists {
			continue
		}
		own := o.ownAlarms[scope{lg.Account, lg.Region}].alarms
		for _, m := range o.relevantMetrics(lg) {
			if o.ownAlarmsFail(m, own, topic) {
				o.lookUpMetric(ctx, &wg, topicsWG, m.key)
			}
		}
	}
	wg.Wait()
	topicsWG.Wait()

	o.listRegionAlarms(ctx)
}

// listRegionAlarms is stage 5, judged on the topics read so far.
func (o *observation) listRegionAlarms(ctx context.Context) {
	var wg sync.WaitGroup
	topicsWG := &o.topicsWG
	topic := o.topicsRead()
	// Stage 5: where a relevant metric still has no alarm that notifies,
	// an alarm on a dimensioned series of it may: DescribeAlarmsForMetric
	// finds only the series whose dimensions it is given ("If the metric
	// has any associated dimensions, you must specify them in order for the
	// call to succeed", CloudWatch API reference), and a filter's dimension
	// values are not known in advance. List the Region's metric alarms once,
	// as the benchmark's audit does (describe-alarms, then MetricName). A
	// control that passes never gets here, so a compliant account's cost
	// does not grow with unrelated alarms; a failing one pays one paginated
	// listing per Region, for a reason that says exactly why.
	for _, lg := range o.logGroups {
		if lg.Error != "" || !lg.Exists {
			continue
		}
		sc := scope{lg.Account, lg.Region}
		if _, listed := o.allAlarms[sc]; listed {
			continue
		}
		if slices.ContainsFunc(o.relevantMetrics(lg), func(m metricRef) bool { return !o.notified(m, sc, topic) }) {
			ra := &regionAlarms{}
			o.allAlarms[sc] = ra
			wg.Go(func() {
				o.describeAlarms(ctx, sc, "", ra)
				for _, a := range ra.alarms {
					if o.watchesRelevant(a, sc.account) {
						o.topicsOf(ctx, topicsWG, a)
					}
				}
			})
		}
	}
	wg.Wait()
	topicsWG.Wait()

}
