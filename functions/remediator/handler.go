package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	wkconfig "github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

// runner is the part of the engine the Lambda handler calls.
type runner interface {
	Run(ctx context.Context) (report.Report, error)
}

var _ runner = (*engine.Engine)(nil)

// publisher is the part of the SNS API the handler calls: it publishes run
// summaries to Watchkeeper's own topic and nothing else.
type publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ publisher = (*sns.Client)(nil)

// deadlineReserve is how long before the invocation deadline apply stops
// starting actions, leaving time to re-inspect, import findings, report,
// publish and answer (it must exceed finishReserve).
const deadlineReserve = 20 * time.Second

// publishTimeout bounds publishing the run summary. The summary is
// published with a context detached from the invocation's (which may have
// little or no time left after a long run) and this timeout instead.
const publishTimeout = 5 * time.Second

// findingsTimeout bounds importing the run's Security Hub findings (a
// read-back, one import and at most one workflow update for 15 controls),
// detached from the invocation's context like the summary.
const findingsTimeout = 5 * time.Second

// finishReserve is how long before the invocation deadline the engine's
// observation after apply must end (engine.Options.Finish): enough to
// import the findings, publish the summary and return the report before
// Lambda ends the invocation.
const finishReserve = findingsTimeout + publishTimeout + time.Second

// ConfigError is returned by every invocation when the configuration read
// at start-up is invalid. Its type name becomes the Lambda errorType.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return "invalid configuration: " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// RunError is returned when the account could not be evaluated at all.
type RunError struct{ Err error }

func (e *RunError) Error() string { return "run: " + e.Err.Error() }
func (e *RunError) Unwrap() error { return e.Err }

// handler serves Lambda invocations. Everything expensive (configuration,
// AWS configuration, engines) is built once, at init; an invocation only
// decodes its event, runs an engine and reports.
type handler struct {
	cfg wkconfig.Config
	// initErr, when set, is returned by every invocation: with invalid
	// configuration the function makes no AWS call at all.
	initErr error
	// healer heals; auditor only reports. healer is nil when the
	// deployment is report-only, so no event can make it write.
	healer, auditor runner
	// topics returns an SNS client for a region.
	topics func(region string) publisher
	// rules reads and re-enables Watchkeeper's own rules in the home
	// Region (pkg/selfwatch); nil skips the check.
	rules selfwatch.Client
	// hub, when set, receives one Security Hub finding per control after
	// every run (WATCHKEEPER_FINDINGS=securityhub).
	hub securityHub
	log *slog.Logger
	// metrics receives the EMF document, one line per run (stdout).
	metrics io.Writer
	now     func() time.Time
}

// handlerDeps are the parts of the handler that tests replace.
type handlerDeps struct {
	getenv func(string) string
	awsCfg func(ctx context.Context) (aws.Config, error)
	newRun func(cfg aws.Config, opts engine.Options) (runner, error)
	topics func(cfg aws.Config) func(region string) publisher
	// rules, when set, adapts EventBridge in region to selfwatch.Client.
	rules func(cfg aws.Config, region string) selfwatch.Client
	// securityHub, when set, makes Security Hub clients.
	securityHub func(cfg aws.Config) securityHub
	logOut      io.Writer
	metrics     io.Writer
	now         func() time.Time
}

// newHandler reads and validates the configuration and builds the engines.
// It never fails: a problem is kept in initErr, logged once, and returned
// by every invocation, so Lambda reports it on each call instead of
// crash-looping the container.
func newHandler(ctx context.Context, d handlerDeps) *handler {
	if d.now == nil {
		d.now = time.Now
	}
	h := &handler{metrics: d.metrics, now: d.now}
	cfg, err := wkconfig.FromEnv(d.getenv)
	h.log = slog.New(slog.NewJSONHandler(d.logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err != nil {
		h.initErr = &ConfigError{Err: err}
		h.log.Error("invalid configuration; every invocation will fail until it is fixed", "error", err)
		return h
	}
	h.cfg = cfg
	awsCfg, err := d.awsCfg(ctx)
	if err != nil {
		h.initErr = fmt.Errorf("load AWS configuration: %w", err)
		h.log.Error("cannot load AWS configuration", "error", err)
		return h
	}
	opts := engine.Options{Plan: cfg.PlanOptions(), Regions: cfg.Regions, Logger: h.log, Reserve: deadlineReserve, Finish: finishReserve,
		CentralRoleARN: cfg.CentralRoleARN}
	if h.auditor, err = d.newRun(awsCfg, opts); err != nil {
		h.initErr = &ConfigError{Err: err}
		h.log.Error("invalid engine options", "error", err)
		return h
	}
	if cfg.Mode == wkconfig.ModeApply {
		opts.Apply = true
		if h.healer, err = d.newRun(awsCfg, opts); err != nil {
			h.initErr = &ConfigError{Err: err}
			h.log.Error("invalid engine options", "error", err)
			return h
		}
	}
	h.topics = d.topics(awsCfg)
	if d.rules != nil {
		h.rules = d.rules(awsCfg, cfg.HomeRegion)
	}
	if d.securityHub != nil && cfg.Findings == wkconfig.FindingsSecurityHub {
		h.hub = d.securityHub(awsCfg)
	}
	if cfg.SelfRoleARN == "" {
		h.log.Warn("WATCHKEEPER_SELF_ROLE_ARN is not set: events caused by Watchkeeper itself are not skipped (runs stay idempotent, so they end after one extra check)")
	}
	h.log.Info("configuration loaded", "config", cfg)
	return h
}

// skipped is the response to an event Watchkeeper ignores on purpose.
type skipped struct {
	Skipped bool            `json:"skipped"`
	Reason  string          `json:"reason"`
	Trigger trigger.Trigger `json:"trigger"`
}

// Invoke serves one invocation (it implements aws-lambda-go's
// lambda.Handler, so the raw payload reaches trigger.Decode unchanged and
// malformed JSON gets Decode's error, not a generic one). The response is
// the same JSON report the CLI writes with --output json. An SQS event
// (the drift queue) is served by invokeBatch.
func (h *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if h.initErr != nil {
		return nil, h.initErr
	}
	if trigger.IsBatch(payload) {
		return h.invokeBatch(ctx, payload)
	}
	started := h.now()
	t, err := trigger.Decode(payload)
	if err != nil {
		// Returned, not logged: Lambda records the error (errorType and
		// message) once, and the caller sees it. Debug keeps the size.
		h.log.Debug("event rejected", "bytes", len(payload))
		return nil, err
	}
	log := h.log.With("trigger", t.Kind, "event", t.ID)
	if t.Kind == trigger.Drift {
		log = log.With("call", t.Call.Name, "actor", t.Actor.String())
	}
	if why := h.skip(log, t); why != "" {
		return json.Marshal(skipped{Skipped: true, Reason: why, Trigger: t})
	}
	rep, err := h.run(ctx, log, t, nil, started)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return buf.Bytes(), nil
}

// skip says why an event starts no run, logging it, or returns "": the
// function's own calls (loop guard), calls that failed, and calls made by
// AWS automation (trigger.Automated). The drift rule's pattern drops all
// three already; this is the second line for events delivered otherwise.
func (h *handler) skip(log *slog.Logger, t trigger.Trigger) string {
	if t.CausedBy(h.cfg.SelfRoleARN) {
		log.Info("event caused by Watchkeeper's own role; skipped")
		return "caused by Watchkeeper's own role " + h.cfg.SelfRoleARN
	}
	if t.Failed() {
		log.Info("the call failed, nothing changed; skipped", "errorCode", t.ErrorCode)
		return "the call failed with " + t.ErrorCode + ", nothing changed"
	}
	if why := t.Automated(); why != "" {
		log.Info("event caused by AWS automation; skipped", "reason", why)
		return why + ", which manages alarms of its own"
	}
	return ""
}

// invokeBatch serves an SQS event from the drift queue: one engine run for
// the whole batch, whose summary lists every event in it.
//
// A record that is not a handled drift event is reported as a batch item
// failure (events.SQSEventResponse, with ReportBatchItemFailures on the
// event source mapping), not dropped: SQS delivers it again until its
// receive count passes the queue's maxReceiveCount, then moves it to the
// dead-letter queue, whose alarm tells a person, and the reason is logged
// here with its message id. Every other record succeeds once the run has
// answered it (skipped ones included). A run that cannot evaluate the
// account fails the invocation, so the whole batch is delivered again.
func (h *handler) invokeBatch(ctx context.Context, payload []byte) ([]byte, error) {
	started := h.now()
	b, err := trigger.DecodeBatch(payload)
	if err != nil {
		// Nothing can be reported item by item: the batch returns to the
		// queue as a whole. Returned, not logged, as for single events.
		h.log.Debug("batch rejected", "bytes", len(payload))
		return nil, err
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	var drift []trigger.Trigger
	for _, r := range b.Records {
		log := h.log.With("messageId", r.MessageID)
		if r.Err != nil {
			log.Warn("record rejected; reported as a batch item failure", "error", r.Err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageID})
			continue
		}
		t := r.Trigger
		log = log.With("trigger", t.Kind, "event", t.ID, "call", t.Call.Name, "actor", t.Actor.String())
		if h.skip(log, t) != "" {
			continue
		}
		log.Info("event joins the batch's run", "resources", t.Resources, "region", t.Region)
		drift = append(drift, t)
	}
	if len(drift) > 0 {
		// The summary's headline trigger: a change to Watchkeeper itself
		// when the batch holds one (it decides the subject), else the
		// first event.
		t := drift[0]
		for _, e := range drift {
			if e.SelfWatch() {
				t = e
				break
			}
		}
		log := h.log.With("trigger", t.Kind, "event", t.ID, "events", len(drift))
		if _, err := h.run(ctx, log, t, drift, started); err != nil {
			return nil, err
		}
	}
	h.log.Info("batch done", "records", len(b.Records), "events", len(drift), "failures", len(resp.BatchItemFailures))
	return json.Marshal(resp)
}

// run runs the engine once for t (and, for a batch, every event in
// batch), logs the summary line, writes the metrics, publishes the summary
// and returns the report. A run that could not evaluate the account, or
// whose report is partial for a reason other than unverified healing,
// returns a *RunError.
func (h *handler) run(ctx context.Context, log *slog.Logger, t trigger.Trigger, batch []trigger.Trigger, started time.Time) (report.Report, error) {
	r, healing := h.healer, true
	if r == nil || t.Mode == trigger.ModeReport {
		r, healing = h.auditor, false
	}
	if h.healer == nil && t.Mode == trigger.ModeApply {
		log.Info("apply requested, but the deployment is report-only (WATCHKEEPER_MODE=report); running report-only")
	}
	engineStart := h.now()
	rep, runErr := r.Run(ctx)
	done := h.now()
	elapsed, engineTime := done.Sub(started), done.Sub(engineStart)
	if runErr != nil && rep.Account == "" {
		log.Error("run failed", "error", runErr, "durationMs", elapsed.Milliseconds())
		return report.Report{}, &RunError{Err: runErr}
	}

	if h.hub != nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), findingsTimeout)
		importFindings(fctx, h.hub, &rep, log)
		cancel()
	}
	run := notify.Run{Trigger: t, Report: rep, Duration: elapsed, Subscriptions: h.cfg.Subscriptions, Events: batch,
		Succeeded: runErr == nil || errors.Is(runErr, engine.ErrUnverified), Self: h.checkSelf(ctx, log, healing)}
	cause := t.Describe()
	if len(batch) > 1 {
		cause = fmt.Sprintf("%d drift events", len(batch))
	}
	c := notify.Count(rep)
	log.Info("run finished",
		"account", rep.Account, "mode", rep.Mode, "compliant", rep.Compliant, "cause", cause,
		"controlsPassing", c.ControlsPassing, "controlsFailing", c.ControlsFailing,
		"actionsApplied", c.ActionsApplied, "actionsFailed", c.ActionsFailed, "actionsSkipped", c.ActionsSkipped,
		"actionsPlanned", c.ActionsPlanned, "durationMs", elapsed.Milliseconds(),
		"engineMs", float64(engineTime.Microseconds())/1000, "error", errString(runErr))
	if _, err := fmt.Fprintf(h.metrics, "%s\n", notify.EMF(run, h.now())); err != nil {
		log.Warn("cannot write metrics", "error", err)
	}
	if h.cfg.Notify && notify.ShouldPublishRun(run) {
		h.publish(ctx, log, run)
	}
	if runErr != nil && !errors.Is(runErr, engine.ErrUnverified) {
		// A partial report for another reason: it is in the log summary;
		// the invocation fails so the retry (or the next schedule) checks
		// again.
		return report.Report{}, &RunError{Err: runErr}
	}
	// Healing that could not be verified before the deadline is still a
	// run that did its work: the report says what was applied and, in its
	// warnings, that the next run verifies it. Failing the invocation would
	// only make Lambda retry a run that has already healed.
	return rep, nil
}

// checkSelf re-enables Watchkeeper's own rules when someone disabled them
// (restore: only in a healing run), and logs each one it restored or could
// not keep enabled. Every run checks, so a drift rule disabled while the
// function could not hear about it is enabled again by the next nightly run.
func (h *handler) checkSelf(ctx context.Context, log *slog.Logger, restore bool) []selfwatch.Rule {
	if h.rules == nil {
		return nil
	}
	out := selfwatch.Check(ctx, h.rules, selfwatch.Rules(), restore)
	for _, r := range out {
		switch {
		case r.Status == selfwatch.Restored:
			log.Info("own rule re-enabled", "resource", r.Name)
		case r.NeedsPerson():
			log.Warn("own rule not enabled", "resource", r.Name, "status", r.Status, "error", r.Error)
		}
	}
	return out
}

// publish sends the run summary to Watchkeeper's topic. A failure is logged
// and does not fail the invocation: the report is still returned and the
// metrics still say what happened.
func (h *handler) publish(ctx context.Context, log *slog.Logger, run notify.Run) {
	arn, region := notify.TopicARN(run.Report, h.cfg.TopicName)
	if arn == "" {
		log.Warn("summary not published: topic location unknown")
		return
	}
	// A run that used its time up to the deadline reserve still gets its
	// summary out: detach from the invocation's context, bounded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	_, err := h.topics(region).Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(arn),
		Subject:  aws.String(notify.Subject(run)),
		Message:  aws.String(notify.Message(run)),
	})
	if err != nil {
		log.Warn("summary not published", "topic", arn, "error", err)
		return
	}
	log.Info("summary published", "topic", arn)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
