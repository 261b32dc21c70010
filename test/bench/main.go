// Command bench measures what a full Watchkeeper audit costs and writes a
// markdown report (make bench):
//
//   - API calls by operation for a full audit (observe + plan, no apply) of
//     a compliant account at 3, 20 and 38 regions, with a plain topic and
//     with a topic encrypted under a customer managed key named by alias.
//     Goal: at most 12 calls at every size, since the account's
//     multi-region trail, seen from the home region, covers every region.
//   - The same audit of the 38-region account with thousands of unrelated
//     alarms, dozens of unrelated log groups and unrelated metric filters on
//     the trail's own log group. Goal: identical calls. The budget assumes
//     the alarms are Watchkeeper's own: alarms a person made (other names)
//     are found only per metric, one DescribeAlarmsForMetric per control, so
//     that case is measured and reported too (compliant + one per control).
//   - Sequential round trips: wall time divided by a per-call latency that a
//     proxy (test/awsproxy) injects in front of moto_server, at 3, 20 and 38
//     regions, plain and encrypted topic. Goal: at most 6.
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
// guide, "Enable or disable AWS Regions").
var defaultRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
	"eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
}

// optInRegions are the commercial opt-in regions moto 5.2.1 and the SDK
// know (17 more). moto reports the first three as enabled and the others
// as "not-opted-in", and cannot opt in; optInEveryRegion makes
// DescribeRegions answer as an account that opted in to all of them does.
var optInRegions = []string{
	"af-south-1", "ap-southeast-3", "eu-south-1",
	"ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-west-1", "eu-central-2", "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
}

// futureRegions stand for commercial regions newer than moto 5.2.1 and this
// SDK (which know 34): with them the account has 38 enabled regions, as the
// benchmark's largest size asks. A trail covering every region means their
// trails are never listed, so the emulator never sees a call for them;
// optInEveryRegion lists them as opted in.
var futureRegions = []string{"xx-future-1", "xx-future-2", "xx-future-3", "xx-future-4"}

// regionSets are the audited sizes: a small account, the 20 regions moto
// enables (the default 17 and the first three opt-in regions), and 38.
var regionSets = map[int][]string{
	3:  {"us-east-1", "eu-west-1", "ap-southeast-2"},
	20: slices.Concat(defaultRegions, optInRegions[:3]),
	38: slices.Concat(defaultRegions, optInRegions, futureRegions),
}

// sizes are regionSets' keys in order; the largest is the reference for
// the noisy and person-made comparisons.
var sizes = []int{3, 20, 38}

const largest = 38

// maxCalls and maxTrips are the goals for a compliant account's audit.
const (
	maxCalls = 12
	maxTrips = 6
)

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
	optInEveryRegion(proxy)

	// Seed directly against moto, so seeding is not counted.
	w := world.New(srv.Config)
	if _, err := w.Compliant(ctx, world.CompliantSpec{HomeRegion: homeRegion, Benchmark: catalog.Default()}); err != nil {
		return fmt.Errorf("seed compliant account: %w", err)
	}

	r := &report{latency: latency, alarms: alarms, logGroups: logGroups, filtersPerGroup: filtersPerGroup, trailFilters: trailFilters,
		controls: len(catalog.Default().Controls), clean: map[int]auditResult{}, encrypted: map[int]auditResult{}}
	// A first audit warms up what is built once per process (SDK clients'
	// endpoint resolvers, connection pools), so allocation figures compare
	// like with like.
	if _, err := audit(ctx, proxy, regionSets[largest]); err != nil {
		return err
	}
	for _, n := range sizes {
		if r.clean[n], err = audit(ctx, proxy, regionSets[n]); err != nil {
			return err
		}
	}
	// Round trips before the memory run: the child's audit leaves moto
	// busy for a moment, which the first timed run would otherwise count.
	if r.rtClean, err = roundTrips(ctx, proxy, latency); err != nil {
		return err
	}
	if r.cleanMem, err = childMemory(proxy.URL); err != nil {
		return err
	}

	// The topic encrypted with a customer key named by alias: the worst
	// case for round trips, since the alias must be resolved before the
	// key policy is read. Then the topic is made plain again.
	if err := encryptTopic(ctx, w, srv, "alias/watchkeeper-bench"); err != nil {
		return err
	}
	for _, n := range sizes {
		if r.encrypted[n], err = audit(ctx, proxy, regionSets[n]); err != nil {
			return err
		}
	}
	if r.rtKMS, err = roundTrips(ctx, proxy, latency); err != nil {
		return err
	}
	if err := encryptTopic(ctx, w, srv, ""); err != nil {
		return err
	}

	if err := w.Noise(ctx, homeRegion, alarms, logGroups, filtersPerGroup); err != nil {
		return fmt.Errorf("seed unrelated resources: %w", err)
	}
	if err := trailLogGroupNoise(ctx, srv, trailFilters); err != nil {
		return err
	}
	if r.noisy, err = audit(ctx, proxy, regionSets[largest]); err != nil {
		return err
	}
	if r.rtNoisy, err = roundTrips(ctx, proxy, latency); err != nil {
		return err
	}
	if r.noisyMem, err = childMemory(proxy.URL); err != nil {
		return err
	}
	// The budget's precondition: the same account with the alarms made by a
	// person (not named watchkeeper-*), then Watchkeeper's alarms restored.
	if err := userAlarms(ctx, w, srv, true); err != nil {
		return err
	}
	if r.user, err = audit(ctx, proxy, regionSets[largest]); err != nil {
		return err
	}
	if err := userAlarms(ctx, w, srv, false); err != nil {
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

// optInEveryRegion makes DescribeRegions answer as an account that has
// opted in to every opt-in region does ("opted-in"; EC2 API reference,
// DescribeRegions, RegionInfo.OptInStatus: "opt-in-not-required | opted-in
// | not-opted-in"), and lists futureRegions as opted in too. moto 5.2.1
// reports its opt-in regions "not-opted-in" and has no way to opt in. The
// hook is the benchmark's own (test/scenarios has the same for its
// account); it changes no other call.
func optInEveryRegion(p *awsproxy.Proxy) {
	var extra strings.Builder
	for _, name := range futureRegions {
		fmt.Fprintf(&extra, "<item><regionName>%s</regionName><regionEndpoint>ec2.%s.amazonaws.com</regionEndpoint><optInStatus>opted-in</optInStatus></item>", name, name)
	}
	p.Handle(awsproxy.ServiceEC2, "DescribeRegions", func(req *awsproxy.Request, next awsproxy.Next) (*awsproxy.Response, error) {
		resp, err := next()
		if err != nil || resp.StatusCode != 200 {
			return resp, err
		}
		body := bytes.ReplaceAll(resp.Body, []byte("<optInStatus>not-opted-in</optInStatus>"), []byte("<optInStatus>opted-in</optInStatus>"))
		i := bytes.LastIndex(body, []byte("</regionInfo>"))
		if i < 0 {
			return nil, fmt.Errorf("bench: DescribeRegions answer has no regionInfo list: %.200s", resp.Body)
		}
		resp.Body = slices.Concat(body[:i], []byte(extra.String()), body[i:])
		return resp, nil
	})
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
// whose policy admits CloudWatch, referenced by alias (created on first
// use), or with alias "" makes the topic plain again.
func encryptTopic(ctx context.Context, w *world.World, srv *moto.Server, alias string) error {
	cfg := srv.Config(homeRegion)
	if alias != "" {
		const policy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + moto.Account + `:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}`
		key, err := w.Key(ctx, homeRegion, policy)
		if err != nil {
			return err
		}
		if _, err := kms.NewFromConfig(cfg).CreateAlias(ctx, &kms.CreateAliasInput{
			AliasName: aws.String(alias), TargetKeyId: aws.String(key),
		}); err != nil {
			return fmt.Errorf("create alias: %w", err)
		}
	}
	topic := fmt.Sprintf("arn:aws:sns:%s:%s:%s", homeRegion, moto.Account, world.DefaultTopicName)
	if _, err := sns.NewFromConfig(cfg).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(topic), AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String(alias),
	}); err != nil {
		return fmt.Errorf("set the topic's key to %q: %w", alias, err)
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
	for _, n := range sizes {
		regions := regionSets[n]
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
	if _, err := observeAndPlan(context.Background(), endpoint, regionSets[largest]); err != nil {
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
	clean, encrypted                   map[int]auditResult // by region count
	noisy                              auditResult         // largest, + unrelated resources
	user                               auditResult         // largest, alarms made by a person
	cleanMem, noisyMem, hwm            int
	rtClean, rtNoisy, rtKMS            []rtRun
}

// callsOK: every compliant audit, plain or encrypted, at every size, stays
// within maxCalls.
func (r *report) callsOK() bool {
	for _, n := range sizes {
		if r.clean[n].Total > maxCalls || r.encrypted[n].Total > maxCalls {
			return false
		}
	}
	return true
}

// noiseOK: unrelated resources change no call.
func (r *report) noiseOK() bool { return maps.Equal(r.clean[largest].Calls, r.noisy.Calls) }

func (r *report) tripsOK() bool {
	for _, run := range slices.Concat(r.rtClean, r.rtNoisy, r.rtKMS) {
		if run.Trips(r.latency) > maxTrips+0.5 { // half a latency of slack for moto's own processing
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
	return r.user.Compliant && r.user.Total == r.clean[largest].Total+r.controls &&
		r.user.Calls[alarmsForMetricOp] == r.controls
}

// compliantOK: every audit judged the account compliant (sanity).
func (r *report) compliantOK() bool {
	for _, n := range sizes {
		if !r.clean[n].Compliant || !r.encrypted[n].Compliant {
			return false
		}
	}
	return r.noisy.Compliant && r.user.Compliant
}

func (r *report) ok() bool {
	return r.callsOK() && r.noiseOK() && r.tripsOK() && r.userOK() && r.compliantOK()
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
	fmt.Fprintf(w, "The account is compliant: one multi-region trail, its log group with one filter and one alarm per control, one topic with a confirmed subscriber; plain, or encrypted with a customer managed key (named by alias) whose policy admits CloudWatch.\n")
	fmt.Fprintf(w, "Region sets: 3 (%s); 20 (the 17 default regions and %s, which moto enables); 38 (those, the %d other opt-in regions moto knows, reported opted in, and %d synthetic regions standing for regions newer than moto and the SDK: %s).\n",
		strings.Join(regionSets[3], ", "), strings.Join(optInRegions[:3], ", "), len(optInRegions)-3, len(futureRegions), strings.Join(futureRegions, ", "))
	fmt.Fprintf(w, "The multi-region trail, seen from the home region, covers every region, so no other region's trails are listed: the calls do not depend on the number of regions.\n")
	fmt.Fprintf(w, "The noisy account (%d regions) adds %d unrelated alarms, %d unrelated log groups with %d filters each, and %d unrelated metric filters on the trail's own log group (%s).\n",
		largest, r.alarms, r.logGroups, r.filtersPerGroup, r.trailFilters, homeRegion)
	fmt.Fprintf(w, "The budget's precondition is that the alarms are Watchkeeper's own (named %s*), found in one listing per region. Alarms a person made can only be found per metric: the user-managed account (the same alarms named team-*) costs one DescribeAlarmsForMetric per control.\n\n", world.DefaultPrefix)

	fmt.Fprintf(w, "## Goals\n\n| goal | result | verdict |\n|---|---|---|\n")
	var plain, enc []string
	for _, n := range sizes {
		plain = append(plain, fmt.Sprintf("%d", r.clean[n].Total))
		enc = append(enc, fmt.Sprintf("%d", r.encrypted[n].Total))
	}
	fmt.Fprintf(w, "| ≤ %d calls at 3, 20, 38 regions | plain %s; encrypted %s | %s |\n", maxCalls, strings.Join(plain, " / "), strings.Join(enc, " / "), verdict(r.callsOK()))
	fmt.Fprintf(w, "| same calls with unrelated resources (%d regions) | %d vs %d, by operation %s | %s |\n", largest,
		r.clean[largest].Total, r.noisy.Total, map[bool]string{true: "identical", false: "different"}[r.noiseOK()], verdict(r.noiseOK()))
	worst := 0.0
	for _, run := range slices.Concat(r.rtClean, r.rtNoisy, r.rtKMS) {
		worst = max(worst, run.Trips(r.latency))
	}
	fmt.Fprintf(w, "| ≤ %d sequential round trips at 3, 20, 38 regions, plain and encrypted | worst %.2f | %s |\n", maxTrips, worst, verdict(r.tripsOK()))
	fmt.Fprintf(w, "| user-managed alarms: compliant account + one call per control (%d + %d), outside the budget by design | %d calls, %d DescribeAlarmsForMetric | %s |\n",
		r.clean[largest].Total, r.controls, r.user.Total, r.user.Calls[alarmsForMetricOp], verdict(r.userOK()))
	var verdicts []string
	for _, n := range sizes {
		verdicts = append(verdicts, fmt.Sprintf("%d regions %v/%v", n, r.clean[n].Compliant, r.encrypted[n].Compliant))
	}
	fmt.Fprintf(w, "| audit verdict is PASS (sanity) | plain/encrypted: %s; noisy %v; user-managed %v | %s |\n\n",
		strings.Join(verdicts, ", "), r.noisy.Compliant, r.user.Compliant, verdict(r.compliantOK()))

	fmt.Fprintf(w, "## API calls by operation\n\n| operation |")
	for _, n := range sizes {
		fmt.Fprintf(w, " %d regions |", n)
	}
	for _, n := range sizes {
		fmt.Fprintf(w, " %d, encrypted |", n)
	}
	fmt.Fprintf(w, " %d, + unrelated | %d, user-managed alarms |\n|---|", largest, largest)
	columns := make([]auditResult, 0, 2*len(sizes)+2)
	for _, n := range sizes {
		columns = append(columns, r.clean[n])
	}
	for _, n := range sizes {
		columns = append(columns, r.encrypted[n])
	}
	columns = append(columns, r.noisy, r.user)
	ops := map[string]bool{}
	for _, c := range columns {
		fmt.Fprintf(w, "---:|")
		for op := range c.Calls {
			ops[op] = true
		}
	}
	fmt.Fprintln(w)
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		fmt.Fprintf(w, "| %s |", op)
		for _, c := range columns {
			fmt.Fprintf(w, " %d |", c.Calls[op])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| **total** |")
	for _, c := range columns {
		fmt.Fprintf(w, " **%d** |", c.Total)
	}
	fmt.Fprintf(w, "\n\n")

	fmt.Fprintf(w, "## Sequential round trips\n\n")
	fmt.Fprintf(w, "The proxy delays every call by a fixed latency L = %s. Round trips = (wall time with L − fastest wall time without) / L: the number of calls on the critical path. The design has 2 stages for a compliant account with a plain topic (identity ‖ regions ‖ the home region's trails; trail status ‖ selectors ‖ filters ‖ own alarms ‖ topic attributes ‖ subscriptions), 3 with an encrypted topic whose key is named by id or ARN (DescribeKey ‖ GetKeyPolicy), 4 when the key is named by alias (DescribeKey resolves it before GetKeyPolicy), whatever the number of regions.\n\n", r.latency)
	fmt.Fprintf(w, "| account | regions | calls | round trips | wall / L (upper bound) | calls per round trip | max calls in flight |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, set := range []struct {
		name string
		runs []rtRun
	}{{"compliant", r.rtClean}, {"+ topic encrypted, key by alias", r.rtKMS}, {"+ unrelated", r.rtNoisy}} {
		for _, run := range set.runs {
			trips := run.Trips(r.latency)
			fmt.Fprintf(w, "| %s | %d | %d | %.1f | %.1f | %.1f | %d |\n", set.name, run.Regions, run.Calls, trips,
				float64(run.Slow)/float64(r.latency), float64(run.Calls)/max(trips, 1), run.MaxFlight)
		}
	}

	fmt.Fprintf(w, "\n## Memory (%d regions)\n\n| measure | compliant | + unrelated |\n|---|---:|---:|\n", largest)
	fmt.Fprintf(w, "| peak RSS of a process running one audit (VmHWM, MiB) | %.1f | %.1f |\n", float64(r.cleanMem)/1024, float64(r.noisyMem)/1024)
	fmt.Fprintf(w, "| bytes allocated per audit (MiB) | %.2f | %.2f |\n", float64(r.clean[largest].Allocated)/(1<<20), float64(r.noisy.Allocated)/(1<<20))
	fmt.Fprintf(w, "| ratio noisy / compliant allocation | | %.2f |\n\n", float64(r.noisy.Allocated)/float64(max(r.clean[largest].Allocated, 1)))
	fmt.Fprintf(w, "The benchmark process itself (seeding included) peaked at %.1f MiB.\n", float64(r.hwm)/1024)
}
