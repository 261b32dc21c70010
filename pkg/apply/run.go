package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// Status is what happened to one action.
type Status string

const (
	StatusApplied Status = "applied"
	StatusFailed  Status = "failed"  // attempted; AWS (or validation) refused it
	StatusSkipped Status = "skipped" // not attempted: deadline or prerequisite
)

// Outcome is what happened to one action.
type Outcome struct {
	Action plan.Action
	Status Status
	// Err is an *ActionError when Status is failed or skipped.
	Err error
	// ARN is the resource ARN the call returned, when it returns one
	// (CreateTopic: the topic; Subscribe: the subscription, a real ARN even
	// while it awaits confirmation, since Run sets ReturnSubscriptionArn).
	ARN string
}

// MarshalJSON renders the action's own fields (plan.Action's JSON) plus
// "status", "error", "retryable" and "arn", the shape the CLI and Lambda
// report per action.
func (o Outcome) MarshalJSON() ([]byte, error) {
	type action plan.Action // no methods: avoids recursion if plan adds one
	out := struct {
		action
		Status    Status `json:"status"`
		Error     string `json:"error,omitempty"`
		Retryable bool   `json:"retryable,omitempty"`
		ARN       string `json:"arn,omitempty"`
	}{action: action(o.Action), Status: o.Status, ARN: o.ARN}
	if o.Err != nil {
		out.Error, out.Retryable = o.Err.Error(), Retryable(o.Err)
	}
	return json.Marshal(out)
}

// Result holds one Outcome per input action, in input order.
type Result struct {
	Outcomes []Outcome `json:"outcomes"`
}

// Count returns how many outcomes have status s.
func (r Result) Count(s Status) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == s {
			n++
		}
	}
	return n
}

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
		if left := time.Until(dl); left < r.opts.Reserve {
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
		case a.Kind == plan.CancelKeyDeletion && a.Key != nil && a.Key.KeyARN != "":
			keys[a.Key.KeyARN] = o.Err
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
		case a.Kind == plan.EnableKey && a.Key != nil && a.Key.KeyARN != "":
			return keys[a.Key.KeyARN]
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
	o.Err = ae
	attrs = append(attrs, slog.String("error", err.Error()), slog.Bool("retryable", ae.Retryable()))
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

// do performs one action and returns the ARN the call returned, if any.
func (r *runner) do(ctx context.Context, a plan.Action) (string, error) {
	if a.Region == "" {
		return "", fmt.Errorf("%w: no region", ErrInvalidAction)
	}
	if err := r.checkOwned(a); err != nil {
		return "", err
	}
	switch a.Kind {
	case plan.CreateTopic:
		return r.createTopic(ctx, a)
	case plan.Subscribe:
		return r.subscribe(ctx, a)
	case plan.PutMetricFilter:
		return "", r.putMetricFilter(ctx, a)
	case plan.PutMetricAlarm:
		return "", r.putMetricAlarm(ctx, a)
	case plan.EnableAlarmActions:
		return "", r.enableAlarmActions(ctx, a)
	case plan.StartLogging, plan.PutEventSelectors, plan.UpdateTrail:
		return "", r.trail(ctx, a)
	case plan.CancelKeyDeletion, plan.EnableKey:
		return "", r.key(ctx, a)
	}
	return "", fmt.Errorf("%w: unknown kind %q", ErrInvalidAction, a.Kind)
}

// checkOwned enforces Options.OwnedPrefix.
func (r *runner) checkOwned(a plan.Action) error {
	p := r.opts.OwnedPrefix
	if p == "" {
		return nil
	}
	var name string
	switch {
	case a.Kind == plan.PutMetricFilter && a.Filter != nil:
		name = a.Filter.FilterName
	case a.Kind == plan.PutMetricAlarm && a.Alarm != nil:
		name = a.Alarm.AlarmName
	default:
		return nil
	}
	if !strings.HasPrefix(name, p) {
		return fmt.Errorf("%w: %q does not start with %q", ErrNotOwned, name, p)
	}
	return nil
}

func missing(what string) error { return fmt.Errorf("%w: no %s spec", ErrInvalidAction, what) }

func noClient(service, region string) error {
	return fmt.Errorf("%w: no %s client for %s", ErrInvalidAction, service, region)
}

func (r *runner) createTopic(ctx context.Context, a plan.Action) (string, error) {
	t := a.Topic
	if t == nil || t.Name == "" {
		return "", missing("topic")
	}
	c := r.clientsFor(a.Region).SNS
	if c == nil {
		return "", noClient("SNS", a.Region)
	}
	tags := withOwnerTag(t.Tags)
	in := &sns.CreateTopicInput{Name: aws.String(t.Name)}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, snstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if t.KMSKeyID != "" {
		in.Attributes = map[string]string{"KmsMasterKeyId": t.KMSKeyID}
	}
	out, err := c.CreateTopic(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create topic %s in %s: %w", t.Name, a.Region, err)
	}
	return aws.ToString(out.TopicArn), nil
}

func (r *runner) subscribe(ctx context.Context, a plan.Action) (string, error) {
	s := a.Subscription
	if s == nil || s.TopicARN == "" || s.Protocol == "" || s.Endpoint == "" {
		return "", missing("subscription")
	}
	c := r.clientsFor(a.Region).SNS
	if c == nil {
		return "", noClient("SNS", a.Region)
	}
	out, err := c.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(s.TopicARN),
		Protocol: aws.String(s.Protocol),
		Endpoint: aws.String(s.Endpoint),
		// Returns the existing subscription's ARN for an endpoint already
		// subscribed, instead of a new pending one (SNS API reference,
		// Subscribe, ReturnSubscriptionArn).
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		return "", fmt.Errorf("subscribe %s:%s to %s: %w", s.Protocol, s.Endpoint, s.TopicARN, err)
	}
	return aws.ToString(out.SubscriptionArn), nil
}

func (r *runner) putMetricFilter(ctx context.Context, a plan.Action) error {
	f := a.Filter
	if f == nil || f.LogGroupName == "" || f.FilterName == "" || f.MetricName == "" || f.Namespace == "" || f.MetricValue == "" {
		return missing("filter")
	}
	c := r.clientsFor(a.Region).Logs
	if c == nil {
		return noClient("CloudWatch Logs", a.Region)
	}
	_, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName:          aws.String(f.LogGroupName),
		FilterName:            aws.String(f.FilterName),
		FilterPattern:         aws.String(f.Pattern),
		MetricTransformations: metricTransformations(f),
	})
	if err != nil {
		return fmt.Errorf("put metric filter %s on %s: %w", f.FilterName, f.LogGroupName, err)
	}
	return nil
}

func (r *runner) putMetricAlarm(ctx context.Context, a plan.Action) error {
	s := a.Alarm
	if s == nil || s.AlarmName == "" || s.MetricName == "" || s.Namespace == "" || s.TopicARN == "" {
		return missing("alarm")
	}
	c := r.clientsFor(a.Region).CloudWatch
	if c == nil {
		return noClient("CloudWatch", a.Region)
	}
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(s.AlarmName),
		MetricName:         aws.String(s.MetricName),
		Namespace:          aws.String(s.Namespace),
		Statistic:          cwtypes.Statistic(s.Statistic),
		EvaluationPeriods:  aws.Int32(s.EvaluationPeriods),
		Threshold:          aws.Float64(s.Threshold),
		ComparisonOperator: cwtypes.ComparisonOperator(s.ComparisonOperator),
		AlarmActions:       []string{s.TopicARN},
		ActionsEnabled:     aws.Bool(true),
		Tags:               alarmTags(s.Tags),
	}
	if s.Description != "" {
		in.AlarmDescription = aws.String(s.Description)
	}
	if s.Period > 0 {
		in.Period = aws.Int32(s.Period)
	}
	if s.TreatMissingData != "" {
		in.TreatMissingData = aws.String(s.TreatMissingData)
	}
	if _, err := c.PutMetricAlarm(ctx, in); err != nil {
		return fmt.Errorf("put metric alarm %s: %w", s.AlarmName, err)
	}
	return nil
}

func (r *runner) enableAlarmActions(ctx context.Context, a plan.Action) error {
	if a.Alarm == nil || a.Alarm.AlarmName == "" {
		return missing("alarm")
	}
	c := r.clientsFor(a.Region).CloudWatch
	if c == nil {
		return noClient("CloudWatch", a.Region)
	}
	_, err := c.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{a.Alarm.AlarmName}})
	if err != nil {
		return fmt.Errorf("enable actions of alarm %s: %w", a.Alarm.AlarmName, err)
	}
	return nil
}

// trail performs the trail kinds. They are sent to the trail's home region:
// "UpdateTrail must be called from the Region in which the trail was
// created; otherwise, an InvalidHomeRegionException is thrown" (CloudTrail
// API reference; likewise PutEventSelectors and StartLogging).
func (r *runner) trail(ctx context.Context, a plan.Action) error {
	t := a.Trail
	if t == nil || t.TrailARN == "" {
		return missing("trail")
	}
	region := t.HomeRegion
	if region == "" {
		region = a.Region
	}
	c := r.clientsFor(region).CloudTrail
	if c == nil {
		return noClient("CloudTrail", region)
	}
	switch a.Kind {
	case plan.StartLogging:
		if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(t.TrailARN)}); err != nil {
			return fmt.Errorf("start logging on %s: %w", t.TrailARN, err)
		}
	case plan.PutEventSelectors:
		classic, advanced, err := eventSelectors(t.Selectors)
		if err != nil {
			return err
		}
		in := &cloudtrail.PutEventSelectorsInput{
			TrailName:              aws.String(t.TrailARN),
			EventSelectors:         classic,
			AdvancedEventSelectors: advanced,
		}
		if _, err := c.PutEventSelectors(ctx, in); err != nil {
			return fmt.Errorf("put event selectors on %s: %w", t.TrailARN, err)
		}
	case plan.UpdateTrail:
		in := &cloudtrail.UpdateTrailInput{Name: aws.String(t.TrailARN)}
		if t.MakeMultiRegion {
			in.IsMultiRegionTrail = aws.Bool(true)
		}
		if t.LogGroupARN != "" {
			in.CloudWatchLogsLogGroupArn = aws.String(trailLogGroupARN(t.LogGroupARN))
		}
		if t.LogsRoleARN != "" {
			in.CloudWatchLogsRoleArn = aws.String(t.LogsRoleARN)
		}
		if in.IsMultiRegionTrail == nil && in.CloudWatchLogsLogGroupArn == nil && in.CloudWatchLogsRoleArn == nil {
			return fmt.Errorf("%w: UpdateTrail changes nothing", ErrInvalidAction)
		}
		if _, err := c.UpdateTrail(ctx, in); err != nil {
			return fmt.Errorf("update trail %s: %w", t.TrailARN, err)
		}
	}
	return nil
}

// key performs the key kinds on the topic's KMS key, by key ARN, in the
// key's region (the region field of its ARN): a KMS key belongs to one
// region, and the inspector reads it there too.
//
// Both are idempotent, and the key state table (AWS KMS developer guide,
// "Key states of AWS KMS keys") says what each answers:
//   - EnableKey succeeds on an Enabled or Disabled key, so repeating it is
//     harmless; it fails with KMSInvalidStateException on a key pending
//     deletion or import, which is a real failure.
//   - CancelKeyDeletion succeeds only on a key pending deletion, which it
//     leaves Disabled ("When this operation succeeds, the key state of the
//     KMS key is Disabled. To enable the KMS key, use EnableKey", AWS KMS API
//     reference, CancelKeyDeletion); the planner follows it with EnableKey.
//     On a key in any other state it fails with KMSInvalidStateException,
//     "<key ARN> is not pending deletion" (key state table). For this call,
//     which is not a cryptographic operation, that exception means only
//     that the key state is incompatible with it (AWS KMS API reference,
//     KMSInvalidStateException), that is, the key is not pending deletion:
//     what the action wants. So it counts as done; if the key is in a state
//     EnableKey cannot fix, EnableKey fails and says so, and the next
//     observation reports the key state either way.
func (r *runner) key(ctx context.Context, a plan.Action) error {
	k := a.Key
	if k == nil || k.KeyARN == "" {
		return missing("key")
	}
	svc, region, res, ok := arnParts(k.KeyARN)
	if !ok || svc != "kms" || region == "" || !strings.HasPrefix(res, "key/") {
		return fmt.Errorf("%w: %q is not a KMS key ARN", ErrInvalidAction, k.KeyARN)
	}
	c := r.clientsFor(region).KMS
	if c == nil {
		return noClient("KMS", region)
	}
	switch a.Kind {
	case plan.CancelKeyDeletion:
		_, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(k.KeyARN)})
		var invalid *kmstypes.KMSInvalidStateException
		if errors.As(err, &invalid) {
			r.log.LogAttrs(ctx, slog.LevelInfo, "key not pending deletion; nothing to cancel",
				slog.String("region", region), slog.String("target", k.KeyARN))
			return nil
		}
		if err != nil {
			return fmt.Errorf("cancel deletion of key %s: %w", k.KeyARN, err)
		}
	case plan.EnableKey:
		if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(k.KeyARN)}); err != nil {
			return fmt.Errorf("enable key %s: %w", k.KeyARN, err)
		}
	}
	return nil
}
