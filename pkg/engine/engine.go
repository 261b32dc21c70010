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
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
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
	// actions in flight and the observation after apply must end, leaving
	// the caller that long to publish and return the report (it should be
	// shorter than Reserve). Zero means they may use the whole deadline.
	Finish time.Duration
	// CentralRoleARN, if set, is a read-only IAM role in an organization
	// trail owner's account. A member account assumes it (STS AssumeRole,
	// through the SDK's stscreds provider, credentials cached and refreshed)
	// and reads the organization trail, its log group's filters and alarms
	// and their topics through it, so their controls are judged PASS or
	// FAIL instead of CENTRAL. Nothing is ever written through it: apply
	// uses only the run's own credentials, and the planner targets only
	// this account's trails and log groups.
	CentralRoleARN string
	// Organization lists the organization's accounts (Organizations
	// ListAccounts) and reports, per account, whether this account's
	// organization trail covers it. For the management account or a
	// CloudTrail delegated administrator.
	Organization bool
	// Concurrency bounds parallel API calls in inspect and apply; zero
	// means their defaults.
	Concurrency int
	// Mode labels the report ("audit", "plan", "apply", "report"); it
	// changes nothing else. "" means "apply" when Apply is set, else "plan".
	Mode string
	// RunTime is the longest one run may last: the Lambda function's
	// timeout, or the CLI's --timeout. It sizes the SDK's retries
	// (Retryer) when the aws.Config given to New has no Retryer; zero means
	// DefaultRunTime. The deadline itself comes from Run's context.
	RunTime time.Duration
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
	// central are the clients of the central role (nil without one).
	central *clientCache
	orgs    *organizations.Client // nil unless Options.Organization
}

// New validates opts and returns an Engine that talks to AWS through cfg.
// It makes no API call: credentials are first used by Run.
//
// When cfg has no Retryer (as config.LoadDefaultConfig leaves it), every
// client gets Retryer(opts.RunTime): the SDK's standard retryer sized for
// the run. A caller that sets its own Retryer keeps it.
func New(cfg aws.Config, opts Options) (*Engine, error) {
	if opts.Plan.HomeRegion == "" {
		opts.Plan.HomeRegion = cfg.Region
	}
	if err := validate(opts); err != nil {
		return nil, err
	}
	if cfg.Retryer == nil {
		cfg.Retryer = Retryer(opts.RunTime)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Global calls (STS, DescribeRegions) go to the home region, so a
	// caller that pins --home-region never depends on the SDK's default.
	home := opts.Plan.HomeRegion
	e := &Engine{
		opts:    opts,
		log:     log,
		clients: newClientCache(cfg),
		sts:     sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = home }),
		ec2:     ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = home }),
	}
	if opts.CentralRoleARN != "" {
		central := cfg.Copy()
		central.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(e.sts, opts.CentralRoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = CentralSessionName }))
		e.central = newClientCache(central)
	}
	if opts.Organization {
		// Organizations has one endpoint per partition; the SDK resolves
		// it from any Region.
		e.orgs = organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.Region = home })
	}
	return e, nil
}

// CentralSessionName is the role session name of the central role, so the
// trail owner's CloudTrail names Watchkeeper's reads.
const CentralSessionName = "watchkeeper-central-read"

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
	if o.RunTime < 0 {
		errs = append(errs, fmt.Errorf("run time %s is negative", o.RunTime))
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
//
// The observation after apply reuses what the first one proved and apply
// cannot change (the caller's identity and the Region list, see proven),
// so it re-reads only the trails, filters, alarms, topics and keys.
func (e *Engine) Run(ctx context.Context) (report.Report, error) {
	insp := e.inspector(newProven(e.sts, e.ec2))
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

	applyCtx, reserve, cancelApply := e.applyDeadline(ctx)
	defer cancelApply()
	res, applyErr := apply.Run(applyCtx, first.Actions, apply.Options{
		Clients:     e.applyClients,
		Logger:      log,
		Concurrency: e.opts.Concurrency,
		Reserve:     reserve,
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

// applyDeadline returns the context and reserve apply runs with. With a
// deadline and Options.Finish, actions in flight end by the Finish point
// too, not only the observation after apply: a call the SDK retries under
// throttling may pause for up to RunTime/8 (RetryAttempts), longer than
// Reserve, and an action started just before the Reserve point must not
// run into the time the caller needs to publish and return. Actions still
// stop starting at Reserve before the real deadline: the reserve is
// shortened by Finish, as it is now measured from the earlier deadline.
func (e *Engine) applyDeadline(ctx context.Context) (context.Context, time.Duration, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok || e.opts.Finish <= 0 {
		return ctx, e.opts.Reserve, func() {}
	}
	reserve := e.opts.Reserve
	if reserve == 0 {
		reserve = apply.DefaultReserve
	}
	// apply reads 0 as its default, so at least 1ns: when Reserve is not
	// longer than Finish, nothing starts after the Finish point.
	reserve = max(reserve-e.opts.Finish, time.Nanosecond)
	applyCtx, cancel := context.WithDeadline(ctx, d.Add(-e.opts.Finish))
	return applyCtx, reserve, cancel
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

// inspector builds an Inspector over the cached clients, reading identity
// and Regions through known. It is cheap; a new one per Run keeps Run free
// of state left by an earlier run.
func (e *Engine) inspector(known *proven) *inspect.Inspector {
	opts := inspect.Options{
		Clients:      e.inspectClients,
		Identity:     known,
		RegionLister: known,
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
	}
	if e.central != nil {
		opts.Central, opts.CentralRole = e.centralClients, e.opts.CentralRoleARN
	}
	if e.orgs != nil {
		opts.Organization = e.orgs
	}
	return inspect.New(opts)
}

// centralClients are the central role's readers: inspect takes only the
// read interfaces, and apply is never handed these clients.
func (e *Engine) centralClients(region string) inspect.Clients {
	c := e.central.get(region)
	return inspect.Clients{CloudTrail: c.cloudTrail, Logs: c.logs, CloudWatch: c.cloudWatch, SNS: c.sns, KMS: c.kms}
}

func (e *Engine) inspectClients(region string) inspect.Clients {
	c := e.clients.get(region)
	return inspect.Clients{CloudTrail: c.cloudTrail, Logs: c.logs, CloudWatch: c.cloudWatch, SNS: c.sns, KMS: c.kms}
}

func (e *Engine) applyClients(region string) apply.Clients {
	c := e.clients.get(region)
	return apply.Clients{CloudTrail: c.cloudTrail, Logs: c.logs, CloudWatch: c.cloudWatch, SNS: c.sns, KMS: c.kms}
}
