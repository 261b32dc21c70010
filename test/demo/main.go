// Command demo is "make demo": it shows Watchkeeper doing its job on a
// laptop with nothing but this repository and moto installed.
//
//  1. starts moto_server and seeds a drifted account: an active trail, but
//     some metric filters and alarms deleted and the topic's subscriber gone;
//  2. builds the real Lambda bootstrap and runs it under the Lambda Runtime
//     API stand-in, delivering the nightly Scheduled Event;
//  3. deletes a metric filter through the AWS API and delivers the
//     CloudTrail "DeleteMetricFilter" event that EventBridge would send;
//  4. evaluates every control's pattern against the catalog's CloudTrail
//     fixtures and prints one line per control (-v: test/fixturedemo's
//     full tables instead);
//
// printing the account before and after each run and the actions taken.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/catalog/catalogtest"
	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
	"github.com/watchkeeper/watchkeeper/test/lambdart"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	region   = "us-east-1"
	email    = "security@example.com"
	selfRole = "arn:aws:iam::123456789012:role/service/watchkeeper-remediator-role"
)

func main() {
	var o options
	flag.BoolVar(&o.skipFixtures, "skip-fixtures", false, "do not evaluate the catalog fixtures at the end")
	flag.BoolVar(&o.verbose, "v", false, "print every fixture evaluation (test/fixturedemo), not one line per control")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// options are the demo's flags.
type options struct {
	// skipFixtures leaves out the fixture evaluation at the end.
	skipFixtures bool
	// verbose prints test/fixturedemo's full tables instead of the
	// one-line-per-control summary.
	verbose bool
}

func run(ctx context.Context, out io.Writer, o options) error {
	root, err := lambdart.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	if err := story(ctx, out, root); err != nil {
		return err
	}
	if o.skipFixtures {
		return nil
	}
	heading(out, "Catalog fixtures: each control's pattern against real CloudTrail events")
	if o.verbose {
		cmd := exec.CommandContext(ctx, "go", "run", "./test/fixturedemo")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("fixture demo: %w", err)
		}
		return nil
	}
	return fixtureSummary(out, catalog.Default(), catalogtest.Dir())
}

// fixtureSummary evaluates the pattern Watchkeeper writes for each control
// (and the variants it accepts) against the catalog's CloudTrail fixtures
// and prints one line per control: events that must match, and near misses
// that must not. It returns an error on any mismatch, naming them.
func fixtureSummary(out io.Writer, b catalog.Benchmark, dir string) error {
	fixtures, err := catalogtest.Load(dir)
	if err != nil {
		return err
	}
	results := catalogtest.Evaluate(b, catalog.ProfileBenchmark, fixtures)
	type tally struct{ match, matchOK, miss, missOK int }
	by := map[string]*tally{}
	var bad []string
	for _, r := range results {
		t := by[r.Control]
		if t == nil {
			t = &tally{}
			by[r.Control] = t
		}
		ok := r.OK()
		if r.Want {
			t.match++
		} else {
			t.miss++
		}
		switch {
		case ok && r.Want:
			t.matchOK++
		case ok:
			t.missOK++
		default:
			bad = append(bad, fmt.Sprintf("%s %s (%s)", r.Control, r.Fixture, cmp.Or(r.Variant, "written pattern")))
		}
	}
	count := func(ok, n int) string {
		m := "✓"
		if ok != n {
			m = "✗"
		}
		return fmt.Sprintf("%s %d/%d", m, ok, n)
	}
	fmt.Fprintf(out, "%s, pattern profile %s: written patterns and accepted variants against %d fixtures\n", b.ID, catalog.ProfileBenchmark, len(fixtures))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tMATCHES\tNEAR MISSES\tTITLE")
	for _, c := range b.Controls {
		t := by[c.ID]
		if t == nil {
			t = &tally{}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, count(t.matchOK, t.match), count(t.missOK, t.miss), short(c.Title, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "(go run ./test/demo -v prints every evaluation)")
	if len(bad) > 0 {
		return fmt.Errorf("%d fixture evaluation(s) disagree with the catalog: %s", len(bad), strings.Join(bad, "; "))
	}
	return nil
}

// story is the Lambda story: a drifted account healed by the nightly run
// and by a drift event, the loop guard and a rejected event.
func story(ctx context.Context, out io.Writer, root string) error {
	if _, err := moto.Binary(); err != nil {
		return fmt.Errorf("%w\n(moto is the AWS emulator the demo runs against: pip install 'moto[server]==5.2.1')", err)
	}
	tmp, err := os.MkdirTemp("", "watchkeeper-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	heading(out, "Starting moto_server and building the Lambda bootstrap")
	t0 := time.Now()
	srv, err := moto.Launch(filepath.Join(tmp, "moto.log"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	bin := filepath.Join(tmp, "bootstrap")
	if err := lambdart.Build(ctx, bin, lambdart.BuildOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(out, "moto at %s; bootstrap built in %s\n", srv.URL, time.Since(t0).Round(time.Millisecond))

	cfg := func(r string) aws.Config { return moto.Config(srv.URL, r) }
	acct, err := seed(ctx, world.New(cfg), cfg(region))
	if err != nil {
		return fmt.Errorf("seed drifted account: %w", err)
	}
	heading(out, "Before: a drifted account")
	if err := table(ctx, out, cfg(region), acct); err != nil {
		return err
	}

	env := moto.Env(os.Environ(), srv.URL, region)
	env = append(env, "WATCHKEEPER_REGIONS="+region, "WATCHKEEPER_SUBSCRIPTIONS=email:"+email,
		"WATCHKEEPER_SELF_ROLE_ARN="+selfRole, "LOG_LEVEL=WARN")
	p, err := lambdart.Launch(bin, env)
	if err != nil {
		return err
	}
	defer p.Stop()
	cold, err := p.ColdStart(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nLambda runtime ready %s after process start (cold start).\n", cold.Round(time.Microsecond))

	heading(out, "Nightly run: EventBridge Scheduled Event")
	if err := invoke(ctx, out, p, event(root, "scheduled.json")); err != nil {
		return err
	}
	heading(out, "After the nightly run")
	if err := table(ctx, out, cfg(region), acct); err != nil {
		return err
	}

	ctl := acct.Benchmark.Controls[2]
	victim := world.DefaultPrefix + ctl.Key
	heading(out, "Drift: alice deletes a metric filter")
	_, err = cloudwatchlogs.NewFromConfig(cfg(region)).DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{
		LogGroupName: aws.String(acct.Trail.LogGroupName), FilterName: aws.String(victim)})
	if err != nil {
		return fmt.Errorf("delete filter: %w", err)
	}
	fmt.Fprintf(out, "aws logs delete-metric-filter --log-group-name %s --filter-name %s   (control %s)\n", acct.Trail.LogGroupName, victim, ctl.ID)
	fmt.Fprintln(out, "EventBridge delivers CloudTrail's \"AWS API Call via CloudTrail\" DeleteMetricFilter event:")
	ev := strings.NewReplacer("aws-cloudtrail-logs-123456789012", acct.Trail.LogGroupName,
		"watchkeeper-root-account-usage", victim).Replace(string(event(root, "delete-metric-filter.json")))
	rep, dur, err := invokeReport(ctx, out, p, []byte(ev))
	if err != nil {
		return err
	}
	if rep != nil {
		// The same pure text the function published to the topic.
		tr, err := trigger.Decode([]byte(ev))
		if err != nil {
			return err
		}
		run := notify.Run{Trigger: tr, Report: *rep, Duration: dur, Subscriptions: []plan.Endpoint{{Protocol: "email", Endpoint: email}}}
		fmt.Fprintf(out, "\nThe function published this summary to its SNS topic:\n\n  Subject: %s\n\n", notify.Subject(run))
		for _, l := range strings.Split(strings.TrimRight(notify.Message(run), "\n"), "\n") {
			fmt.Fprintf(out, "  | %s\n", l)
		}
	}
	heading(out, "After the drift event")
	if err := table(ctx, out, cfg(region), acct); err != nil {
		return err
	}

	heading(out, "An event caused by Watchkeeper's own role is skipped (loop guard)")
	if err := invoke(ctx, out, p, event(root, "self-put-metric-filter.json")); err != nil {
		return err
	}
	heading(out, "A malformed event is rejected without touching AWS")
	if err := invoke(ctx, out, p, []byte(`{"detail-type":"Scheduled Event",`)); err != nil {
		return err
	}
	if rss, err := p.PeakRSS(); err == nil {
		fmt.Fprintf(out, "\nPeak RSS of the function process: %.1f MiB.\n", float64(rss)/(1<<20))
	}
	fmt.Fprintf(out, "Lambda story finished in %s.\n", time.Since(t0).Round(time.Millisecond))
	return nil
}

// seed builds a compliant account, then breaks it the way people do.
func seed(ctx context.Context, w *world.World, cfg aws.Config) (world.Account, error) {
	acct, err := w.Compliant(ctx, world.CompliantSpec{HomeRegion: region, Endpoints: []string{"email:" + email}})
	if err != nil {
		return acct, err
	}
	logs, cw := cloudwatchlogs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	for _, i := range []int{0, 4, 9} {
		if _, err := logs.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{
			LogGroupName: aws.String(acct.Trail.LogGroupName), FilterName: aws.String(world.DefaultPrefix + acct.Benchmark.Controls[i].Key)}); err != nil {
			return acct, err
		}
	}
	var alarms []string
	for _, i := range []int{1, 4, 6, 12} {
		alarms = append(alarms, world.DefaultPrefix+acct.Benchmark.Controls[i].Key)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: alarms}); err != nil {
		return acct, err
	}
	// The subscriber unsubscribes (moto 5.2.1 answers StartLogging by trail
	// ARN with HTTP 500, so the demo does not stop the trail's logging).
	sc := sns.NewFromConfig(cfg)
	subs, err := sc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.TopicARN)})
	if err != nil {
		return acct, err
	}
	for _, s := range subs.Subscriptions {
		if _, err := sc.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn}); err != nil {
			return acct, err
		}
	}
	return acct, nil
}

func event(root, name string) []byte {
	b, err := os.ReadFile(filepath.Join(root, "pkg", "trigger", "testdata", "events", name))
	if err != nil {
		panic(err) // part of the repository
	}
	return b
}

func invoke(ctx context.Context, out io.Writer, p *lambdart.Process, payload []byte) error {
	_, _, err := invokeReport(ctx, out, p, payload)
	return err
}

// invokeReport delivers payload, prints the outcome and returns the report
// (nil for an error response or a skipped event) and the invocation time.
func invokeReport(ctx context.Context, out io.Writer, p *lambdart.Process, payload []byte) (*report.Report, time.Duration, error) {
	res, err := p.Do(ctx, lambdart.Request{Payload: payload})
	if err != nil {
		return nil, 0, err
	}
	if res.Error != nil {
		fmt.Fprintf(out, "→ error response (%s): %s\n", res.Error.ErrorType, res.Error.ErrorMessage)
		return nil, 0, nil
	}
	var skip struct {
		Skipped bool
		Reason  string
	}
	if json.Unmarshal(res.Response, &skip) == nil && skip.Skipped {
		fmt.Fprintf(out, "→ skipped: %s\n", skip.Reason)
		return nil, 0, nil
	}
	var rep report.Report
	if err := json.Unmarshal(res.Response, &rep); err != nil {
		return nil, 0, fmt.Errorf("decode report: %w", err)
	}
	verdict := "NOT COMPLIANT"
	if rep.Compliant {
		verdict = "COMPLIANT"
	}
	fmt.Fprintf(out, "→ %s after %s; %d action(s):\n", verdict, res.Duration().Round(time.Millisecond), len(rep.Actions))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STATUS\tACTION\tCONTROLS\tTARGET")
	for _, a := range rep.Actions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Status, a.Action, short(strings.Join(a.Controls, ","), 24), short(a.Target, 70))
		if a.Error != "" {
			fmt.Fprintf(tw, "  \t\t\t↳ %s\n", a.Error)
		}
	}
	return &rep, res.Duration(), tw.Flush()
}

// table prints every control's filter and alarm, the trail and the topic,
// as read back through the AWS API.
func table(ctx context.Context, out io.Writer, cfg aws.Config, acct world.Account) error {
	filters := map[string]bool{}
	fp := cloudwatchlogs.NewDescribeMetricFiltersPaginator(cloudwatchlogs.NewFromConfig(cfg),
		&cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(acct.Trail.LogGroupName)})
	for fp.HasMorePages() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe metric filters: %w", err)
		}
		for _, f := range page.MetricFilters {
			filters[aws.ToString(f.FilterName)] = true
		}
	}
	alarms := map[string]bool{}
	ap := cloudwatch.NewDescribeAlarmsPaginator(cloudwatch.NewFromConfig(cfg), &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(world.DefaultPrefix)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe alarms: %w", err)
		}
		for _, a := range page.MetricAlarms {
			alarms[aws.ToString(a.AlarmName)] = len(a.AlarmActions) > 0
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tFILTER\tALARM\tTITLE")
	for _, c := range acct.Benchmark.Controls {
		name := world.DefaultPrefix + c.Key
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, mark(filters[name]), mark(alarms[name]), short(c.Title, 70))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	st, err := cloudtrail.NewFromConfig(cfg).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(acct.Trail.ARN)})
	if err != nil {
		return fmt.Errorf("get trail status: %w", err)
	}
	subs, err := sns.NewFromConfig(cfg).ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.TopicARN)})
	var endpoints []string
	if err == nil {
		for _, s := range subs.Subscriptions {
			endpoints = append(endpoints, aws.ToString(s.Protocol)+":"+aws.ToString(s.Endpoint))
		}
	}
	slices.Sort(endpoints)
	fmt.Fprintf(out, "trail %s logging: %s; topic %s subscribers: %s\n", acct.Trail.Name, mark(aws.ToBool(st.IsLogging)),
		acct.TopicARN[strings.LastIndex(acct.TopicARN, ":")+1:], strings.Join(orNone(endpoints), ", "))
	return nil
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗ missing"
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}

func short(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func heading(out io.Writer, s string) {
	fmt.Fprintf(out, "\n== %s %s\n", s, strings.Repeat("=", max(0, 76-len(s))))
}
