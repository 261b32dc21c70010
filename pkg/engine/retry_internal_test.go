package engine

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// TestRetryAttempts checks the sizing rule: the longest pauses of one call
// fit in an eighth of the run, within the floor and the ceiling.
func TestRetryAttempts(t *testing.T) {
	for _, tc := range []struct {
		runTime time.Duration
		want    int
	}{
		{0, 10},                // DefaultRunTime, the Lambda's 5 minutes: 2+4+7x4 = 34 s <= 37.5 s
		{DefaultRunTime, 10},   // the same, explicitly
		{2 * time.Minute, 5},   // 15 s: 2+4+4+4 = 14 s
		{time.Minute, 3},       // 7.5 s: 2+4 = 6 s
		{10 * time.Second, 3},  // 1.25 s: below even one pause; the SDK's default floor
		{time.Hour, 10},        // the ceiling
		{30 * time.Second, 3},  // 3.75 s: one pause fits, the floor wins
		{90 * time.Second, 4},  // 11.25 s: 2+4+4 = 10 s
		{150 * time.Second, 6}, // 18.75 s: 2+4+4+4+4 = 18 s
	} {
		got := RetryAttempts(tc.runTime)
		if got != tc.want {
			t.Errorf("RetryAttempts(%s) = %d, want %d", tc.runTime, got, tc.want)
		}
		if got == minRetryAttempts {
			continue // the floor may exceed a tiny budget; the deadline still bounds the run
		}
		rt := tc.runTime
		if rt == 0 {
			rt = DefaultRunTime
		}
		var worst time.Duration
		for n := 1; n < got; n++ {
			worst += worstBackoff(n)
		}
		if worst > rt/retryShare {
			t.Errorf("RetryAttempts(%s) = %d: pauses of up to %s exceed the share %s", tc.runTime, got, worst, rt/retryShare)
		}
	}
}

// TestWorstBackoffBoundsTheSDK checks worstBackoff against the SDK's own
// backoff, as the retryer built by RetryOptions uses it: no sampled pause
// exceeds the bound the sizing assumes.
func TestWorstBackoffBoundsTheSDK(t *testing.T) {
	r := retry.NewStandard(RetryOptions(0))
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException"}
	for n := 1; n <= 12; n++ {
		var longest time.Duration
		for range 500 {
			d, err := r.RetryDelay(n, throttled)
			if err != nil {
				t.Fatalf("RetryDelay(%d): %v", n, err)
			}
			if d > worstBackoff(n) {
				t.Fatalf("SDK pause after attempt %d is %s, above the assumed bound %s", n, d, worstBackoff(n))
			}
			longest = max(longest, d)
		}
		// The bound is tight: the SDK does come close to it.
		if longest < worstBackoff(n)/2 {
			t.Errorf("after attempt %d the longest of 500 SDK pauses is %s; the bound %s is loose", n, longest, worstBackoff(n))
		}
	}
}

// TestRetryerClassifies checks which errors the configured retryer retries:
// the throttling code of every service Watchkeeper calls, including the two
// SNS codes the SDK's defaults lack, and never a denial.
func TestRetryerClassifies(t *testing.T) {
	r := Retryer(0)()
	if got := r.MaxAttempts(); got != RetryAttempts(0) {
		t.Errorf("MaxAttempts = %d, want %d", got, RetryAttempts(0))
	}
	sdk := retry.NewStandard()
	for _, tc := range []struct {
		code, who string
		retry     bool
		sdkAlone  bool // whether the SDK's defaults retry it already
	}{
		{"ThrottlingException", "CloudTrail, CloudWatch Logs, KMS, SNS topic operations", true, true},
		{"Throttling", "CloudWatch, STS", true, true},
		{"RequestLimitExceeded", "EC2", true, true},
		{"TooManyRequestsException", "HTTP 429 throttling", true, true},
		{"KMSThrottling", "SNS Publish to an encrypted topic", true, false},
		{"Throttled", "SNS ThrottledException", true, false},
		{"AccessDeniedException", "awsJson denial", false, false},
		{"AccessDenied", "awsQuery denial", false, false},
		{"AuthorizationError", "SNS denial", false, false},
		{"UnauthorizedOperation", "EC2 denial", false, false},
		{"UnrecognizedClientException", "Region not enabled", false, false},
		{"InvalidClientTokenId", "Region not enabled", false, false},
	} {
		err := &smithy.GenericAPIError{Code: tc.code, Message: tc.who}
		if got := r.IsErrorRetryable(err); got != tc.retry {
			t.Errorf("%s (%s): retryable %t, want %t", tc.code, tc.who, got, tc.retry)
		}
		if got := sdk.IsErrorRetryable(err); got != tc.sdkAlone {
			t.Errorf("%s: the SDK's defaults retry it: %t, want %t (update extraThrottleCodes and this table)", tc.code, got, tc.sdkAlone)
		}
	}
	// The extra codes count as throttling (retry cost, backoff), not as
	// generic errors.
	throttles := retry.IsErrorThrottles(append([]retry.IsErrorThrottle{}, retry.DefaultThrottles...))
	for code := range extraThrottleCodes {
		if throttles.IsErrorThrottle(&smithy.GenericAPIError{Code: code}) == aws.TrueTernary {
			t.Errorf("%s is in the SDK's default throttle codes now; drop it from extraThrottleCodes", code)
		}
	}
	var opts retry.StandardOptions
	RetryOptions(0)(&opts)
	if !retry.IsErrorThrottles(opts.Throttles).IsErrorThrottle(&smithy.GenericAPIError{Code: "KMSThrottling"}).Bool() {
		t.Error("KMSThrottling is not classified as throttling")
	}
}

// TestNewInstallsRetryer checks that New gives every client the sized
// retryer when the configuration has none, and keeps a caller's own.
func TestNewInstallsRetryer(t *testing.T) {
	opts := Options{Plan: plan.Options{Benchmark: catalog.Default()}, Regions: []string{"us-east-1"}, RunTime: time.Minute}
	e, err := New(aws.Config{Region: "us-east-1"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := e.clients.get("eu-west-1")
	if got, want := c.logs.Options().Retryer.MaxAttempts(), RetryAttempts(time.Minute); got != want {
		t.Errorf("logs client: %d attempts, want %d (sized for 1m)", got, want)
	}
	if got, want := e.sts.Options().Retryer.MaxAttempts(), RetryAttempts(time.Minute); got != want {
		t.Errorf("sts client: %d attempts, want %d", got, want)
	}
	own := aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 7) }}
	e, err = New(own, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.clients.get("us-east-1").sns.Options().Retryer.MaxAttempts(); got != 7 {
		t.Errorf("a caller's retryer was replaced: %d attempts, want 7", got)
	}
}
