package apply_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// BenchmarkRunRoundTrips heals three empty regions (topic, subscription,
// 14 filters and 14 alarms each: 90 actions) through a proxy that adds a
// fixed latency to every call, and reports API calls and sequential round
// trips (wall time / latency) per run, for several pool sizes. Round trips,
// not times, are the figure to compare: with 3 phases the floor is 3.
//
//	go test ./pkg/apply -run '^$' -bench RunRoundTrips -benchtime 3x
func BenchmarkRunRoundTrips(b *testing.B) {
	const latency = 40 * time.Millisecond
	srv := moto.Start(b)
	proxy := awsproxy.New(srv.URL)
	b.Cleanup(proxy.Close)
	proxy.ShimAll()
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	var actions []plan.Action
	for _, r := range regions {
		if _, err := cloudwatchlogs.NewFromConfig(moto.Config(srv.URL, r)).CreateLogGroup(b.Context(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
			b.Fatal(err)
		}
		actions = append(actions, createTopic(r), subscribe(r, "sec@example.com"))
		for i := range 14 {
			name := fmt.Sprintf("watchkeeper-control-%d", i)
			actions = append(actions, filter(r, group, name), alarm(r, name, topicARN(r)))
		}
	}
	proxy.SetLatency(latency)
	for _, conc := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			var calls int
			var wall time.Duration
			for b.Loop() {
				proxy.Reset()
				start := time.Now()
				res, err := apply.Run(b.Context(), actions, apply.Options{Clients: sdkClients(proxy.URL), Concurrency: conc})
				wall += time.Since(start)
				if err != nil || res.Count(apply.StatusApplied) != len(actions) {
					b.Fatalf("Run: %v (%d of %d applied)", err, res.Count(apply.StatusApplied), len(actions))
				}
				calls += proxy.Total()
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(wall)/float64(latency)/float64(b.N), "round-trips/op")
			b.ReportMetric(float64(proxy.MaxInFlight()), "max-in-flight")
		})
	}
}
