package reliability_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
)

// figures are the measurements the reliability report publishes. Tests
// record into the package-level figs; TestMain writes them out.
type figures struct {
	mu sync.Mutex

	Schedules      int            // convergence schedules run
	CLISchedules   int            // of which through the CLI binary
	Converged      int            // schedules compliant within two runs
	RunsNeeded     map[int]int    // runs to converge -> schedules (3 = did not converge in 2)
	FaultsByKind   map[string]int // kind (and code) -> injections
	Duplicates     int            // duplicates found after the schedules
	ForeignChanges int            // changes to resources Watchkeeper does not own
	WithCause      int            // failures reported with their cause
	WithoutCause   int            // failures reported without one
	DriftByKind    map[string]int // drift applied -> schedules
	Failed         []string       // seeds of failed schedules, with why
	SuiteTime      time.Duration  // wall time of the convergence suite

	// Storm is the throttling-storm suite (issue #11 part 4).
	Storm stormFigures

	// Results of the other suites: name -> one line.
	Results map[string]string

	Duration time.Duration // whole package
}

// stormFigures are the throttling storm's measurements.
type stormFigures struct {
	Schedules    int            // storm schedules run
	CLI          int            // of which through the CLI binary (real backoff)
	Healed       int            // healed by their single run, no duplicate, nothing foreign changed
	DeniedError  int            // denied Region reported ERROR naming its cause
	Duplicates   int            // duplicates found after the runs (must be 0)
	Foreign      int            // changes to resources Watchkeeper does not own (must be 0)
	Calls        int            // requests the runs sent, retries included
	Throttled    map[string]int // throttling faults injected, by code
	Denied       int            // calls denied in the denied Regions
	WithCause    int            // failures reported with their cause
	WithoutCause int            // failures reported without one (must be 0)
	Regions      map[int]int    // Regions per account -> schedules
	Failed       []string       // seeds of failed schedules, with why
	Time         time.Duration  // wall time of the suite
}

func newFigures() *figures {
	return &figures{RunsNeeded: map[int]int{}, FaultsByKind: map[string]int{}, DriftByKind: map[string]int{}, Results: map[string]string{},
		Storm: stormFigures{Throttled: map[string]int{}, Regions: map[int]int{}}}
}

func (f *figures) result(name, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Results[name] = fmt.Sprintf(format, args...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeMarkdown writes the report to path.
func (f *figures) writeMarkdown(path string, passed bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	verdict := "PASS"
	if !passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "# Watchkeeper reliability report\n\n")
	fmt.Fprintf(&b, "Generated %s by `make reliability` (`go test ./test/reliability`), %s/%s, %d CPUs, moto_server behind test/awsproxy with the moto shims. Verdict of the test run: **%s**. Package wall time %s.\n\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), verdict, f.Duration.Round(time.Second))

	fmt.Fprintf(&b, "## Convergence under random faults (issue #6 item 2)\n\n")
	fmt.Fprintf(&b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| schedules run (seeded, 1-3 regions, random drift, random transient faults) | %d |\n", f.Schedules)
	fmt.Fprintf(&b, "| of which driven through the CLI binary | %d |\n", f.CLISchedules)
	fmt.Fprintf(&b, "| converged (compliant, fresh plan has 0 actions) within two runs | %d |\n", f.Converged)
	fmt.Fprintf(&b, "| runs needed: 1 | %d |\n", f.RunsNeeded[1])
	fmt.Fprintf(&b, "| runs needed: 2 | %d |\n", f.RunsNeeded[2])
	fmt.Fprintf(&b, "| not converged after 2 runs | %d |\n", f.RunsNeeded[3])
	fmt.Fprintf(&b, "| duplicate filters/alarms/topics/subscriptions found (must be 0) | %d |\n", f.Duplicates)
	fmt.Fprintf(&b, "| changes to resources Watchkeeper does not own (must be 0) | %d |\n", f.ForeignChanges)
	fmt.Fprintf(&b, "| failures reported with their cause | %d |\n", f.WithCause)
	fmt.Fprintf(&b, "| failures reported without a cause (must be 0) | %d |\n", f.WithoutCause)
	fmt.Fprintf(&b, "| suite wall time | %s |\n\n", f.SuiteTime.Round(100*time.Millisecond))

	total := 0
	for _, v := range f.FaultsByKind {
		total += v
	}
	fmt.Fprintf(&b, "Faults injected by kind (%d in all):\n\n| kind | injected |\n|---|---|\n", total)
	for _, k := range sortedKeys(f.FaultsByKind) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, f.FaultsByKind[k])
	}
	fmt.Fprintf(&b, "\nDrift applied before the runs (schedules):\n\n| drift | schedules |\n|---|---|\n")
	for _, k := range sortedKeys(f.DriftByKind) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, f.DriftByKind[k])
	}
	if len(f.Failed) > 0 {
		fmt.Fprintf(&b, "\nFailed schedules (rerun one with `go test ./test/reliability -run TestConvergence -args -reliability.seed=SEED -reliability.schedules=1`):\n\n")
		for _, s := range f.Failed {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(s, "\n", " "))
		}
	}
	f.writeStorm(&b)
	fmt.Fprintf(&b, "\n## Other properties (items 1, 3, 4, 5)\n\n| property | result |\n|---|---|\n")
	names := sortedKeys(f.Results)
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, "| %s | %s |\n", k, strings.ReplaceAll(f.Results[k], "|", "\\|"))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeStorm writes the throttling storm's section (f.mu held).
func (f *figures) writeStorm(b *strings.Builder) {
	st := f.Storm
	if st.Schedules == 0 {
		return
	}
	throttled := 0
	for _, v := range st.Throttled {
		throttled += v
	}
	share := 0.0
	if n := st.Calls - st.Denied; n > 0 {
		share = 100 * float64(throttled) / float64(n)
	}
	fmt.Fprintf(b, "\n## Throttling storm: one run heals (issue #11 part 4)\n\n")
	fmt.Fprintf(b, "Each schedule drifts a 2- or 3-Region account (its multi-Region trail stopped, trail healing `none`, so the denied Region must be read), denies every call in one non-home Region (AccessDenied as each protocol encodes it) and throttles %.0f%% of all other calls, seeded. Watchkeeper runs **once**, with its own retry policy (`engine.RetryOptions`: the SDK's standard retryer, %d attempts for the Lambda's %s, backoff capped at %s); in-process runs compress the SDK's pauses %dx, CLI runs keep them.\n\n",
		100*stormThrottle, engine.RetryAttempts(0), engine.DefaultRunTime, engine.RetryMaxBackoff, backoffScale)
	fmt.Fprintf(b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(b, "| storm schedules run (seeded) | %d |\n", st.Schedules)
	fmt.Fprintf(b, "| of which driven through the CLI binary (real backoff) | %d |\n", st.CLI)
	fmt.Fprintf(b, "| accounts of 2 / 3 Regions | %d / %d |\n", st.Regions[2], st.Regions[3])
	fmt.Fprintf(b, "| **healed in a single run** (every action applied; a clean plan of the other Regions has 0 actions; nothing duplicated or foreign changed) | **%d** |\n", st.Healed)
	fmt.Fprintf(b, "| denied Region reported ERROR with its cause | %d |\n", st.DeniedError)
	fmt.Fprintf(b, "| duplicate filters/alarms/topics/subscriptions (must be 0) | %d |\n", st.Duplicates)
	fmt.Fprintf(b, "| changes to resources Watchkeeper does not own (must be 0) | %d |\n", st.Foreign)
	fmt.Fprintf(b, "| failures reported with their cause / without (must be 0) | %d / %d |\n", st.WithCause, st.WithoutCause)
	fmt.Fprintf(b, "| requests sent by the runs (attempts, retries included) | %d |\n", st.Calls)
	fmt.Fprintf(b, "| throttled (share of requests outside the denied Regions) | %d (%.1f%%) |\n", throttled, share)
	fmt.Fprintf(b, "| denied (calls to the denied Regions) | %d |\n", st.Denied)
	fmt.Fprintf(b, "| suite wall time | %s |\n\n", st.Time.Round(100*time.Millisecond))
	fmt.Fprintf(b, "Faults injected by kind:\n\n| kind | injected |\n|---|---|\n")
	for _, k := range sortedKeys(st.Throttled) {
		fmt.Fprintf(b, "| %s | %d |\n", k, st.Throttled[k])
	}
	fmt.Fprintf(b, "| access denied (whole Region) | %d |\n", st.Denied)
	if len(st.Failed) > 0 {
		fmt.Fprintf(b, "\nFailed storm schedules (rerun one with `go test ./test/reliability -run TestThrottlingStorm -args -reliability.storms=1 -reliability.seed=SEED`):\n\n")
		for _, s := range st.Failed {
			fmt.Fprintf(b, "- %s\n", strings.ReplaceAll(s, "\n", " "))
		}
	}
}
