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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	wkconfig "github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/report"
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
// starting actions, leaving time to re-inspect, report, publish and answer.
const deadlineReserve = 10 * time.Second

// publishTimeout bounds publishing the run summary. The summary is
// published with a context detached from the invocation's (which may have
// little or no time left after a long run) and this timeout instead.
const publishTimeout = 5 * time.Second

// finishReserve is how long before the invocation deadline the engine's
// observation after apply must end (engine.Options.Finish): enough to
// publish the summary and return the report before Lambda ends the
// invocation.
const finishReserve = publishTimeout + time.Second

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
	log    *slog.Logger
	// metrics receives the EMF document, one line per run (stdout).
	metrics io.Writer
	now     func() time.Time
}

// handlerDeps are the parts of the handler that tests replace.
type handlerDeps struct {
	getenv  func(string) string
	awsCfg  func(ctx context.Context) (aws.Config, error)
	newRun  func(cfg aws.Config, opts engine.Options) (runner, error)
	topics  func(cfg aws.Config) func(region string) publisher
	logOut  io.Writer
	metrics io.Writer
	now     func() time.Time
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
	opts := engine.Options{Plan: cfg.PlanOptions(), Regions: cfg.Regions, Logger: h.log, Reserve: deadlineReserve, Finish: finishReserve}
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
// the same JSON report the CLI writes with --output json.
func (h *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if h.initErr != nil {
		return nil, h.initErr
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
	if t.CausedBy(h.cfg.SelfRoleARN) {
		log.Info("event caused by Watchkeeper's own role; skipped")
		return json.Marshal(skipped{Skipped: true, Reason: "caused by Watchkeeper's own role " + h.cfg.SelfRoleARN, Trigger: t})
	}
	if t.Failed() {
		log.Info("the call failed, nothing changed; skipped", "errorCode", t.ErrorCode)
		return json.Marshal(skipped{Skipped: true, Reason: "the call failed with " + t.ErrorCode + ", nothing changed", Trigger: t})
	}

	r := h.healer
	if r == nil || t.Mode == trigger.ModeReport {
		r = h.auditor
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
		return nil, &RunError{Err: runErr}
	}

	run := notify.Run{Trigger: t, Report: rep, Duration: elapsed, Subscriptions: h.cfg.Subscriptions}
	c := notify.Count(rep)
	log.Info("run finished",
		"account", rep.Account, "mode", rep.Mode, "compliant", rep.Compliant, "cause", t.Describe(),
		"controlsPassing", c.ControlsPassing, "controlsFailing", c.ControlsFailing,
		"actionsApplied", c.ActionsApplied, "actionsFailed", c.ActionsFailed, "actionsSkipped", c.ActionsSkipped,
		"actionsPlanned", c.ActionsPlanned, "durationMs", elapsed.Milliseconds(),
		"engineMs", float64(engineTime.Microseconds())/1000, "error", errString(runErr))
	if _, err := fmt.Fprintf(h.metrics, "%s\n", notify.EMF(run, h.now())); err != nil {
		log.Warn("cannot write metrics", "error", err)
	}
	if h.cfg.Notify && notify.ShouldPublish(rep) {
		h.publish(ctx, log, run)
	}

	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	if runErr != nil && !errors.Is(runErr, engine.ErrUnverified) {
		// A partial report for another reason: it is in the log summary;
		// the invocation fails so the retry (or the next schedule) checks
		// again.
		return nil, &RunError{Err: runErr}
	}
	// Healing that could not be verified before the deadline is still a
	// run that did its work: the report says what was applied and, in its
	// warnings, that the next run verifies it. Failing the invocation would
	// only make Lambda retry a run that has already healed.
	return buf.Bytes(), nil
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
