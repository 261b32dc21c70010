// Package scenarios_test proves Watchkeeper's CLI against moto_server: each
// scenario seeds an account (test/world), runs the real remediator binary
// as a subprocess against it, and asserts on the binary's JSON report, its
// exit code and the account's state read back through the AWS SDK.
//
// One moto_server serves the whole package, behind test/awsproxy (which
// adds the CloudWatch alarm-action calls moto lacks); scenarios run
// sequentially and reset moto before seeding.
package scenarios_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/harness"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	home       = harness.Home
	other      = harness.Other
	subscriber = harness.Subscriber
	prefix     = world.DefaultPrefix
	topicName  = world.DefaultTopicName
)

var (
	h        *harness.Harness // the CLI binary, moto_server and proxy, set up by TestMain
	bin      string           // the remediator binary
	endpoint string           // the proxy in front of moto; every client uses it
	proxy    *awsproxy.Proxy
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, func(hh *harness.Harness) {
		h, bin, endpoint, proxy = hh, hh.Bin, hh.Endpoint(), hh.Proxy
		proxy.ShimAlarmActions()
		shimPutMetricFilter(proxy, h.Moto.URL)
		optInEveryRegion(proxy)
		shimTrailARNAsName(proxy)
		proxy.ShimSecurityHub()
	}))
}

// cfg is the SDK configuration tests use to seed and read back state,
// through the same proxy the CLI uses.
func cfg(region string) aws.Config { return h.Config(region) }

// fresh resets moto and returns a World over it (harness.Fresh).
func fresh(t *testing.T) *world.World { t.Helper(); return h.Fresh(t) }

// The CLI's JSON report as issue #3 specifies it, and one CLI run, as
// harness declares them.
type (
	report = harness.Report
	result = harness.Result
)

// control returns the result for id, failing the test if it is missing.
func control(t *testing.T, r report, id string) harness.Control {
	t.Helper()
	c, ok := r.Control(id)
	if !ok {
		t.Fatalf("report has no control %s: %+v", id, r.Controls)
	}
	return c
}

// assertCode checks that control id carries Security Hub reason code
// code, in its codes or its reasons.
func assertCode(t *testing.T, r report, id, code string) {
	t.Helper()
	c := control(t, r, id)
	if !slices.Contains(c.Codes, code) && !strings.Contains(strings.Join(c.Reasons, "\n"), code) {
		t.Errorf("control %s: codes %q, reasons %q; want %s", id, c.Codes, c.Reasons, code)
	}
}

// defaultFlags keep scenarios small (two regions) and configure the
// subscriber every scenario expects.
var defaultFlags = []string{"--regions", home + "," + other, "--home-region", home, "--subscribe", subscriber}

// cli runs "remediator <args> --output json" against moto (through the
// proxy) and decodes its single JSON document.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliEnv(t, h.Env(home), args...)
}

func cliEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	res, err := h.RunCLI(t.Context(), env, append(args, "--output", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// run runs mode with the default flags plus extra and checks the exit code.
func run(t *testing.T, wantCode int, mode string, extra ...string) report {
	t.Helper()
	args := append(append([]string{mode}, defaultFlags...), extra...)
	res := cli(t, args...)
	if res.Code != wantCode {
		t.Fatalf("remediator %s: exit %d, want %d\nstderr:\n%s\nreport: %s", strings.Join(args, " "), res.Code, wantCode, res.Stderr, summary(res.Report))
	}
	return res.Report
}

// summary renders the failing controls, regions and actions of a report
// for failure messages.
func summary(r report) string { return r.Summary() }

// converge runs apply (expecting exit 0, no failed action) and then plan
// (expecting exit 0 and zero actions): the convergence proof every heal
// scenario ends with. It also checks, over the scenario's regions, that
// apply duplicated nothing and left every resource Watchkeeper does not own
// byte-for-byte as it was (trails included).
func converge(t *testing.T, extra ...string) report {
	t.Helper()
	return convergeChanging(t, nil, extra...)
}

// convergeChanging is converge for trail-healing scenarios: the trails in
// mayChange are the ones healing is expected to change.
func convergeChanging(t *testing.T, mayChange []string, extra ...string) report {
	t.Helper()
	before := readState(t, home, other)
	applied := run(t, 0, "apply", extra...)
	if failed := applied.ActionsWith("failed"); len(failed) > 0 {
		t.Errorf("apply: failed actions: %+v", failed)
	}
	if !applied.Compliant {
		t.Errorf("apply: report not compliant after apply: %s", summary(applied))
	}
	again := run(t, 0, "plan", extra...)
	if len(again.Actions) != 0 {
		t.Errorf("plan after apply: %d actions, want 0: %s", len(again.Actions), summary(again))
	}
	after := readState(t, home, other)
	assertUnownedUnchanged(t, before, after, mayChange...)
	for _, lg := range logGroups(after) {
		assertNoDuplicates(t, after, lg[0], lg[1])
	}
	return applied
}

// withEnv returns the moto environment with overrides applied: "K=V" sets
// K, "K=" removes it.
func withEnv(overrides []string) []string {
	env := h.Env(home)
	for _, o := range overrides {
		k, v, _ := strings.Cut(o, "=")
		env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
		if v != "" {
			env = append(env, o)
		}
	}
	return env
}

// shimPutMetricFilter makes moto's PutMetricFilter an upsert. moto 5.2.1
// appends a second filter of the same name instead of updating the
// existing one, whereas AWS "Creates or updates a metric filter"
// (CloudWatch Logs API reference, PutMetricFilter). The hook deletes the
// filter of that name first (directly on moto, uncounted), then forwards
// the call, which gives AWS's result.
// Calls are serialised so two concurrent puts cannot interleave their
// delete and put (AWS makes each put atomic).
func shimPutMetricFilter(p *awsproxy.Proxy, motoURL string) {
	var mu sync.Mutex
	p.Handle(awsproxy.ServiceLogs, "PutMetricFilter", func(req *awsproxy.Request, next awsproxy.Next) (*awsproxy.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		var in struct {
			LogGroupName string `json:"logGroupName"`
			FilterName   string `json:"filterName"`
		}
		if err := json.Unmarshal(req.Body, &in); err == nil && in.LogGroupName != "" && in.FilterName != "" {
			logs := cloudwatchlogs.NewFromConfig(moto.Config(motoURL, req.Region))
			_, err := logs.DeleteMetricFilter(req.HTTP.Context(), &cloudwatchlogs.DeleteMetricFilterInput{
				LogGroupName: aws.String(in.LogGroupName), FilterName: aws.String(in.FilterName),
			})
			var notFound *logtypes.ResourceNotFoundException
			if err != nil && !errors.As(err, &notFound) {
				return nil, fmt.Errorf("shim PutMetricFilter: delete %s/%s: %w", in.LogGroupName, in.FilterName, err)
			}
		}
		return next()
	})
}

// allRegionsOptedIn, when set, makes DescribeRegions report every region
// as opted in. moto 5.2.1 lists its opt-in regions (af-south-1,
// ap-east-1, me-south-1, ...) as "not-opted-in" and has no way to opt in,
// so only 20 commercial regions are enabled there; an account that has
// opted in to every region answers "opted-in" (EC2 API reference,
// DescribeRegions, RegionInfo.OptInStatus: "opt-in-not-required |
// opted-in | not-opted-in"). Setting this seeds that account.
var allRegionsOptedIn atomic.Bool

func optInEveryRegion(p *awsproxy.Proxy) {
	p.Handle("ec2", "DescribeRegions", func(req *awsproxy.Request, next awsproxy.Next) (*awsproxy.Response, error) {
		resp, err := next()
		if err != nil || !allRegionsOptedIn.Load() {
			return resp, err
		}
		resp.Body = bytes.ReplaceAll(resp.Body, []byte("<optInStatus>not-opted-in</optInStatus>"), []byte("<optInStatus>opted-in</optInStatus>"))
		return resp, nil
	})
}

// shimTrailARNAsName lets moto accept a trail ARN where AWS does. AWS takes
// "the name or the CloudTrail ARN of the trail" in StartLogging's and
// StopLogging's Name (CloudTrail API reference, StartLogging, Name); moto
// 5.2.1 answers an ARN there with HTTP 500. The hook replaces an ARN with
// the trail name it ends in (same account and region in these tests).
func shimTrailARNAsName(p *awsproxy.Proxy) {
	for _, op := range []string{"StartLogging", "StopLogging"} {
		p.Handle(awsproxy.ServiceCloudTrail, op, func(req *awsproxy.Request, next awsproxy.Next) (*awsproxy.Response, error) {
			var in map[string]any
			if err := json.Unmarshal(req.Body, &in); err != nil {
				return next()
			}
			if name, ok := in["Name"].(string); ok && strings.HasPrefix(name, "arn:") {
				if _, trail, found := strings.Cut(name, ":trail/"); found {
					in["Name"] = trail
					body, err := json.Marshal(in)
					if err != nil {
						return nil, err
					}
					req.Body = body
				}
			}
			return next()
		})
	}
}
