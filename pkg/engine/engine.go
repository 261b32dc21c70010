// Package engine ties Watchkeeper's steps together: observe the account
// (inspect), decide what is wrong and what would fix it (plan), optionally
// heal (apply), then observe and plan again so the report describes the
// account as it is after healing, not as it was hoped to be.
//
// The engine knows nothing about flags, environment variables or Lambda
// events: the CLI and the Lambda handler both build an Options and call
// New and Run.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// Options configure an Engine. The zero value of each optional field is a
// documented default.
type Options struct {
	// Plan is what "compliant" means and how far healing may go.
	// Plan.Benchmark must be set; Plan.HomeRegion defaults to the
	// aws.Config's region.
	Plan plan.Options
	// Regions limits evaluation to these regions; nil means every region
	// enabled in the account.
	Regions []string
	// Apply heals the account. When false (audit, plan, report mode) the
	// engine never calls apply: report-only is the absence of the call, not
	// a flag inside apply.
	Apply bool
	// Logger receives structured progress; nil discards it.
	Logger *slog.Logger
	// Reserve is the time before the context's deadline in which apply
	// starts no new action, so a run cut short still reports what it did.
	// Zero means apply's default.
	Reserve time.Duration
	// Finish is the time before the context's deadline by which the
	// observation after apply must end, leaving the caller that long to
	// publish and return the report (it should be shorter than Reserve).
	// Zero means the observation may use the whole deadline.
	Finish time.Duration
	// Concurrency bounds parallel API calls in inspect and apply; zero
	// means their defaults.
	Concurrency int
	// Mode labels the report ("audit", "plan", "apply", "report"); it
	// changes nothing else. "" means "apply" when Apply is set, else "plan".
	Mode string
}

// ErrInvalidOptions is wrapped by New's error when Options are unusable.
var ErrInvalidOptions = errors.New("invalid engine options")

// ErrUnverified is wrapped by Run's error when actions were applied but the
// account could not be observed again (typically: the deadline came
// first). The report Run returns with it is complete about what was done;
// its verdicts are those from before healing, and a warning says so.
var ErrUnverified = errors.New("healing not verified")

// Engine runs one account's evaluation, and healing when asked. It is safe
// to call Run repeatedly (a warm Lambda container does): clients are built
// once per region and reused.
type Engine struct {
	opts    Options
	log     *slog.Logger
	clients *clientCache
	sts     *sts.Client
	ec2     *ec2.Client
}

// New validates opts and returns an Engine that talks to AWS through cfg.
// It makes no API call: credentials are first used by Run.
func New(cfg aws.Config, opts Options) (*Engine, error) {
	if opts.Plan.HomeRegion == "" {
		opts.Plan.HomeRegion = cfg.Region
	}
	if err := validate(opts); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Global calls (STS, DescribeRegions) go to the home region, so a
	// caller that pins --home-region never depends on the SDK's default.
	home := opts.Plan.HomeRegion
	return &Engine{
		opts:    opts,
		log:     log,
		clients: newClientCache(cfg),
		sts:     sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = home }),
		ec2:     ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = home }),
	}, nil
}

// validate checks the invariants of Options that are not user input: the
// fields users set (benchmark id, exclusions, healing level, Region names)
// arrive already built and checked by pkg/config, the one place their rules
// live, so they are not restated here.
func validate(o Options) error {
	var errs []error
	if o.Plan.Benchmark.ID == "" || len(o.Plan.Benchmark.Controls) == 0 {
		errs = append(errs, errors.New("no benchmark"))
	}
	if o.Plan.HomeRegion == "" {
		errs = append(errs, errors.New("no home region (set one, or a region in the AWS configuration)"))
	}
	if o.Regions != nil && len(o.Regions) == 0 {
		errs = append(errs, errors.New("empty region list (nil means every enabled region)"))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("concurrency %d is negative", o.Concurrency))
	}
	if o.Reserve < 0 {
		errs = append(errs, fmt.Errorf("reserve %s is negative", o.Reserve))
	}
	if o.Finish < 0 {
		errs = append(errs, fmt.Errorf("finish %s is negative", o.Finish))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	return nil
}

// Run observes the account, plans, and when Options.Apply is set applies the
// plan, then observes and plans again.
//
// The report's controls, regions and verdict come from the last plan, i.e.
// the state after healing; its actions are the first plan's actions with
// their outcomes, followed by any action the last plan still wants (as
// "planned"), so a run that did not converge says so.
//
// Run returns an error with an empty report only when the account cannot be
// evaluated at all (no credentials, the caller's identity or the region
// list cannot be read). Failures confined to a region, a resource or an
// action are part of the report. When the observation after apply does not
// finish (by Options.Finish before the deadline), Run returns the report of
// what it applied, with the first plan's verdicts and a warning, together
// with an error wrapping ErrUnverified: the healing happened, only its
// confirmation is missing, and the next run provides it.
func (e *Engine) Run(ctx context.Context) (report.Report, error) {
	insp := e.inspector()
	req := inspect.Request{Regions: e.opts.Regions, HomeRegion: e.opts.Plan.HomeRegion}

	snap, err := insp.Observe(ctx, req)
	if err != nil {
		return report.Report{}, fmt.Errorf("observe account: %w", err)
	}
	log := e.log.With("account", snap.Account)
	first := plan.Compute(e.opts.Plan, snap)
	log.Info("plan computed", "regions", len(first.Regions), "actions", len(first.Actions), "compliant", first.Compliant())

	if !e.opts.Apply || len(first.Actions) == 0 {
		// Report only, or nothing to heal: the first observation is final.
		return report.New(e.mode(), first), nil
	}

	res, applyErr := apply.Run(ctx, first.Actions, apply.Options{
		Clients:     e.applyClients,
		Logger:      log,
		Concurrency: e.opts.Concurrency,
		Reserve:     e.opts.Reserve,
		// Defence in depth: even a planner bug cannot overwrite a filter
		// or alarm Watchkeeper does not own.
		OwnedPrefix: e.namePrefix(),
	})
	if applyErr != nil {
		// apply has logged each failure and recorded it in res.Outcomes,
		// which the report shows; only the tally is logged here.
		log.Warn("apply finished with failures",
			"failed", res.Count(apply.StatusFailed), "skipped", res.Count(apply.StatusSkipped))
	}

	verifyCtx := ctx
	if d, ok := ctx.Deadline(); ok && e.opts.Finish > 0 {
		var cancel context.CancelFunc
		verifyCtx, cancel = context.WithDeadline(ctx, d.Add(-e.opts.Finish))
		defer cancel()
	}
	snap2, err := insp.Observe(verifyCtx, req)
	if err != nil {
		// The account was changed but cannot be re-read: report what was
		// done against the pre-apply verdict, and say why it is not final.
		rep := assemble(e.mode(), first, merge(res.Outcomes, nil))
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("healing not verified: the account could not be observed again after applying (%v); the verdicts are from before healing, and the next run checks the result", err))
		return rep, fmt.Errorf("%w: observe account after apply: %w", ErrUnverified, err)
	}
	last := plan.Compute(e.opts.Plan, snap2)
	log.Info("plan recomputed after apply", "actions", len(last.Actions), "compliant", last.Compliant())
	return assemble(e.mode(), last, merge(res.Outcomes, last.Actions)), nil
}

// mode is the report's Mode: Options.Mode, or "apply"/"plan" by Apply.
func (e *Engine) mode() string {
	switch {
	case e.opts.Mode != "":
		return e.opts.Mode
	case e.opts.Apply:
		return "apply"
	default:
		return "plan"
	}
}

// namePrefix is the prefix of the names of what Watchkeeper owns, with
// plan's default applied, so apply's ownership guard matches the planner.
func (e *Engine) namePrefix() string {
	if p := e.opts.Plan.NamePrefix; p != "" {
		return p
	}
	return plan.DefaultNamePrefix
}

// inspector builds an Inspector over the cached clients. It is cheap; a new
// one per Run keeps Run free of state left by an earlier run.
func (e *Engine) inspector() *inspect.Inspector {
	return inspect.New(inspect.Options{
		Clients:      e.inspectClients,
		Identity:     e.sts,
		RegionLister: e.ec2,
		Logger:       e.log,
		Concurrency:  e.opts.Concurrency,
		NamePrefix:   e.opts.Plan.NamePrefix,
		TopicName:    e.opts.Plan.TopicName,
		// Alarms are looked up only on metrics of filters that satisfy a
		// control, so unrelated filters on the trail's log group cost nothing.
		RelevantFilter: plan.RelevantFilter(e.opts.Plan),
		// A person's alarm on a metric is looked up only when
		// Watchkeeper's own alarms there would not notify, judged by the
		// planner's own alarm verdict.
		AlarmNotifies: plan.AlarmNotifies(e.opts.Plan),
	})
}

func (e *Engine) inspectClients(region string) inspect.Clients {
	c := e.clients.get(region)
	return inspect.Clients{CloudTrail: c.cloudTrail, Logs: c.logs, CloudWatch: c.cloudWatch, SNS: c.sns, KMS: c.kms}
}

func (e *Engine) applyClients(region string) apply.Clients {
	c := e.clients.get(region)
	return apply.Clients{CloudTrail: c.cloudTrail, Logs: c.logs, CloudWatch: c.cloudWatch, SNS: c.sns, KMS: c.kms}
}
