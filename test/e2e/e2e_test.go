package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/lambdart"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	region   = "us-east-1"
	selfRole = "arn:aws:iam::123456789012:role/service/watchkeeper-remediator-role"
	email    = "sec@example.com"
)

func cfgFor(r string) aws.Config { return moto.Config(motoSrv.URL, r) }

// launch resets moto and starts the bootstrap with the default
// configuration plus env.
func launch(t *testing.T, env map[string]string) *lambdart.Process {
	t.Helper()
	vars := map[string]string{
		"WATCHKEEPER_REGIONS":       region,
		"WATCHKEEPER_SUBSCRIPTIONS": "email:" + email,
		"WATCHKEEPER_SELF_ROLE_ARN": selfRole,
		"LOG_LEVEL":                 "INFO",
	}
	for k, v := range env {
		vars[k] = v
	}
	e := moto.Env(os.Environ(), proxy.URL, region)
	for k, v := range vars {
		e = append(e, k+"="+v)
	}
	p, err := lambdart.Launch(bootstrap, e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("bootstrap stderr:\n%s\nstdout:\n%s", p.Stderr, p.Stdout)
		}
	})
	cold, err := p.ColdStart(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold start %v", cold)
	return p
}

// invoke delivers payload and decodes a report response.
func invoke(t *testing.T, p *lambdart.Process, payload []byte) (report.Report, *lambdart.ErrorPayload) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	body, errP, err := p.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var r report.Report
	if errP == nil {
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("response is not a report: %v\n%s", err, body)
		}
	}
	return r, errP
}

func reset(t *testing.T) *world.World {
	t.Helper()
	if err := motoSrv.ResetErr(); err != nil {
		t.Fatal(err)
	}
	return world.New(cfgFor)
}

// drifted seeds an account with an active multi-region trail delivering to
// CloudWatch Logs, and none of the filters, alarms or topic.
func drifted(t *testing.T, w *world.World) world.Trail {
	t.Helper()
	tr, err := w.Trail(t.Context(), world.TrailSpec{Name: world.DefaultTrailName, HomeRegion: region, LogGroupName: world.DefaultLogGroupName})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// compliantMinusFilter seeds a compliant account and deletes the filter of
// one control through the API, returning the deleted filter's name.
func compliantMinusFilter(t *testing.T, w *world.World) (world.Account, string) {
	t.Helper()
	acct, err := w.Compliant(t.Context(), world.CompliantSpec{HomeRegion: region, Endpoints: []string{"email:" + email}})
	if err != nil {
		t.Fatal(err)
	}
	name := world.DefaultPrefix + acct.Benchmark.Controls[2].Key
	_, err = cloudwatchlogs.NewFromConfig(cfgFor(region)).DeleteMetricFilter(t.Context(), &cloudwatchlogs.DeleteMetricFilterInput{
		LogGroupName: aws.String(acct.Trail.LogGroupName), FilterName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return acct, name
}

// state is what the tests compare: names read back through the AWS API.
type state struct {
	Filters       []string
	Alarms        map[string][]string // alarm name -> alarm actions
	Topics        []string
	Subscriptions []string // topic|protocol:endpoint
}

func readState(t *testing.T) state {
	t.Helper()
	ctx, cfg := t.Context(), cfgFor(region)
	s := state{Alarms: map[string][]string{}}
	logs := cloudwatchlogs.NewFromConfig(cfg)
	fp := cloudwatchlogs.NewDescribeMetricFiltersPaginator(logs, &cloudwatchlogs.DescribeMetricFiltersInput{})
	for fp.HasMorePages() {
		out, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.MetricFilters {
			s.Filters = append(s.Filters, aws.ToString(f.LogGroupName)+"/"+aws.ToString(f.FilterName))
		}
	}
	ap := cloudwatch.NewDescribeAlarmsPaginator(cloudwatch.NewFromConfig(cfg), &cloudwatch.DescribeAlarmsInput{})
	for ap.HasMorePages() {
		out, err := ap.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.MetricAlarms {
			s.Alarms[aws.ToString(a.AlarmName)] = a.AlarmActions
		}
	}
	sc := sns.NewFromConfig(cfg)
	tp := sns.NewListTopicsPaginator(sc, &sns.ListTopicsInput{})
	for tp.HasMorePages() {
		out, err := tp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tpc := range out.Topics {
			s.Topics = append(s.Topics, aws.ToString(tpc.TopicArn))
		}
	}
	sp := sns.NewListSubscriptionsPaginator(sc, &sns.ListSubscriptionsInput{})
	for sp.HasMorePages() {
		out, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range out.Subscriptions {
			s.Subscriptions = append(s.Subscriptions, aws.ToString(sub.TopicArn)+"|"+aws.ToString(sub.Protocol)+":"+aws.ToString(sub.Endpoint))
		}
	}
	slices.Sort(s.Filters)
	slices.Sort(s.Topics)
	slices.Sort(s.Subscriptions)
	return s
}

// eventFile loads a realistic event from pkg/trigger's corpus and applies
// replacements (old -> new) to it.
func eventFile(t *testing.T, name string, replace ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pkg", "trigger", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(replace...).Replace(string(b)))
}

// assertHealed checks through the AWS API that every control has
// Watchkeeper's filter on the trail's log group and an alarm notifying its
// topic, which has the configured subscription.
func assertHealed(t *testing.T, s state, tr world.Trail) {
	t.Helper()
	topic := "arn:aws:sns:" + region + ":" + moto.Account + ":" + world.DefaultTopicName
	if !slices.Contains(s.Topics, topic) {
		t.Errorf("topic %s missing; topics %v", topic, s.Topics)
	}
	if !slices.Contains(s.Subscriptions, topic+"|email:"+email) {
		t.Errorf("subscription email:%s missing; %v", email, s.Subscriptions)
	}
	for _, c := range catalog.Default().Controls {
		name := world.DefaultPrefix + c.Key
		if !slices.Contains(s.Filters, tr.LogGroupName+"/"+name) {
			t.Errorf("control %s: filter %s missing on %s", c.ID, name, tr.LogGroupName)
		}
		if actions, ok := s.Alarms[name]; !ok || !slices.Contains(actions, topic) {
			t.Errorf("control %s: alarm %s missing or not notifying %s (actions %v)", c.ID, name, topic, actions)
		}
	}
}

func countStatus(r report.Report, status report.Status) int {
	n := 0
	for _, a := range r.Actions {
		if a.Status == status {
			n++
		}
	}
	return n
}

func TestScheduledEventHealsDriftedAccount(t *testing.T) {
	w := reset(t)
	tr := drifted(t, w)
	p := launch(t, nil)

	calls := proxy.mark()
	rep, errP := invoke(t, p, eventFile(t, "scheduled.json"))
	if errP != nil {
		t.Fatalf("error response: %+v", errP)
	}
	if !rep.Compliant || countStatus(rep, "applied") == 0 || countStatus(rep, "failed") != 0 {
		t.Errorf("report: compliant=%v actions=%+v", rep.Compliant, rep.Actions)
	}
	assertHealed(t, readState(t), tr)
	if !slices.ContainsFunc(calls(), func(c call) bool { return c.Operation == "PutMetricFilter" }) {
		t.Error("proxy saw no PutMetricFilter: did the bootstrap talk to moto through AWS_ENDPOINT_URL?")
	}

	// Converged: a second run plans nothing.
	rep, errP = invoke(t, p, []byte(`{"mode":"report"}`))
	if errP != nil || len(rep.Actions) != 0 || !rep.Compliant {
		t.Errorf("second run: err=%+v compliant=%v actions=%+v", errP, rep.Compliant, rep.Actions)
	}

	// Observability: one EMF document and one summary log line per run.
	// The process's pipes are copied asynchronously, so give them a moment.
	emfLines := func() int {
		n := 0
		for _, l := range p.Stdout.Lines() {
			if strings.Contains(l, `"CloudWatchMetrics"`) {
				n++
			}
		}
		return n
	}
	eventually(func() bool { return emfLines() >= 2 && strings.Count(p.Stderr.String(), `"msg":"run finished"`) >= 2 })
	var first struct{ ActionsApplied, ControlsPassing, Compliant float64 }
	if lines := p.Stdout.Lines(); len(lines) == 0 || json.Unmarshal([]byte(lines[0]), &first) != nil ||
		first.ActionsApplied == 0 || first.ControlsPassing != float64(len(catalog.Default().Controls)) || first.Compliant != 1 {
		t.Errorf("first EMF document does not describe the healing run: %+v", first)
	}
	if emf := emfLines(); emf != 2 {
		t.Errorf("%d EMF lines on stdout, want 2:\n%s", emf, p.Stdout)
	}
	if n := strings.Count(p.Stderr.String(), `"msg":"run finished"`); n != 2 {
		t.Errorf("%d summary log lines, want 2", n)
	}
}

func TestDeleteMetricFilterEventHeals(t *testing.T) {
	w := reset(t)
	acct, deleted := compliantMinusFilter(t, w)
	p := launch(t, nil)
	before := readState(t)
	if slices.Contains(before.Filters, acct.Trail.LogGroupName+"/"+deleted) {
		t.Fatal("setup: filter not deleted")
	}
	ev := eventFile(t, "delete-metric-filter.json",
		"aws-cloudtrail-logs-123456789012", acct.Trail.LogGroupName,
		"watchkeeper-root-account-usage", deleted)
	calls := proxy.mark()
	rep, errP := invoke(t, p, ev)
	if errP != nil {
		t.Fatalf("error response: %+v", errP)
	}
	after := readState(t)
	assertHealed(t, after, acct.Trail)
	if len(rep.Actions) != 1 || rep.Actions[0].Action != "PutMetricFilter" || rep.Actions[0].Status != "applied" {
		t.Errorf("actions = %+v, want exactly the one PutMetricFilter", rep.Actions)
	}
	// Nothing else changed: same alarms, topics and subscriptions, one more filter.
	if diff := cmp.Diff(before.Alarms, after.Alarms); diff != "" {
		t.Errorf("alarms changed (-before +after):\n%s", diff)
	}
	if len(after.Filters) != len(before.Filters)+1 || !cmp.Equal(before.Topics, after.Topics) || !cmp.Equal(before.Subscriptions, after.Subscriptions) {
		t.Errorf("unexpected changes:\nbefore %+v\nafter  %+v", before, after)
	}
	// The heal is announced on Watchkeeper's topic, and names who caused it.
	if !slices.ContainsFunc(calls(), func(c call) bool { return c.Service == "sns" && c.Operation == "Publish" }) {
		t.Error("no summary published to the topic")
	}
	eventually(func() bool { return strings.Contains(p.Stderr.String(), "alice@example.com") })
	if !strings.Contains(p.Stderr.String(), "alice@example.com") {
		t.Error("logs do not name the actor from the event's userIdentity")
	}
}

func TestRejectedEventsMakeNoCalls(t *testing.T) {
	w := reset(t)
	compliantMinusFilter(t, w)
	p := launch(t, nil)
	before := readState(t)
	for _, tc := range []struct {
		name    string
		payload []byte
		want    string
	}{
		{"malformed JSON", []byte(`{"version":"0","detail-type":"Scheduled Event",`), "malformed JSON"},
		{"unknown detail type", eventFile(t, "scheduled.json", "Scheduled Event", "EC2 Instance State-change Notification"), "detail-type"},
		{"unhandled call", eventFile(t, "delete-metric-filter.json", `"DeleteMetricFilter"`, `"CreateLogStream"`), "detail.eventName"},
		{"missing eventName", eventFile(t, "delete-metric-filter.json", `"eventName": "DeleteMetricFilter",`, ""), "detail.eventName: missing"},
		{"wrong JSON type", []byte(`{"mode":true}`), "mode"},
		{"huge event", []byte(`{"mode":"report","pad":"` + strings.Repeat("x", 300<<10) + `"}`), "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := proxy.mark()
			_, errP := invoke(t, p, tc.payload)
			if errP == nil {
				t.Fatal("invocation succeeded")
			}
			if errP.ErrorType != "DecodeError" || !strings.Contains(errP.ErrorMessage, tc.want) {
				t.Errorf("error %s: %q, want DecodeError naming %q", errP.ErrorType, errP.ErrorMessage, tc.want)
			}
			if c := calls(); len(c) != 0 {
				t.Errorf("rejected event made AWS calls: %v", c)
			}
		})
	}
	if diff := cmp.Diff(before, readState(t)); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
}

func TestOwnRoleEventIsSkipped(t *testing.T) {
	w := reset(t)
	compliantMinusFilter(t, w)
	p := launch(t, nil)
	before := readState(t)
	calls := proxy.mark()
	body, errP, err := p.Invoke(t.Context(), eventFile(t, "self-put-metric-filter.json"))
	if err != nil || errP != nil {
		t.Fatalf("invoke: %v %+v", err, errP)
	}
	var resp struct {
		Skipped bool
		Reason  string
	}
	if json.Unmarshal(body, &resp) != nil || !resp.Skipped || !strings.Contains(resp.Reason, selfRole) {
		t.Errorf("response %s", body)
	}
	if c := calls(); len(c) != 0 {
		t.Errorf("own event made AWS calls: %v", c)
	}
	if diff := cmp.Diff(before, readState(t)); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
	eventually(func() bool { return strings.Contains(p.Stderr.String(), "own role; skipped") })
	if !strings.Contains(p.Stderr.String(), "own role; skipped") {
		t.Errorf("no log line for the skip:\n%s", p.Stderr)
	}
}

// A handled call that failed (CloudTrail errorCode AccessDenied) changed
// nothing: the bootstrap answers "skipped" and makes no AWS call, so a
// principal without permissions cannot start full runs.
func TestFailedCallEventIsSkipped(t *testing.T) {
	w := reset(t)
	compliantMinusFilter(t, w)
	p := launch(t, nil)
	before := readState(t)
	calls := proxy.mark()
	body, errP, err := p.Invoke(t.Context(), eventFile(t, "failed-delete-metric-filter.json"))
	if err != nil || errP != nil {
		t.Fatalf("invoke: %v %+v", err, errP)
	}
	var resp struct {
		Skipped bool
		Reason  string
	}
	if json.Unmarshal(body, &resp) != nil || !resp.Skipped || !strings.Contains(resp.Reason, "AccessDenied") {
		t.Errorf("response %s", body)
	}
	if c := calls(); len(c) != 0 {
		t.Errorf("failed-call event made AWS calls: %v", c)
	}
	if diff := cmp.Diff(before, readState(t)); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
	eventually(func() bool { return strings.Contains(p.Stderr.String(), "nothing changed; skipped") })
	if !strings.Contains(p.Stderr.String(), "nothing changed; skipped") {
		t.Errorf("no log line for the skip:\n%s", p.Stderr)
	}
}

func TestInvalidConfigurationFailsEveryInvocation(t *testing.T) {
	w := reset(t)
	drifted(t, w)
	before := readState(t)
	p := launch(t, map[string]string{"WATCHKEEPER_TRAIL_HEALING": "everything", "WATCHKEEPER_SUBSCRIPTIONS": "pager:0800"})
	calls := proxy.mark()
	for _, ev := range [][]byte{eventFile(t, "scheduled.json"), []byte(`{"mode":"report"}`)} {
		_, errP := invoke(t, p, ev)
		if errP == nil {
			t.Fatal("invocation succeeded with invalid configuration")
		}
		// Fields are named canonically, as the CLI and the CDK app name
		// them (docs/contracts.md maps them to the environment variables).
		for _, want := range []string{"trailHealing:", "none, safe, full", "subscriptions:", "pager"} {
			if !strings.Contains(errP.ErrorMessage, want) {
				t.Errorf("error %q lacks %q", errP.ErrorMessage, want)
			}
		}
		if errP.ErrorType != "ConfigError" {
			t.Errorf("errorType = %q", errP.ErrorType)
		}
	}
	if c := calls(); len(c) != 0 {
		t.Errorf("invalid configuration made AWS calls: %v", c)
	}
	if diff := cmp.Diff(before, readState(t)); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
}

func TestReportOnlyMakesNoWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		event []byte
	}{
		{"direct report invocation", nil, []byte(`{"mode":"report"}`)},
		{"report deployment, scheduled", map[string]string{"WATCHKEEPER_MODE": "report"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := reset(t)
			drifted(t, w)
			before := readState(t)
			p := launch(t, tc.env)
			ev := tc.event
			if ev == nil {
				ev = eventFile(t, "scheduled.json")
			}
			calls := proxy.mark()
			rep, errP := invoke(t, p, ev)
			if errP != nil {
				t.Fatalf("error response %+v", errP)
			}
			if rep.Compliant || len(rep.Actions) == 0 || countStatus(rep, "applied") != 0 {
				t.Errorf("report-only run: compliant=%v, %d actions, %d applied", rep.Compliant, len(rep.Actions), countStatus(rep, "applied"))
			}
			for _, c := range calls() {
				if !c.readOnly() {
					t.Errorf("report-only run called %s", c)
				}
			}
			if diff := cmp.Diff(before, readState(t)); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestDeadlineLeavesWorkForNextRun gives the invocation less time than the
// apply reserve: nothing may be started, the report says what was left, and
// the next (normal) run completes it.
func TestDeadlineLeavesWorkForNextRun(t *testing.T) {
	w := reset(t)
	tr := drifted(t, w)
	p := launch(t, nil)
	before := readState(t)
	res, err := p.Do(t.Context(), lambdart.Request{Payload: eventFile(t, "scheduled.json"), Timeout: 9 * time.Second})
	if err != nil || res.Error != nil {
		t.Fatalf("invoke: %v %+v", err, res.Error)
	}
	var rep report.Report
	if err := json.Unmarshal(res.Response, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Compliant || countStatus(rep, "applied") != 0 || countStatus(rep, "skipped") == 0 {
		t.Errorf("short run: compliant=%v applied=%d skipped=%d", rep.Compliant, countStatus(rep, "applied"), countStatus(rep, "skipped"))
	}
	if diff := cmp.Diff(before, readState(t)); diff != "" {
		t.Errorf("a run inside the reserve changed state:\n%s", diff)
	}
	rep, errP := invoke(t, p, eventFile(t, "scheduled.json"))
	if errP != nil || !rep.Compliant {
		t.Fatalf("next run: %+v compliant=%v", errP, rep.Compliant)
	}
	assertHealed(t, readState(t), tr)
}

// eventually polls cond for up to two seconds (for output that crosses a pipe).
func eventually(cond func() bool) {
	for deadline := time.Now().Add(2 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDriftEventsHeal breaks a compliant account the way each event says,
// delivers the realistic CloudTrail event, and expects a full heal.
func TestDriftEventsHeal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event string
		// breakIt changes the account through the API and returns the
		// replacements that make the event name what was changed.
		breakIt func(t *testing.T, acct world.Account) []string
	}{
		{"DeleteAlarms", "delete-alarms.json", func(t *testing.T, acct world.Account) []string {
			a, b := world.DefaultPrefix+acct.Benchmark.Controls[0].Key, world.DefaultPrefix+acct.Benchmark.Controls[5].Key
			if _, err := cloudwatch.NewFromConfig(cfgFor(region)).DeleteAlarms(t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{a, b}}); err != nil {
				t.Fatal(err)
			}
			return []string{"watchkeeper-root-account-usage", a, "watchkeeper-iam-policy-changes", b}
		}},
		{"DeleteTopic", "delete-topic.json", func(t *testing.T, acct world.Account) []string {
			if _, err := sns.NewFromConfig(cfgFor(region)).DeleteTopic(t.Context(), &sns.DeleteTopicInput{TopicArn: aws.String(acct.TopicARN)}); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{"Unsubscribe", "unsubscribe.json", func(t *testing.T, acct world.Account) []string {
			sc := sns.NewFromConfig(cfgFor(region))
			subs, err := sc.ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.TopicARN)})
			if err != nil || len(subs.Subscriptions) == 0 {
				t.Fatalf("list subscriptions: %v (%d)", err, len(subs.Subscriptions))
			}
			arn := aws.ToString(subs.Subscriptions[0].SubscriptionArn)
			if _, err := sc.Unsubscribe(t.Context(), &sns.UnsubscribeInput{SubscriptionArn: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
			return []string{"arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms:2f5c7a1e-0b3d-4c6e-9f8a-1b2c3d4e5f60", arn}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := reset(t)
			acct, err := w.Compliant(t.Context(), world.CompliantSpec{HomeRegion: region, Endpoints: []string{"email:" + email}})
			if err != nil {
				t.Fatal(err)
			}
			p := launch(t, nil)
			repl := tc.breakIt(t, acct)
			rep, errP := invoke(t, p, eventFile(t, tc.event, repl...))
			if errP != nil {
				t.Fatalf("error response: %+v", errP)
			}
			if !rep.Compliant || countStatus(rep, "applied") == 0 {
				t.Errorf("compliant=%v actions=%+v", rep.Compliant, rep.Actions)
			}
			assertHealed(t, readState(t), acct.Trail)
			rep, errP = invoke(t, p, []byte(`{"mode":"report"}`))
			if errP != nil || len(rep.Actions) != 0 {
				t.Errorf("not converged: %+v %+v", errP, rep.Actions)
			}
		})
	}
}
