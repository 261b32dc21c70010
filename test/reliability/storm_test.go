package reliability_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// The throttling storm (issue #11, part 4): a quarter of all calls
// throttled and one Region denied, and one run must heal everything it may
// heal, with no duplicate, reporting the denied Region as ERROR with its
// cause. The engine runs with its own retry policy (engine.RetryOptions:
// attempts sized for the Lambda's deadline, the SDK's standard retryer);
// only the pauses are compressed, so a hundred schedules fit in minutes.
// The CLI sample runs the production policy unchanged, pauses included.

var (
	storms   = flag.Int("reliability.storms", 0, "throttling-storm schedules (make reliability runs 100); 0 runs the smoke set")
	stormCLI = flag.Int("reliability.storm-cli", 2, "how many storm schedules are also driven through the CLI binary, with real backoff (none in the smoke set)")
)

// stormThrottle is the share of calls the storm throttles.
const stormThrottle = 0.25

// backoffScale compresses the SDK's pauses in the in-process storm runs:
// at most 20 ms, then 40 ms, instead of 2 s, then 4 s.
const backoffScale = 100

// storm is one seeded storm schedule: an account of two or three Regions,
// its drift, the Region denied and the throttling code.
type storm struct {
	seed   uint64
	acct   account
	denied string // never the home Region
	base   string
	drift  []string
	code   string // "" = each protocol's own throttling code
}

// stormCodes are the throttling codes a storm may use: each protocol's own
// (ThrottlingException, Throttling, RequestLimitExceeded), or
// TooManyRequestsException with HTTP 429 for every service.
var stormCodes = []string{"", "TooManyRequestsException"}

func (s storm) label() string {
	if s.code == "" {
		return "throttle (each protocol's code)"
	}
	return "throttle (" + s.code + ")"
}

func (s storm) String() string {
	return fmt.Sprintf("seed=%d regions=%v denied=%s base=%s drift=%v %s p=%.2f", s.seed, s.acct.Regions, s.denied, s.base, s.drift, s.label(), stormThrottle)
}

// schedule is the account part of s, for seedAccount.
func (s storm) schedule() schedule {
	return schedule{seed: s.seed, acct: s.acct, base: s.base, drift: s.drift}
}

// newStorm derives a storm from seed alone. Its trail is always stopped
// and trail healing is none, so no trail covers every Region: the denied
// Region must be read, and so it is reported ERROR (with a covering trail
// it is never called and passes, which TestPartialFailure proves).
func newStorm(seed uint64) storm {
	rng := rand.New(rand.NewPCG(seed, 0x5707))
	pool := slices.Clone(regionPool)
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	regions := pool[:2+rng.IntN(len(pool)-1)]
	s := storm{seed: seed, acct: account{Regions: regions}, denied: regions[1+rng.IntN(len(regions)-1)],
		code: stormCodes[rng.IntN(len(stormCodes))]}
	if rng.IntN(4) == 0 {
		s.base = "trail only"
	} else {
		s.base = "compliant"
		for _, d := range drifts {
			if d != "stop logging" && rng.Float64() < 0.35 {
				s.drift = append(s.drift, d)
			}
		}
	}
	s.drift = append(s.drift, "stop logging")
	return s
}

// stormCfg is the engine's configuration in the in-process storm runs: its
// own retry policy, with the SDK's backoff compressed by backoffScale.
func stormCfg(endpoint, region string) aws.Config {
	c := moto.Config(endpoint, region)
	c.RetryMaxAttempts = 0 // moto.Config pins 3; the storm runs the engine's policy
	c.Retryer = func() aws.Retryer {
		return retry.NewStandard(engine.RetryOptions(engine.DefaultRunTime), func(o *retry.StandardOptions) {
			sdk := retry.NewExponentialJitterBackoff(o.MaxBackoff)
			o.Backoff = retry.BackoffDelayerFunc(func(attempt int, err error) (time.Duration, error) {
				d, bErr := sdk.BackoffDelay(attempt, err)
				return d / backoffScale, bErr
			})
		})
	}
	return c
}

// stormOutcome is what one storm schedule measured.
type stormOutcome struct {
	healed       bool // no problem: everything outside the denied Region healed by the one run
	deniedError  bool // the denied Region reported ERROR naming its cause
	duplicates   []string
	foreign      []string
	calls        int // requests the run sent (attempts, retries included)
	throttled    int
	denied       int
	withCause    int
	withoutCause int
	problems     []string
}

// runStorm seeds s, unleashes the storm, runs Watchkeeper once and checks.
func (rg *rig) runStorm(ctx context.Context, s storm, viaCLI bool) stormOutcome {
	var o stormOutcome
	fail := func(format string, args ...any) { o.problems = append(o.problems, fmt.Sprintf(format, args...)) }
	if err := rg.fresh(); err != nil {
		fail("reset: %v", err)
		return o
	}
	if err := rg.seedAccount(ctx, s.schedule()); err != nil {
		fail("seed: %v", err)
		return o
	}
	before, err := rg.readState(ctx, s.acct.Regions...)
	if err != nil {
		fail("read state: %v", err)
		return o
	}
	rg.proxy.Seed(s.seed)
	// Rules are tried in order: the denied Region is denied on every call,
	// every other call is throttled with probability stormThrottle.
	rg.proxy.Inject(awsproxy.Fault{Kind: awsproxy.FaultAccessDenied, Region: s.denied})
	throttle := awsproxy.Fault{Kind: awsproxy.FaultThrottle, Code: s.code, Probability: stormThrottle}
	if s.code != "" {
		throttle.Status = http.StatusTooManyRequests
	}
	rg.proxy.Inject(throttle)
	rg.proxy.Reset()

	var rep report.Report
	if viaCLI {
		res, err := runCLI(ctx, rg.proxy.URL, s.acct, "apply", "--trail-healing", "none")
		switch {
		case err != nil:
			fail("CLI: %v", err)
		case res.Code != 2:
			fail("CLI exit %d, want 2 (a Region could not be evaluated)\n%s", res.Code, res.Stderr)
		case !strings.Contains(res.Stderr, s.denied):
			fail("CLI stderr does not name the denied Region %s:\n%s", s.denied, res.Stderr)
		}
		rep = res.Report
	} else {
		var runErr error
		rep, runErr = runEngineWith(ctx, stormCfg(rg.proxy.URL, s.acct.home()), s.acct, true, healNone)
		if runErr != nil {
			fail("engine.Run: %v (the storm must not cost the run its result)", runErr)
		}
	}
	o.calls = rg.proxy.Total()
	if n := rg.proxy.InjectedByRule(); len(n) == 2 {
		o.denied, o.throttled = n[0], n[1]
	}
	rg.proxy.ClearFaults()

	var bad []string
	o.withCause, o.withoutCause, bad = causes(rep)
	for _, b := range bad {
		fail("failure without cause: %s", b)
	}
	switch g := regionLine(rep, s.denied); {
	case g == nil:
		fail("report has no line for the denied Region %s", s.denied)
	case g.Status != plan.StatusError:
		fail("denied Region %s: %s %q, want ERROR", s.denied, g.Status, g.Reasons)
	case !strings.Contains(strings.Join(g.Reasons, " "), "AccessDenied") && !strings.Contains(strings.Join(g.Reasons, " "), "not authorized"):
		fail("denied Region %s: reasons %q do not name the cause", s.denied, g.Reasons)
	default:
		o.deniedError = true
	}
	for _, g := range rep.Regions {
		if g.Region != s.denied && g.Status == plan.StatusError {
			fail("Region %s ERROR although only %s was denied: %q", g.Region, s.denied, g.Reasons)
		}
	}
	for _, a := range rep.Actions {
		if a.Status != report.StatusApplied {
			fail("action %s %s %s %s after the run: %s", a.Status, a.Action, a.Region, a.Target, a.Error)
		}
	}
	// Healed: a plan of the other Regions, with no fault in the way and
	// the same trail healing, has nothing left to do.
	others := account{Regions: slices.DeleteFunc(slices.Clone(s.acct.Regions), func(r string) bool { return r == s.denied })}
	check, err := runEngine(ctx, rg.checker.URL, others, false, healNone)
	switch {
	case err != nil:
		fail("verification plan: %v", err)
	case len(check.Actions) != 0:
		fail("not healed in one run; a clean plan of %v still wants: %s", others.Regions, summary(check))
	}
	after, err := rg.readState(ctx, s.acct.Regions...)
	if err != nil {
		fail("read state after: %v", err)
		return o
	}
	o.duplicates = after.duplicates()
	o.foreign = foreignChanges(before, after)
	for _, d := range o.duplicates {
		fail("duplicate: %s", d)
	}
	for _, c := range o.foreign {
		fail("foreign resource: %s", c)
	}
	o.healed = len(o.problems) == 0
	return o
}

// stormSmokeSeeds are the storm schedules go test runs by default: the
// first seeds that together use both throttling codes, two and three
// Regions and both account bases.
func stormSmokeSeeds() []uint64 {
	covered := map[string]bool{}
	var seeds []uint64
	for seed := uint64(1); seed <= 100 && len(covered) < 6; seed++ {
		s := newStorm(seed)
		features := []string{s.label(), fmt.Sprintf("%d regions", len(s.acct.Regions)), s.base}
		gain := false
		for _, f := range features {
			gain = gain || !covered[f]
		}
		if !gain {
			continue
		}
		for _, f := range features {
			covered[f] = true
		}
		seeds = append(seeds, seed)
	}
	return seeds
}

// stormSeeds returns -reliability.storms consecutive seeds from
// -reliability.seed, or the smoke set.
func stormSeeds() []uint64 {
	if *storms == 0 {
		return stormSmokeSeeds()
	}
	seeds := make([]uint64, *storms)
	for i := range seeds {
		seeds[i] = *firstSeed + uint64(i)
	}
	return seeds
}

// TestThrottlingStorm: under a quarter of all calls throttled and one
// Region denied, each schedule heals in a single run (everything outside
// the denied Region, as far as trail healing none allows: a clean plan of
// those Regions has no action), with no duplicate and no change to
// anything Watchkeeper does not own, every action applied, and the denied
// Region reported ERROR with its cause.
func TestThrottlingStorm(t *testing.T) {
	ctx := t.Context()
	seeds := stormSeeds()
	cli := *stormCLI
	if *storms == 0 {
		cli = 0 // real backoff takes tens of seconds a run: make reliability only
	}
	every := 0
	if cli > 0 && len(seeds) > 0 {
		every = max(1, len(seeds)/cli)
	}
	started := time.Now()
	var wg sync.WaitGroup
	for w, rg := range rigs {
		wg.Go(func() {
			for i := w; i < len(seeds); i += len(rigs) {
				if ctx.Err() != nil {
					return
				}
				s := newStorm(seeds[i])
				viaCLI := every > 0 && i%every == every-1
				o := rg.runStorm(ctx, s, viaCLI)
				recordStorm(t, s, o, viaCLI)
			}
		})
	}
	wg.Wait()
	figs.mu.Lock()
	figs.Storm.Time = time.Since(started)
	figs.mu.Unlock()
	t.Logf("%d storm schedules (seeds %s) in %s: %d healed in one run", len(seeds), abbreviate(seeds), time.Since(started).Round(time.Millisecond), figs.Storm.Healed)
}

// TestStormSmokeSeeds checks that the smoke set runs the storm shape in
// each of its variants, and stays small.
func TestStormSmokeSeeds(t *testing.T) {
	seeds := stormSmokeSeeds()
	seen := map[string]bool{}
	for _, seed := range seeds {
		s := newStorm(seed)
		if s.denied == s.acct.home() || !slices.Contains(s.acct.Regions, s.denied) {
			t.Errorf("seed %d denies %s, want a Region of %v other than the home Region", seed, s.denied, s.acct.Regions)
		}
		if !slices.Contains(s.drift, "stop logging") {
			t.Errorf("seed %d leaves the trail logging; the denied Region would never be read", seed)
		}
		seen[s.label()], seen[fmt.Sprintf("%d regions", len(s.acct.Regions))], seen[s.base] = true, true, true
	}
	for _, want := range []string{"throttle (each protocol's code)", "throttle (TooManyRequestsException)", "2 regions", "3 regions", "compliant", "trail only"} {
		if !seen[want] {
			t.Errorf("storm smoke seeds %v never cover %q", seeds, want)
		}
	}
	if len(seeds) > 4 {
		t.Errorf("storm smoke set has %d seeds (%v); keep it small, the full suite is make reliability", len(seeds), seeds)
	}
	t.Logf("storm smoke seeds %v", seeds)
}

// recordStorm adds one storm's outcome to the figures and reports its
// problems with the seed that reproduces them.
func recordStorm(t *testing.T, s storm, o stormOutcome, viaCLI bool) {
	f := &figs.Storm
	figs.mu.Lock()
	f.Schedules++
	if viaCLI {
		f.CLI++
	}
	if o.healed {
		f.Healed++
	}
	if o.deniedError {
		f.DeniedError++
	}
	f.Duplicates += len(o.duplicates)
	f.Foreign += len(o.foreign)
	f.Calls += o.calls
	f.Throttled[s.label()] += o.throttled
	f.Denied += o.denied
	f.WithCause += o.withCause
	f.WithoutCause += o.withoutCause
	f.Regions[len(s.acct.Regions)]++
	if len(o.problems) > 0 {
		f.Failed = append(f.Failed, fmt.Sprintf("seed %d: %s", s.seed, o.problems[0]))
	}
	figs.mu.Unlock()
	if len(o.problems) > 0 {
		via := map[bool]string{true: "CLI", false: "engine"}[viaCLI]
		t.Errorf("storm %s (via %s) failed; reproduce with -run 'TestThrottlingStorm' -args -reliability.storms=1 -reliability.seed=%d -reliability.storm-cli=%d:\n  %s",
			s, via, s.seed, map[bool]int{true: 1, false: 0}[viaCLI], strings.Join(o.problems, "\n  "))
	}
}
