package plan

import (
	"slices"
	"sync"

	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// RelevantFilter returns the predicate the inspector uses to decide which
// metric filters' metrics deserve an alarm lookup (inspect.Options): a
// filter is relevant when it publishes a metric and its pattern satisfies
// some control of opts.Benchmark that is not excluded, under opts.Profile,
// exactly as Judge decides it (breadth included). Filters about anything
// else cost no API calls. The predicate is safe for concurrent use and
// remembers each pattern's answer.
func RelevantFilter(opts Options) func(account.MetricFilter) bool {
	opts = opts.withDefaults()
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
	return func(f account.MetricFilter) bool {
		if len(f.Transformations) == 0 {
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
			ok, _, _ := fc.matcher(c, opts.Profile).satisfies(f.Pattern)
			return ok
		})
		memo[f.Pattern] = relevant
		return relevant
	}
}

// AlarmNotifies returns the predicate the inspector uses to decide whether
// an alarm on a relevant metric already completes the alert path, so that
// other alarms on that metric need not be looked up (inspect.Options). It
// is the judge's own alarm verdict (chain.go, topic.go), minus what needs
// the control: a dimension the alarm selects counts as not notifying, so
// the inspector looks further rather than miss an alarm that does.
func AlarmNotifies(opts Options) func(a account.Alarm, t account.MetricTransformation, topic func(arn string) (account.Topic, bool)) bool {
	opts = opts.withDefaults()
	return func(a account.Alarm, t account.MetricTransformation, topic func(string) (account.Topic, bool)) bool {
		r, _ := parseARN(a.ARN)
		j := &judge{opts: opts, account: r.AccountID, partition: r.Partition, topics: topic}
		if j.partition == "" {
			j.partition = "aws"
		}
		return j.alarmVerdict(a, newCandidate("", false, t), nil).ok
	}
}
