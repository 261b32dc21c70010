package awsproxy_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// oneCall makes one call of each protocol family with retries disabled, so
// the injected fault reaches the caller as the SDK decoded it.
var oneCall = map[string]func(ctx context.Context, cfg aws.Config) error{
	"logs": func(ctx context.Context, cfg aws.Config) error {
		_, err := cloudwatchlogs.NewFromConfig(cfg, noRetry[cloudwatchlogs.Options]).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		return err
	},
	"cloudtrail": func(ctx context.Context, cfg aws.Config) error {
		_, err := cloudtrail.NewFromConfig(cfg, noRetry[cloudtrail.Options]).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		return err
	},
	"monitoring": func(ctx context.Context, cfg aws.Config) error {
		_, err := cloudwatch.NewFromConfig(cfg, noRetry[cloudwatch.Options]).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		return err
	},
	"sns": func(ctx context.Context, cfg aws.Config) error {
		_, err := sns.NewFromConfig(cfg, noRetry[sns.Options]).ListTopics(ctx, &sns.ListTopicsInput{})
		return err
	},
	"sts": func(ctx context.Context, cfg aws.Config) error {
		_, err := sts.NewFromConfig(cfg, noRetry[sts.Options]).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	},
	"ec2": func(ctx context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg, noRetry[ec2.Options]).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		return err
	},
}

type retryOpts interface {
	cloudwatchlogs.Options | cloudtrail.Options | cloudwatch.Options | sns.Options | sts.Options | ec2.Options
}

func noRetry[O retryOpts](o *O) {
	switch o := any(o).(type) {
	case *cloudwatchlogs.Options:
		o.RetryMaxAttempts = 1
	case *cloudtrail.Options:
		o.RetryMaxAttempts = 1
	case *cloudwatch.Options:
		o.RetryMaxAttempts = 1
	case *sns.Options:
		o.RetryMaxAttempts = 1
	case *sts.Options:
		o.RetryMaxAttempts = 1
	case *ec2.Options:
		o.RetryMaxAttempts = 1
	}
}

func TestFaultsAreEncodedPerProtocol(t *testing.T) {
	for _, tc := range []struct {
		service    string
		kind       awsproxy.FaultKind
		wantCode   string
		wantStatus int
	}{
		{"logs", awsproxy.FaultThrottle, "ThrottlingException", 400},
		{"cloudtrail", awsproxy.FaultThrottle, "ThrottlingException", 400},
		{"monitoring", awsproxy.FaultThrottle, "Throttling", 400},
		{"sns", awsproxy.FaultThrottle, "ThrottlingException", 400},
		{"sts", awsproxy.FaultThrottle, "Throttling", 400},
		{"ec2", awsproxy.FaultThrottle, "RequestLimitExceeded", 503},
		{"logs", awsproxy.FaultInternal, "InternalFailure", 500},
		{"monitoring", awsproxy.FaultInternal, "InternalFailure", 500},
		{"ec2", awsproxy.FaultInternal, "InternalError", 500},
		{"cloudtrail", awsproxy.FaultUnavailable, "ServiceUnavailable", 503},
		{"sns", awsproxy.FaultUnavailable, "ServiceUnavailable", 503},
		{"logs", awsproxy.FaultAccessDenied, "AccessDeniedException", 400},
		{"monitoring", awsproxy.FaultAccessDenied, "AccessDenied", 403},
		{"sns", awsproxy.FaultAccessDenied, "AuthorizationError", 403},
		{"ec2", awsproxy.FaultAccessDenied, "UnauthorizedOperation", 403},
		{"cloudtrail", awsproxy.FaultNotOptedIn, "UnrecognizedClientException", 400},
		{"sts", awsproxy.FaultNotOptedIn, "InvalidClientTokenId", 403},
		{"ec2", awsproxy.FaultNotOptedIn, "AuthFailure", 401},
	} {
		t.Run(tc.service+"/"+string(tc.kind), func(t *testing.T) {
			p := newProxy(t)
			p.Inject(awsproxy.Fault{Service: tc.service, Kind: tc.kind})
			err := oneCall[tc.service](t.Context(), moto.Config(p.URL, "us-east-2"))
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want a smithy.APIError", err)
			}
			if apiErr.ErrorCode() != tc.wantCode {
				t.Errorf("ErrorCode() = %q, want %q (error %v)", apiErr.ErrorCode(), tc.wantCode, err)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != tc.wantStatus {
				t.Errorf("HTTP status of %v, want %d", err, tc.wantStatus)
			}
		})
	}
}

func TestFaultsDecodeToModelledTypes(t *testing.T) {
	p := newProxy(t)
	p.Inject(awsproxy.Fault{Service: "logs", Kind: awsproxy.FaultThrottle})
	p.Inject(awsproxy.Fault{Service: "sns", Operation: "CreateTopic", Kind: awsproxy.FaultAccessDenied})
	cfg := moto.Config(p.URL, "us-east-1")
	var logsThrottle *logstypes.ThrottlingException
	if err := oneCall["logs"](t.Context(), cfg); !errors.As(err, &logsThrottle) {
		t.Errorf("logs throttle = %v, want *types.ThrottlingException", err)
	}
	_, err := sns.NewFromConfig(cfg, noRetry[sns.Options]).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("x")})
	var denied *snstypes.AuthorizationErrorException
	if !errors.As(err, &denied) {
		t.Errorf("sns access denied = %v, want *types.AuthorizationErrorException", err)
	}
}

func TestFaultCodeOverride(t *testing.T) {
	p := newProxy(t)
	// SNS's modelled throttle: not in the SDK's retryable codes, so one
	// attempt is made even with the standard retryer.
	p.Inject(awsproxy.Fault{Service: "sns", Kind: awsproxy.FaultThrottle, Code: "Throttled", Status: http.StatusTooManyRequests})
	_, err := sns.NewFromConfig(moto.Config(p.URL, "us-east-1")).ListTopics(t.Context(), &sns.ListTopicsInput{})
	var apiErr smithy.APIError
	var respErr *awshttp.ResponseError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "Throttled" || !errors.As(err, &respErr) || respErr.HTTPStatusCode() != 429 {
		t.Fatalf("error = %v, want Throttled with HTTP 429", err)
	}
	if got := p.Total(); got != 1 {
		t.Errorf("calls = %d, want 1 (the SDK does not retry Throttled)", got)
	}
	if got := p.Calls(); len(got) != 1 || got[0] != (awsproxy.Call{Service: "sns", Operation: "ListTopics", Region: "us-east-1"}) {
		t.Errorf("Calls() = %v", got)
	}
}

func TestTransientFaultsAreRetriedBySDK(t *testing.T) {
	for _, kind := range []awsproxy.FaultKind{awsproxy.FaultThrottle, awsproxy.FaultUnavailable, awsproxy.FaultInternal, awsproxy.FaultReset} {
		t.Run(string(kind), func(t *testing.T) {
			p := newProxy(t)
			p.Inject(awsproxy.Fault{Service: "monitoring", Operation: "DescribeAlarms", Kind: kind, Times: 1})
			cw := cloudwatch.NewFromConfig(moto.Config(p.URL, "us-west-1")) // standard retryer, 3 attempts
			if _, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{}); err != nil {
				t.Fatalf("DescribeAlarms after one transient %s = %v, want success after a retry", kind, err)
			}
			call := awsproxy.Call{Service: "monitoring", Operation: "DescribeAlarms", Region: "us-west-1"}
			if got := p.Counts()[call]; got != 2 {
				t.Errorf("calls = %d, want 2 (one faulted, one retried)", got)
			}
			if got := p.Injected()[call]; got != 1 {
				t.Errorf("faults injected = %d, want 1", got)
			}
		})
	}
}

func TestResetWithoutRetryIsAConnectionError(t *testing.T) {
	p := newProxy(t)
	p.Inject(awsproxy.Fault{Kind: awsproxy.FaultReset})
	err := oneCall["logs"](t.Context(), moto.Config(p.URL, "us-east-1"))
	if err == nil {
		t.Fatal("call through a reset connection succeeded")
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("reset surfaced as API error %q, want a transport error", apiErr.ErrorCode())
	}
}

func TestRegionWideFaultLeavesOtherRegions(t *testing.T) {
	p := newProxy(t)
	p.Inject(awsproxy.Fault{Region: "ap-northeast-3", Kind: awsproxy.FaultAccessDenied})
	for svc, call := range oneCall {
		if err := call(t.Context(), moto.Config(p.URL, "ap-northeast-3")); err == nil {
			t.Errorf("%s in the denied region succeeded", svc)
		}
		if err := call(t.Context(), moto.Config(p.URL, "ap-northeast-1")); err != nil {
			t.Errorf("%s in another region: %v", svc, err)
		}
	}
}

func TestSlowFault(t *testing.T) {
	p := newProxy(t)
	const delay = 300 * time.Millisecond
	p.Inject(awsproxy.Fault{Service: "sts", Kind: awsproxy.FaultSlow, Delay: delay})
	start := time.Now()
	if err := oneCall["sts"](t.Context(), moto.Config(p.URL, "us-east-1")); err != nil {
		t.Fatal(err)
	}
	if got := time.Since(start); got < delay {
		t.Errorf("slow call took %v, want at least %v", got, delay)
	}
	cfg := moto.Config(p.URL, "us-east-1")
	cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	if err := oneCall["sts"](t.Context(), cfg); err == nil {
		t.Error("slow call with a 50ms client timeout succeeded")
	}
}

// TestSeededScheduleIsReproducible: the same seed gives the same faults for
// the same sequence of calls; another seed gives another schedule.
func TestSeededScheduleIsReproducible(t *testing.T) {
	schedule := func(seed uint64) []bool {
		p := newProxy(t)
		p.Seed(seed)
		p.Inject(awsproxy.Fault{Service: "sts", Kind: awsproxy.FaultThrottle, Probability: 0.5})
		cfg := moto.Config(p.URL, "us-east-1")
		var got []bool
		for range 24 {
			got = append(got, oneCall["sts"](t.Context(), cfg) != nil)
		}
		return got
	}
	a, b, c := schedule(42), schedule(42), schedule(7)
	failed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 42 gave different schedules:\n%v\n%v", a, b)
		}
		if a[i] {
			failed++
		}
	}
	if failed == 0 || failed == len(a) {
		t.Errorf("probability 0.5 failed %d of %d calls", failed, len(a))
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("seeds 42 and 7 gave the same schedule")
	}
}

// TestFaultAfter: a rule with After lets that many matching calls through,
// then fires; calls it does not match do not count, and Reset restarts it.
func TestFaultAfter(t *testing.T) {
	p := newProxy(t)
	p.Inject(awsproxy.Fault{Service: "sts", Kind: awsproxy.FaultThrottle, After: 2})
	cfg := moto.Config(p.URL, "us-east-1")
	outcome := func() []bool {
		var failed []bool
		for range 4 {
			if err := oneCall["sns"](t.Context(), cfg); err != nil {
				t.Fatalf("sns is not matched by the rule: %v", err)
			}
			failed = append(failed, oneCall["sts"](t.Context(), cfg) != nil)
		}
		return failed
	}
	want := []bool{false, false, true, true}
	if got := outcome(); !slices.Equal(got, want) {
		t.Errorf("sts calls failed %v, want %v", got, want)
	}
	p.Reset()
	if got := outcome(); !slices.Equal(got, want) {
		t.Errorf("after Reset, sts calls failed %v, want %v", got, want)
	}
}
