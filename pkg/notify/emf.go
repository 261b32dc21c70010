package notify

import (
	"encoding/json"
	"time"
)

// MetricNamespace is the CloudWatch namespace of Watchkeeper's own run
// metrics (distinct from the benchmark's metric-filter namespace).
const MetricNamespace = "Watchkeeper"

// The heartbeat: a run that evaluated the account to the end
// (Run.Succeeded) publishes HeartbeatMetric = 1 with the one dimension
// HeartbeatDimension (the account id), and a run that did not publishes
// nothing. The stack's dead man's switch alarm (infra/selfwatch.go) treats
// missing data as breaching, so it fires when no successful run happened
// for 26 hours, whatever stopped them: a disabled schedule, a function
// that cannot start, runs that fail. The dimension is the account, not
// the benchmark, so the alarm does not depend on how the benchmark id is
// spelled.
const (
	HeartbeatMetric    = "Heartbeat"
	HeartbeatDimension = "Account"
)

// EMF returns one CloudWatch Embedded Metric Format document (a single JSON
// line, no trailing newline) for run, timestamped now. Lambda sends stdout
// to CloudWatch Logs, which extracts the metrics. The format: a root
// "_aws" member with Timestamp (ms since the epoch) and CloudWatchMetrics,
// an array of directives naming a Namespace, Dimensions (arrays of
// dimension names, each a string member of the root) and Metrics (Name and
// Unit, each a numeric member of the root). Source: Amazon CloudWatch user
// guide, "Specification: Embedded metric format".
func EMF(run Run, now time.Time) []byte {
	c := Count(run.Report)
	compliant := 0
	if run.Report.Compliant {
		compliant = 1
	}
	doc := emfDoc{
		AWS: emfMeta{
			Timestamp: now.UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace:  MetricNamespace,
				Dimensions: [][]string{{"Benchmark"}, {"Benchmark", "Trigger"}},
				Metrics: []emfMetric{
					{"ControlsPassing", "Count"}, {"ControlsFailing", "Count"},
					{"ActionsApplied", "Count"}, {"ActionsFailed", "Count"}, {"ActionsSkipped", "Count"},
					{"Compliant", "Count"}, {"RunDuration", "Milliseconds"},
				},
			}},
		},
		Benchmark:       run.Report.Benchmark,
		Trigger:         string(run.Trigger.Kind),
		Account:         run.Report.Account,
		Mode:            run.Report.Mode,
		ControlsPassing: c.ControlsPassing,
		ControlsFailing: c.ControlsFailing,
		ActionsApplied:  c.ActionsApplied,
		ActionsFailed:   c.ActionsFailed,
		ActionsSkipped:  c.ActionsSkipped,
		Compliant:       compliant,
		RunDuration:     run.Duration.Milliseconds(),
	}
	if run.Succeeded && doc.Account != "" {
		one := 1
		doc.Heartbeat = &one
		doc.AWS.CloudWatchMetrics = append(doc.AWS.CloudWatchMetrics, emfDirective{
			Namespace:  MetricNamespace,
			Dimensions: [][]string{{HeartbeatDimension}},
			Metrics:    []emfMetric{{HeartbeatMetric, "Count"}},
		})
	}
	if doc.Trigger == "" {
		doc.Trigger = "unknown"
	}
	if doc.Benchmark == "" {
		doc.Benchmark = "unknown" // a dimension value must be present
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // only strings and numbers: cannot fail
	}
	return b
}

type emfDoc struct {
	AWS             emfMeta `json:"_aws"`
	Benchmark       string  `json:"Benchmark"`
	Trigger         string  `json:"Trigger"`
	Account         string  `json:"Account,omitempty"`
	Mode            string  `json:"Mode,omitempty"`
	ControlsPassing int     `json:"ControlsPassing"`
	ControlsFailing int     `json:"ControlsFailing"`
	ActionsApplied  int     `json:"ActionsApplied"`
	ActionsFailed   int     `json:"ActionsFailed"`
	ActionsSkipped  int     `json:"ActionsSkipped"`
	Compliant       int     `json:"Compliant"`
	RunDuration     int64   `json:"RunDuration"`
	Heartbeat       *int    `json:"Heartbeat,omitempty"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}
