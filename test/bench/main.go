// Command bench measures what a full Watchkeeper audit costs and writes a
// markdown report (make bench):
//
//   - API calls by operation for a full audit (observe + plan, no apply) of
//     a compliant 17-region account, and of the same account with thousands
//     of unrelated alarms, dozens of unrelated log groups and unrelated
//     metric filters on the trail's own log group. Goal: at most regions +
//     12 calls, identical in both. The budget assumes the alarms are
//     Watchkeeper's own: alarms a person made (other names) are found only
//     per metric, one DescribeAlarmsForMetric per control, so that case is
//     measured and reported too (regions + 8 + one per control).
//   - Sequential round trips: wall time divided by a per-call latency that a
//     proxy (test/awsproxy) injects in front of moto_server, for 3, 9 and 17
//     regions. Goal: at most 6, whatever the region count.
//   - Peak memory of an audit, measured in a fresh child process (VmHWM),
//     and bytes allocated per audit.
//
// Everything runs against a moto_server the command starts itself, with
// dummy credentials; nothing touches a real AWS account. Results are counts
// and ratios, never raw times, so the report is comparable across machines.
//
// Usage: go run ./test/bench -out bench-report.md
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// defaultRegions are the 17 regions enabled by default in a commercial AWS
// account (opt-in status "opt-in-not-required"; AWS account management
// guide, "Enable or disable AWS Regions"). moto 5.2.1 also reports
// af-south-1, ap-southeast-3 and eu-south-1 as enabled, which AWS does not,
// so the audits name these 17 explicitly.
var defaultRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
	"eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
}

const homeRegion = "us-east-1"

func main() {
	out := flag.String("out", "bench-report.md", "markdown report to write")
	latency := flag.Duration("latency", 500*time.Millisecond, "latency injected before every call in the round-trip runs")
	alarms := flag.Int("alarms", 5000, "unrelated alarms in the noisy account")
	logGroups := flag.Int("log-groups", 50, "unrelated log groups in the noisy account")
	filters := flag.Int("filters-per-group", 2, "metric filters on each unrelated log group")
	trailFilters := flag.Int("trail-filters", 30, "unrelated metric filters on the trail's own log group in the noisy account")
	child := flag.String("child-endpoint", "", "internal: run one audit against this endpoint and print its memory use")
	flag.Parse()

	if *child != "" {
		if err := runChild(*child); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*out, *latency, *alarms, *logGroups, *filters, *trailFilters); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// auditResult is one audit's outcome.
type auditResult struct {
	Calls     map[string]int
	Total     int
	Compliant bool
	Wall      time.Duration
	MaxFlight int
	Allocated uint64 // bytes allocated by the audit (runtime.MemStats.TotalAlloc delta)
}

// audit runs observe + plan (what `remediator audit` does) through the
// proxy, counting calls.
func audit(ctx context.Context, p *awsproxy.Proxy, regions []string) (auditResult, error) {
	p.Reset()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	compliant, err := observeAndPlan(ctx, p.URL, regions)
	wall := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		return auditResult{}, err
	}
	return auditResult{
		Calls: p.ByOperation(), Total: p.Total(), Compliant: compliant,
		Wall: wall, MaxFlight: p.MaxInFlight(), Allocated: after.TotalAlloc - before.TotalAlloc,
	}, nil
}

// observeAndPlan runs the engine in audit mode (observe + plan, never
// apply), exactly as `remediator audit` does, and reports compliance.
func observeAndPlan(ctx context.Context, endpoint string, regions []string) (bool, error) {
	e, err := engine.New(moto.Config(endpoint, homeRegion), engine.Options{
		Plan:    plan.Options{Benchmark: catalog.Default(), HomeRegion: homeRegion},
		Regions: regions,
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return false, fmt.Errorf("build engine: %w", err)
	}
	rep, err := e.Run(ctx)
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	return rep.Compliant, nil
}

func run(out string, latency time.Duration, alarms, logGroups, filtersPerGroup, trailFilters int) error {
	// Bound the whole run: a stuck emulator must fail the benchmark, not hang it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "watchkeeper-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	srv, err := moto.Launch(filepath.Join(tmp, "moto.log"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	proxy := awsproxy.New(srv.URL)
	defer proxy.Close()

	// Seed directly against moto, so seeding is not counted.
	w := world.New(srv.Config)
	if _, err := w.Compliant(ctx, world.CompliantSpec{HomeRegion: homeRegion, Benchmark: catalog.Default()}); err != nil {
		return fmt.Errorf("seed compliant account: %w", err)
	}

	r := &report{latency: latency, alarms: alarms, logGroups: logGroups, filtersPerGroup: filtersPerGroup, trailFilters: trailFilters,
		regions: len(defaultRegions), controls: len(catalog.Default().Controls)}
	// A first audit warms up what is built once per process (SDK clients'
	// endpoint resolvers, connection pools), so allocation figures compare
	// like with like.
	if _, err := audit(ctx, proxy, defaultRegions); err != nil {
		return err
	}
	if r.clean, err = audit(ctx, proxy, defaultRegions); err != nil {
		return err
	}
	if r.cleanMem, err = childMemory(proxy.URL); err != nil {
		return err
	}
	if r.rtClean, err = roundTrips(ctx, proxy, latency); err != nil {
		return err
	}

	if err := w.Noise(ctx, homeRegion, alarms, logGroups, filtersPerGroup); err != nil {
		return fmt.Errorf("seed unrelated resources: %w", err)
	}
	if err := trailLogGroupNoise(ctx, srv, trailFilters); err != nil {
		return err
	}
	if r.noisy, err = audit(ctx, proxy, defaultRegions); err != nil {
		return err
	}
	if r.noisyMem, err = childMemory(proxy.URL); err != nil {
		return err
	}
	if r.rtNoisy, err = roundTrips(ctx, proxy, latency); err != nil {
		return err
	}
	// The budget's precondition: the same account with the alarms made by a
	// person (not named watchkeeper-*), then Watchkeeper's alarms restored.
	if err := userAlarms(ctx, w, srv, true); err != nil {
		return err
	}
	if r.user, err = audit(ctx, proxy, defaultRegions); err != nil {
		return err
	}
	if err := userAlarms(ctx, w, srv, false); err != nil {
		return err
	}
	// Worst case for round trips: the topic is encrypted with a customer
	// key named by alias, which must be resolved before its policy is read.
	if err := encryptTopic(ctx, w, srv); err != nil {
		return err
	}
	if r.rtKMS, err = roundTrips(ctx, proxy, latency); err != nil {
		return err
	}
	r.hwm = vmHWM()

	var buf bytes.Buffer
	r.write(&buf)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Print(buf.String())
	if !r.ok() {
		return fmt.Errorf("a goal was missed; see %s", out)
	}
	return nil
}

// trailLogGroupNoise puts n metric filters about other things (application
// errors) on the compliant account's trail log group.
func trailLogGroupNoise(ctx context.Context, srv *moto.Server, n int) error {
	logs := cloudwatchlogs.NewFromConfig(srv.Config(homeRegion))
	for i := range n {
		if _, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName:  aws.String(world.DefaultLogGroupName),
			FilterName:    aws.String(fmt.Sprintf("app-errors-%03d", i)),
			FilterPattern: aws.String(fmt.Sprintf(`{ $.errorCode = "AppError%d" }`, i)),
			MetricTransformations: []logtypes.MetricTransformation{{
				MetricName: aws.String(fmt.Sprintf("AppErrors%d", i)), MetricNamespace: aws.String("App"), MetricValue: aws.String("1"),
			}},
		}); err != nil {
			return fmt.Errorf("seed unrelated filters on the trail's log group: %w", err)
		}
	}
	return nil
}

// userAlarms replaces Watchkeeper's alarms with identical ones a person
// made (named team-*), or, with toUser false, puts Watchkeeper's back.
func userAlarms(ctx context.Context, w *world.World, srv *moto.Server, toUser bool) error {
	b := catalog.Default()
	from, to := world.DefaultPrefix, "team-"
	if !toUser {
		from, to = to, from
	}
	var names []string
	for _, c := range b.Controls {
		names = append(names, from+c.Key)
	}
	if _, err := cloudwatch.NewFromConfig(srv.Config(homeRegion)).DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: names}); err != nil {
		return fmt.Errorf("delete %s* alarms: %w", from, err)
	}
	topic := fmt.Sprintf("arn:aws:sns:%s:%s:%s", homeRegion, moto.Account, world.DefaultTopicName)
	if err := w.ControlAlarms(ctx, homeRegion, b, world.DefaultNamespace, to, topic); err != nil {
		return fmt.Errorf("put %s* alarms: %w", to, err)
	}
	return nil
}

// encryptTopic encrypts the compliant account's topic with a customer key
// whose policy admits CloudWatch, referenced by alias.
func encryptTopic(ctx context.Context, w *world.World, srv *moto.Server) error {
	const policy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + moto.Account + `:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}`
	key, err := w.Key(ctx, homeRegion, policy)
	if err != nil {
		return err
	}
	cfg := srv.Config(homeRegion)
	if _, err := kms.NewFromConfig(cfg).CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName: aws.String("alias/watchkeeper-bench"), TargetKeyId: aws.String(key),
	}); err != nil {
		return fmt.Errorf("create alias: %w", err)
	}
	topic := fmt.Sprintf("arn:aws:sns:%s:%s:%s", homeRegion, moto.Account, world.DefaultTopicName)
	if _, err := sns.NewFromConfig(cfg).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(topic), AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String("alias/watchkeeper-bench"),
	}); err != nil {
		return fmt.Errorf("encrypt topic: %w", err)
	}
	return nil
}

// rtRun is one round-trip measurement.
type rtRun struct {
	Regions   int
	Calls     int
	Zero      time.Duration // wall time without injected latency
	Slow      time.Duration // wall time with injected latency
	MaxFlight int
}

// Trips is the number of sequential round trips: the extra wall time the
// injected latency caused, in units of that latency.
func (r rtRun) Trips(latency time.Duration) float64 {
	return float64(r.Slow-r.Zero) / float64(latency)
}

func roundTrips(ctx context.Context, p *awsproxy.Proxy, latency time.Duration) ([]rtRun, error) {
	var runs []rtRun
	for _, n := range []int{3, 9, 17} {
		regions := defaultRegions[:n]
		// The baseline is the fastest of three runs without latency, so a
		// momentarily busy machine does not inflate the round-trip count.
		p.SetLatency(0)
		var zero time.Duration
		for i := range 3 {
			res, err := audit(ctx, p, regions)
			if err != nil {
				return nil, err
			}
			if i == 0 || res.Wall < zero {
				zero = res.Wall
			}
		}
		p.SetLatency(latency)
		slow, err := audit(ctx, p, regions)
		p.SetLatency(0)
		if err != nil {
			return nil, err
		}
		runs = append(runs, rtRun{Regions: n, Calls: slow.Total, Zero: zero, Slow: slow.Wall, MaxFlight: slow.MaxFlight})
	}
	return runs, nil
}

// childMemory runs one audit in a fresh process and returns its peak
// resident set (VmHWM) in KiB: what a Lambda function of that size needs.
func childMemory(endpoint string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, "-child-endpoint", endpoint)
	cmd.Env = moto.Env(os.Environ(), "", homeRegion)
	cmd.Stderr = os.Stderr
	outp, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("child audit: %w", err)
	}
	var res struct{ VmHWMKiB int }
	if err := json.Unmarshal(outp, &res); err != nil {
		return 0, fmt.Errorf("child audit output %q: %w", outp, err)
	}
	return res.VmHWMKiB, nil
}

func runChild(endpoint string) error {
	if _, err := observeAndPlan(context.Background(), endpoint, defaultRegions); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(struct{ VmHWMKiB int }{vmHWM()})
}

// vmHWM returns this process's peak resident set size in KiB (Linux), or 0.
func vmHWM() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

type report struct {
	latency                            time.Duration
	alarms, logGroups, filtersPerGroup int
	trailFilters, controls             int
	regions                            int
	clean, noisy                       auditResult
	user                               auditResult // alarms made by a person
	cleanMem, noisyMem, hwm            int
	rtClean, rtNoisy, rtKMS            []rtRun
}

func (r *report) budget() int { return r.regions + 12 }

func (r *report) callsOK() bool {
	return r.clean.Total <= r.budget() && maps.Equal(r.clean.Calls, r.noisy.Calls)
}

func (r *report) tripsOK() bool {
	for _, run := range slices.Concat(r.rtClean, r.rtNoisy, r.rtKMS) {
		if run.Trips(r.latency) > 6.5 { // half a latency of slack for moto's own processing
			return false
		}
	}
	return true
}

// alarmsForMetricOp is DescribeAlarmsForMetric as the proxy counts it.
const alarmsForMetricOp = "monitoring:DescribeAlarmsForMetric"

// userOK: with a person's alarms, each control costs exactly one more
// call (DescribeAlarmsForMetric) and the account is still compliant.
func (r *report) userOK() bool {
	return r.user.Compliant && r.user.Total == r.clean.Total+r.controls &&
		r.user.Calls[alarmsForMetricOp] == r.controls
}

func (r *report) ok() bool {
	return r.callsOK() && r.tripsOK() && r.userOK() && r.clean.Compliant && r.noisy.Compliant
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**MISSED**"
}

func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "# Watchkeeper audit benchmark\n\n")
	fmt.Fprintf(w, "A full audit is observe + plan (`remediator audit`), against moto_server %s behind test/awsproxy, home region %s, benchmark %s.\n",
		"5.2.1", homeRegion, catalog.DefaultBenchmark)
	fmt.Fprintf(w, "The account is compliant: one multi-region trail, its log group with one filter and one alarm per control, one topic with a confirmed subscriber.\n")
	fmt.Fprintf(w, "The noisy account adds %d unrelated alarms, %d unrelated log groups with %d filters each, and %d unrelated metric filters on the trail's own log group (%s).\n",
		r.alarms, r.logGroups, r.filtersPerGroup, r.trailFilters, homeRegion)
	fmt.Fprintf(w, "The budget's precondition is that the alarms are Watchkeeper's own (named %s*), found in one listing per region. Alarms a person made can only be found per metric: the user-managed account (the same alarms named team-*) costs one DescribeAlarmsForMetric per control.\n\n", world.DefaultPrefix)

	fmt.Fprintf(w, "## Goals\n\n| goal | result | verdict |\n|---|---|---|\n")
	fmt.Fprintf(w, "| calls ≤ regions + 12 (%d) | %d calls | %s |\n", r.budget(), r.clean.Total, verdict(r.clean.Total <= r.budget()))
	fmt.Fprintf(w, "| same calls with unrelated resources | %d vs %d, by operation %s | %s |\n",
		r.clean.Total, r.noisy.Total, map[bool]string{true: "identical", false: "different"}[maps.Equal(r.clean.Calls, r.noisy.Calls)],
		verdict(maps.Equal(r.clean.Calls, r.noisy.Calls)))
	worst := 0.0
	for _, run := range slices.Concat(r.rtClean, r.rtNoisy, r.rtKMS) {
		worst = max(worst, run.Trips(r.latency))
	}
	fmt.Fprintf(w, "| ≤ 6 sequential round trips at 3, 9, 17 regions | worst %.2f | %s |\n", worst, verdict(r.tripsOK()))
	fmt.Fprintf(w, "| user-managed alarms: compliant account + one call per control (%d + %d), outside the budget by design | %d calls, %d DescribeAlarmsForMetric | %s |\n",
		r.clean.Total, r.controls, r.user.Total, r.user.Calls[alarmsForMetricOp], verdict(r.userOK()))
	fmt.Fprintf(w, "| audit verdict is PASS (sanity) | compliant %v / noisy %v / user-managed %v | %s |\n\n", r.clean.Compliant, r.noisy.Compliant, r.user.Compliant,
		verdict(r.clean.Compliant && r.noisy.Compliant && r.user.Compliant))

	fmt.Fprintf(w, "## API calls by operation (%d regions)\n\n| operation | compliant | + unrelated | user-managed alarms |\n|---|---:|---:|---:|\n", r.regions)
	ops := slices.Sorted(maps.Keys(r.clean.Calls))
	for _, m := range []map[string]int{r.noisy.Calls, r.user.Calls} {
		for op := range m {
			if !slices.Contains(ops, op) {
				ops = append(ops, op)
			}
		}
	}
	slices.Sort(ops)
	for _, op := range ops {
		fmt.Fprintf(w, "| %s | %d | %d | %d |\n", op, r.clean.Calls[op], r.noisy.Calls[op], r.user.Calls[op])
	}
	fmt.Fprintf(w, "| **total** | **%d** | **%d** | **%d** |\n", r.clean.Total, r.noisy.Total, r.user.Total)
	fmt.Fprintf(w, "| total − regions | %d | %d | %d |\n\n", r.clean.Total-r.regions, r.noisy.Total-r.regions, r.user.Total-r.regions)

	fmt.Fprintf(w, "## Sequential round trips\n\n")
	fmt.Fprintf(w, "The proxy delays every call by a fixed latency L = %s. Round trips = (wall time with L − fastest wall time without) / L: the number of calls on the critical path. The design has 4 stages for a compliant account with an unencrypted topic (identity ‖ regions; trails per region; trail status ‖ selectors ‖ filters ‖ own alarms; topic attributes ‖ subscriptions), 5–6 with an encrypted topic (its key).\n\n", r.latency)
	fmt.Fprintf(w, "| account | regions | calls | round trips | wall / L (upper bound) | calls per round trip | max calls in flight |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, set := range []struct {
		name string
		runs []rtRun
	}{{"compliant", r.rtClean}, {"+ unrelated", r.rtNoisy}, {"+ topic encrypted, key by alias", r.rtKMS}} {
		for _, run := range set.runs {
			trips := run.Trips(r.latency)
			fmt.Fprintf(w, "| %s | %d | %d | %.1f | %.1f | %.1f | %d |\n", set.name, run.Regions, run.Calls, trips,
				float64(run.Slow)/float64(r.latency), float64(run.Calls)/max(trips, 1), run.MaxFlight)
		}
	}

	fmt.Fprintf(w, "\n## Memory\n\n| measure | compliant | + unrelated |\n|---|---:|---:|\n")
	fmt.Fprintf(w, "| peak RSS of a process running one audit (VmHWM, MiB) | %.1f | %.1f |\n", float64(r.cleanMem)/1024, float64(r.noisyMem)/1024)
	fmt.Fprintf(w, "| bytes allocated per audit (MiB) | %.2f | %.2f |\n", float64(r.clean.Allocated)/(1<<20), float64(r.noisy.Allocated)/(1<<20))
	fmt.Fprintf(w, "| ratio noisy / compliant allocation | | %.2f |\n\n", float64(r.noisy.Allocated)/float64(max(r.clean.Allocated, 1)))
	fmt.Fprintf(w, "The benchmark process itself (seeding included) peaked at %.1f MiB.\n", float64(r.hwm)/1024)
}
