package reliability_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
)

// probe is one read call of one service, made with a real SDK client.
type probe struct {
	service string
	call    func(ctx context.Context, c aws.Config) error
}

var probes = []probe{
	{awsproxy.ServiceLogs, func(ctx context.Context, c aws.Config) error {
		_, err := cloudwatchlogs.NewFromConfig(c).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		return err
	}},
	{awsproxy.ServiceCloudTrail, func(ctx context.Context, c aws.Config) error {
		_, err := cloudtrail.NewFromConfig(c).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		return err
	}},
	{awsproxy.ServiceCloudWatch, func(ctx context.Context, c aws.Config) error {
		_, err := cloudwatch.NewFromConfig(c).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		return err
	}},
	{awsproxy.ServiceSNS, func(ctx context.Context, c aws.Config) error {
		_, err := sns.NewFromConfig(c).ListTopics(ctx, &sns.ListTopicsInput{})
		return err
	}},
	{awsproxy.ServiceSTS, func(ctx context.Context, c aws.Config) error {
		_, err := sts.NewFromConfig(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}},
	{awsproxy.ServiceEC2, func(ctx context.Context, c aws.Config) error {
		_, err := ec2.NewFromConfig(c).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		return err
	}},
}

// codeOf returns the AWS error code and HTTP status an SDK error carries.
func codeOf(err error) (string, int) {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	code, status := "", 0
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	return code, status
}

// TestFaultKinds checks, through real SDK clients of every protocol
// Watchkeeper uses (awsJson: Logs, CloudTrail; awsQuery: CloudWatch, SNS,
// STS; ec2Query: EC2), that the proxy produces every fault issue #6 item 1
// lists, encoded so the SDK decodes the expected code and status, and that
// the SDK's retryer treats transient ones as transient (one injected fault,
// one retry, success) and terminal ones as terminal (no retry).
func TestFaultKinds(t *testing.T) {
	type want struct {
		codes     map[string]string // service -> code ("" = default below)
		status    int
		retryable bool
	}
	throttle := map[string]string{
		awsproxy.ServiceLogs: "ThrottlingException", awsproxy.ServiceCloudTrail: "ThrottlingException",
		awsproxy.ServiceCloudWatch: "Throttling", awsproxy.ServiceSTS: "Throttling",
		awsproxy.ServiceSNS: "ThrottlingException", awsproxy.ServiceEC2: "RequestLimitExceeded",
	}
	denied := map[string]string{
		awsproxy.ServiceLogs: "AccessDeniedException", awsproxy.ServiceCloudTrail: "AccessDeniedException",
		awsproxy.ServiceCloudWatch: "AccessDenied", awsproxy.ServiceSTS: "AccessDenied",
		awsproxy.ServiceSNS: "AuthorizationError", awsproxy.ServiceEC2: "UnauthorizedOperation",
	}
	notOptedIn := map[string]string{
		awsproxy.ServiceLogs: "UnrecognizedClientException", awsproxy.ServiceCloudTrail: "UnrecognizedClientException",
		awsproxy.ServiceCloudWatch: "InvalidClientTokenId", awsproxy.ServiceSTS: "InvalidClientTokenId",
		awsproxy.ServiceSNS: "InvalidClientTokenId", awsproxy.ServiceEC2: "AuthFailure",
	}
	all := func(code string) map[string]string {
		m := map[string]string{}
		for _, p := range probes {
			m[p.service] = code
		}
		return m
	}
	ec2Or := func(code, ec2Code string) map[string]string {
		m := all(code)
		m[awsproxy.ServiceEC2] = ec2Code
		return m
	}
	cases := []struct {
		name  string
		fault awsproxy.Fault
		want  want
	}{
		{"throttle as each protocol encodes it", awsproxy.Fault{Kind: awsproxy.FaultThrottle}, want{codes: throttle, retryable: true}},
		{"TooManyRequestsException", awsproxy.Fault{Kind: awsproxy.FaultThrottle, Code: "TooManyRequestsException", Status: http.StatusTooManyRequests}, want{codes: all("TooManyRequestsException"), status: 429, retryable: true}},
		{"500", awsproxy.Fault{Kind: awsproxy.FaultInternal}, want{codes: ec2Or("InternalFailure", "InternalError"), status: 500, retryable: true}},
		{"503", awsproxy.Fault{Kind: awsproxy.FaultUnavailable}, want{codes: ec2Or("ServiceUnavailable", "Unavailable"), status: 503, retryable: true}},
		{"connection reset", awsproxy.Fault{Kind: awsproxy.FaultReset}, want{retryable: true}},
		{"access denied", awsproxy.Fault{Kind: awsproxy.FaultAccessDenied}, want{codes: denied}},
		{"region not opted in", awsproxy.Fault{Kind: awsproxy.FaultNotOptedIn}, want{codes: notOptedIn}},
	}
	rg := main
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range probes {
				if err := rg.fresh(); err != nil {
					t.Fatal(err)
				}
				f := tc.fault
				f.Service, f.Region = p.service, "eu-west-1"
				// Persistent: every attempt fails, so the final error is the fault's.
				rg.proxy.Inject(f)
				err := p.call(t.Context(), rg.cfg("eu-west-1"))
				code, status := codeOf(err)
				attempts := len(rg.proxy.Calls())
				switch {
				case err == nil:
					t.Errorf("%s: call succeeded through a persistent %s fault", p.service, f.Kind)
				case tc.want.codes != nil && code != tc.want.codes[p.service]:
					t.Errorf("%s: error code %q (HTTP %d), want %q: %v", p.service, code, status, tc.want.codes[p.service], err)
				case tc.want.status != 0 && status != tc.want.status:
					t.Errorf("%s: HTTP %d, want %d", p.service, status, tc.want.status)
				case tc.want.codes == nil && !strings.Contains(err.Error(), "connection reset") && !strings.Contains(err.Error(), "EOF"):
					t.Errorf("%s: %v, want a connection reset", p.service, err)
				case tc.want.retryable && attempts != 3:
					t.Errorf("%s: %d attempts, want 3 (the SDK retries a transient fault)", p.service, attempts)
				case !tc.want.retryable && attempts != 1:
					t.Errorf("%s: %d attempts, want 1 (a terminal fault is not retried)", p.service, attempts)
				}
				// Transient, once: the retry gets through.
				if tc.want.retryable {
					rg.proxy.ClearFaults()
					rg.proxy.Reset()
					f.Times = 1
					rg.proxy.Inject(f)
					if err := p.call(t.Context(), rg.cfg("eu-west-1")); err != nil {
						t.Errorf("%s: one transient %s fault was not retried through: %v", p.service, f.Kind, err)
					}
				}
				// The fault was scoped to eu-west-1: us-east-1 answers.
				rg.proxy.ClearFaults()
				if err := p.call(t.Context(), rg.cfg("us-east-1")); err != nil {
					t.Errorf("%s: us-east-1 failed with a fault scoped to eu-west-1: %v", p.service, err)
				}
			}
			figs.result("1. fault kind: "+tc.name, "produced and decoded for logs, cloudtrail, monitoring, sns, sts, ec2 (%s)", map[bool]string{true: "retried by the SDK", false: "not retried"}[tc.want.retryable])
		})
	}
	t.Run("slow responses", func(t *testing.T) {
		if err := rg.fresh(); err != nil {
			t.Fatal(err)
		}
		rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultSlow, Delay: 300 * time.Millisecond, Service: awsproxy.ServiceLogs, Times: 1})
		start := time.Now()
		if err := probes[0].call(t.Context(), rg.cfg("us-east-1")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("slow call took %s, want >= 300ms", d)
		}
		// A caller's deadline shorter than the delay ends the call.
		rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultSlow, Delay: 2 * time.Second, Service: awsproxy.ServiceLogs})
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		if err := probes[0].call(ctx, rg.cfg("us-east-1")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("call under a 200ms deadline through a 2s delay: %v, want deadline exceeded", err)
		}
		figs.result("1. fault kind: slow responses", "delay honoured; a caller deadline shorter than the delay ends the call")
	})
	t.Run("access denied for a whole region", func(t *testing.T) {
		if err := rg.fresh(); err != nil {
			t.Fatal(err)
		}
		rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultAccessDenied, Region: "eu-west-1"})
		for _, p := range probes {
			code, _ := codeOf(p.call(t.Context(), rg.cfg("eu-west-1")))
			if code != denied[p.service] {
				t.Errorf("%s in the denied region: code %q, want %q", p.service, code, denied[p.service])
			}
			if err := p.call(t.Context(), rg.cfg("us-east-1")); err != nil {
				t.Errorf("%s in us-east-1: %v", p.service, err)
			}
		}
		figs.result("1. fault kind: access denied for a whole region", "all %d services denied in the region, others unaffected", len(probes))
	})
}
