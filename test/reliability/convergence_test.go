package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/world"
)

var regionPool = []string{"us-east-1", "eu-west-1", "us-west-2"}

// operations are the calls Watchkeeper makes, by signing name; fault rules
// pick from them.
var operations = map[string][]string{
	awsproxy.ServiceLogs:       {"DescribeMetricFilters", "PutMetricFilter", "DescribeLogGroups"},
	awsproxy.ServiceCloudWatch: {"DescribeAlarms", "PutMetricAlarm", "EnableAlarmActions", "ListTagsForResource"},
	awsproxy.ServiceSNS:        {"ListTopics", "GetTopicAttributes", "CreateTopic", "Subscribe", "ListSubscriptionsByTopic", "ListTagsForResource"},
	awsproxy.ServiceCloudTrail: {"DescribeTrails", "GetTrailStatus", "GetEventSelectors", "StartLogging"},
	awsproxy.ServiceSTS:        {"GetCallerIdentity"},
}

var services = []string{"", awsproxy.ServiceLogs, awsproxy.ServiceCloudWatch, awsproxy.ServiceSNS, awsproxy.ServiceCloudTrail, awsproxy.ServiceSTS}

// faultChoice is a transient fault a schedule may inject.
type faultChoice struct {
	kind awsproxy.FaultKind
	code string
}

var transient = []faultChoice{
	{kind: awsproxy.FaultThrottle},                                   // ThrottlingException / Throttling as the protocol encodes it
	{kind: awsproxy.FaultThrottle, code: "TooManyRequestsException"}, // API Gateway style throttling code
	{kind: awsproxy.FaultInternal},
	{kind: awsproxy.FaultUnavailable},
	{kind: awsproxy.FaultReset},
	{kind: awsproxy.FaultSlow},
}

func (c faultChoice) label() string {
	if c.code != "" {
		return string(c.kind) + " (" + c.code + ")"
	}
	return string(c.kind)
}

// schedule is one seeded scenario: an account, its drift, and the faults
// injected while Watchkeeper heals it.
type schedule struct {
	seed    uint64
	acct    account
	base    string   // "compliant" or "trail only"
	drift   []string // what was undone
	rules   []awsproxy.Fault
	choices []faultChoice
}

func (s schedule) String() string {
	var rules []string
	for _, r := range s.rules {
		rules = append(rules, fmt.Sprintf("%s %s:%s@%s p=%.2f x%d", r.Kind+awsproxy.FaultKind(map[bool]string{true: "/" + r.Code}[r.Code != ""]),
			r.Service, r.Operation, r.Region, r.Probability, r.Times))
	}
	return fmt.Sprintf("seed=%d regions=%v base=%s drift=%v faults=[%s]", s.seed, s.acct.Regions, s.base, s.drift, strings.Join(rules, "; "))
}

// failBudget bounds the failing responses (every kind but slow) one
// schedule injects, over both runs. In process the SDK makes three attempts
// per call (cfgAt; the CLI sample's production policy makes more),
// so a burst of up to 5 can make a call fail for good in the first run
// (3 in a row) but not in the second (at most 2 left): transient faults
// by construction. A fault that outlasts every retry of every run is not
// transient, and no remediator can converge through it.
const failBudget = 5

// drifts are the ways seedAccount can undo a compliant account.
var drifts = []string{"delete filters", "delete alarms", "disable alarm actions", "stop logging", "unsubscribe", "delete topic", "rewrite filter pattern", "rewrite alarm"}

// newSchedule derives a schedule from seed alone.
func newSchedule(seed uint64) schedule {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	pool := append([]string(nil), regionPool...)
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	s := schedule{seed: seed, acct: account{Regions: pool[:1+rng.IntN(len(pool))]}}
	if rng.IntN(4) == 0 {
		s.base = "trail only"
	} else {
		s.base = "compliant"
		for _, d := range drifts {
			if rng.Float64() < 0.35 {
				s.drift = append(s.drift, d)
			}
		}
	}
	budget := failBudget
	for range 1 + rng.IntN(4) {
		c := transient[rng.IntN(len(transient))]
		f := awsproxy.Fault{Kind: c.kind, Code: c.code, Service: services[rng.IntN(len(services))],
			Probability: 0.2 + 0.5*rng.Float64(), Times: 1 + rng.IntN(failBudget)}
		if c.kind != awsproxy.FaultSlow {
			if budget == 0 {
				continue
			}
			f.Times = min(f.Times, budget)
			budget -= f.Times
		}
		if f.Service != "" && rng.IntN(2) == 0 {
			ops := operations[f.Service]
			f.Operation = ops[rng.IntN(len(ops))]
		}
		if rng.IntN(2) == 0 {
			f.Region = s.acct.Regions[rng.IntN(len(s.acct.Regions))]
		}
		if c.kind == awsproxy.FaultSlow {
			f.Delay = time.Duration(20+rng.IntN(130)) * time.Millisecond
		}
		s.rules = append(s.rules, f)
		s.choices = append(s.choices, c)
	}
	return s
}

// seedAccount builds the schedule's account, adds resources Watchkeeper
// does not own, and applies the drift. Everything goes through the proxy
// (no fault yet), so the shims apply.
func (rg *rig) seedAccount(ctx context.Context, s schedule) error {
	cfg := rg.cfg
	w := world.New(cfg)
	home := s.acct.home()
	rng := rand.New(rand.NewPCG(s.seed, 0xd71f7))
	bench := catalog.Default()
	var topic string
	if s.base == "compliant" {
		acct, err := w.Compliant(ctx, world.CompliantSpec{HomeRegion: home, Endpoints: []string{subscriber}})
		if err != nil {
			return err
		}
		topic = acct.TopicARN
	} else if _, err := w.Trail(ctx, world.TrailSpec{Name: world.DefaultTrailName, HomeRegion: home, LogGroupName: world.DefaultLogGroupName}); err != nil {
		return err
	}
	if err := rg.seedForeign(ctx, w, s.acct); err != nil {
		return err
	}
	logs := cloudwatchlogs.NewFromConfig(cfg(home))
	cw := cloudwatch.NewFromConfig(cfg(home))
	sn := sns.NewFromConfig(cfg(home))
	pick := func() []string { // a random non-empty subset of owned names
		var out []string
		for _, c := range bench.Controls {
			if rng.IntN(3) == 0 {
				out = append(out, world.DefaultPrefix+c.Key)
			}
		}
		if len(out) == 0 {
			out = append(out, world.DefaultPrefix+bench.Controls[rng.IntN(len(bench.Controls))].Key)
		}
		return out
	}
	for _, d := range s.drift {
		var err error
		switch d {
		case "delete filters":
			for _, n := range pick() {
				if _, err = logs.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String(world.DefaultLogGroupName), FilterName: aws.String(n)}); err != nil {
					break
				}
			}
		case "delete alarms":
			_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: pick()})
		case "disable alarm actions":
			_, err = cw.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: pick()})
		case "stop logging":
			_, err = cloudtrail.NewFromConfig(cfg(home)).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(world.DefaultTrailName)})
		case "delete topic":
			_, err = sn.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(topic)})
		case "unsubscribe":
			var out *sns.ListSubscriptionsByTopicOutput
			if out, err = sn.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)}); err == nil {
				for _, sub := range out.Subscriptions {
					if _, err = sn.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn}); err != nil {
						break
					}
				}
			}
		case "rewrite filter pattern":
			n := pick()[0]
			_, err = logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
				LogGroupName: aws.String(world.DefaultLogGroupName), FilterName: aws.String(n),
				FilterPattern:         aws.String(`{ $.eventName = "SomethingElse" }`),
				MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("Other"), MetricNamespace: aws.String("Other"), MetricValue: aws.String("1")}},
			})
		case "rewrite alarm":
			n := pick()[0]
			_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
				AlarmName: aws.String(n), MetricName: aws.String("Other"), Namespace: aws.String("Other"),
				Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(5),
				Threshold: aws.Float64(10), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			})
		}
		if err != nil {
			return fmt.Errorf("drift %q: %w", d, err)
		}
	}
	return nil
}

// seedForeign creates resources Watchkeeper does not own and must never
// change: in every region an alarm, a log group with a filter and a topic
// with a subscriber; in the home region also a filter on the trail's own
// log group and an alarm on Watchkeeper's metric namespace.
func (rg *rig) seedForeign(ctx context.Context, w *world.World, a account) error {
	cfg := rg.cfg
	for _, r := range a.Regions {
		cw := cloudwatch.NewFromConfig(cfg(r))
		logs := cloudwatchlogs.NewFromConfig(cfg(r))
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String("app-latency"), MetricName: aws.String("Latency"), Namespace: aws.String("App"),
			Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3),
			Threshold: aws.Float64(250), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			ActionsEnabled: aws.Bool(false),
		}); err != nil {
			return fmt.Errorf("foreign alarm in %s: %w", r, err)
		}
		if err := w.LogGroup(ctx, r, "/app/orders"); err != nil {
			return err
		}
		groups := []string{"/app/orders"}
		if r == a.home() {
			groups = append(groups, world.DefaultLogGroupName)
		}
		for _, g := range groups {
			if _, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
				LogGroupName: aws.String(g), FilterName: aws.String("app-errors"),
				FilterPattern:         aws.String(`{ $.errorCode = "OrderFailed" }`),
				MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("OrderErrors"), MetricNamespace: aws.String("App"), MetricValue: aws.String("1")}},
			}); err != nil {
				return fmt.Errorf("foreign filter on %s in %s: %w", g, r, err)
			}
		}
		if _, err := w.Topic(ctx, r, "app-alerts", "email:ops@example.com"); err != nil {
			return err
		}
	}
	_, err := cloudwatch.NewFromConfig(cfg(a.home())).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("team-root-usage"), MetricName: aws.String("RootAccountUsage"), Namespace: aws.String(world.DefaultNamespace),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(3600), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	})
	if err != nil {
		return fmt.Errorf("foreign alarm on the benchmark namespace: %w", err)
	}
	return nil
}

// outcome is what one schedule measured.
type outcome struct {
	runs           int // 1 or 2; 3 = not converged after two
	withCause      int
	withoutCause   int
	duplicates     []string
	foreignChanges []string
	injected       map[string]int
	problems       []string
}

// runSchedule seeds, injects, runs Watchkeeper at most twice, and checks.
func (rg *rig) runSchedule(ctx context.Context, s schedule, viaCLI bool) outcome {
	o := outcome{injected: map[string]int{}}
	fail := func(format string, args ...any) { o.problems = append(o.problems, fmt.Sprintf(format, args...)) }
	if err := rg.fresh(); err != nil {
		fail("reset: %v", err)
		return o
	}
	if err := rg.seedAccount(ctx, s); err != nil {
		fail("seed: %v", err)
		return o
	}
	before, err := rg.readState(ctx, s.acct.Regions...)
	if err != nil {
		fail("read state: %v", err)
		return o
	}
	rg.proxy.Seed(s.seed)
	for _, f := range s.rules {
		rg.proxy.Inject(f)
	}
	o.runs = 3
	for run := 1; run <= 2; run++ {
		var rep report.Report
		var runErr error
		if viaCLI {
			res, err := runCLI(ctx, rg.proxy.URL, s.acct, "apply")
			switch {
			case err != nil:
				fail("run %d: %v", run, err)
			case res.Code == 1 && strings.TrimSpace(res.Stderr) == "":
				o.withoutCause++
				fail("run %d: exit 1 with an empty stderr", run)
			case res.Code == 1:
				o.withCause++ // the account could not be evaluated; stderr says why
			case res.Code != 0 && res.Code != 2:
				fail("run %d: exit %d\n%s", run, res.Code, res.Stderr)
			}
			rep = res.Report
			if res.Code == 0 && (!rep.Compliant || len(rep.Pending()) > 0) {
				fail("run %d: exit 0 but the report is not compliant or has pending actions: %s", run, summary(rep))
			}
			if res.Code == 2 && rep.Compliant && len(rep.Pending()) == 0 {
				fail("run %d: exit 2 but the report is compliant with nothing pending", run)
			}
		} else {
			rep, runErr = runEngine(ctx, rg.proxy.URL, s.acct, true, nil)
			if runErr != nil {
				if strings.TrimSpace(runErr.Error()) == "" {
					o.withoutCause++
				} else {
					o.withCause++
				}
			}
		}
		w, wo, bad := causes(rep)
		o.withCause += w
		o.withoutCause += wo
		for _, b := range bad {
			fail("run %d: failure without cause: %s", run, b)
		}
		check, err := rg.cleanPlan(ctx, s.acct)
		if err != nil {
			fail("run %d: verification plan: %v", run, err)
			break
		}
		converged := check.Compliant && len(check.Actions) == 0
		if runErr == nil && rep.Account != "" && rep.Compliant && len(rep.Pending()) == 0 && !converged {
			fail("run %d: the report says compliant and done, but a clean plan disagrees: %s", run, summary(check))
		}
		if converged {
			o.runs = run
			break
		}
		if run == 2 {
			fail("not compliant after two runs; clean plan: %s\nlast run report: %s (run error %v)", summary(check), summary(rep), runErr)
		}
	}
	for i, n := range rg.proxy.InjectedByRule() {
		o.injected[s.choices[i].label()] += n
	}
	rg.proxy.ClearFaults()
	after, err := rg.readState(ctx, s.acct.Regions...)
	if err != nil {
		fail("read state after: %v", err)
		return o
	}
	o.duplicates = after.duplicates()
	o.foreignChanges = foreignChanges(before, after)
	for _, d := range o.duplicates {
		fail("duplicate: %s", d)
	}
	for _, c := range o.foreignChanges {
		fail("foreign resource: %s", c)
	}
	return o
}

// TestConvergence runs seeded random fault schedules over drifted
// accounts: after at most two runs the account is compliant, with no
// duplicate and no change to anything Watchkeeper does not own, and every
// failure reported on the way carries its cause.
//
// With -reliability.schedules=N (make reliability passes 200) it runs N
// consecutive seeds from -reliability.seed; by default it runs the smoke
// set, a few seeds that together inject every fault kind and every drift.
func TestConvergence(t *testing.T) {
	ctx := t.Context()
	seeds := convergenceSeeds()
	n := len(seeds)
	cli := *cliSample
	if *schedules == 0 {
		cli = min(cli, smokeCLI)
	}
	every := 0
	if cli > 0 && n > 0 {
		every = max(1, n/cli)
	}
	started := time.Now()
	defer func() {
		figs.mu.Lock()
		figs.SuiteTime = time.Since(started)
		figs.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for w, rg := range rigs {
		wg.Go(func() {
			for i := w; i < n; i += len(rigs) {
				if ctx.Err() != nil {
					return
				}
				s := newSchedule(seeds[i])
				viaCLI := every > 0 && i%every == every-1
				o := rg.runSchedule(ctx, s, viaCLI)
				record(t, s, o, viaCLI)
			}
		})
	}
	wg.Wait()
	t.Logf("%d schedules (seeds %v) in %s; runs needed %v; faults %v", n, abbreviate(seeds), time.Since(started).Round(time.Millisecond), figs.RunsNeeded, figs.FaultsByKind)
}

// smokeCLI is how many smoke schedules are also driven through the CLI.
const smokeCLI = 2

// convergenceSeeds returns the seeds TestConvergence runs:
// -reliability.schedules consecutive seeds from -reliability.seed, or the
// smoke set when that is 0.
func convergenceSeeds() []uint64 {
	if *schedules == 0 {
		return smokeSeeds()
	}
	seeds := make([]uint64, *schedules)
	for i := range seeds {
		seeds[i] = *firstSeed + uint64(i)
	}
	return seeds
}

// smokeSeeds picks, from the full suite's seeds 1..200, a small set whose
// schedules together use every transient fault kind, every drift, both
// account bases and one to three regions, each in at least two schedules
// (so no kind is proven by one account shape alone): greedily, the seed
// adding the most missing features first (lowest seed on ties). newSchedule depends
// on the seed alone, so the set is the same on every run.
func smokeSeeds() []uint64 {
	features := func(s schedule) []string {
		f := []string{"base " + s.base, fmt.Sprintf("%d regions", len(s.acct.Regions))}
		for _, c := range s.choices {
			f = append(f, "fault "+c.label())
		}
		for _, d := range s.drift {
			f = append(f, "drift "+d)
		}
		return f
	}
	const each = 2
	covered := map[string]int{}
	var seeds []uint64
	for {
		best, gain := uint64(0), 0
		for seed := uint64(1); seed <= 200; seed++ {
			if slices.Contains(seeds, seed) {
				continue
			}
			g := 0
			for _, f := range uniq(features(newSchedule(seed))) {
				if covered[f] < each {
					g++
				}
			}
			if g > gain {
				best, gain = seed, g
			}
		}
		if gain == 0 {
			slices.Sort(seeds)
			return seeds
		}
		seeds = append(seeds, best)
		for _, f := range uniq(features(newSchedule(best))) {
			covered[f]++
		}
	}
}

func uniq(s []string) []string { return slices.Compact(slices.Sorted(slices.Values(s))) }

// abbreviate shows a seed list, or its range when it is consecutive.
func abbreviate(seeds []uint64) string {
	if len(seeds) > 12 && seeds[len(seeds)-1]-seeds[0] == uint64(len(seeds)-1) {
		return fmt.Sprintf("%d..%d", seeds[0], seeds[len(seeds)-1])
	}
	return fmt.Sprint(seeds)
}

// TestSmokeSeedsCoverEveryFault checks that the smoke set injects every
// transient fault kind and applies every drift, and stays small.
func TestSmokeSeedsCoverEveryFault(t *testing.T) {
	seeds := smokeSeeds()
	faults, drifted := map[string]bool{}, map[string]bool{}
	for _, seed := range seeds {
		s := newSchedule(seed)
		for _, c := range s.choices {
			faults[c.label()] = true
		}
		for _, d := range s.drift {
			drifted[d] = true
		}
	}
	for _, c := range transient {
		if !faults[c.label()] {
			t.Errorf("smoke seeds %v never inject %s", seeds, c.label())
		}
	}
	for _, d := range drifts {
		if !drifted[d] {
			t.Errorf("smoke seeds %v never drift %q", seeds, d)
		}
	}
	if len(seeds) > 12 {
		t.Errorf("smoke set has %d seeds (%v); keep it small, the full suite is make reliability", len(seeds), seeds)
	}
	t.Logf("smoke seeds %v", seeds)
}

// record adds one schedule's outcome to the figures and reports its
// problems with the seed that reproduces them.
func record(t *testing.T, s schedule, o outcome, viaCLI bool) {
	figs.mu.Lock()
	figs.Schedules++
	if viaCLI {
		figs.CLISchedules++
	}
	figs.RunsNeeded[o.runs]++
	if o.runs <= 2 {
		figs.Converged++
	}
	for k, v := range o.injected {
		figs.FaultsByKind[k] += v
	}
	if s.base == "trail only" {
		figs.DriftByKind["trail only (no filters, alarms, topic)"]++
	}
	for _, d := range s.drift {
		figs.DriftByKind[d]++
	}
	figs.Duplicates += len(o.duplicates)
	figs.ForeignChanges += len(o.foreignChanges)
	figs.WithCause += o.withCause
	figs.WithoutCause += o.withoutCause
	if len(o.problems) > 0 {
		figs.Failed = append(figs.Failed, fmt.Sprintf("seed %d: %s", s.seed, o.problems[0]))
	}
	figs.mu.Unlock()

	if len(o.problems) > 0 {
		via := "engine"
		if viaCLI {
			via = "CLI"
		}
		t.Errorf("schedule %s (via %s) failed; reproduce with -run 'TestConvergence' -args -reliability.seed=%d -reliability.schedules=1 -reliability.cli=%d:\n  %s",
			s, via, s.seed, map[bool]int{true: 1, false: 0}[viaCLI], strings.Join(o.problems, "\n  "))
	}
}
