package awsproxy

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// The moto shims are test-only emulations of AWS behaviour that moto 5.2.1
// lacks. They talk to the target directly (uncounted): from the client's
// point of view each shimmed call is one call.

// ShimAlarmActions answers CloudWatch EnableAlarmActions and
// DisableAlarmActions, which moto 5.2.1 does not implement.
//
// AWS (CloudWatch API reference, EnableAlarmActions / DisableAlarmActions):
// the request carries AlarmNames.member.N (up to 100); the call sets the
// alarms' ActionsEnabled and changes nothing else; the response is an
// empty <EnableAlarmActionsResponse> with ResponseMetadata. The shim reads
// each alarm with DescribeAlarms and its tags with ListTagsForResource and
// re-puts it with PutMetricAlarm, every field preserved and ActionsEnabled
// toggled. Names that match no alarm are ignored, as AWS does. (moto resets
// the alarm's state to INSUFFICIENT_DATA on a re-put; AWS keeps the state.)
func (p *Proxy) ShimAlarmActions() {
	p.Handle(ServiceCloudWatch, "EnableAlarmActions", p.alarmActions(true))
	p.Handle(ServiceCloudWatch, "DisableAlarmActions", p.alarmActions(false))
}

func (p *Proxy) alarmActions(enable bool) HookFunc {
	return func(req *Request, _ Next) (*Response, error) {
		ctx := req.HTTP.Context()
		if err := p.setActionsEnabled(ctx, req.Region, members(req.Form, "AlarmNames"), enable); err != nil {
			return ErrorResponse(req, http.StatusInternalServerError, "InternalFailure", err.Error()), nil
		}
		body := fmt.Sprintf(`<%[1]sResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">`+
			`<ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000001</RequestId></ResponseMetadata>`+
			`</%[1]sResponse>`, req.Operation)
		h := http.Header{}
		h.Set("Content-Type", "text/xml")
		return &Response{StatusCode: http.StatusOK, Header: h, Body: []byte(body)}, nil
	}
}

func (p *Proxy) setActionsEnabled(ctx context.Context, region string, names []string, enable bool) error {
	if len(names) == 0 {
		return nil
	}
	cw := cloudwatch.NewFromConfig(moto.Config(p.Target(), region))
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names, MaxRecords: aws.Int32(100)})
	if err != nil {
		return fmt.Errorf("describe alarms: %w", err)
	}
	for _, a := range out.MetricAlarms {
		tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
		if err != nil {
			return fmt.Errorf("list tags of %s: %w", aws.ToString(a.AlarmName), err)
		}
		in := &cloudwatch.PutMetricAlarmInput{
			AlarmName:                        a.AlarmName,
			AlarmDescription:                 a.AlarmDescription,
			ActionsEnabled:                   aws.Bool(enable),
			AlarmActions:                     a.AlarmActions,
			OKActions:                        a.OKActions,
			InsufficientDataActions:          a.InsufficientDataActions,
			MetricName:                       a.MetricName,
			Namespace:                        a.Namespace,
			Statistic:                        a.Statistic,
			ExtendedStatistic:                a.ExtendedStatistic,
			Dimensions:                       a.Dimensions,
			Period:                           a.Period,
			Unit:                             a.Unit,
			EvaluationPeriods:                a.EvaluationPeriods,
			DatapointsToAlarm:                a.DatapointsToAlarm,
			Threshold:                        a.Threshold,
			ComparisonOperator:               a.ComparisonOperator,
			TreatMissingData:                 a.TreatMissingData,
			EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile,
			Metrics:                          a.Metrics,
			ThresholdMetricId:                a.ThresholdMetricId,
			Tags:                             tags.Tags,
		}
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			return fmt.Errorf("re-put alarm %s: %w", aws.ToString(a.AlarmName), err)
		}
	}
	return nil
}

// members returns the awsQuery list parameter name.member.1..N.
func members(form map[string][]string, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[name+".member."+strconv.Itoa(i)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// MarkPending makes the subscriptions of protocol and endpoint (e.g.
// "email", "pending@example.com") look unconfirmed, on every topic, until
// Confirm. moto confirms every subscription at once; AWS lists an
// unconfirmed subscription with SubscriptionArn "PendingConfirmation" and
// counts it in the topic's SubscriptionsPending attribute, not in
// SubscriptionsConfirmed (SNS API reference: ListSubscriptionsByTopic,
// GetTopicAttributes; SNS developer guide, "Confirm your subscription").
//
// The shim rewrites ListSubscriptionsByTopic and ListSubscriptions answers,
// sets GetTopicAttributes' SubscriptionsConfirmed and SubscriptionsPending
// from the topic's real subscription list (moto 5.2.1 always reports 0 for
// both), and answers Subscribe without ReturnSubscriptionArn with
// "pending confirmation", as AWS does for an unconfirmed endpoint.
func (p *Proxy) MarkPending(protocol, endpoint string) {
	p.mu.Lock()
	if p.pending == nil {
		p.pending = map[string]bool{}
	}
	p.pending[protocol+":"+endpoint] = true
	p.mu.Unlock()
	p.ShimSubscriptions()
}

// ShimSubscriptions installs the subscription hooks MarkPending relies on
// (once, however often it is called). On its own it corrects
// GetTopicAttributes' SubscriptionsConfirmed, which moto 5.2.1 always
// reports as 0.
func (p *Proxy) ShimSubscriptions() {
	p.pendingOnce.Do(func() {
		p.Handle(ServiceSNS, "ListSubscriptionsByTopic", p.rewriteSubscriptionList)
		p.Handle(ServiceSNS, "ListSubscriptions", p.rewriteSubscriptionList)
		p.Handle(ServiceSNS, "GetTopicAttributes", p.rewriteTopicCounts)
		p.Handle(ServiceSNS, "Subscribe", p.rewriteSubscribe)
	})
}

// Confirm ends MarkPending for protocol and endpoint, as if the recipient
// had confirmed.
func (p *Proxy) Confirm(protocol, endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pending, protocol+":"+endpoint)
}

func (p *Proxy) isPending(protocol, endpoint string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending[protocol+":"+endpoint]
}

var (
	memberRE  = regexp.MustCompile(`(?s)<member>.*?</member>`)
	subArnRE  = regexp.MustCompile(`<SubscriptionArn>[^<]*</SubscriptionArn>`)
	protoRE   = regexp.MustCompile(`<Protocol>([^<]*)</Protocol>`)
	endpRE    = regexp.MustCompile(`<Endpoint>([^<]*)</Endpoint>`)
	entryRE   = regexp.MustCompile(`(?s)<entry>\s*<key>(SubscriptionsConfirmed|SubscriptionsPending)</key>\s*<value>[^<]*</value>\s*</entry>`)
	entryKeyR = regexp.MustCompile(`<key>([^<]*)</key>`)
)

func xmlText(re *regexp.Regexp, s string) string {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	var v string
	if err := xml.Unmarshal([]byte("<v>"+m[1]+"</v>"), &v); err != nil {
		return m[1]
	}
	return v
}

func (p *Proxy) rewriteSubscriptionList(_ *Request, next Next) (*Response, error) {
	resp, err := next()
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	resp.Body = memberRE.ReplaceAllFunc(resp.Body, func(m []byte) []byte {
		s := string(m)
		if !p.isPending(xmlText(protoRE, s), xmlText(endpRE, s)) {
			return m
		}
		return []byte(subArnRE.ReplaceAllString(s, "<SubscriptionArn>PendingConfirmation</SubscriptionArn>"))
	})
	return resp, nil
}

func (p *Proxy) rewriteTopicCounts(req *Request, next Next) (*Response, error) {
	resp, err := next()
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	client := sns.NewFromConfig(moto.Config(p.Target(), req.Region))
	confirmed, pending := 0, 0
	pages := sns.NewListSubscriptionsByTopicPaginator(client, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(req.Form.Get("TopicArn"))})
	for pages.HasMorePages() {
		page, err := pages.NextPage(req.HTTP.Context())
		if err != nil {
			return ErrorResponse(req, http.StatusInternalServerError, "InternalFailure", err.Error()), nil
		}
		for _, s := range page.Subscriptions {
			switch {
			case p.isPending(aws.ToString(s.Protocol), aws.ToString(s.Endpoint)):
				pending++
			case strings.HasPrefix(aws.ToString(s.SubscriptionArn), "arn:"):
				confirmed++
			}
		}
	}
	resp.Body = entryRE.ReplaceAllFunc(resp.Body, func(m []byte) []byte {
		key := xmlText(entryKeyR, string(m))
		n := confirmed
		if key == "SubscriptionsPending" {
			n = pending
		}
		return fmt.Appendf(nil, "<entry><key>%s</key><value>%d</value></entry>", key, n)
	})
	return resp, nil
}

func (p *Proxy) rewriteSubscribe(req *Request, next Next) (*Response, error) {
	resp, err := next()
	if err != nil || resp.StatusCode != http.StatusOK ||
		!p.isPending(req.Form.Get("Protocol"), req.Form.Get("Endpoint")) ||
		req.Form.Get("ReturnSubscriptionArn") == "true" {
		return resp, err
	}
	resp.Body = subArnRE.ReplaceAll(resp.Body, []byte("<SubscriptionArn>pending confirmation</SubscriptionArn>"))
	return resp, nil
}

// ShimTrailARNs lets CloudTrail StartLogging, StopLogging and DeleteTrail
// take a trail ARN, as AWS does ("Name: Specifies the name or the
// CloudTrail ARN of the trail", CloudTrail API reference, StartLogging;
// likewise StopLogging and DeleteTrail). moto 5.2.1 looks these up by name
// only and answers an ARN with HTTP 500 (StartLogging, StopLogging) or
// silently does nothing (DeleteTrail). The shim rewrites an ARN in Name to
// the trail name; moto keeps one account, so the name is unambiguous.
func (p *Proxy) ShimTrailARNs() {
	for _, op := range []string{"StartLogging", "StopLogging", "DeleteTrail"} {
		p.Handle(ServiceCloudTrail, op, rewriteTrailName)
	}
}

func rewriteTrailName(req *Request, next Next) (*Response, error) {
	var in map[string]any
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return next()
	}
	name, _ := in["Name"].(string)
	if _, trail, ok := strings.Cut(name, ":trail/"); ok && strings.HasPrefix(name, "arn:") {
		in["Name"] = trail
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("re-encode %s: %w", req.Operation, err)
		}
		req.Body = b
	}
	return next()
}

// ShimMetricFilterUpsert makes CloudWatch Logs PutMetricFilter replace a
// filter of the same name on the same log group, as AWS does ("Creates or
// updates a metric filter and associates it with the specified log group",
// CloudWatch Logs API reference, PutMetricFilter). moto 5.2.1 appends a
// second filter with the same name instead, so a re-put looks like a
// duplicate. The shim deletes the existing filter of that name first (the
// client sees one call), then forwards the put.
func (p *Proxy) ShimMetricFilterUpsert() {
	p.Handle(ServiceLogs, "PutMetricFilter", p.upsertMetricFilter)
}

func (p *Proxy) upsertMetricFilter(req *Request, next Next) (*Response, error) {
	// Serialised: two concurrent delete-then-put sequences would otherwise
	// leave moto with two filters of one name, which AWS never does.
	p.upsertMu.Lock()
	defer p.upsertMu.Unlock()
	var in struct{ LogGroupName, FilterName string }
	if err := json.Unmarshal(req.Body, &in); err != nil || in.LogGroupName == "" || in.FilterName == "" {
		return next() // let moto reject it
	}
	ctx := req.HTTP.Context()
	logs := cloudwatchlogs.NewFromConfig(moto.Config(p.Target(), req.Region))
	// Bounded: moto's delete removes entries while iterating, so a list that
	// already holds duplicates may need more than one pass.
	for range 10 {
		out, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{
			LogGroupName: aws.String(in.LogGroupName), FilterNamePrefix: aws.String(in.FilterName),
		})
		if err != nil {
			return next() // e.g. no such log group: moto answers the put
		}
		exists := false
		for _, f := range out.MetricFilters {
			exists = exists || aws.ToString(f.FilterName) == in.FilterName
		}
		if !exists {
			break
		}
		if _, err := logs.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{
			LogGroupName: aws.String(in.LogGroupName), FilterName: aws.String(in.FilterName),
		}); err != nil {
			return nil, fmt.Errorf("delete filter %s before re-put: %w", in.FilterName, err)
		}
	}
	return next()
}

// ShimAll installs every moto shim: ShimAlarmActions, ShimTrailARNs,
// ShimMetricFilterUpsert, ShimSubscriptions (MarkPending then only names
// endpoints), ShimAlarmsForMetricDimensions, ShimInitialAlarmState and
// ShimKeyARNs.
func (p *Proxy) ShimAll() {
	p.ShimAlarmActions()
	p.ShimTrailARNs()
	p.ShimMetricFilterUpsert()
	p.ShimSubscriptions()
	p.ShimAlarmsForMetricDimensions()
	p.ShimInitialAlarmState()
	p.ShimKeyStates()
}
