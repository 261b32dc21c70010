package awsproxy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// Example shows a typical test set-up: moto behind the proxy with every
// shim, a transient throttle, a denied region, and call counts afterwards.
// (Compiled, not run: it needs a *testing.T for moto.Start.)
func Example() {
	var t *testing.T // a test's t
	srv := moto.Start(t)
	proxy := awsproxy.New(srv.URL)
	defer proxy.Close()
	proxy.ShimAll()                                   // moto gaps: EnableAlarmActions, StartLogging by ARN, ...
	proxy.MarkPending("email", "pending@example.com") // shown as PendingConfirmation
	proxy.Seed(42)
	proxy.Inject(awsproxy.Fault{Service: awsproxy.ServiceCloudWatch, Operation: "PutMetricAlarm", Kind: awsproxy.FaultThrottle, Probability: 0.3})
	proxy.Inject(awsproxy.Fault{Region: "ap-east-1", Kind: awsproxy.FaultNotOptedIn})
	proxy.SetLatency(20 * time.Millisecond)

	cw := cloudwatch.NewFromConfig(moto.Config(proxy.URL, "us-east-1"))
	_, _ = cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{})

	fmt.Println(proxy.Counts()[awsproxy.Call{Service: "monitoring", Operation: "DescribeAlarms", Region: "us-east-1"}])
	fmt.Println(proxy.ByOperation(), proxy.MaxInFlight(), proxy.Injected())
}
