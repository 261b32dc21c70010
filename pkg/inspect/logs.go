package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// addLogGroup registers a candidate trail's log group (once per ARN) and
// returns it, or nil when it was registered already. A log group in another
// account is recorded with the reason it is not read: the controls must be
// enforced in that account.
func (o *observation) addLogGroup(groupARN string) *account.LogGroup {
	if _, ok := o.logGroups[groupARN]; ok {
		return nil
	}
	a, _ := arn.Parse(groupARN) // the zero ARN when malformed
	lg := &account.LogGroup{
		ARN:     groupARN,
		Region:  a.Region,
		Account: a.AccountID,
		Filters: []account.MetricFilter{},
		Alarms:  []account.Alarm{},
	}
	name, ok := strings.CutPrefix(a.Resource, "log-group:")
	switch {
	case !ok || name == "" || lg.Region == "":
		lg.Error = fmt.Sprintf("malformed CloudWatch Logs log group ARN %q", groupARN)
	case !o.readable(lg.Account):
		lg.Error = fmt.Sprintf("log group is in account %s, not the caller's account %s: the monitoring controls must be enforced in account %s", lg.Account, o.account, lg.Account)
	}
	lg.Name = name
	o.logGroups[groupARN] = lg
	return lg
}

// metricFilters reads every metric filter on lg (paginated).
func (o *observation) metricFilters(ctx context.Context, lg *account.LogGroup) {
	p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(o.clients(lg.Account, lg.Region).Logs,
		&cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(lg.Name)})
	var filters []account.MetricFilter
	for p.HasMorePages() {
		var out *cloudwatchlogs.DescribeMetricFiltersOutput
		err := o.call(ctx, func() (err error) {
			out, err = p.NextPage(ctx)
			return err
		})
		var notFound *logtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &notFound):
			lg.Exists = false
			return
		case err != nil:
			lg.Error = "describe metric filters: " + cause(err)
			return
		}
		for _, f := range out.MetricFilters {
			mf := account.MetricFilter{
				Name:            aws.ToString(f.FilterName),
				Pattern:         aws.ToString(f.FilterPattern),
				Transformations: make([]account.MetricTransformation, 0, len(f.MetricTransformations)),
			}
			for _, mt := range f.MetricTransformations {
				mf.Transformations = append(mf.Transformations, account.MetricTransformation{
					MetricName:      aws.ToString(mt.MetricName),
					MetricNamespace: aws.ToString(mt.MetricNamespace),
					MetricValue:     aws.ToString(mt.MetricValue),
					DefaultValue:    mt.DefaultValue,
					Dimensions:      nilIfEmpty(mt.Dimensions),
					Unit:            string(mt.Unit),
				})
			}
			filters = append(filters, mf)
		}
	}
	slices.SortFunc(filters, func(a, b account.MetricFilter) int { return strings.Compare(a.Name, b.Name) })
	lg.Exists = true
	lg.Filters = filters
	if lg.Filters == nil {
		lg.Filters = []account.MetricFilter{}
	}
}

// describeOwnAlarms reads every alarm named with Watchkeeper's prefix in
// region (paginated): one listing per region, whatever else is there.
func (o *observation) describeOwnAlarms(ctx context.Context, sc scope, ra *regionAlarms) {
	o.describeAlarms(ctx, sc, o.in.opts.NamePrefix, ra)
}

// describeAlarms reads every metric alarm in region whose name starts with
// prefix ("" for all), paginated.
func (o *observation) describeAlarms(ctx context.Context, sc scope, prefix string, ra *regionAlarms) {
	region := sc.region
	in := &cloudwatch.DescribeAlarmsInput{
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
		MaxRecords: aws.Int32(100),
	}
	if prefix != "" {
		in.AlarmNamePrefix = aws.String(prefix)
	}
	p := cloudwatch.NewDescribeAlarmsPaginator(o.clients(sc.account, region).CloudWatch, in)
	for p.HasMorePages() {
		var out *cloudwatch.DescribeAlarmsOutput
		err := o.call(ctx, func() (err error) {
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			ra.err = err
			return
		}
		for _, a := range out.MetricAlarms {
			ra.alarms = append(ra.alarms, convertAlarm(a, region))
		}
	}
}

// alarmsForMetric reads the alarms on one metric (DescribeAlarmsForMetric
// is not paginated).
func (o *observation) alarmsForMetric(ctx context.Context, mk metricKey, ma *metricAlarms) {
	var out *cloudwatch.DescribeAlarmsForMetricOutput
	err := o.call(ctx, func() (err error) {
		out, err = o.clients(mk.account, mk.region).CloudWatch.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{
			MetricName: aws.String(mk.name),
			Namespace:  aws.String(mk.namespace),
		})
		return err
	})
	if err != nil {
		ma.err = err
		return
	}
	for _, a := range out.MetricAlarms {
		ma.alarms = append(ma.alarms, convertAlarm(a, mk.region))
	}
}

// metricRef is a metric published by relevant filters of one log group,
// with the transformations that publish it.
type metricRef struct {
	key   metricKey
	feeds []account.MetricTransformation
}

// relevantMetrics lists, in a stable order, the metrics published by lg's
// filters that Options.RelevantFilter accepts. Call it once lg's filters
// are read; it remembers its answer for lg.
func (o *observation) relevantMetrics(lg *account.LogGroup) []metricRef {
	if refs, ok := o.relevant[lg.ARN]; ok {
		return refs
	}
	var refs []metricRef
	for _, f := range lg.Filters {
		if rel := o.in.opts.RelevantFilter; rel != nil && !rel(f) {
			continue
		}
		for _, mt := range f.Transformations {
			if mt.MetricName == "" {
				continue
			}
			k := metricKey{account: lg.Account, region: lg.Region, name: mt.MetricName, namespace: mt.MetricNamespace}
			i := slices.IndexFunc(refs, func(r metricRef) bool { return r.key == k })
			if i < 0 {
				i = len(refs)
				refs = append(refs, metricRef{key: k})
			}
			refs[i].feeds = append(refs[i].feeds, mt)
		}
	}
	o.relevant[lg.ARN] = refs
	return refs
}

// ownOn returns the alarms in own that watch k's dimensionless metric (a
// filter publishes its metric without dimensions unless it names some).
func ownOn(k metricKey, own []account.Alarm) []account.Alarm {
	var out []account.Alarm
	for _, a := range own {
		if a.Region == k.region && a.MetricName == k.name && a.Namespace == k.namespace && len(a.Dimensions) == 0 {
			out = append(out, a)
		}
	}
	return out
}

// ownAlarmsFail reports whether own alarms watch m but, for some
// transformation feeding m, none of them would turn one event into a
// delivered notification (Options.AlarmNotifies): then a person's alarm on
// m is worth looking up. Without AlarmNotifies every watched metric fails.
// topic looks up observed topics; call it once they have all been read.
func (o *observation) ownAlarmsFail(m metricRef, own []account.Alarm, topic func(arn string) (account.Topic, bool)) bool {
	watching := ownOn(m.key, own)
	if len(watching) == 0 {
		return false // looked up already, in stage 3
	}
	notifies := o.in.opts.AlarmNotifies
	if notifies == nil {
		return true
	}
	return slices.ContainsFunc(m.feeds, func(t account.MetricTransformation) bool {
		return !slices.ContainsFunc(watching, func(a account.Alarm) bool { return notifies(a, t, topic) })
	})
}

// notified reports whether, for every transformation feeding m, some alarm
// found so far on m's name and namespace (own, or by metric) notifies.
func (o *observation) notified(m metricRef, sc scope, topic func(arn string) (account.Topic, bool)) bool {
	notifies := o.in.opts.AlarmNotifies
	if notifies == nil {
		return false
	}
	var alarms []account.Alarm
	if ra := o.ownAlarms[sc]; ra != nil {
		alarms = append(alarms, ra.alarms...)
	}
	if ma, ok := o.forMetric[m.key]; ok {
		alarms = append(alarms, ma.alarms...)
	}
	return !slices.ContainsFunc(m.feeds, func(t account.MetricTransformation) bool {
		return !slices.ContainsFunc(alarms, func(a account.Alarm) bool {
			return a.MetricName == m.key.name && a.Namespace == m.key.namespace && notifies(a, t, topic)
		})
	})
}

// watchesRelevant reports whether a, listed in acct, names a relevant
// metric of some log group of acct in its Region (whatever its dimensions).
func (o *observation) watchesRelevant(a account.Alarm, acct string) bool {
	for _, lg := range o.logGroups {
		if lg.Region != a.Region || lg.Account != acct || lg.Error != "" || !lg.Exists {
			continue
		}
		if slices.ContainsFunc(o.relevantMetrics(lg), func(m metricRef) bool {
			return m.key.name == a.MetricName && m.key.namespace == a.Namespace
		}) {
			return true
		}
	}
	return false
}

// lookUpMetric starts DescribeAlarmsForMetric for mk (once per
// observation) and reads the topics of the alarms it finds.
func (o *observation) lookUpMetric(ctx context.Context, wg, topicsWG *sync.WaitGroup, mk metricKey) {
	o.mu.Lock()
	ma, started := o.forMetric[mk]
	if !started {
		ma = &metricAlarms{}
		o.forMetric[mk] = ma
	}
	o.mu.Unlock()
	if started {
		return
	}
	wg.Go(func() {
		o.alarmsForMetric(ctx, mk, ma)
		for _, a := range ma.alarms {
			o.topicsOf(ctx, topicsWG, a)
		}
	})
}

// assembleAlarms sets lg.Alarms: Watchkeeper's own alarms in lg's region
// plus the alarms found on its filters' metrics, de-duplicated and sorted.
func (o *observation) assembleAlarms(lg *account.LogGroup) {
	if lg.Error != "" || !lg.Exists {
		return
	}
	byARN := map[string]account.Alarm{}
	sc := scope{lg.Account, lg.Region}
	if ra := o.ownAlarms[sc]; ra != nil {
		for _, a := range ra.alarms {
			byARN[a.ARN+"\x00"+a.Name] = a
		}
	}
	var errs []string
	if ra := o.allAlarms[sc]; ra != nil {
		if ra.err != nil {
			errs = append(errs, "describe alarms: "+cause(ra.err))
		}
		for _, a := range ra.alarms {
			if o.watchesRelevant(a, lg.Account) {
				byARN[a.ARN+"\x00"+a.Name] = a
			}
		}
	}
	for _, m := range o.relevantMetrics(lg) {
		mk := m.key
		ma, ok := o.forMetric[mk]
		if !ok {
			continue // an own alarm on it notifies a person
		}
		if ma.err != nil {
			errs = append(errs, fmt.Sprintf("describe alarms for metric %s/%s: %s", mk.namespace, mk.name, cause(ma.err)))
			continue
		}
		for _, a := range ma.alarms {
			byARN[a.ARN+"\x00"+a.Name] = a
		}
	}
	if len(errs) > 0 {
		lg.Error = strings.Join(errs, "; ")
	}
	lg.Alarms = make([]account.Alarm, 0, len(byARN))
	for _, a := range byARN {
		lg.Alarms = append(lg.Alarms, a)
	}
	slices.SortFunc(lg.Alarms, func(a, b account.Alarm) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ARN, b.ARN)
	})
}

func convertAlarm(a cwtypes.MetricAlarm, region string) account.Alarm {
	var dims map[string]string
	if len(a.Dimensions) > 0 {
		dims = make(map[string]string, len(a.Dimensions))
		for _, d := range a.Dimensions {
			dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
	}
	return account.Alarm{
		Name:              aws.ToString(a.AlarmName),
		ARN:               aws.ToString(a.AlarmArn),
		Region:            region,
		MetricName:        aws.ToString(a.MetricName),
		Namespace:         aws.ToString(a.Namespace),
		Dimensions:        dims,
		Statistic:         string(a.Statistic),
		ExtendedStatistic: aws.ToString(a.ExtendedStatistic),

		EvaluateLowSampleCountPercentile: aws.ToString(a.EvaluateLowSampleCountPercentile),
		Unit:                             string(a.Unit),
		Period:                           aws.ToInt32(a.Period),
		EvaluationPeriods:                aws.ToInt32(a.EvaluationPeriods),
		DatapointsToAlarm:                aws.ToInt32(a.DatapointsToAlarm),
		Threshold:                        aws.ToFloat64(a.Threshold),
		ComparisonOperator:               string(a.ComparisonOperator),
		ThresholdMetricID:                aws.ToString(a.ThresholdMetricId),
		MetricMath:                       len(a.Metrics) > 0,
		TreatMissingData:                 aws.ToString(a.TreatMissingData),
		ActionsEnabled:                   aws.ToBool(a.ActionsEnabled),
		AlarmActions:                     nonNil(a.AlarmActions),
		StateValue:                       string(a.StateValue),
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
