package world

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// State is everything the monitoring controls' alert path touches in some
// regions, read back through the SDK. Each resource is kept as its API
// representation marshalled to JSON, so "unchanged" means byte-for-byte
// equal as the API returns it.
type State struct {
	Filters map[string]string // "region logGroup/filterName" -> DescribeMetricFilters item (without CreationTime)
	Alarms  map[string]string // "region alarmName" -> DescribeAlarms item (metric alarms)
	// Topics maps a topic ARN to its Policy and KmsMasterKeyId attributes
	// when StateOptions.TopicAttributes is set, and to "" otherwise.
	Topics        map[string]string
	Subscriptions map[string]string // "topicARN protocol:endpoint" -> ListSubscriptions item
	// SubscriptionCount counts ListSubscriptions entries per key, so a
	// duplicate subscription (which would collapse in Subscriptions) shows.
	SubscriptionCount map[string]int
	// Keys maps a KMS key ARN to its KeyState, Enabled and default key
	// policy; it is empty unless StateOptions.Keys is set.
	Keys   map[string]string
	Trails map[string]string // trail ARN -> trail, logging status and selectors (keys trail, isLogging, classic, advanced)
}

// StateOptions choose the optional parts of a State; the zero value reads
// filters, alarms, topic ARNs, subscriptions and trails.
type StateOptions struct {
	TopicAttributes bool // read each topic's Policy and KmsMasterKeyId
	Keys            bool // read KMS keys
}

// State reads regions' state through w's configurations.
func (w *World) State(ctx context.Context, opts StateOptions, regions ...string) (State, error) {
	s := State{Filters: map[string]string{}, Alarms: map[string]string{}, Topics: map[string]string{},
		Subscriptions: map[string]string{}, SubscriptionCount: map[string]int{}, Keys: map[string]string{}, Trails: map[string]string{}}
	for _, r := range regions {
		if err := w.readState(ctx, opts, r, &s); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (w *World) readState(ctx context.Context, opts StateOptions, r string, s *State) error {
	c := w.cfg(r)
	fp := cloudwatchlogs.NewDescribeMetricFiltersPaginator(cloudwatchlogs.NewFromConfig(c), &cloudwatchlogs.DescribeMetricFiltersInput{})
	for fp.HasMorePages() {
		out, err := fp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe metric filters in %s: %w", r, err)
		}
		for _, f := range out.MetricFilters {
			f.CreationTime = nil // moto stamps reads; the definition is what matters
			if err := put(s.Filters, r+" "+aws.ToString(f.LogGroupName)+"/"+aws.ToString(f.FilterName), f); err != nil {
				return err
			}
		}
	}
	ap := cloudwatch.NewDescribeAlarmsPaginator(cloudwatch.NewFromConfig(c), &cloudwatch.DescribeAlarmsInput{})
	for ap.HasMorePages() {
		out, err := ap.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe alarms in %s: %w", r, err)
		}
		for _, a := range out.MetricAlarms {
			if err := put(s.Alarms, r+" "+aws.ToString(a.AlarmName), a); err != nil {
				return err
			}
		}
	}
	sn := sns.NewFromConfig(c)
	tp := sns.NewListTopicsPaginator(sn, &sns.ListTopicsInput{})
	for tp.HasMorePages() {
		out, err := tp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list topics in %s: %w", r, err)
		}
		for _, tpc := range out.Topics {
			arn := aws.ToString(tpc.TopicArn)
			s.Topics[arn] = ""
			if !opts.TopicAttributes {
				continue
			}
			attrs, err := sn.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: tpc.TopicArn})
			if err != nil {
				return fmt.Errorf("get attributes of %s: %w", arn, err)
			}
			if err := put(s.Topics, arn, map[string]string{
				"Policy": attrs.Attributes["Policy"], "KmsMasterKeyId": attrs.Attributes["KmsMasterKeyId"],
			}); err != nil {
				return err
			}
		}
	}
	sp := sns.NewListSubscriptionsPaginator(sn, &sns.ListSubscriptionsInput{})
	for sp.HasMorePages() {
		out, err := sp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list subscriptions in %s: %w", r, err)
		}
		for _, sub := range out.Subscriptions {
			key := aws.ToString(sub.TopicArn) + " " + aws.ToString(sub.Protocol) + ":" + aws.ToString(sub.Endpoint)
			if err := put(s.Subscriptions, key, sub); err != nil {
				return err
			}
			s.SubscriptionCount[key]++
		}
	}
	if opts.Keys {
		if err := readKeys(ctx, kms.NewFromConfig(c), r, s); err != nil {
			return err
		}
	}
	ct := cloudtrail.NewFromConfig(c)
	trails, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
	if err != nil {
		return fmt.Errorf("describe trails in %s: %w", r, err)
	}
	for _, tr := range trails.TrailList {
		st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: tr.TrailARN})
		if err != nil {
			return fmt.Errorf("get trail status %s: %w", aws.ToString(tr.Name), err)
		}
		sel, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: tr.TrailARN})
		if err != nil {
			return fmt.Errorf("get event selectors %s: %w", aws.ToString(tr.Name), err)
		}
		if err := put(s.Trails, aws.ToString(tr.TrailARN), map[string]any{
			"trail": tr, "isLogging": st.IsLogging, "classic": sel.EventSelectors, "advanced": sel.AdvancedEventSelectors,
		}); err != nil {
			return err
		}
	}
	return nil
}

func readKeys(ctx context.Context, km *kms.Client, r string, s *State) error {
	kp := kms.NewListKeysPaginator(km, &kms.ListKeysInput{})
	for kp.HasMorePages() {
		out, err := kp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list keys in %s: %w", r, err)
		}
		for _, k := range out.Keys {
			meta, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyArn})
			if err != nil {
				return fmt.Errorf("describe key %s: %w", aws.ToString(k.KeyArn), err)
			}
			pol, err := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyArn, PolicyName: aws.String("default")})
			if err != nil {
				return fmt.Errorf("get key policy of %s: %w", aws.ToString(k.KeyArn), err)
			}
			if err := put(s.Keys, aws.ToString(k.KeyArn), map[string]any{
				"KeyState": meta.KeyMetadata.KeyState, "Enabled": meta.KeyMetadata.Enabled, "Policy": aws.ToString(pol.Policy),
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// put stores v's JSON under key.
func put(m map[string]string, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", key, err)
	}
	m[key] = string(b)
	return nil
}

// Owned reports whether a State key names something Watchkeeper owns under
// the default names (and may therefore rewrite): its prefixed filters and
// alarms, its topic and the topic's subscriptions.
func Owned(key string) bool {
	name := key[strings.LastIndexAny(key, " /:")+1:]
	if strings.HasPrefix(name, DefaultPrefix) {
		return true
	}
	return strings.Contains(key, ":"+DefaultTopicName+" ") || strings.HasSuffix(key, ":"+DefaultTopicName)
}

// Unowned returns the part of m Watchkeeper does not own, less the keys in
// mayChange.
func Unowned[V any](m map[string]V, mayChange ...string) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		if !Owned(k) && !slices.Contains(mayChange, k) {
			out[k] = v
		}
	}
	return out
}
