package awsproxy_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// motoURL is one moto_server shared by the package's tests; each test uses
// its own resource names.
var motoURL string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "awsproxy-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, err := moto.Launch(filepath.Join(dir, "moto.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	motoURL = srv.URL
	code := m.Run()
	srv.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newProxy(t *testing.T) *awsproxy.Proxy {
	t.Helper()
	p := awsproxy.New(motoURL)
	t.Cleanup(p.Close)
	return p
}

func TestCountsByServiceOperationRegion(t *testing.T) {
	p := newProxy(t)
	ctx := t.Context()
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		cfg := moto.Config(p.URL, region)
		logs := cloudwatchlogs.NewFromConfig(cfg)
		if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("counts")}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("counts")}); err != nil {
			t.Fatal(err)
		}
		if _, err := cloudtrail.NewFromConfig(cfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
			t.Fatal(err)
		}
		cw := cloudwatch.NewFromConfig(cfg)
		for range 2 {
			if _, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sts.NewFromConfig(moto.Config(p.URL, "eu-west-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec2.NewFromConfig(moto.Config(p.URL, "us-east-1")).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatal(err)
	}
	want := map[awsproxy.Call]int{
		{Service: "sts", Operation: "GetCallerIdentity", Region: "eu-west-1"}: 1,
		{Service: "ec2", Operation: "DescribeRegions", Region: "us-east-1"}:   1,
	}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		want[awsproxy.Call{Service: "logs", Operation: "CreateLogGroup", Region: r}] = 1
		want[awsproxy.Call{Service: "logs", Operation: "DescribeMetricFilters", Region: r}] = 1
		want[awsproxy.Call{Service: "cloudtrail", Operation: "DescribeTrails", Region: r}] = 1
		want[awsproxy.Call{Service: "monitoring", Operation: "DescribeAlarms", Region: r}] = 2
		want[awsproxy.Call{Service: "sns", Operation: "ListTopics", Region: r}] = 1
	}
	if diff := cmp.Diff(want, p.Counts()); diff != "" {
		t.Errorf("Counts() mismatch (-want +got):\n%s", diff)
	}
	if got := p.ByOperation()["monitoring:DescribeAlarms"]; got != 4 {
		t.Errorf("ByOperation()[monitoring:DescribeAlarms] = %d, want 4", got)
	}
	if got, want := p.Total(), 14; got != want {
		t.Errorf("Total() = %d, want %d", got, want)
	}
	p.Reset()
	if got := p.Total(); got != 0 {
		t.Errorf("Total() after Reset = %d, want 0", got)
	}
}

func TestLatencyAndMaxInFlight(t *testing.T) {
	p := newProxy(t)
	const d = 100 * time.Millisecond
	p.SetLatency(d)
	cw := cloudwatch.NewFromConfig(moto.Config(p.URL, "us-west-2"))
	start := time.Now()
	for range 3 {
		if _, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := time.Since(start); got < 3*d {
		t.Errorf("3 sequential calls with %v latency took %v, want at least %v", d, got, 3*d)
	}
	if got := p.MaxInFlight(); got != 1 {
		t.Errorf("MaxInFlight() after sequential calls = %d, want 1", got)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := p.MaxInFlight(); got < 2 {
		t.Errorf("MaxInFlight() after 4 concurrent calls held %v each = %d, want >= 2", d, got)
	}
}

func TestHandleAnswersAndPassesThrough(t *testing.T) {
	p := newProxy(t)
	var seen []string
	p.Handle("sts", "", func(req *awsproxy.Request, next awsproxy.Next) (*awsproxy.Response, error) {
		seen = append(seen, req.Operation+"@"+req.Region)
		return next()
	})
	p.Handle("sts", "GetCallerIdentity", func(req *awsproxy.Request, _ awsproxy.Next) (*awsproxy.Response, error) {
		return awsproxy.ErrorResponse(req, 403, "AccessDenied", "denied by hook"), nil
	})
	_, err := sts.NewFromConfig(moto.Config(p.URL, "ap-south-1")).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || apiErr.ErrorMessage() != "denied by hook" {
		t.Fatalf("GetCallerIdentity error = %v, want AccessDenied from the hook", err)
	}
	if diff := cmp.Diff([]string{"GetCallerIdentity@ap-south-1"}, seen); diff != "" {
		t.Errorf("outer hook saw (-want +got):\n%s", diff)
	}
}

func TestShimAlarmActions(t *testing.T) {
	p := newProxy(t)
	p.ShimAlarmActions()
	ctx := t.Context()
	cw := cloudwatch.NewFromConfig(moto.Config(p.URL, "eu-central-1"))
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String("shim-alarm"),
		AlarmDescription:   aws.String("watch root usage"),
		MetricName:         aws.String("RootAccountUsage"),
		Namespace:          aws.String("CISBenchmark"),
		Statistic:          cwtypes.StatisticSum,
		Period:             aws.Int32(300),
		EvaluationPeriods:  aws.Int32(2),
		DatapointsToAlarm:  aws.Int32(1),
		Threshold:          aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData:   aws.String("notBreaching"),
		AlarmActions:       []string{"arn:aws:sns:eu-central-1:123456789012:t"},
		OKActions:          []string{"arn:aws:sns:eu-central-1:123456789012:ok"},
		ActionsEnabled:     aws.Bool(true),
		Tags:               []cwtypes.Tag{{Key: aws.String("ManagedBy"), Value: aws.String("someone")}},
	}
	if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	before := describeAlarm(t, cw, "shim-alarm")

	if _, err := cw.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"shim-alarm", "no-such-alarm"}}); err != nil {
		t.Fatalf("DisableAlarmActions: %v", err)
	}
	disabled := describeAlarm(t, cw, "shim-alarm")
	if aws.ToBool(disabled.ActionsEnabled) {
		t.Fatal("ActionsEnabled = true after DisableAlarmActions")
	}
	if _, err := cw.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{"shim-alarm"}}); err != nil {
		t.Fatalf("EnableAlarmActions: %v", err)
	}
	enabled := describeAlarm(t, cw, "shim-alarm")
	if !aws.ToBool(enabled.ActionsEnabled) {
		t.Fatal("ActionsEnabled = false after EnableAlarmActions")
	}
	// Every other field survives both toggles.
	ignore := func(a cwtypes.MetricAlarm) cwtypes.MetricAlarm {
		a.ActionsEnabled = nil
		a.AlarmConfigurationUpdatedTimestamp = nil
		a.StateUpdatedTimestamp, a.StateTransitionedTimestamp = nil, nil
		a.StateValue, a.StateReason, a.StateReasonData = "", nil, nil
		return a
	}
	if diff := cmp.Diff(ignore(before), ignore(disabled), cmp.AllowUnexported(cwtypes.MetricAlarm{})); diff != "" {
		t.Errorf("DisableAlarmActions changed more than ActionsEnabled (-before +after):\n%s", diff)
	}
	tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: enabled.AlarmArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "someone" {
		t.Errorf("tags after toggles = %+v, want ManagedBy=someone kept", tags.Tags)
	}
	if got := p.Counts()[awsproxy.Call{Service: "monitoring", Operation: "EnableAlarmActions", Region: "eu-central-1"}]; got != 1 {
		t.Errorf("EnableAlarmActions counted %d times, want 1 (the shim's own calls are not counted)", got)
	}
}

func describeAlarm(t *testing.T, cw *cloudwatch.Client, name string) cwtypes.MetricAlarm {
	t.Helper()
	out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms(%s) returned %d alarms", name, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0]
}

func TestShimSubscriptionCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		shim bool
		want string
	}{
		{"moto alone reports 0", false, "0"}, // documents the moto bug
		{"shim counts", true, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t)
			if tc.shim {
				p.ShimAll()
			}
			ctx := t.Context()
			client := sns.NewFromConfig(moto.Config(p.URL, "af-south-1"))
			topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(fmt.Sprintf("counts-%v", tc.shim))})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []string{"a@example.com", "b@example.com"} {
				if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String(e)}); err != nil {
					t.Fatal(err)
				}
			}
			out, err := client.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Attributes["SubscriptionsConfirmed"]; got != tc.want {
				t.Errorf("SubscriptionsConfirmed = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMarkPending(t *testing.T) {
	p := newProxy(t)
	p.MarkPending("email", "pending@example.com")
	ctx := t.Context()
	client := sns.NewFromConfig(moto.Config(p.URL, "sa-east-1"))
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("pending-shim")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("pending@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(sub.SubscriptionArn); got != "pending confirmation" {
		t.Errorf("Subscribe(pending endpoint) ARN = %q, want %q", got, "pending confirmation")
	}
	if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("ok@example.com")}); err != nil {
		t.Fatal(err)
	}

	list := func() map[string]string {
		out, err := client.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range out.Subscriptions {
			got[aws.ToString(s.Endpoint)] = aws.ToString(s.SubscriptionArn)
		}
		return got
	}
	counts := func() (confirmed, pending string) {
		out, err := client.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes["SubscriptionsConfirmed"], out.Attributes["SubscriptionsPending"]
	}

	got := list()
	if got["pending@example.com"] != "PendingConfirmation" {
		t.Errorf("pending endpoint listed with ARN %q, want PendingConfirmation", got["pending@example.com"])
	}
	if arn := got["ok@example.com"]; len(arn) < 4 || arn[:4] != "arn:" {
		t.Errorf("confirmed endpoint listed with ARN %q, want a real ARN", arn)
	}
	all, err := client.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all.Subscriptions {
		if aws.ToString(s.Endpoint) == "pending@example.com" && aws.ToString(s.SubscriptionArn) != "PendingConfirmation" {
			t.Errorf("ListSubscriptions shows the pending endpoint with ARN %q", aws.ToString(s.SubscriptionArn))
		}
	}
	if c, pe := counts(); c != "1" || pe != "1" {
		t.Errorf("SubscriptionsConfirmed, SubscriptionsPending = %s, %s, want 1, 1", c, pe)
	}

	p.Confirm("email", "pending@example.com")
	if arn := list()["pending@example.com"]; len(arn) < 4 || arn[:4] != "arn:" {
		t.Errorf("after Confirm, endpoint listed with ARN %q, want a real ARN", arn)
	}
	if c, pe := counts(); c != "2" || pe != "0" {
		t.Errorf("after Confirm: SubscriptionsConfirmed, SubscriptionsPending = %s, %s, want 2, 0", c, pe)
	}
}

func TestShimMetricFilterUpsert(t *testing.T) {
	ctx := t.Context()
	put := func(logs *cloudwatchlogs.Client, pattern string) {
		t.Helper()
		_, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String("upsert"), FilterName: aws.String("f"), FilterPattern: aws.String(pattern),
			MetricTransformations: []logstypes.MetricTransformation{{MetricName: aws.String("m"), MetricNamespace: aws.String("n"), MetricValue: aws.String("1")}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	patterns := func(logs *cloudwatchlogs.Client) []string {
		t.Helper()
		out, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("upsert")})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range out.MetricFilters {
			got = append(got, aws.ToString(f.FilterPattern))
		}
		return got
	}
	for _, tc := range []struct {
		name string
		shim bool
		want []string
	}{
		// Documents the moto bug the shim exists for.
		{"moto alone duplicates", false, []string{`{ $.a = 1 }`, `{ $.a = 2 }`}},
		{"shim replaces", true, []string{`{ $.a = 2 }`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t)
			if tc.shim {
				p.ShimMetricFilterUpsert()
			}
			region := map[bool]string{false: "ca-central-1", true: "eu-north-1"}[tc.shim]
			logs := cloudwatchlogs.NewFromConfig(moto.Config(p.URL, region))
			if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("upsert")}); err != nil {
				t.Fatal(err)
			}
			put(logs, `{ $.a = 1 }`)
			put(logs, `{ $.a = 2 }`)
			if diff := cmp.Diff(tc.want, patterns(logs)); diff != "" {
				t.Errorf("filters after two puts (-want +got):\n%s", diff)
			}
			if got := p.Counts()[awsproxy.Call{Service: "logs", Operation: "PutMetricFilter", Region: region}]; got != 2 {
				t.Errorf("PutMetricFilter counted %d times, want 2", got)
			}
		})
	}
}

func TestShimTrailARNs(t *testing.T) {
	ctx := t.Context()
	p := newProxy(t)
	p.ShimTrailARNs()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, motoURL+"/shim-trail-bucket", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ct := cloudtrail.NewFromConfig(moto.Config(p.URL, "ap-southeast-2"))
	tr, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("shim-trail"), S3BucketName: aws.String("shim-trail-bucket")})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{true, false} {
		if want {
			_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: tr.TrailARN})
		} else {
			_, err = ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: tr.TrailARN})
		}
		if err != nil {
			t.Fatalf("logging %v by ARN: %v", want, err)
		}
		st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: tr.TrailARN})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToBool(st.IsLogging) != want {
			t.Errorf("IsLogging = %v, want %v", aws.ToBool(st.IsLogging), want)
		}
	}
}

func TestIdentifiesRawRequests(t *testing.T) {
	p := newProxy(t)
	const auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/%s/%s/aws4_request, SignedHeaders=host, Signature=abc"
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		body    string
		want    awsproxy.Call
	}{
		{"awsJson", "/", map[string]string{"Authorization": fmt.Sprintf(auth, "eu-west-3", "kms"), "X-Amz-Target": "TrentService.GetKeyPolicy"},
			"{}", awsproxy.Call{Service: "kms", Operation: "GetKeyPolicy", Region: "eu-west-3"}},
		{"awsQuery", "/", map[string]string{"Authorization": fmt.Sprintf(auth, "me-south-1", "sns"), "Content-Type": "application/x-www-form-urlencoded"},
			"Action=ListTopics&Version=2010-03-31", awsproxy.Call{Service: "sns", Operation: "ListTopics", Region: "me-south-1"}},
		{"rpc v2 cbor", "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm",
			map[string]string{"Authorization": fmt.Sprintf(auth, "us-east-1", "monitoring"), "Smithy-Protocol": "rpc-v2-cbor"},
			"", awsproxy.Call{Service: "monitoring", Operation: "PutMetricAlarm", Region: "us-east-1"}},
		{"unsigned", "/moto-api/", nil, "", awsproxy.Call{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Reset()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if diff := cmp.Diff(map[awsproxy.Call]int{tc.want: 1}, p.Counts()); diff != "" {
				t.Errorf("Counts() (-want +got):\n%s", diff)
			}
		})
	}
}
