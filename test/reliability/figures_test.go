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

	// Results of the other suites: name -> one line.
	Results map[string]string

	Duration time.Duration // whole package
}

func newFigures() *figures {
	return &figures{RunsNeeded: map[int]int{}, FaultsByKind: map[string]int{}, DriftByKind: map[string]int{}, Results: map[string]string{}}
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
	fmt.Fprintf(&b, "\n## Other properties (items 1, 3, 4, 5)\n\n| property | result |\n|---|---|\n")
	names := sortedKeys(f.Results)
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, "| %s | %s |\n", k, strings.ReplaceAll(f.Results[k], "|", "\\|"))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
