// Package cisaudit runs the CIS AWS Foundations Benchmark's own audit
// procedure for the monitoring controls, command by command with the `aws`
// CLI, exactly as the benchmark text gives it (fact sheet
// ../shared/reference/cis-monitoring-controls.md, section 4 "Audit-procedure
// facts"):
//
//  1. aws cloudtrail describe-trails — trails with IsMultiRegionTrail true;
//     note Name and the log group in CloudWatchLogsLogGroupArn;
//     aws cloudtrail get-trail-status --name <trail> — IsLogging true;
//     aws cloudtrail get-event-selectors --trail-name <trail> — at least one
//     event selector with IncludeManagementEvents true and ReadWriteType All.
//  2. aws logs describe-metric-filters --log-group-name <log group>
//  3. the output contains the prescribed "filterPattern"
//  4. note that filter's metric name
//  5. aws cloudwatch describe-alarms --query "MetricAlarms[?MetricName == `<metric>`]"
//  6. note AlarmActions (the SNS topic ARNs)
//  7. aws sns list-subscriptions-by-topic --topic-arn <topic> — at least one
//     subscription whose SubscriptionArn is a valid ARN.
//
// It is an oracle independent of Watchkeeper: it shares no code with
// pkg/inspect or pkg/plan and never uses the filter-pattern engine.
//
// How step 3 compares patterns. The benchmark compares text ("ensure the
// output … contains the following"), so this audit does too: a filter's
// pattern must equal, byte for byte, one of the texts Prescribed returns —
// no whitespace or quote normalisation. Those are this version's own audit
// and remediation texts as the catalog transcribes them (a filter created
// with the benchmark's own remediation command must pass its audit, even
// where the version's audit line is printed differently), plus,
// for the securityhub profile, the exact string AWS Security Hub's
// CloudWatch.x check accepts (Security Hub says it "perform[s] the exact
// audit steps prescribed" with its own string). Equivalent-but-different
// texts, which Watchkeeper accepts, deliberately fail here.
//
// Step 1 reads classic event selectors only, as the text does: a trail with
// only advanced selectors fails this audit (the fact sheet notes the
// Monitoring section never mentions them).
package cisaudit

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// Step is one command of the procedure and what it showed.
type Step struct {
	Command string `json:"command"`
	OK      bool   `json:"ok"`
	Note    string `json:"note"`
}

// Result is one control's audit verdict.
type Result struct {
	ID   string `json:"id"`
	Pass bool   `json:"pass"`
	// Why is the reason for a failure (the last failing check), "" on pass.
	Why   string `json:"why,omitempty"`
	Steps []Step `json:"steps"`
}

// Report is the audit of every control of a benchmark.
type Report struct {
	Benchmark string   `json:"benchmark"`
	Results   []Result `json:"results"`
	// Commands counts the aws CLI invocations the audit made.
	Commands int `json:"commands"`
}

// Failed returns the results that did not pass.
func (r Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.Pass {
			out = append(out, res)
		}
	}
	return out
}

// Options configure an audit.
type Options struct {
	// Env is the environment of every aws CLI process (use moto.Env so it
	// talks to moto with dummy credentials and never the user's profile).
	Env []string
	// Region is where describe-trails runs (the region the auditor's CLI is
	// configured for). Later commands run in the region of the resource
	// they name (taken from its ARN), as an auditor would.
	Region string
	// Profile selects which extra written form step 3 accepts; see the
	// package comment.
	Profile catalog.Profile
	// AWS, when set, is an aws CLI executable started once per command.
	// When "" the commands run through awscli's clidriver in one Python
	// session (awsdriver.py): same CLI, same arguments, one interpreter
	// start-up per audit instead of per command. Where Python cannot import
	// awscli, "aws" on PATH is started per command.
	AWS string
	// Python is the interpreter of the session; "" means python3.
	Python string
}

// Prescribed returns the texts step 3 accepts for control c of benchmark b:
// the version's own audit and remediation transcriptions (catalog variants
// one of whose sources is "v<version> ..."), and for ProfileSecurityHub also
// the exact Security Hub string. It deliberately ignores what Watchkeeper
// writes (Control.Pattern): where the catalog resolves a conflict by
// writing a text of its own (e.g. the grouped v1.3.0–v1.5.0 4.1 form), a
// literal CIS audit fails, and this oracle must show that.
func Prescribed(b catalog.Benchmark, c catalog.Control, p catalog.Profile) []string {
	set := map[string]bool{}
	prefix := "v" + b.Version + " "
	for _, v := range c.Accepted {
		for _, src := range strings.Split(v.Source, "; ") {
			if strings.HasPrefix(src, prefix) {
				set[v.Pattern] = true
			}
		}
	}
	if p == catalog.ProfileSecurityHub && c.SecurityHubID != "" {
		set[c.PatternFor(catalog.ProfileSecurityHub)] = true
	}
	delete(set, "")
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// validSubscriptionARN is "arn:aws:sns:<region>:<aws_account_number>:<SnsTopicName>:<SubscriptionID>"
// (the benchmark's example of a valid SubscriptionArn).
var validSubscriptionARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+:[A-Za-z0-9-]+$`)

// trail is what step 1 notes about a multi-region trail.
type trail struct {
	name, logGroup, logGroupRegion string
	ok                             bool
	steps                          []Step
	why                            string
}

type auditor struct {
	opts     Options
	cli      driver
	commands int
	// outputs memoises each command's raw output: every control repeats
	// steps 2 and 7 on the same log group and topic, and an auditor would
	// read one output for all of them. The audit stays command-by-command;
	// only identical commands are not re-run.
	outputs map[string][]byte
}

// Run audits every control of b.
func Run(ctx context.Context, b catalog.Benchmark, opts Options) (Report, error) {
	a := &auditor{opts: opts, outputs: map[string][]byte{}}
	a.cli = newDriver(opts)
	defer a.cli.close()
	trails, err := a.step1(ctx)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Benchmark: b.ID}
	for _, c := range b.Controls {
		res, err := a.control(ctx, b, c, trails)
		if err != nil {
			return Report{}, fmt.Errorf("control %s: %w", c.ID, err)
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Commands = a.commands
	return rep, nil
}

// aws runs one aws CLI command in region and decodes its JSON output.
func (a *auditor) aws(ctx context.Context, region string, out any, args ...string) (string, error) {
	args = append(args, "--region", region, "--output", "json")
	cmdline := "aws " + strings.Join(args, " ")
	raw, ok := a.outputs[cmdline]
	if !ok {
		a.commands++
		out, err := a.cli.run(ctx, args)
		if err != nil {
			return cmdline, fmt.Errorf("%s: %w", cmdline, err)
		}
		raw = out
		a.outputs[cmdline] = raw
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return cmdline, fmt.Errorf("%s: decode output: %w", cmdline, err)
	}
	return cmdline, nil
}

// newDriver picks how commands run; see Options.AWS.
func newDriver(opts Options) driver {
	if opts.AWS != "" {
		return spawn{exe: opts.AWS, env: opts.Env}
	}
	python := opts.Python
	if python == "" {
		python = "python3"
	}
	if s, err := startSession(python, opts.Env); err == nil {
		return s
	}
	return spawn{exe: "aws", env: opts.Env}
}

// step1 lists multi-region trails and checks each is logging and records
// all management events.
func (a *auditor) step1(ctx context.Context) ([]trail, error) {
	var dt struct {
		TrailList []struct {
			Name                      string
			TrailARN                  string
			IsMultiRegionTrail        bool
			CloudWatchLogsLogGroupArn string
		} `json:"trailList"`
	}
	if _, err := a.aws(ctx, a.opts.Region, &dt, "cloudtrail", "describe-trails"); err != nil {
		return nil, err
	}
	var out []trail
	seen := map[string]bool{}
	for _, t := range dt.TrailList {
		if !t.IsMultiRegionTrail || seen[t.TrailARN] {
			continue
		}
		seen[t.TrailARN] = true
		tr := trail{name: t.Name}
		tr.steps = append(tr.steps, Step{Command: "aws cloudtrail describe-trails", OK: true, Note: "multi-region trail " + t.Name})
		trailRegion := arnRegion(t.TrailARN, a.opts.Region)
		if t.CloudWatchLogsLogGroupArn == "" {
			tr.why = "trail " + t.Name + " has no CloudWatchLogsLogGroupArn"
			out = append(out, tr)
			continue
		}
		tr.logGroup = logGroupName(t.CloudWatchLogsLogGroupArn)
		tr.logGroupRegion = arnRegion(t.CloudWatchLogsLogGroupArn, trailRegion)

		var st struct{ IsLogging bool }
		cmd, err := a.aws(ctx, trailRegion, &st, "cloudtrail", "get-trail-status", "--name", t.Name)
		if err != nil {
			return nil, err
		}
		tr.steps = append(tr.steps, Step{Command: cmd, OK: st.IsLogging, Note: fmt.Sprintf("IsLogging=%t", st.IsLogging)})
		var es struct {
			EventSelectors []struct {
				ReadWriteType           string
				IncludeManagementEvents bool
			}
		}
		cmd, err = a.aws(ctx, trailRegion, &es, "cloudtrail", "get-event-selectors", "--trail-name", t.Name)
		if err != nil {
			return nil, err
		}
		mgmt := false
		for _, s := range es.EventSelectors {
			if s.IncludeManagementEvents && s.ReadWriteType == "All" {
				mgmt = true
			}
		}
		tr.steps = append(tr.steps, Step{Command: cmd, OK: mgmt, Note: fmt.Sprintf("event selector with IncludeManagementEvents=true and ReadWriteType=All: %t", mgmt)})
		switch {
		case !st.IsLogging:
			tr.why = "trail " + t.Name + " is not logging"
		case !mgmt:
			tr.why = "trail " + t.Name + " has no event selector with IncludeManagementEvents true and ReadWriteType All"
		default:
			tr.ok = true
		}
		out = append(out, tr)
	}
	return out, nil
}

// control runs steps 2–7 for c on every qualifying trail; the control passes
// when one trail passes them all.
func (a *auditor) control(ctx context.Context, b catalog.Benchmark, c catalog.Control, trails []trail) (Result, error) {
	res := Result{ID: c.ID, Why: "no multi-region trail (describe-trails)"}
	prescribed := Prescribed(b, c, a.opts.Profile)
	for _, t := range trails {
		res.Steps = append(res.Steps, t.steps...)
		if !t.ok {
			res.Why = t.why
			continue
		}
		pass, why, steps, err := a.onLogGroup(ctx, t, prescribed)
		if err != nil {
			return Result{}, err
		}
		res.Steps = append(res.Steps, steps...)
		if pass {
			res.Pass, res.Why = true, ""
			return res, nil
		}
		res.Why = why
	}
	return res, nil
}

func (a *auditor) onLogGroup(ctx context.Context, t trail, prescribed []string) (bool, string, []Step, error) {
	var steps []Step
	// Step 2.
	var mf struct {
		MetricFilters []struct {
			FilterName            string `json:"filterName"`
			FilterPattern         string `json:"filterPattern"`
			MetricTransformations []struct {
				MetricName string `json:"metricName"`
			} `json:"metricTransformations"`
		} `json:"metricFilters"`
	}
	cmd, err := a.aws(ctx, t.logGroupRegion, &mf, "logs", "describe-metric-filters", "--log-group-name", t.logGroup)
	if err != nil {
		return false, "", nil, err
	}
	// Steps 3 and 4.
	var metrics []string
	for _, f := range mf.MetricFilters {
		for _, p := range prescribed {
			if f.FilterPattern == p {
				for _, m := range f.MetricTransformations {
					metrics = append(metrics, m.MetricName)
				}
			}
		}
	}
	steps = append(steps, Step{Command: cmd, OK: len(metrics) > 0, Note: fmt.Sprintf("%d filters, metrics with the prescribed filterPattern: %v", len(mf.MetricFilters), metrics)})
	if len(metrics) == 0 {
		return false, fmt.Sprintf("no filter on %s has the prescribed filterPattern (one of %q)", t.logGroup, prescribed), steps, nil
	}
	why := ""
	for _, metric := range metrics {
		// Step 5: the benchmark queries by metric name only.
		var alarms []struct {
			AlarmName    string
			AlarmActions []string
		}
		cmd, err := a.aws(ctx, t.logGroupRegion, &alarms, "cloudwatch", "describe-alarms", "--query", "MetricAlarms[?MetricName == `"+metric+"`]")
		if err != nil {
			return false, "", nil, err
		}
		steps = append(steps, Step{Command: cmd, OK: len(alarms) > 0, Note: fmt.Sprintf("%d alarms on %s", len(alarms), metric)})
		if len(alarms) == 0 {
			why = "no alarm on metric " + metric
			continue
		}
		// Steps 6 and 7.
		for _, al := range alarms {
			for _, topic := range al.AlarmActions {
				var subs struct {
					Subscriptions []struct{ SubscriptionArn string }
				}
				cmd, err := a.aws(ctx, arnRegion(topic, t.logGroupRegion), &subs, "sns", "list-subscriptions-by-topic", "--topic-arn", topic)
				if err != nil {
					// A topic that is gone is a failed step, not a broken audit.
					steps = append(steps, Step{Command: "aws sns list-subscriptions-by-topic --topic-arn " + topic, Note: err.Error()})
					why = "alarm " + al.AlarmName + " notifies " + topic + ", which cannot be listed"
					continue
				}
				valid := 0
				for _, s := range subs.Subscriptions {
					if validSubscriptionARN.MatchString(s.SubscriptionArn) {
						valid++
					}
				}
				steps = append(steps, Step{Command: cmd, OK: valid > 0, Note: fmt.Sprintf("%d subscriptions, %d with a valid SubscriptionArn", len(subs.Subscriptions), valid)})
				if valid > 0 {
					return true, "", steps, nil
				}
				why = "topic " + topic + " has no subscription with a valid SubscriptionArn"
			}
			if len(al.AlarmActions) == 0 {
				why = "alarm " + al.AlarmName + " has no AlarmActions"
			}
		}
	}
	return false, why, steps, nil
}

// logGroupName extracts NewGroup from arn:aws:logs:<region>:<account>:log-group:NewGroup:*,
// or returns s itself when it is not a log group ARN.
func logGroupName(s string) string {
	if a, err := arn.Parse(s); err == nil {
		if name, ok := strings.CutPrefix(a.Resource, "log-group:"); ok {
			return strings.TrimSuffix(name, ":*")
		}
	}
	return s
}

// arnRegion returns the region field of the ARN s, or def when s is not an
// ARN or has no region.
func arnRegion(s, def string) string {
	if a, err := arn.Parse(s); err == nil && a.Region != "" {
		return a.Region
	}
	return def
}
