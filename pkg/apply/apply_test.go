package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

func topicARN(region string) string {
	return "arn:aws:sns:" + region + ":123456789012:watchkeeper-cis-alarms"
}

func createTopic(region string) plan.Action {
	return plan.Action{Kind: plan.CreateTopic, Region: region, Target: topicARN(region), Controls: []string{"4.1"},
		Topic: &plan.TopicSpec{Name: "watchkeeper-cis-alarms"}}
}

func subscribe(region, endpoint string) plan.Action {
	return plan.Action{Kind: plan.Subscribe, Region: region, Target: topicARN(region),
		Subscription: &plan.SubscriptionSpec{TopicARN: topicARN(region), Protocol: "email", Endpoint: endpoint}}
}

func filter(region, group, name string) plan.Action {
	return plan.Action{Kind: plan.PutMetricFilter, Region: region, Target: group + "/" + name, Controls: []string{"4.1"},
		Filter: &plan.FilterSpec{LogGroupName: group, FilterName: name, Pattern: `{ $.errorCode = "AccessDenied" }`,
			MetricName: name, Namespace: "CISBenchmark", MetricValue: "1"}}
}

func alarm(region, name, topic string) plan.Action {
	return plan.Action{Kind: plan.PutMetricAlarm, Region: region, Target: name, Controls: []string{"4.1"},
		Alarm: &plan.AlarmSpec{AlarmName: name, MetricName: name, Namespace: "CISBenchmark", Statistic: "Sum",
			Period: 300, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold",
			TreatMissingData: "notBreaching", TopicARN: topic}}
}

func apiErr(code string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message", Fault: fault}
}

func statuses(r apply.Result) []apply.Status {
	var out []apply.Status
	for _, o := range r.Outcomes {
		out = append(out, o.Status)
	}
	return out
}

func TestRunContinuesPastFailedAction(t *testing.T) {
	denied := apiErr("AccessDeniedException", smithy.FaultClient)
	clients, rec := fakes(fake{putMetricFilter: func(in *cloudwatchlogs.PutMetricFilterInput) error {
		if *in.FilterName == "b" {
			return denied
		}
		return nil
	}})
	actions := []plan.Action{filter("us-east-1", "g", "a"), filter("us-east-1", "g", "b"), filter("us-east-1", "g", "c")}
	res, err := apply.Run(t.Context(), actions, apply.Options{Clients: clients, Concurrency: 1})

	want := []apply.Status{apply.StatusApplied, apply.StatusFailed, apply.StatusApplied}
	if diff := cmp.Diff(want, statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got := len(rec.snapshot()); got != 3 {
		t.Errorf("calls = %d, want 3", got)
	}
	var ae *apply.ActionError
	if !errors.As(err, &ae) {
		t.Fatalf("Run error = %v, want an *ActionError", err)
	}
	if ae.Action.Target != "g/b" || !errors.Is(err, denied) {
		t.Errorf("ActionError = %v, want the failure of g/b wrapping the API error", ae)
	}
	if !strings.HasPrefix(ae.Error(), "PutMetricFilter us-east-1 g/b: ") {
		t.Errorf("Error() = %q, want prefix %q", ae.Error(), "PutMetricFilter us-east-1 g/b: ")
	}
	if ae.Retryable() {
		t.Error("AccessDenied classified as retryable")
	}
	if res.Outcomes[1].Err == nil || !errors.Is(res.Outcomes[1].Err, denied) {
		t.Errorf("failed outcome Err = %v", res.Outcomes[1].Err)
	}
}

func TestRunSkipsDependentsOfFailedActions(t *testing.T) {
	throttled := apiErr("Throttling", smithy.FaultClient)
	logGroupARN := "arn:aws:logs:us-east-1:123456789012:log-group:trail-logs"
	clients, rec := fakes(fake{
		createTopic: func(in *sns.CreateTopicInput) (string, error) { return "", throttled },
		updateTrail: func(*cloudtrail.UpdateTrailInput) error {
			return apiErr("InvalidCloudWatchLogsRoleArnException", smithy.FaultClient)
		},
	})
	otherTopic := "arn:aws:sns:us-east-1:123456789012:someone-elses-topic"
	actions := []plan.Action{
		createTopic("us-east-1"),                        // 0 fails
		subscribe("us-east-1", "sec@example.com"),       // 1 skipped: topic
		alarm("us-east-1", "a1", topicARN("us-east-1")), // 2 skipped: topic
		alarm("us-east-1", "a2", otherTopic),            // 3 applied: existing topic
		alarm("eu-west-1", "a3", topicARN("eu-west-1")), // 4 applied: no CreateTopic planned there
		{Kind: plan.UpdateTrail, Region: "us-east-1", Target: "trail", // 5 fails
			Trail: &plan.TrailSpec{TrailARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t", LogGroupARN: logGroupARN, LogsRoleARN: "arn:aws:iam::123456789012:role/r"}},
		filter("us-east-1", "trail-logs", "f1"), // 6 skipped: log group not attached
		filter("us-east-1", "other", "f2"),      // 7 applied
		filter("eu-west-1", "trail-logs", "f3"), // 8 applied: another region's group
	}
	res, err := apply.Run(t.Context(), actions, apply.Options{Clients: clients})
	want := []apply.Status{
		apply.StatusFailed, apply.StatusSkipped, apply.StatusSkipped, apply.StatusApplied, apply.StatusApplied,
		apply.StatusFailed, apply.StatusSkipped, apply.StatusApplied, apply.StatusApplied,
	}
	if diff := cmp.Diff(want, statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for _, i := range []int{1, 2, 6} {
		o := res.Outcomes[i]
		if !errors.Is(o.Err, apply.ErrDependency) {
			t.Errorf("outcome %d (%s): Err = %v, want ErrDependency", i, o.Action.Kind, o.Err)
		}
	}
	// The skip carries the upstream cause, so its classification follows it.
	if !errors.Is(res.Outcomes[1].Err, throttled) {
		t.Errorf("skipped Subscribe Err = %v, want it to wrap the CreateTopic throttle", res.Outcomes[1].Err)
	}
	for _, c := range rec.snapshot() {
		if c == "Subscribe@us-east-1" {
			t.Error("Subscribe was attempted although its topic was not created")
		}
	}
	// Only failures are in the returned error.
	var n int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ae *apply.ActionError
		if !errors.As(e, &ae) {
			t.Errorf("joined error %v is not an *ActionError", e)
		}
		n++
	}
	if n != 2 {
		t.Errorf("Run returned %d errors, want 2 (the failures, not the skips)", n)
	}
}

func TestRunRunsPhasesInOrder(t *testing.T) {
	clients, rec := fakes(fake{})
	// Deliberately listed backwards.
	actions := []plan.Action{
		{Kind: plan.EnableAlarmActions, Region: "us-east-1", Alarm: &plan.AlarmSpec{AlarmName: "x"}},
		alarm("us-east-1", "a", topicARN("us-east-1")),
		filter("us-east-1", "g", "f"),
		subscribe("us-east-1", "e@example.com"),
		createTopic("us-east-1"),
		{Kind: plan.StartLogging, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: "arn:aws:cloudtrail:us-east-1:1:trail/t"}},
	}
	res, err := apply.Run(t.Context(), actions, apply.Options{Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	phaseOf := map[string]int{}
	for _, a := range actions {
		phaseOf[string(a.Kind)+"@us-east-1"] = a.Kind.Phase()
	}
	calls := rec.snapshot()
	for i := 1; i < len(calls); i++ {
		if phaseOf[calls[i]] < phaseOf[calls[i-1]] {
			t.Errorf("call order %v: %s (phase %d) after %s (phase %d)", calls, calls[i], phaseOf[calls[i]], calls[i-1], phaseOf[calls[i-1]])
		}
	}
	// Outcomes stay in input order.
	for i, o := range res.Outcomes {
		if o.Action.Kind != actions[i].Kind || o.Status != apply.StatusApplied {
			t.Errorf("outcome %d = %s %s, want %s applied", i, o.Action.Kind, o.Status, actions[i].Kind)
		}
	}
	if res.Outcomes[4].ARN != topicARN("us-east-1") {
		t.Errorf("CreateTopic outcome ARN = %q, want %q", res.Outcomes[4].ARN, topicARN("us-east-1"))
	}
}

// clock is a fake clock for Options.Now, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// TestRunHonoursDeadline drives the deadline reserve with a fake clock: the
// context's real deadline is an hour away, so only the reserve decides.
func TestRunHonoursDeadline(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	t.Run("too close to start anything", func(t *testing.T) {
		clients, rec := fakes(fake{})
		ctx, cancel := context.WithDeadline(t.Context(), deadline)
		defer cancel()
		clk := &clock{now: deadline.Add(-time.Second)}
		actions := []plan.Action{createTopic("us-east-1"), filter("us-east-1", "g", "f")}
		res, err := apply.Run(ctx, actions, apply.Options{Clients: clients, Reserve: 5 * time.Second, Now: clk.Now})
		if err != nil {
			t.Errorf("Run error = %v, want nil (skips are not failures)", err)
		}
		if got := rec.snapshot(); len(got) != 0 {
			t.Errorf("calls %v, want none", got)
		}
		for _, o := range res.Outcomes {
			var ae *apply.ActionError
			if o.Status != apply.StatusSkipped || !errors.Is(o.Err, apply.ErrDeadline) || !errors.As(o.Err, &ae) || !ae.Retryable() ||
				!o.Retryable || o.Class != apply.ClassDeadline {
				t.Errorf("%s: %s %v (retryable %t, class %q), want skipped, retryable, deadline, wrapping ErrDeadline",
					o.Action.Kind, o.Status, o.Err, o.Retryable, o.Class)
			}
		}
		if got := res.Count(apply.StatusSkipped); got != 2 {
			t.Errorf("Count(skipped) = %d, want 2", got)
		}
	})
	t.Run("stops starting once the reserve is reached", func(t *testing.T) {
		const reserve = 500 * time.Millisecond
		clk := &clock{now: deadline.Add(-reserve - 200*time.Millisecond)}
		clients, rec := fakes(fake{createTopic: func(in *sns.CreateTopicInput) (string, error) {
			clk.set(deadline.Add(-reserve + 100*time.Millisecond)) // the call takes 300ms: into the reserve
			return "arn:aws:sns:us-east-1:123456789012:" + *in.Name, nil
		}})
		ctx, cancel := context.WithDeadline(t.Context(), deadline)
		defer cancel()
		actions := []plan.Action{createTopic("us-east-1"), filter("us-east-1", "g", "f"), alarm("us-east-1", "a", topicARN("us-east-1"))}
		res, _ := apply.Run(ctx, actions, apply.Options{Clients: clients, Reserve: reserve, Now: clk.Now})
		want := []apply.Status{apply.StatusApplied, apply.StatusSkipped, apply.StatusSkipped}
		if diff := cmp.Diff(want, statuses(res)); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if got := rec.snapshot(); !slices.Equal(got, []string{"CreateTopic@us-east-1"}) {
			t.Errorf("calls = %v, want only the CreateTopic", got)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		clients, rec := fakes(fake{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		res, _ := apply.Run(ctx, []plan.Action{createTopic("us-east-1")}, apply.Options{Clients: clients})
		if res.Outcomes[0].Status != apply.StatusSkipped || !errors.Is(res.Outcomes[0].Err, context.Canceled) || len(rec.snapshot()) != 0 {
			t.Errorf("cancelled run: %s %v, calls %v", res.Outcomes[0].Status, res.Outcomes[0].Err, rec.snapshot())
		}
	})
}

func TestRunRunsRegionsConcurrently(t *testing.T) {
	for _, tc := range []struct {
		name        string
		concurrency int
		wantMax     int32
	}{
		{"default pool", 0, 6},
		{"pool of 2", 2, 2},
		{"sequential", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inFlight, maxInFlight atomic.Int32
			clients, _ := fakes(fake{putMetricFilter: func(*cloudwatchlogs.PutMetricFilterInput) error {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					m := maxInFlight.Load()
					if n <= m || maxInFlight.CompareAndSwap(m, n) {
						break
					}
				}
				// Hold the call until the pool can be full (bounded wait).
				deadline := time.Now().Add(2 * time.Second)
				for maxInFlight.Load() < tc.wantMax && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				return nil
			}})
			var actions []plan.Action
			for _, r := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
				actions = append(actions, filter(r, "g", "f1"), filter(r, "g", "f2"))
			}
			res, err := apply.Run(t.Context(), actions, apply.Options{Clients: clients, Concurrency: tc.concurrency})
			if err != nil {
				t.Fatal(err)
			}
			if got := maxInFlight.Load(); got != tc.wantMax {
				t.Errorf("max in flight = %d, want %d", got, tc.wantMax)
			}
			if got := res.Count(apply.StatusApplied); got != len(actions) {
				t.Errorf("applied %d of %d", got, len(actions))
			}
		})
	}
}

func TestRunSendsCompleteRequests(t *testing.T) {
	trailARN := "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
	classic := &model.Selectors{Classic: []model.ClassicSelector{
		{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"rdsdata.amazonaws.com"},
			DataResources: []model.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::b/"}}}},
	}}
	advanced := &model.Selectors{Advanced: []model.AdvancedSelector{
		{Name: "all", FieldSelectors: []model.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}, NotEquals: []string{"x"}, StartsWith: []string{"a"},
				NotStartsWith: []string{"b"}, EndsWith: []string{"c"}, NotEndsWith: []string{"d"}},
		}},
		{FieldSelectors: []model.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}}},
	}}
	al := alarm("us-east-1", "watchkeeper-root", topicARN("us-east-1"))
	al.Alarm.Description = "root usage"
	al.Alarm.Tags = map[string]string{"Control": "4.3", "ManagedBy": "spoofed"}
	topic := createTopic("us-east-1")
	topic.Topic.KMSKeyID = "alias/wk"
	topic.Topic.Tags = map[string]string{"Team": "sec"}
	for _, tc := range []struct {
		name   string
		action plan.Action
		want   any
	}{
		{"topic with key and tags", topic, &sns.CreateTopicInput{
			Name:       aws.String("watchkeeper-cis-alarms"),
			Attributes: map[string]string{"KmsMasterKeyId": "alias/wk"},
			Tags:       []snstypes.Tag{{Key: aws.String("ManagedBy"), Value: aws.String("watchkeeper")}, {Key: aws.String("Team"), Value: aws.String("sec")}},
		}},
		{"topic without key", createTopic("us-east-1"), &sns.CreateTopicInput{
			Name: aws.String("watchkeeper-cis-alarms"),
			Tags: []snstypes.Tag{{Key: aws.String("ManagedBy"), Value: aws.String("watchkeeper")}},
		}},
		{"subscription", subscribe("us-east-1", "sec@example.com"), &sns.SubscribeInput{
			TopicArn: aws.String(topicARN("us-east-1")), Protocol: aws.String("email"), Endpoint: aws.String("sec@example.com"), ReturnSubscriptionArn: true,
		}},
		{"filter", filter("us-east-1", "g", "f"), &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String("g"), FilterName: aws.String("f"), FilterPattern: aws.String(`{ $.errorCode = "AccessDenied" }`),
			MetricTransformations: []logstypes.MetricTransformation{{MetricName: aws.String("f"), MetricNamespace: aws.String("CISBenchmark"), MetricValue: aws.String("1")}},
		}},
		{"alarm", al, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String("watchkeeper-root"), AlarmDescription: aws.String("root usage"), MetricName: aws.String("watchkeeper-root"),
			Namespace: aws.String("CISBenchmark"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
			TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{topicARN("us-east-1")}, ActionsEnabled: aws.Bool(true),
			Tags: []cwtypes.Tag{{Key: aws.String("Control"), Value: aws.String("4.3")}, {Key: aws.String("ManagedBy"), Value: aws.String("watchkeeper")}},
		}},
		{"enable alarm actions", plan.Action{Kind: plan.EnableAlarmActions, Region: "us-east-1", Alarm: &plan.AlarmSpec{AlarmName: "x"}},
			&cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{"x"}}},
		{"start logging", plan.Action{Kind: plan.StartLogging, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trailARN}},
			&cloudtrail.StartLoggingInput{Name: aws.String(trailARN)}},
		{"classic selectors", plan.Action{Kind: plan.PutEventSelectors, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trailARN, Selectors: classic}},
			&cloudtrail.PutEventSelectorsInput{TrailName: aws.String(trailARN), EventSelectors: []cttypes.EventSelector{{
				ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true), ExcludeManagementEventSources: []string{"rdsdata.amazonaws.com"},
				DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::b/"}}},
			}}}},
		{"advanced selectors", plan.Action{Kind: plan.PutEventSelectors, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trailARN, Selectors: advanced}},
			&cloudtrail.PutEventSelectorsInput{TrailName: aws.String(trailARN), AdvancedEventSelectors: []cttypes.AdvancedEventSelector{
				{Name: aws.String("all"), FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"},
					NotEquals: []string{"x"}, StartsWith: []string{"a"}, NotStartsWith: []string{"b"}, EndsWith: []string{"c"}, NotEndsWith: []string{"d"}}}},
				{FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Data"}}}},
			}}},
		{"cancel key deletion", keyAction(plan.CancelKeyDeletion, "us-east-1"), &kms.CancelKeyDeletionInput{KeyId: aws.String(keyARN)}},
		{"enable key", keyAction(plan.EnableKey, "us-east-1"), &kms.EnableKeyInput{KeyId: aws.String(keyARN)}},
		{"update trail: only multi-region", plan.Action{Kind: plan.UpdateTrail, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trailARN, MakeMultiRegion: true}},
			&cloudtrail.UpdateTrailInput{Name: aws.String(trailARN), IsMultiRegionTrail: aws.Bool(true)}},
		{"update trail: log group gets :*", plan.Action{Kind: plan.UpdateTrail, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trailARN,
			LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:ct", LogsRoleARN: "arn:aws:iam::123456789012:role/r"}},
			&cloudtrail.UpdateTrailInput{Name: aws.String(trailARN), CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:ct:*"),
				CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/r")}},
		{"update trail: log group already with :*", plan.Action{Kind: plan.UpdateTrail, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trailARN,
			LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:ct:*"}},
			&cloudtrail.UpdateTrailInput{Name: aws.String(trailARN), CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:ct:*")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients, rec := fakes(fake{})
			if _, err := apply.Run(t.Context(), []plan.Action{tc.action}, apply.Options{Clients: clients}); err != nil {
				t.Fatal(err)
			}
			if len(rec.inputs) != 1 {
				t.Fatalf("calls = %v, want one", rec.calls)
			}
			opts := cmpopts.IgnoreUnexported(sns.CreateTopicInput{}, snstypes.Tag{}, sns.SubscribeInput{}, cloudwatchlogs.PutMetricFilterInput{},
				logstypes.MetricTransformation{}, cloudwatch.PutMetricAlarmInput{}, cwtypes.Tag{}, cloudwatch.EnableAlarmActionsInput{},
				cloudtrail.StartLoggingInput{}, cloudtrail.PutEventSelectorsInput{}, cttypes.EventSelector{}, cttypes.DataResource{},
				cttypes.AdvancedEventSelector{}, cttypes.AdvancedFieldSelector{}, cloudtrail.UpdateTrailInput{},
				kms.CancelKeyDeletionInput{}, kms.EnableKeyInput{})
			if diff := cmp.Diff(tc.want, rec.inputs[0], opts); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrailActionsGoToHomeRegion(t *testing.T) {
	clients, rec := fakes(fake{})
	a := plan.Action{Kind: plan.StartLogging, Region: "eu-west-1",
		Trail: &plan.TrailSpec{TrailARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t", HomeRegion: "us-east-1"}}
	if _, err := apply.Run(t.Context(), []plan.Action{a}, apply.Options{Clients: clients}); err != nil {
		t.Fatal(err)
	}
	if got := rec.snapshot(); !slices.Equal(got, []string{"StartLogging@us-east-1"}) {
		t.Errorf("calls = %v, want StartLogging in the home region", got)
	}
}

func TestRunRejectsInvalidActions(t *testing.T) {
	trail := "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"
	for _, a := range []plan.Action{
		{Kind: plan.CreateTopic, Region: "us-east-1"},
		{Kind: plan.Subscribe, Region: "us-east-1", Subscription: &plan.SubscriptionSpec{TopicARN: topicARN("us-east-1")}},
		{Kind: plan.PutMetricFilter, Region: "us-east-1"},
		{Kind: plan.PutMetricAlarm, Region: "us-east-1", Alarm: &plan.AlarmSpec{AlarmName: "no metric"}},
		{Kind: plan.EnableAlarmActions, Region: "us-east-1"},
		{Kind: plan.StartLogging, Region: "us-east-1"},
		{Kind: plan.PutEventSelectors, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trail}},
		{Kind: plan.PutEventSelectors, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trail, Selectors: &model.Selectors{
			Classic:  []model.ClassicSelector{{ReadWriteType: "All", IncludeManagementEvents: true}},
			Advanced: []model.AdvancedSelector{{FieldSelectors: []model.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}},
		}}},
		{Kind: plan.UpdateTrail, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trail}},
		{Kind: "DeleteEverything", Region: "us-east-1"},
		filter("", "g", "f"),
		{Kind: plan.CancelKeyDeletion, Region: "us-east-1"},
		{Kind: plan.EnableKey, Region: "us-east-1", KMSKey: &plan.KeySpec{}},
		{Kind: plan.EnableKey, Region: "us-east-1", KMSKey: &plan.KeySpec{KeyARN: "alias/watchkeeper"}},
		{Kind: plan.EnableKey, Region: "us-east-1", KMSKey: &plan.KeySpec{KeyARN: "arn:aws:kms:us-east-1:123456789012:alias/watchkeeper"}},
		{Kind: plan.CancelKeyDeletion, Region: "us-east-1", KMSKey: &plan.KeySpec{KeyARN: topicARN("us-east-1")}},
	} {
		t.Run(string(a.Kind), func(t *testing.T) {
			clients, rec := fakes(fake{})
			res, err := apply.Run(t.Context(), []plan.Action{a}, apply.Options{Clients: clients})
			if !errors.Is(err, apply.ErrInvalidAction) || res.Outcomes[0].Status != apply.StatusFailed {
				t.Errorf("Run = %s, %v; want failed with ErrInvalidAction", res.Outcomes[0].Status, err)
			}
			if got := rec.snapshot(); len(got) != 0 {
				t.Errorf("invalid action was sent: %v", got)
			}
			if apply.Retryable(err) {
				t.Error("invalid action classified as retryable")
			}
		})
	}
}

func TestRetryableAndClassify(t *testing.T) {
	respErr := func(status int) error {
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      errors.New("boom"),
		}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
		// class is Classify's answer for the same error.
		class apply.Class
	}{
		{"awsJson throttling", apiErr("ThrottlingException", smithy.FaultClient), true, apply.ClassThrottled},
		{"awsQuery throttling", apiErr("Throttling", smithy.FaultClient), true, apply.ClassThrottled},
		{"SNS Throttled (not in the SDK's list)", apiErr("Throttled", smithy.FaultClient), true, apply.ClassThrottled},
		{"EC2 request limit", apiErr("RequestLimitExceeded", smithy.FaultClient), true, apply.ClassThrottled},
		{"TooManyRequests", apiErr("TooManyRequestsException", smithy.FaultClient), true, apply.ClassThrottled},
		{"server fault", apiErr("SomethingBroke", smithy.FaultServer), true, apply.ClassUnavailable},
		{"ServiceUnavailable", apiErr("ServiceUnavailable", smithy.FaultUnknown), true, apply.ClassUnavailable},
		{"HTTP 503", respErr(503), true, apply.ClassUnavailable},
		{"HTTP 429", respErr(429), true, apply.ClassThrottled},
		{"left for next run", fmt.Errorf("x: %w", apply.ErrDeadline), true, apply.ClassDeadline},
		{"cut short by the deadline", &smithy.CanceledError{Err: context.DeadlineExceeded}, true, apply.ClassDeadline},
		{"access denied (json)", apiErr("AccessDeniedException", smithy.FaultClient), false, apply.ClassDenied},
		{"access denied (query)", apiErr("AccessDenied", smithy.FaultClient), false, apply.ClassDenied},
		{"SNS authorization", apiErr("AuthorizationError", smithy.FaultClient), false, apply.ClassDenied},
		{"invalid parameter", apiErr("InvalidParameterException", smithy.FaultClient), false, apply.ClassInvalid},
		{"not opted in", apiErr("UnrecognizedClientException", smithy.FaultClient), false, apply.ClassDenied},
		{"HTTP 400", respErr(400), false, apply.ClassOther},
		{"invalid action", apply.ErrInvalidAction, false, apply.ClassInvalid},
		{"cancelled", context.Canceled, false, apply.ClassOther},
		{"nil", nil, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := &apply.ActionError{Action: filter("us-east-1", "g", "f"), Err: fmt.Errorf("put: %w", tc.err)}
			if tc.err == nil {
				wrapped.Err = nil
			}
			if got := wrapped.Retryable(); got != tc.want {
				t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if got := apply.Classify(wrapped.Err); got != tc.class {
				t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.class)
			}
		})
	}
}

// TestWriteActionsMatchClients keeps the IAM list in step with the writer
// interfaces: every method needs its permission, and every other entry is
// an implied permission documented in ImpliedWriteActions.
func TestWriteActionsMatchClients(t *testing.T) {
	prefix := map[string]string{"CloudTrail": "cloudtrail", "Logs": "logs", "CloudWatch": "cloudwatch", "SNS": "sns", "KMS": "kms"}
	var fromMethods []string
	ct := reflect.TypeFor[apply.Clients]()
	for f := range ct.Fields() {
		p, ok := prefix[f.Name]
		if !ok {
			t.Fatalf("Clients.%s has no IAM prefix in this test", f.Name)
		}
		for m := range f.Type.Methods() {
			fromMethods = append(fromMethods, p+":"+m.Name)
		}
	}
	want := slices.Sorted(slices.Values(append(fromMethods, apply.ImpliedWriteActions...)))
	got := slices.Sorted(slices.Values(apply.WriteActions))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WriteActions (-want +got):\n%s", diff)
	}
}

func TestRunLogsEachOutcome(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	clients, _ := fakes(fake{putMetricFilter: func(*cloudwatchlogs.PutMetricFilterInput) error {
		return apiErr("AccessDeniedException", smithy.FaultClient)
	}})
	actions := []plan.Action{createTopic("us-east-1"), filter("us-east-1", "g", "f")}
	if _, err := apply.Run(t.Context(), actions, apply.Options{Clients: clients, Logger: log}); err == nil {
		t.Fatal("want an error")
	}
	var got []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "time")
		got = append(got, m)
	}
	want := []map[string]any{
		{"level": "INFO", "msg": "action applied", "action": "CreateTopic", "region": "us-east-1", "target": topicARN("us-east-1"), "controls": []any{"4.1"}},
		{"level": "ERROR", "msg": "action failed", "action": "PutMetricFilter", "region": "us-east-1", "target": "g/f", "controls": []any{"4.1"},
			"error": "put metric filter f on g: api error AccessDeniedException: AccessDeniedException message", "retryable": false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestOutcomeClass: each outcome carries its retryability and error class
// as data, for the report; an applied one carries neither.
func TestOutcomeClass(t *testing.T) {
	clients, _ := fakes(fake{putMetricFilter: func(in *cloudwatchlogs.PutMetricFilterInput) error {
		if *in.FilterName == "denied" {
			return apiErr("AccessDeniedException", smithy.FaultClient)
		}
		return apiErr("ThrottlingException", smithy.FaultClient)
	}})
	actions := []plan.Action{filter("us-east-1", "g", "f"), filter("us-east-1", "g", "denied"), createTopic("us-east-1")}
	res, _ := apply.Run(t.Context(), actions, apply.Options{Clients: clients})
	type row struct {
		Status    apply.Status
		Retryable bool
		Class     apply.Class
	}
	var got []row
	for _, o := range res.Outcomes {
		got = append(got, row{o.Status, o.Retryable, o.Class})
	}
	want := []row{
		{apply.StatusFailed, true, apply.ClassThrottled},
		{apply.StatusFailed, false, apply.ClassDenied},
		{apply.StatusApplied, false, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestRunRefusesWhatItDoesNotOwn(t *testing.T) {
	owned := alarm("us-east-1", "watchkeeper-root", topicARN("us-east-1"))
	foreignAlarm := alarm("us-east-1", "team-root-alarm", topicARN("us-east-1"))
	foreignFilter := filter("us-east-1", "g", "team-filter")
	foreignTopic := createTopic("us-east-1")
	foreignTopic.Topic.Name = "alerts"
	userAlarmActions := plan.Action{Kind: plan.EnableAlarmActions, Region: "us-east-1", Alarm: &plan.AlarmSpec{AlarmName: "team-root-alarm"}}
	for _, tc := range []struct {
		name   string
		prefix string
		action plan.Action
		want   apply.Status
	}{
		{"owned alarm", "watchkeeper-", owned, apply.StatusApplied},
		{"foreign alarm", "watchkeeper-", foreignAlarm, apply.StatusFailed},
		{"foreign filter", "watchkeeper-", foreignFilter, apply.StatusFailed},
		{"a topic of any name: CreateTopic never overwrites", "watchkeeper-", foreignTopic, apply.StatusApplied},
		{"re-enabling a user's alarm actions is healing", "watchkeeper-", userAlarmActions, apply.StatusApplied},
		{"no prefix, no guard", "", foreignAlarm, apply.StatusApplied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients, rec := fakes(fake{})
			res, err := apply.Run(t.Context(), []plan.Action{tc.action}, apply.Options{Clients: clients, OwnedPrefix: tc.prefix})
			if got := res.Outcomes[0].Status; got != tc.want {
				t.Fatalf("status = %s (%v), want %s", got, err, tc.want)
			}
			if tc.want == apply.StatusFailed {
				if !errors.Is(err, apply.ErrNotOwned) || apply.Retryable(err) {
					t.Errorf("error = %v, want terminal ErrNotOwned", err)
				}
				if got := rec.snapshot(); len(got) != 0 {
					t.Errorf("refused action was sent: %v", got)
				}
			}
		})
	}
}

// TestRunSerialisesChangesToOneTrail: CloudTrail rejects concurrent changes
// to one trail, so its actions run one at a time, configuration first and
// StartLogging last, while other trails proceed in parallel.
func TestRunSerialisesChangesToOneTrail(t *testing.T) {
	var mu sync.Mutex
	busy := map[string]bool{}
	var overlap atomic.Bool
	var order []string
	hold := func(kind string, name *string) error {
		mu.Lock()
		if busy[*name] {
			overlap.Store(true)
		}
		busy[*name] = true
		order = append(order, kind+" "+*name)
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		busy[*name] = false
		mu.Unlock()
		return nil
	}
	clients, _ := fakes(fake{
		updateTrail:       func(in *cloudtrail.UpdateTrailInput) error { return hold("UpdateTrail", in.Name) },
		putEventSelectors: func(in *cloudtrail.PutEventSelectorsInput) error { return hold("PutEventSelectors", in.TrailName) },
		startLogging:      func(in *cloudtrail.StartLoggingInput) error { return hold("StartLogging", in.Name) },
	})
	sel := &model.Selectors{Classic: []model.ClassicSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}
	var actions []plan.Action
	for _, trail := range []string{"arn:aws:cloudtrail:us-east-1:1:trail/a", "arn:aws:cloudtrail:us-east-1:1:trail/b"} {
		actions = append(actions,
			plan.Action{Kind: plan.StartLogging, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trail}},
			plan.Action{Kind: plan.PutEventSelectors, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trail, Selectors: sel}},
			plan.Action{Kind: plan.UpdateTrail, Region: "us-east-1", Trail: &plan.TrailSpec{TrailARN: trail, MakeMultiRegion: true}},
		)
	}
	if _, err := apply.Run(t.Context(), actions, apply.Options{Clients: clients}); err != nil {
		t.Fatal(err)
	}
	if overlap.Load() {
		t.Error("two changes to one trail ran at the same time")
	}
	for _, trail := range []string{"arn:aws:cloudtrail:us-east-1:1:trail/a", "arn:aws:cloudtrail:us-east-1:1:trail/b"} {
		var got []string
		for _, o := range order {
			if kind, name, _ := strings.Cut(o, " "); name == trail {
				got = append(got, kind)
			}
		}
		if diff := cmp.Diff([]string{"UpdateTrail", "PutEventSelectors", "StartLogging"}, got); diff != "" {
			t.Errorf("order of changes to %s (-want +got):\n%s", trail, diff)
		}
	}
}

func TestRunWithoutClientForService(t *testing.T) {
	clients := func(string) apply.Clients { return apply.Clients{} } // e.g. wiring forgot a service
	res, err := apply.Run(t.Context(), []plan.Action{createTopic("us-east-1"), filter("us-east-1", "g", "f")}, apply.Options{Clients: clients})
	if !errors.Is(err, apply.ErrInvalidAction) || res.Count(apply.StatusFailed) != 2 {
		t.Errorf("Run = %v, %v; want both failed with ErrInvalidAction", statuses(res), err)
	}
	if _, err := apply.Run(t.Context(), nil, apply.Options{}); err == nil {
		t.Error("Run without Options.Clients succeeded")
	}
}
