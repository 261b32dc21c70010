package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/test/world"
)

// state is everything the monitoring controls touch in some regions, read
// straight from moto (not through the proxy, so no fault or shim interferes
// and nothing is counted). Each resource is its API representation as JSON,
// so "unchanged" means byte-for-byte equal as the API returns it. Lists
// keep every entry, so a duplicate (two filters of one name) shows.
type state struct {
	Filters       map[string][]string // "region logGroup/filterName"
	Alarms        map[string][]string // "region alarmName"
	Topics        map[string][]string // topic ARN -> attributes and tags
	Subscriptions map[string][]string // "topicARN protocol:endpoint"
	Trails        map[string]string   // trail ARN -> definition and selectors (not logging status)
	Logging       map[string]bool     // trail ARN -> IsLogging
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// readState reads regions' filters, alarms, topics, subscriptions and trails.
func (rg *rig) readState(ctx context.Context, regions ...string) (state, error) {
	s := state{Filters: map[string][]string{}, Alarms: map[string][]string{}, Topics: map[string][]string{},
		Subscriptions: map[string][]string{}, Trails: map[string]string{}, Logging: map[string]bool{}}
	for _, r := range regions {
		c := rg.direct(r)
		logs := cloudwatchlogs.NewFromConfig(c)
		fp := cloudwatchlogs.NewDescribeMetricFiltersPaginator(logs, &cloudwatchlogs.DescribeMetricFiltersInput{})
		for fp.HasMorePages() {
			out, err := fp.NextPage(ctx)
			if err != nil {
				return s, fmt.Errorf("describe metric filters in %s: %w", r, err)
			}
			for _, f := range out.MetricFilters {
				f.CreationTime = nil // moto stamps reads
				k := r + " " + aws.ToString(f.LogGroupName) + "/" + aws.ToString(f.FilterName)
				s.Filters[k] = append(s.Filters[k], mustJSON(f))
			}
		}
		cw := cloudwatch.NewFromConfig(c)
		ap := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{})
		for ap.HasMorePages() {
			out, err := ap.NextPage(ctx)
			if err != nil {
				return s, fmt.Errorf("describe alarms in %s: %w", r, err)
			}
			for _, a := range out.MetricAlarms {
				k := r + " " + aws.ToString(a.AlarmName)
				s.Alarms[k] = append(s.Alarms[k], mustJSON(a))
			}
		}
		sn := sns.NewFromConfig(c)
		tp := sns.NewListTopicsPaginator(sn, &sns.ListTopicsInput{})
		for tp.HasMorePages() {
			out, err := tp.NextPage(ctx)
			if err != nil {
				return s, fmt.Errorf("list topics in %s: %w", r, err)
			}
			for _, tpc := range out.Topics {
				arn := aws.ToString(tpc.TopicArn)
				attrs, err := sn.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: tpc.TopicArn})
				if err != nil {
					return s, fmt.Errorf("get topic attributes %s: %w", arn, err)
				}
				tags, err := sn.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: tpc.TopicArn})
				if err != nil {
					return s, fmt.Errorf("list tags of %s: %w", arn, err)
				}
				s.Topics[arn] = append(s.Topics[arn], mustJSON(map[string]any{"attributes": attrs.Attributes, "tags": tags.Tags}))
			}
		}
		sp := sns.NewListSubscriptionsPaginator(sn, &sns.ListSubscriptionsInput{})
		for sp.HasMorePages() {
			out, err := sp.NextPage(ctx)
			if err != nil {
				return s, fmt.Errorf("list subscriptions in %s: %w", r, err)
			}
			for _, sub := range out.Subscriptions {
				k := aws.ToString(sub.TopicArn) + " " + aws.ToString(sub.Protocol) + ":" + aws.ToString(sub.Endpoint)
				s.Subscriptions[k] = append(s.Subscriptions[k], mustJSON(sub))
			}
		}
		ct := cloudtrail.NewFromConfig(c)
		trails, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
		if err != nil {
			return s, fmt.Errorf("describe trails in %s: %w", r, err)
		}
		for _, tr := range trails.TrailList {
			st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: tr.Name})
			if err != nil {
				return s, fmt.Errorf("get trail status %s: %w", aws.ToString(tr.Name), err)
			}
			sel, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: tr.Name})
			if err != nil {
				return s, fmt.Errorf("get event selectors %s: %w", aws.ToString(tr.Name), err)
			}
			arn := aws.ToString(tr.TrailARN)
			s.Trails[arn] = mustJSON(map[string]any{"trail": tr, "classic": sel.EventSelectors, "advanced": sel.AdvancedEventSelectors})
			s.Logging[arn] = aws.ToBool(st.IsLogging)
		}
	}
	return s, nil
}

// owned reports whether a state key names something Watchkeeper owns (and
// may therefore create or rewrite): its prefixed filters and alarms, its
// topic and the topic's subscriptions.
func owned(key string) bool {
	name := key[strings.LastIndexAny(key, " /:")+1:]
	if strings.HasPrefix(name, world.DefaultPrefix) {
		return true
	}
	return strings.Contains(key, ":"+world.DefaultTopicName+" ") || strings.HasSuffix(key, ":"+world.DefaultTopicName)
}

// foreign is the part of s Watchkeeper does not own, as one comparable
// map: filters, alarms, topics, subscriptions and trail definitions.
func (s state) foreign() map[string]string {
	out := map[string]string{}
	add := func(kind string, m map[string][]string) {
		for k, v := range m {
			if !owned(k) {
				out[kind+" "+k] = strings.Join(v, "\n")
			}
		}
	}
	add("filter", s.Filters)
	add("alarm", s.Alarms)
	add("topic", s.Topics)
	add("subscription", s.Subscriptions)
	for k, v := range s.Trails {
		out["trail "+k] = v
	}
	return out
}

// foreignChanges lists the foreign resources that differ between before
// and after (appeared, vanished or changed).
func foreignChanges(before, after state) []string {
	b, a := before.foreign(), after.foreign()
	var out []string
	for k, v := range b {
		switch w, ok := a[k]; {
		case !ok:
			out = append(out, "deleted: "+k)
		case w != v:
			out = append(out, fmt.Sprintf("changed: %s\n  before %s\n  after  %s", k, v, w))
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, "created: "+k)
		}
	}
	sort.Strings(out)
	return out
}

// duplicates lists what exists more than once: a filter name on one log
// group, an alarm name in a region, a topic, a subscription of one endpoint
// to one topic, and Watchkeeper's topic in more than one region.
func (s state) duplicates() []string {
	var out []string
	for kind, m := range map[string]map[string][]string{"filter": s.Filters, "alarm": s.Alarms, "topic": s.Topics, "subscription": s.Subscriptions} {
		for k, v := range m {
			if len(v) > 1 {
				out = append(out, fmt.Sprintf("%s %s x%d", kind, k, len(v)))
			}
		}
	}
	var ours []string
	for arn := range s.Topics {
		if strings.HasSuffix(arn, ":"+world.DefaultTopicName) {
			ours = append(ours, arn)
		}
	}
	if len(ours) > 1 {
		sort.Strings(ours)
		out = append(out, "Watchkeeper topic in several regions: "+strings.Join(ours, ", "))
	}
	sort.Strings(out)
	return out
}

// ownedDefinitions is the part of s Watchkeeper owns, normalised so two
// runs that reach the same end state compare equal: timestamps, alarm
// state and subscription ids (random per Subscribe) are dropped.
func (s state) ownedDefinitions() map[string]string {
	out := map[string]string{}
	for k, v := range s.Filters {
		if owned(k) {
			out["filter "+k] = strings.Join(v, "\n")
		}
	}
	for k, v := range s.Alarms {
		if !owned(k) {
			continue
		}
		var norm []string
		for _, js := range v {
			var m map[string]any
			_ = json.Unmarshal([]byte(js), &m)
			for _, f := range []string{"StateUpdatedTimestamp", "AlarmConfigurationUpdatedTimestamp", "StateReason", "StateReasonData", "StateValue", "StateTransitionedTimestamp"} {
				delete(m, f)
			}
			norm = append(norm, mustJSON(m))
		}
		out["alarm "+k] = strings.Join(norm, "\n")
	}
	for k, v := range s.Topics {
		if owned(k) {
			out["topic "+k] = fmt.Sprint(len(v))
		}
	}
	for k, v := range s.Subscriptions {
		if owned(k) {
			out["subscription "+k] = fmt.Sprint(len(v))
		}
	}
	for k, v := range s.Logging {
		out["logging "+k] = fmt.Sprint(v)
	}
	return out
}
