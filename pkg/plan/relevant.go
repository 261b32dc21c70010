package plan

import (
	"slices"
	"sync"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
)

// RelevantFilter returns the predicate the inspector uses to decide which
// metric filters' metrics deserve an alarm lookup (inspect.Options): a
// filter is relevant when it counts events (1 per event, no dimensions) and
// its pattern satisfies some control of opts.Benchmark that is not
// excluded, under opts.Profile, exactly as Compute judges it. Filters about
// anything else cost no API calls. The predicate is safe for concurrent
// use and remembers each pattern's answer.
func RelevantFilter(opts Options) func(inspect.MetricFilter) bool {
	profile := opts.Profile
	if profile == "" {
		profile = catalog.ProfileBenchmark
	}
	var controls []catalog.Control
	for _, c := range opts.Benchmark.Controls {
		if !slices.Contains(opts.Exclude, c.ID) {
			controls = append(controls, c)
		}
	}
	var (
		mu   sync.Mutex
		fc   *filterCache
		memo = map[string]bool{}
	)
	return func(f inspect.MetricFilter) bool {
		if _, counts := countingMetric(f); !counts {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if v, ok := memo[f.Pattern]; ok {
			return v
		}
		if fc == nil {
			fc = newFilterCache()
		}
		relevant := slices.ContainsFunc(controls, func(c catalog.Control) bool {
			ok, _, _ := fc.matcher(c, profile).satisfies(f.Pattern)
			return ok
		})
		memo[f.Pattern] = relevant
		return relevant
	}
}
