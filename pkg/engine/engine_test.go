package engine_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const home = "us-east-1"

func TestNewValidates(t *testing.T) {
	cfg := moto.Config("http://127.0.0.1:1", home)
	valid := func() engine.Options {
		return engine.Options{Plan: plan.Options{Benchmark: catalog.Default()}, Regions: []string{home}}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*engine.Options)
		cfg    func(aws.Config) aws.Config
		ok     bool
	}{
		{name: "valid", mutate: func(*engine.Options) {}, ok: true},
		{name: "nil regions mean every enabled region", mutate: func(o *engine.Options) { o.Regions = nil }, ok: true},
		{name: "central role and organization listing", mutate: func(o *engine.Options) {
			o.CentralRoleARN, o.Organization = "arn:aws:iam::999988887777:role/watchkeeper-central-read", true
		}, ok: true},
		{name: "no benchmark", mutate: func(o *engine.Options) { o.Plan.Benchmark = catalog.Benchmark{} }},
		{name: "no home region anywhere", mutate: func(*engine.Options) {}, cfg: func(c aws.Config) aws.Config { c.Region = ""; return c }},
		{name: "home region from options", mutate: func(o *engine.Options) { o.Plan.HomeRegion = "eu-west-1" }, cfg: func(c aws.Config) aws.Config { c.Region = ""; return c }, ok: true},
		// Healing level, excluded controls and region names are user input:
		// pkg/config.Build is the one place that checks them (its tests and
		// test/config cover every front end).
		{name: "empty region list", mutate: func(o *engine.Options) { o.Regions = []string{} }},
		{name: "negative concurrency", mutate: func(o *engine.Options) { o.Concurrency = -1 }},
		{name: "negative reserve", mutate: func(o *engine.Options) { o.Reserve = -1 }},
		{name: "negative finish", mutate: func(o *engine.Options) { o.Finish = -1 }},
		{name: "negative run time", mutate: func(o *engine.Options) { o.RunTime = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.mutate(&o)
			c := cfg
			if tc.cfg != nil {
				c = tc.cfg(c)
			}
			e, err := engine.New(c, o)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("New: %v", err)
			case tc.ok && e == nil:
				t.Fatal("New returned no engine")
			case !tc.ok && !errors.Is(err, engine.ErrInvalidOptions):
				t.Fatalf("New error = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

// TestRun drives the engine against moto on an account that has only a
// trail: report-only runs change nothing; an applying run heals and reports
// the state after healing.
func TestRun(t *testing.T) {
	srv := moto.Start(t)
	ctx := t.Context()
	tr, err := world.New(srv.Config).Trail(ctx, world.TrailSpec{Name: "main", HomeRegion: home, LogGroupName: "/ct/main"})
	if err != nil {
		t.Fatal(err)
	}
	opts := engine.Options{
		Plan: plan.Options{
			Benchmark:     catalog.Default(),
			Subscriptions: []plan.Endpoint{{Protocol: "email", Endpoint: "sec@example.com"}},
		},
		Regions: []string{home, "eu-west-1"},
	}
	countFilters := func(t *testing.T) int {
		t.Helper()
		out, err := cloudwatchlogs.NewFromConfig(srv.Config(home)).DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(tr.LogGroupName)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.MetricFilters)
	}
	n := len(catalog.Default().Controls)

	t.Run("report only", func(t *testing.T) {
		e, err := engine.New(srv.Config(home), opts)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Compliant || rep.Mode != "plan" || rep.Account != moto.Account || rep.HomeRegion != home {
			t.Errorf("report: compliant %t mode %q account %q home %q", rep.Compliant, rep.Mode, rep.Account, rep.HomeRegion)
		}
		// n filters, n alarms, the topic and the subscription, all planned.
		if got, want := len(rep.Actions), 2*n+2; got != want {
			t.Errorf("%d actions, want %d", got, want)
		}
		for _, a := range rep.Actions {
			if a.Status != report.StatusPlanned {
				t.Errorf("action %s %s: status %s, want planned", a.Action, a.Target, a.Status)
			}
		}
		if got := countFilters(t); got != 0 {
			t.Errorf("a report-only run created %d filters", got)
		}
	})

	t.Run("apply", func(t *testing.T) {
		o := opts
		o.Apply = true
		e, err := engine.New(srv.Config(home), o)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Compliant || rep.Mode != "apply" {
			t.Errorf("after apply: compliant %t mode %q", rep.Compliant, rep.Mode)
		}
		if p := rep.Pending(); len(p) != 0 {
			t.Errorf("after apply %d actions pending: %+v", len(p), p)
		}
		if got, want := len(rep.Actions), 2*n+2; got != want {
			t.Errorf("%d actions reported, want %d (the first plan's, with outcomes)", got, want)
		}
		for _, c := range rep.Controls {
			if c.Status != plan.StatusPass {
				t.Errorf("control %s: %s %q after apply", c.ID, c.Status, c.Reasons)
			}
		}
		if got := countFilters(t); got != n {
			t.Errorf("%d filters after apply, want %d", got, n)
		}
		alarms, err := cloudwatch.NewFromConfig(srv.Config(home)).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(alarms.MetricAlarms) != n {
			t.Errorf("%d alarms after apply, want %d", len(alarms.MetricAlarms), n)
		}

		// The same engine again: nothing to do, nothing reported as done.
		rep, err = e.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Compliant || len(rep.Actions) != 0 {
			t.Errorf("second apply: compliant %t, %d actions, want compliant and none", rep.Compliant, len(rep.Actions))
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		cfg := srv.Config(home)
		cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no credentials configured")
		})
		cfg.RetryMaxAttempts = 1
		e, err := engine.New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Run(ctx); err == nil {
			t.Fatal("Run without credentials returned no error")
		}
	})
}

// stallAfterWrite lets requests through until the first write to CloudWatch
// Logs (PutMetricFilter), then holds every DescribeTrails (the observation
// after apply starts with it) until the request's context ends: the
// account is changed, but cannot be re-read before the deadline.
type stallAfterWrite struct {
	next  http.RoundTripper
	wrote atomic.Bool
}

func (s *stallAfterWrite) RoundTrip(r *http.Request) (*http.Response, error) {
	target := r.Header.Get("X-Amz-Target")
	if strings.HasSuffix(target, ".PutMetricFilter") {
		s.wrote.Store(true)
	}
	if s.wrote.Load() && strings.HasSuffix(target, ".DescribeTrails") {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return s.next.RoundTrip(r)
}

// TestRunReportsUnverifiedHealing: when the observation after apply cannot
// finish before Options.Finish ahead of the deadline, Run still returns
// the report of what it applied (with a warning) and an error wrapping
// ErrUnverified, and returns in time for the caller to publish.
func TestRunReportsUnverifiedHealing(t *testing.T) {
	srv := moto.Start(t)
	if _, err := world.New(srv.Config).Trail(t.Context(), world.TrailSpec{Name: "main", HomeRegion: home, LogGroupName: "/ct/main"}); err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config(home)
	cfg.HTTPClient = &http.Client{Transport: &stallAfterWrite{next: http.DefaultTransport}}
	cfg.RetryMaxAttempts = 1
	const finish = 3 * time.Second
	e, err := engine.New(cfg, engine.Options{
		Plan:    plan.Options{Benchmark: catalog.Default()},
		Regions: []string{home}, Apply: true, Reserve: time.Second, Finish: finish,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 12*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rep, err := e.Run(ctx)
	if !errors.Is(err, engine.ErrUnverified) {
		t.Fatalf("Run error = %v, want ErrUnverified", err)
	}
	if left := time.Until(deadline); left < finish-time.Second {
		t.Errorf("Run returned %s before the deadline, want about %s left to publish", left, finish)
	}
	applied := 0
	for _, a := range rep.Actions {
		if a.Status == report.StatusApplied {
			applied++
		}
	}
	if rep.Account != moto.Account || applied == 0 {
		t.Errorf("report of account %q with %d applied actions, want the applied outcomes", rep.Account, applied)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.HasPrefix(w, "healing not verified") }) {
		t.Errorf("no warning that healing was not verified: %q", rep.Warnings)
	}
}

// stallWrites holds every PutMetricFilter until the request's context
// ends: an action that never completes, as one retried under throttling
// for longer than the reserve would.
type stallWrites struct{ next http.RoundTripper }

func (s stallWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutMetricFilter") {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return s.next.RoundTrip(r)
}

// TestRunEndsActionsInFlightByFinish: an action still in flight when the
// deadline nears is cut at Options.Finish before it, not at the deadline,
// so Run returns with Finish left for the caller to publish, and reports
// the cut action as failed by the deadline, retryable.
func TestRunEndsActionsInFlightByFinish(t *testing.T) {
	srv := moto.Start(t)
	if _, err := world.New(srv.Config).Trail(t.Context(), world.TrailSpec{Name: "main", HomeRegion: home, LogGroupName: "/ct/main"}); err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config(home)
	cfg.HTTPClient = &http.Client{Transport: stallWrites{next: http.DefaultTransport}}
	const finish = 3 * time.Second
	opts := engine.Options{
		Plan:    plan.Options{Benchmark: catalog.Default()},
		Regions: []string{home}, Reserve: 4 * time.Second, Finish: finish,
	}
	// A report-only run first, so moto's first answers (slow while it loads
	// its backends) do not eat into the deadline below.
	if e, err := engine.New(cfg, opts); err != nil {
		t.Fatal(err)
	} else if _, err := e.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	opts.Apply = true
	e, err := engine.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rep, err := e.Run(ctx)
	if !errors.Is(err, engine.ErrUnverified) {
		t.Errorf("Run error = %v, want ErrUnverified (nothing left to re-observe with)", err)
	}
	if left := time.Until(deadline); left < finish-time.Second {
		t.Errorf("Run returned %s before the deadline, want about %s left to publish", left.Round(time.Millisecond), finish)
	}
	cut := 0
	for _, a := range rep.Actions {
		if a.Action == "PutMetricFilter" && a.Status == report.StatusFailed && a.Retryable && a.ErrorClass == "deadline" {
			cut++
		}
	}
	if cut == 0 {
		t.Errorf("no PutMetricFilter reported failed by the deadline: %+v", rep.Actions)
	}
}
