package inspect_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// srv is the package's one moto_server. Tests run one after another (none
// calls t.Parallel) and each newEnv resets it, so every test starts from an
// empty account without paying for a server start.
var srv *moto.Server

func TestMain(m *testing.M) {
	os.Exit(moto.Main("inspect", func(s *moto.Server) int { srv = s; return m.Run() }))
}

// env is the shared moto server, freshly reset, with a World and a way to
// build inspectors whose SDK calls are counted by operation.
type env struct {
	srv   *moto.Server
	world *world.World
	calls *counter
}

// compliant seeds, in us-east-1, the account Watchkeeper leaves behind for
// the default benchmark (test/world.Compliant), its topic subscribing
// endpoints (world's default when none).
func (e *env) compliant(t *testing.T, endpoints ...string) world.Account {
	t.Helper()
	acct, err := e.world.Compliant(t.Context(), world.CompliantSpec{HomeRegion: "us-east-1", Benchmark: catalog.Default(), Endpoints: endpoints})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return acct
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv.Reset(t)
	return &env{srv: srv, world: world.New(srv.Config), calls: &counter{m: map[string]int{}}}
}

// counter counts SDK operations as "Service.Operation" through an
// Initialize-step middleware, which runs once per call (retries happen in
// later steps), so it counts what the inspector asked for. With a latency
// set, it also delays every call by it and records when each call started
// and ended, from which trips derives the sequential round trips.
type counter struct {
	mu      sync.Mutex
	m       map[string]int
	latency time.Duration
	spans   []span
}

// span is one call's start and end.
type span struct{ start, end time.Time }

func (c *counter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.m[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)]++
			latency := c.latency
			c.mu.Unlock()
			if latency == 0 {
				return next.HandleInitialize(ctx, in)
			}
			start := time.Now()
			time.Sleep(latency)
			out, md, err := next.HandleInitialize(ctx, in)
			c.mu.Lock()
			c.spans = append(c.spans, span{start, time.Now()})
			c.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

// setLatency sets the delay added to every call (0 for none).
func (c *counter) setLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = d
}

// take returns the counts so far and resets them.
func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := maps.Clone(c.m)
	clear(c.m)
	c.spans = nil
	return out
}

// trips returns the number of sequential round trips of the calls since
// the last take: the longest chain of calls each of which started after
// the previous one ended. The injected latency keeps calls started
// together overlapping, so scheduling noise does not chain them.
func (c *counter) trips() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	spans := slices.Clone(c.spans)
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	depth := make([]int, len(spans))
	longest := 0
	for i, s := range spans {
		depth[i] = 1
		for j := range i {
			if !spans[j].end.After(s.start) {
				depth[i] = max(depth[i], depth[j]+1)
			}
		}
		longest = max(longest, depth[i])
	}
	return longest
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// config returns a counted moto configuration for region.
func (e *env) config(region string) aws.Config {
	cfg := e.srv.Config(region)
	cfg.APIOptions = append(cfg.APIOptions, e.calls.middleware)
	return cfg
}

// options returns inspector options over counted SDK clients; wrap, if not
// nil, may replace a region's clients (fakes for edge cases).
func (e *env) options(wrap func(region string, c inspect.Clients) inspect.Clients) inspect.Options {
	cfg := e.config("us-east-1")
	sdk := inspect.SDKClients(cfg)
	clients := sdk
	if wrap != nil {
		clients = func(region string) inspect.Clients { return wrap(region, sdk(region)) }
	}
	return inspect.Options{
		Clients:      clients,
		Identity:     sts.NewFromConfig(cfg),
		RegionLister: ec2.NewFromConfig(cfg),
	}
}

func (e *env) observe(t *testing.T, opts inspect.Options, req inspect.Request) account.Snapshot {
	t.Helper()
	e.calls.take()
	snap, err := inspect.New(opts).Observe(t.Context(), req)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return snap
}

// trailFake wraps a TrailReader; nil function fields fall through.
type trailFake struct {
	inspect.TrailReader
	describeTrails func(ctx context.Context, in *cloudtrail.DescribeTrailsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	getTrailStatus func(ctx context.Context, in *cloudtrail.GetTrailStatusInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
}

func (f trailFake) DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	if f.describeTrails != nil {
		return f.describeTrails(ctx, in, opts...)
	}
	return f.TrailReader.DescribeTrails(ctx, in, opts...)
}

func (f trailFake) GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	if f.getTrailStatus != nil {
		return f.getTrailStatus(ctx, in, opts...)
	}
	return f.TrailReader.GetTrailStatus(ctx, in, opts...)
}

// logsFake wraps a LogsReader with a replacement DescribeMetricFilters.
type logsFake struct {
	describe func(ctx context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error)
}

func (f logsFake) DescribeMetricFilters(ctx context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error) {
	return f.describe(ctx, in, opts...)
}

// pagedFilters makes moto's DescribeMetricFilters page as AWS does. moto
// 5.2.1 returns every filter at once (and echoes the request's nextToken);
// AWS returns at most 50 per page and a nextToken while more remain (CloudWatch
// Logs API reference, DescribeMetricFilters: "limit ... Valid Range: Minimum
// value of 1. Maximum value of 50." with nextToken for the next set).
func pagedFilters(real inspect.LogsReader) inspect.LogsReader {
	return logsFake{describe: func(ctx context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error) {
		start := 0
		if in.NextToken != nil {
			var err error
			if start, err = strconv.Atoi(*in.NextToken); err != nil {
				return nil, fmt.Errorf("bad token %q", *in.NextToken)
			}
		}
		all := *in
		all.NextToken = nil
		out, err := real.DescribeMetricFilters(ctx, &all, opts...)
		if err != nil {
			return nil, err
		}
		const page = 50
		end := min(start+page, len(out.MetricFilters))
		res := &cloudwatchlogs.DescribeMetricFiltersOutput{MetricFilters: out.MetricFilters[start:end]}
		if end < len(out.MetricFilters) {
			res.NextToken = aws.String(strconv.Itoa(end))
		}
		return res, nil
	}}
}

// snsFake wraps a TopicReader with a replacement ListSubscriptionsByTopic.
type snsFake struct {
	inspect.TopicReader
	list func(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, opts ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
}

func (f snsFake) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, opts ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	return f.list(ctx, in, opts...)
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}

// notifies is the planner's AlarmNotifies predicate, as the engine passes
// it, for the default benchmark.
var notifies = plan.AlarmNotifies(plan.Options{Benchmark: catalog.Default()})

// futureRegions stand for commercial regions newer than moto 5.2.1 and
// this SDK, which know 34 (EC2 API reference, DescribeRegions; SDK
// partitions.json). They let a test ask for 38 enabled regions; a covered
// account never calls them.
var futureRegions = []string{"xx-future-1", "xx-future-2", "xx-future-3", "xx-future-4"}

// allRegions wraps a region lister so that every commercial region moto
// lists is enabled, as in an account that opted in to every opt-in region
// (moto 5.2.1 reports them "not-opted-in" and cannot opt in; AWS then
// reports "opted-in", EC2 API reference, DescribeRegions, RegionInfo
// OptInStatus), plus futureRegions.
func allRegions(real inspect.RegionLister) inspect.RegionLister {
	return regionsFunc(func(ctx context.Context, in *ec2.DescribeRegionsInput, o ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
		out, err := real.DescribeRegions(ctx, in, o...)
		if err != nil {
			return nil, err
		}
		for i, r := range out.Regions {
			if aws.ToString(r.OptInStatus) == "not-opted-in" {
				out.Regions[i].OptInStatus = aws.String("opted-in")
			}
		}
		for _, name := range futureRegions {
			out.Regions = append(out.Regions, ec2types.Region{RegionName: aws.String(name), OptInStatus: aws.String("opted-in")})
		}
		return out, nil
	})
}

// commercialRegions returns n enabled commercial regions from lister's
// answer (sorted, us-east-1 always included).
func commercialRegions(t *testing.T, lister inspect.RegionLister, n int) []string {
	t.Helper()
	out, err := lister.DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"us-east-1"}
	for _, r := range out.Regions {
		name, st := aws.ToString(r.RegionName), aws.ToString(r.OptInStatus)
		if name == "us-east-1" || st == "not-opted-in" || strings.HasPrefix(name, "cn-") || strings.HasPrefix(name, "us-gov-") {
			continue
		}
		names = append(names, name)
	}
	if len(names) < n {
		t.Fatalf("only %d enabled regions (%v), want %d", len(names), names, n)
	}
	return slices.Sorted(slices.Values(names[:n]))
}
