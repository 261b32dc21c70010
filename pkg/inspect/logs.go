package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// addLogGroup registers a candidate trail's log group (once per ARN). A log
// group in another account is recorded with the reason it is not read: the
// controls must be enforced in that account.
func (o *observation) addLogGroup(arn string) {
	if _, ok := o.logGroups[arn]; ok {
		return
	}
	lg := &LogGroup{
		ARN:     arn,
		Region:  arnField(arn, 3),
		Account: arnField(arn, 4),
		Filters: []MetricFilter{},
		Alarms:  []Alarm{},
	}
	resource := arnField(arn, 5)
	name, ok := strings.CutPrefix(resource, "log-group:")
	switch {
	case !ok || name == "" || lg.Region == "":
		lg.Error = fmt.Sprintf("malformed CloudWatch Logs log group ARN %q", arn)
	case lg.Account != o.account:
		lg.Error = fmt.Sprintf("log group is in account %s, not the caller's account %s: the monitoring controls must be enforced in account %s", lg.Account, o.account, lg.Account)
	}
	lg.Name = name
	o.logGroups[arn] = lg
}

// metricFilters reads every metric filter on lg (paginated).
func (o *observation) metricFilters(ctx context.Context, lg *LogGroup) {
	p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(o.in.opts.Clients(lg.Region).Logs,
		&cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(lg.Name)})
	var filters []MetricFilter
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
			mf := MetricFilter{
				Name:            aws.ToString(f.FilterName),
				Pattern:         aws.ToString(f.FilterPattern),
				Transformations: make([]MetricTransformation, 0, len(f.MetricTransformations)),
			}
			for _, mt := range f.MetricTransformations {
				mf.Transformations = append(mf.Transformations, MetricTransformation{
					MetricName:      aws.ToString(mt.MetricName),
					MetricNamespace: aws.ToString(mt.MetricNamespace),
					MetricValue:     aws.ToString(mt.MetricValue),
					DefaultValue:    mt.DefaultValue,
					Dimensions:      nilIfEmpty(mt.Dimensions),
				})
			}
			filters = append(filters, mf)
		}
	}
	slices.SortFunc(filters, func(a, b MetricFilter) int { return strings.Compare(a.Name, b.Name) })
	lg.Exists = true
	lg.Filters = filters
	if lg.Filters == nil {
		lg.Filters = []MetricFilter{}
	}
}

// describeOwnAlarms reads every alarm named with Watchkeeper's prefix in
// region (paginated): one listing per region, whatever else is there.
func (o *observation) describeOwnAlarms(ctx context.Context, region string, ra *regionAlarms) {
	p := cloudwatch.NewDescribeAlarmsPaginator(o.in.opts.Clients(region).CloudWatch, &cloudwatch.DescribeAlarmsInput{
		AlarmNamePrefix: aws.String(o.in.opts.NamePrefix),
		AlarmTypes:      []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
		MaxRecords:      aws.Int32(100),
	})
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
		out, err = o.in.opts.Clients(mk.region).CloudWatch.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{
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

// relevantMetrics lists, in a stable order, the metrics published by lg's
// filters that Options.RelevantFilter accepts.
func (o *observation) relevantMetrics(lg *LogGroup) []metricKey {
	var keys []metricKey
	for _, f := range lg.Filters {
		if rel := o.in.opts.RelevantFilter; rel != nil && !rel(f) {
			continue
		}
		for _, mt := range f.Transformations {
			if mt.MetricName == "" {
				continue
			}
			k := metricKey{region: lg.Region, name: mt.MetricName, namespace: mt.MetricNamespace}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// uncoveredMetrics returns the keys that no alarm in own watches (on the
// dimensionless metric, as a filter publishes it).
func uncoveredMetrics(keys []metricKey, own []Alarm) []metricKey {
	var out []metricKey
	for _, k := range keys {
		if len(ownOn(k, own)) == 0 {
			out = append(out, k)
		}
	}
	return out
}

// ownOn returns the alarms in own that watch k's dimensionless metric.
func ownOn(k metricKey, own []Alarm) []Alarm {
	var out []Alarm
	for _, a := range own {
		if a.Region == k.region && a.MetricName == k.name && a.Namespace == k.namespace && !a.HasDimensions {
			out = append(out, a)
		}
	}
	return out
}

// ownAlarmsFail reports whether own alarms watch k but none of them would
// pass: then a person's alarm on k is worth looking up. It reads topics, so
// it runs only after they have been observed.
func (o *observation) ownAlarmsFail(k metricKey, own []Alarm) bool {
	watching := ownOn(k, own)
	if len(watching) == 0 {
		return false // looked up already, in stage 4
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return !slices.ContainsFunc(watching, o.alarmNotifies)
}

// alarmNotifies reports whether alarm a reaches a person, as the planner
// judges it: actions enabled and some SNS action to an existing, readable
// topic with a confirmed subscription whose KMS key (if any) CloudWatch may
// use. Call with o.mu held.
func (o *observation) alarmNotifies(a Alarm) bool {
	if !a.ActionsEnabled {
		return false
	}
	return slices.ContainsFunc(a.AlarmActions, func(act string) bool {
		t, ok := o.topics[act]
		return ok && t.Delivers()
	})
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
func (o *observation) assembleAlarms(lg *LogGroup) {
	if lg.Error != "" || !lg.Exists {
		return
	}
	byARN := map[string]Alarm{}
	if ra := o.ownAlarms[lg.Region]; ra != nil {
		for _, a := range ra.alarms {
			byARN[a.ARN+"\x00"+a.Name] = a
		}
	}
	var errs []string
	for _, mk := range o.relevantMetrics(lg) {
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
	lg.Alarms = make([]Alarm, 0, len(byARN))
	for _, a := range byARN {
		lg.Alarms = append(lg.Alarms, a)
	}
	slices.SortFunc(lg.Alarms, func(a, b Alarm) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ARN, b.ARN)
	})
}

func convertAlarm(a cwtypes.MetricAlarm, region string) Alarm {
	stat := string(a.Statistic)
	if stat == "" {
		stat = aws.ToString(a.ExtendedStatistic)
	}
	return Alarm{
		Name:               aws.ToString(a.AlarmName),
		ARN:                aws.ToString(a.AlarmArn),
		Region:             region,
		MetricName:         aws.ToString(a.MetricName),
		Namespace:          aws.ToString(a.Namespace),
		Statistic:          stat,
		Period:             aws.ToInt32(a.Period),
		EvaluationPeriods:  aws.ToInt32(a.EvaluationPeriods),
		Threshold:          aws.ToFloat64(a.Threshold),
		ComparisonOperator: string(a.ComparisonOperator),
		TreatMissingData:   aws.ToString(a.TreatMissingData),
		ActionsEnabled:     aws.ToBool(a.ActionsEnabled),
		AlarmActions:       nonNil(a.AlarmActions),
		HasDimensions:      len(a.Dimensions) > 0,
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
