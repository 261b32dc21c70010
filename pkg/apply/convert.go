package apply

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// Ownership tag on everything Watchkeeper creates (docs/contracts.md).
const (
	TagManagedBy      = "ManagedBy"
	TagManagedByValue = "watchkeeper"
)

// withOwnerTag returns tags plus ManagedBy=watchkeeper, which always wins:
// it is how Watchkeeper recognises what it owns.
func withOwnerTag(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags)+1)
	maps.Copy(out, tags)
	out[TagManagedBy] = TagManagedByValue
	return out
}

// sortedKeys makes request bodies deterministic.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func alarmTags(tags map[string]string) []cwtypes.Tag {
	all := withOwnerTag(tags)
	out := make([]cwtypes.Tag, 0, len(all))
	for _, k := range sortedKeys(all) {
		out = append(out, cwtypes.Tag{Key: aws.String(k), Value: aws.String(all[k])})
	}
	return out
}

func metricTransformations(f *plan.FilterSpec) []logstypes.MetricTransformation {
	return []logstypes.MetricTransformation{{
		MetricName:      aws.String(f.MetricName),
		MetricNamespace: aws.String(f.Namespace),
		MetricValue:     aws.String(f.MetricValue),
	}}
}

// eventSelectors converts a complete selector set to the SDK's types, field
// by field, so that PutEventSelectors (which replaces the whole set) keeps
// every existing data-event selector and advanced condition intact.
func eventSelectors(s *account.Selectors) ([]cttypes.EventSelector, []cttypes.AdvancedEventSelector, error) {
	switch {
	case s == nil || (len(s.Classic) == 0 && len(s.Advanced) == 0):
		return nil, nil, fmt.Errorf("%w: PutEventSelectors without selectors would stop all logging", ErrInvalidAction)
	case len(s.Classic) > 0 && len(s.Advanced) > 0:
		// CloudTrail API reference, PutEventSelectors: "you can use either
		// AdvancedEventSelectors or EventSelectors, but not both".
		return nil, nil, fmt.Errorf("%w: a trail takes classic or advanced selectors, not both", ErrInvalidAction)
	}
	var classic []cttypes.EventSelector
	for _, c := range s.Classic {
		sel := cttypes.EventSelector{
			ReadWriteType:                 cttypes.ReadWriteType(c.ReadWriteType),
			IncludeManagementEvents:       aws.Bool(c.IncludeManagementEvents),
			ExcludeManagementEventSources: slices.Clone(c.ExcludeManagementEventSources),
		}
		for _, d := range c.DataResources {
			sel.DataResources = append(sel.DataResources, cttypes.DataResource{
				Type:   aws.String(d.Type),
				Values: slices.Clone(d.Values),
			})
		}
		classic = append(classic, sel)
	}
	var advanced []cttypes.AdvancedEventSelector
	for _, a := range s.Advanced {
		sel := cttypes.AdvancedEventSelector{}
		if a.Name != "" {
			sel.Name = aws.String(a.Name)
		}
		for _, f := range a.FieldSelectors {
			sel.FieldSelectors = append(sel.FieldSelectors, cttypes.AdvancedFieldSelector{
				Field:         aws.String(f.Field),
				Equals:        slices.Clone(f.Equals),
				NotEquals:     slices.Clone(f.NotEquals),
				StartsWith:    slices.Clone(f.StartsWith),
				NotStartsWith: slices.Clone(f.NotStartsWith),
				EndsWith:      slices.Clone(f.EndsWith),
				NotEndsWith:   slices.Clone(f.NotEndsWith),
			})
		}
		advanced = append(advanced, sel)
	}
	return classic, advanced, nil
}

// trailLogGroupARN returns arn in the form UpdateTrail expects, with the
// ":*" suffix: the CloudTrail API reference's Trail.CloudWatchLogsLogGroupArn
// and the user guide ("Sending events to CloudWatch Logs") show
// "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/DefaultLogGroup:*",
// and the console and CLI pass that form.
func trailLogGroupARN(arn string) string {
	if strings.HasSuffix(arn, ":*") {
		return arn
	}
	return arn + ":*"
}

// arnParts returns the service, region and resource of an ARN; ok is
// false when s is not one.
func arnParts(s string) (service, region, resource string, ok bool) {
	a, err := arn.Parse(s)
	if err != nil {
		return "", "", "", false
	}
	return a.Service, a.Region, a.Resource, true
}

// topicKey identifies a topic by region and name: the dependency between a
// CreateTopic and the subscriptions and alarms that use its ARN.
func topicKey(region, name string) string { return region + "/" + name }

// topicKeyOfARN is topicKey for a topic ARN ("" if it is not one).
func topicKeyOfARN(arn string) string {
	svc, region, name, ok := arnParts(arn)
	if !ok || svc != "sns" {
		return ""
	}
	return topicKey(region, name)
}

// logGroupKeyOfARN identifies a log group by region and name, from its ARN
// with or without ":*" ("" if it is not one).
func logGroupKeyOfARN(arn string) string {
	svc, region, res, ok := arnParts(arn)
	if !ok || svc != "logs" || !strings.HasPrefix(res, "log-group:") {
		return ""
	}
	name := strings.TrimSuffix(strings.TrimPrefix(res, "log-group:"), ":*")
	return region + "/" + name
}
