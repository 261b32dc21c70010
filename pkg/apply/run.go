package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// Defaults for Options.
const (
	DefaultConcurrency = 8
	DefaultReserve     = 5 * time.Second
)

// Options configure Run. The zero value of each optional field is a
// documented default.
type Options struct {
	// Clients returns the writers for a region. Required. Run calls it at
	// most once per region.
	Clients func(region string) Clients
	// Logger receives one record per action; nil discards.
	Logger *slog.Logger
	// Concurrency bounds the actions in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Reserve is how much time must remain before the context's deadline
	// to start another action; 0 means DefaultReserve. It leaves the caller
	// time to report (a Lambda that overruns loses its whole result).
	Reserve time.Duration
	// OwnedPrefix, if set, is the name prefix of the resources Watchkeeper
	// owns (plan.Options.NamePrefix, e.g. "watchkeeper-"). Run then refuses,
	// with ErrNotOwned, any PutMetricFilter or PutMetricAlarm whose name
	// lacks it: those calls overwrite a resource of that name, and a planner
	// bug must not be able to rewrite someone else's filter or alarm.
	// CreateTopic is not checked: it never overwrites (SNS returns the
	// existing topic of that name, or fails if its attributes differ), and
	// the topic's name is configurable. Trail actions and EnableAlarmActions
	// are not checked either: healing a user's trail or alarm is their purpose.
	OwnedPrefix string
	// Now is the clock Run reads to apply Reserve; nil means time.Now.
	// Tests set a fake clock to make the deadline behaviour deterministic.
	Now func() time.Time
}

// Run carries out actions and returns one outcome per action, in input
// order. The error is the errors.Join of the *ActionError of every failed
// action, nil if none failed; skipped actions are reported in Result only.
func Run(ctx context.Context, actions []plan.Action, opts Options) (Result, error) {
	if opts.Clients == nil {
		return Result{}, errors.New("apply: Options.Clients is required")
	}
	r := &runner{
		opts:    opts,
		log:     opts.Logger,
		clients: map[string]Clients{},
		res:     Result{Outcomes: make([]Outcome, len(actions))},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.opts.Concurrency <= 0 {
		r.opts.Concurrency = DefaultConcurrency
	}
	if r.opts.Reserve <= 0 {
		r.opts.Reserve = DefaultReserve
	}
	if r.opts.Now == nil {
		r.opts.Now = time.Now
	}
	byPhase := map[int][]int{}
	for i, a := range actions {
		r.res.Outcomes[i].Action = a
		p := a.Kind.Phase()
		byPhase[p] = append(byPhase[p], i)
	}
	for _, p := range slices.Sorted(maps.Keys(byPhase)) {
		r.runPhase(ctx, byPhase[p])
	}
	var errs []error
	for _, o := range r.res.Outcomes {
		if o.Status == StatusFailed {
			errs = append(errs, o.Err)
		}
	}
	return r.res, errors.Join(errs...)
}

type runner struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	clients map[string]Clients
	// res.Outcomes[i] is written only by the goroutine running action i,
	// and read between phases.
	res Result
}

// runPhase runs the actions at idx (all of one phase) in a bounded pool.
func (r *runner) runPhase(ctx context.Context, idx []int) {
	unmet := r.unmetPrerequisites()
	var ready []int
	for _, i := range idx {
		if cause := unmet(r.res.Outcomes[i].Action); cause != nil {
			r.finish(ctx, i, StatusSkipped, "", fmt.Errorf("%w: %w", ErrDependency, cause))
			continue
		}
		ready = append(ready, i)
	}
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, unit := range r.units(ready) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, i := range unit {
				r.runOne(ctx, i)
			}
		})
	}
	wg.Wait()
}

// trailOrder is the order in which one trail's changes are made: its
// configuration first, logging last, so it starts logging as intended.
var trailOrder = map[plan.Kind]int{plan.UpdateTrail: 0, plan.PutEventSelectors: 1, plan.StartLogging: 2}

// units groups the actions at idx into units that run one after another in
// a single worker; units run concurrently. Each trail's actions form one
// unit, because CloudTrail rejects an operation on a trail that another
// operation is still modifying (ConflictException, CloudTrail API
// reference); every other action is a unit of its own.
func (r *runner) units(idx []int) [][]int {
	var out [][]int
	byTrail := map[string]int{} // trail ARN -> position in out
	for _, i := range idx {
		a := r.res.Outcomes[i].Action
		if _, isTrail := trailOrder[a.Kind]; !isTrail || a.Trail == nil || a.Trail.TrailARN == "" {
			out = append(out, []int{i})
			continue
		}
		if u, ok := byTrail[a.Trail.TrailARN]; ok {
			out[u] = append(out[u], i)
			continue
		}
		byTrail[a.Trail.TrailARN] = len(out)
		out = append(out, []int{i})
	}
	for _, u := range byTrail {
		slices.SortStableFunc(out[u], func(x, y int) int {
			return trailOrder[r.res.Outcomes[x].Action.Kind] - trailOrder[r.res.Outcomes[y].Action.Kind]
		})
	}
	return out
}

// runOne runs action i, unless the deadline forbids starting it.
func (r *runner) runOne(ctx context.Context, i int) {
	// Checked when the action is about to start: waiting for a worker, or
	// for earlier actions on the same trail, takes time.
	if err := r.startable(ctx); err != nil {
		r.finish(ctx, i, StatusSkipped, "", err)
		return
	}
	arn, err := r.do(ctx, r.res.Outcomes[i].Action)
	if err != nil {
		r.finish(ctx, i, StatusFailed, "", err)
		return
	}
	r.finish(ctx, i, StatusApplied, arn, nil)
}

// startable returns why no action may start now, or nil.
func (r *runner) startable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", ErrDeadline, err)
		}
		return fmt.Errorf("not started: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(r.opts.Now()); left < r.opts.Reserve {
			return fmt.Errorf("%w (%s left, %s reserved)", ErrDeadline, left.Round(time.Millisecond), r.opts.Reserve)
		}
	}
	return nil
}

// unmetPrerequisites returns a function that says why an action cannot
// start because of an earlier phase's outcome, or nil. Prerequisites:
//   - Subscribe and PutMetricAlarm need the CreateTopic of their topic (same
//     region and name) to have been applied, if the plan had one;
//   - PutMetricFilter needs the UpdateTrail that attaches its log group to
//     the trail to have been applied, if the plan had one: a filter on a log
//     group that no trail delivers to would satisfy nothing;
//   - EnableKey needs the CancelKeyDeletion of the same key to have been
//     applied, if the plan had one: EnableKey on a key pending deletion
//     fails with KMSInvalidStateException (AWS KMS developer guide, "Key
//     states of AWS KMS keys", key state table).
//
// An alarm does not wait for its metric filter: CloudWatch accepts an alarm
// on a metric that has no data yet, and having it in place makes the next
// run smaller.
func (r *runner) unmetPrerequisites() func(plan.Action) error {
	topics := map[string]error{}
	logGroups := map[string]error{}
	keys := map[string]error{}
	for _, o := range r.res.Outcomes {
		if o.Status == "" || o.Status == StatusApplied {
			continue // not yet run (a later phase) or done
		}
		a := o.Action
		switch {
		case a.Kind == plan.CreateTopic && a.Topic != nil:
			topics[topicKey(a.Region, a.Topic.Name)] = o.Err
		case a.Kind == plan.UpdateTrail && a.Trail != nil && a.Trail.LogGroupARN != "":
			if k := logGroupKeyOfARN(a.Trail.LogGroupARN); k != "" {
				logGroups[k] = o.Err
			}
		case a.Kind == plan.CancelKeyDeletion && a.KMSKey != nil && a.KMSKey.KeyARN != "":
			keys[a.KMSKey.KeyARN] = o.Err
		}
	}
	return func(a plan.Action) error {
		switch {
		case a.Kind == plan.Subscribe && a.Subscription != nil:
			return topics[topicKeyOfARN(a.Subscription.TopicARN)]
		case a.Kind == plan.PutMetricAlarm && a.Alarm != nil:
			return topics[topicKeyOfARN(a.Alarm.TopicARN)]
		case a.Kind == plan.PutMetricFilter && a.Filter != nil:
			return logGroups[a.Region+"/"+a.Filter.LogGroupName]
		case a.Kind == plan.EnableKey && a.KMSKey != nil && a.KMSKey.KeyARN != "":
			return keys[a.KMSKey.KeyARN]
		}
		return nil
	}
}

// finish records and logs the outcome of action i.
func (r *runner) finish(ctx context.Context, i int, st Status, arn string, err error) {
	o := &r.res.Outcomes[i]
	o.Status, o.ARN = st, arn
	attrs := []slog.Attr{
		slog.String("action", string(o.Action.Kind)),
		slog.String("region", o.Action.Region),
		slog.String("target", o.Action.Target),
		slog.Any("controls", o.Action.Controls),
	}
	if err == nil {
		r.log.LogAttrs(ctx, slog.LevelInfo, "action applied", attrs...)
		return
	}
	ae := &ActionError{Action: o.Action, Err: err}
	o.Err, o.Retryable, o.Class = ae, ae.Retryable(), Classify(err)
	attrs = append(attrs, slog.String("error", err.Error()), slog.Bool("retryable", o.Retryable))
	if st == StatusSkipped {
		r.log.LogAttrs(ctx, slog.LevelWarn, "action skipped", attrs...)
		return
	}
	r.log.LogAttrs(ctx, slog.LevelError, "action failed", attrs...)
}

// clientsFor returns (and caches) the writers for region.
func (r *runner) clientsFor(region string) Clients {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clients[region]
	if !ok {
		c = r.opts.Clients(region)
		r.clients[region] = c
	}
	return c
}
