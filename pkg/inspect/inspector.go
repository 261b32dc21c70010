package inspect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Defaults for Options fields left zero.
const (
	DefaultNamePrefix  = "watchkeeper-"
	DefaultTopicSuffix = "cis-alarms"
	DefaultConcurrency = 32
)

// Options configure an Inspector. The zero value of each optional field is
// a documented default.
type Options struct {
	// Clients returns the readers for a region (required).
	Clients func(region string) Clients
	// Identity reads the caller's account (required).
	Identity IdentityReader
	// RegionLister lists regions with their opt-in status; it is called
	// once, in the home region (required).
	RegionLister RegionLister
	// Logger receives debug detail; nil discards it.
	Logger *slog.Logger
	// NamePrefix names Watchkeeper's own alarms; "" means DefaultNamePrefix.
	// The inspector reads every alarm with this prefix in each region that
	// holds a candidate log group, in one paginated call per region.
	NamePrefix string
	// TopicName is the topic Watchkeeper creates; "" means NamePrefix +
	// DefaultTopicSuffix. It is read (if it exists) in the home region and
	// each candidate log group's region, so the planner never creates it
	// twice.
	TopicName string
	// RelevantFilter says whether a metric filter could satisfy some
	// control (the engine passes plan.RelevantFilter; inspect cannot judge
	// patterns itself). Alarms are looked up only on the metrics of
	// relevant filters, so filters about other things on a trail's log
	// group cost no calls. Nil treats every filter as relevant. It may be
	// called from several goroutines.
	RelevantFilter func(MetricFilter) bool
	// Concurrency bounds in-flight API calls; 0 means DefaultConcurrency.
	// A full audit finishes in a fixed number of round trips only while
	// Concurrency is at least the number of regions.
	Concurrency int
}

// Inspector observes an account. It is safe for concurrent use.
type Inspector struct {
	opts Options
	log  *slog.Logger
}

// New returns an Inspector with opts' defaults applied.
func New(opts Options) *Inspector {
	if opts.NamePrefix == "" {
		opts.NamePrefix = DefaultNamePrefix
	}
	if opts.TopicName == "" {
		opts.TopicName = opts.NamePrefix + DefaultTopicSuffix
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Inspector{opts: opts, log: log}
}

// Request scopes one observation.
type Request struct {
	// Regions to observe; nil means every enabled region.
	Regions []string
	// HomeRegion is where regions are listed and where Watchkeeper's topic
	// is looked for; it is required.
	HomeRegion string
}

// Observe reads the account. It returns an error only when nothing can be
// evaluated: the caller's identity cannot be read, the region list cannot be
// read and none was requested, or ctx ends. Everything narrower (a region,
// a trail, a log group, a topic, a key) is recorded in the Snapshot with its
// cause, so the planner can still judge the rest.
//
// Calls are made in stages whose calls are independent and run
// concurrently: identity and regions; trails in every region; each
// candidate trail's status and selectors, its log group's filters and
// Watchkeeper's own alarms; alarms on relevant metrics no own alarm
// watches, and the notified topics with their subscriptions; the topics'
// KMS keys; then, only where every own alarm on a relevant metric would not
// notify anyone, the other alarms on that metric and their topics. The
// number of calls depends on the regions and the resources that matter,
// never on unrelated alarms, log groups, topics or filters (see the
// package documentation for the budget).
func (in *Inspector) Observe(ctx context.Context, req Request) (Snapshot, error) {
	if req.HomeRegion == "" {
		return Snapshot{}, errors.New("observe: home region is required")
	}
	if in.opts.Clients == nil || in.opts.Identity == nil || in.opts.RegionLister == nil {
		return Snapshot{}, errors.New("observe: inspector needs Clients, Identity and RegionLister")
	}
	o := &observation{
		in:        in,
		req:       req,
		sem:       make(chan struct{}, in.opts.Concurrency),
		trails:    map[string]*Trail{},
		logGroups: map[string]*LogGroup{},
		topics:    map[string]*Topic{},
		ownAlarms: map[string]*regionAlarms{},
		forMetric: map[metricKey]*metricAlarms{},
	}
	snap, err := o.run(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	if err := ctx.Err(); err != nil {
		return Snapshot{}, fmt.Errorf("observe: %w", err)
	}
	in.log.Debug("account observed", "snapshot", snap)
	return snap, nil
}

// observation is the state of one Observe call.
type observation struct {
	in  *Inspector
	req Request
	sem chan struct{}

	account   string
	partition string

	mu        sync.Mutex
	trails    map[string]*Trail    // by ARN
	logGroups map[string]*LogGroup // by ARN
	topics    map[string]*Topic    // by ARN
	ownAlarms map[string]*regionAlarms
	forMetric map[metricKey]*metricAlarms
}

type regionAlarms struct {
	alarms []Alarm
	err    error
}

type metricKey struct{ region, name, namespace string }

type metricAlarms struct {
	alarms []Alarm
	err    error
}

// call runs one API call (or one paginated listing) while holding a
// concurrency slot. Slots are never held while waiting on other calls, so
// nested stages cannot deadlock.
func (o *observation) call(ctx context.Context, fn func() error) error {
	select {
	case o.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-o.sem }()
	return fn()
}

func (o *observation) run(ctx context.Context) (Snapshot, error) {
	// Stage 1: who am I, and which regions are enabled.
	var (
		ident      *sts.GetCallerIdentityOutput
		identErr   error
		regionsOut *ec2.DescribeRegionsOutput
		regionsErr error
		wg         sync.WaitGroup
	)
	wg.Go(func() {
		identErr = o.call(ctx, func() (err error) {
			ident, err = o.in.opts.Identity.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		})
	})
	wg.Go(func() {
		regionsErr = o.call(ctx, func() (err error) {
			// AllRegions lists opt-in regions too, with their status, so a
			// requested region that is not enabled is reported as such
			// rather than failing with an opaque credentials error.
			regionsOut, err = o.in.opts.RegionLister.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)},
				func(opts *ec2.Options) { opts.Region = o.req.HomeRegion })
			return err
		})
	})
	wg.Wait()
	if identErr != nil {
		return Snapshot{}, fmt.Errorf("get caller identity: %w", identErr)
	}
	o.account = aws.ToString(ident.Account)
	o.partition = arnField(aws.ToString(ident.Arn), 1)
	if o.partition == "" {
		o.partition = "aws"
	}
	regions, err := o.selectRegions(regionsOut, regionsErr)
	if err != nil {
		return Snapshot{}, err
	}

	// Stage 2: the trails every region sees.
	for i := range regions {
		if regions[i].Error != "" {
			continue
		}
		wg.Go(func() { o.describeTrails(ctx, &regions[i]) })
	}
	wg.Wait()

	// Stage 3: candidate trails' status and selectors, their log groups'
	// filters, and Watchkeeper's own alarms in those log groups' regions.
	for _, t := range o.trails {
		if t.LogGroupARN == "" && !t.IsMultiRegion {
			continue
		}
		if t.OwnerAccount != o.account {
			why := fmt.Sprintf("trail belongs to account %s, not the caller's account %s; it can be read only there", t.OwnerAccount, o.account)
			if t.IsOrganizationTrail {
				why = fmt.Sprintf("organization trail owned by account %s (the caller is %s); its status and selectors can be read only in the owner account", t.OwnerAccount, o.account)
			}
			t.StatusError, t.SelectorsError = why, why
		} else {
			wg.Go(func() { o.trailStatus(ctx, t) })
			wg.Go(func() { o.trailSelectors(ctx, t) })
		}
		if t.LogGroupARN != "" {
			o.addLogGroup(t.LogGroupARN)
		}
	}
	for _, lg := range o.logGroups {
		if lg.Error != "" {
			continue
		}
		wg.Go(func() { o.metricFilters(ctx, lg) })
		if _, ok := o.ownAlarms[lg.Region]; !ok {
			ra := &regionAlarms{}
			o.ownAlarms[lg.Region] = ra
			wg.Go(func() { o.describeOwnAlarms(ctx, lg.Region, ra) })
		}
	}
	wg.Wait()

	// Stage 4: alarms on filter metrics no own alarm watches, and the
	// topics known so far; topics found by the fallback are read as soon
	// as they are found, and every topic's key right after its attributes.
	var topicsWG sync.WaitGroup
	for _, lg := range o.logGroups {
		if lg.Error != "" || !lg.Exists {
			continue
		}
		ra := o.ownAlarms[lg.Region]
		if ra.err != nil {
			lg.Error = "describe alarms: " + cause(ra.err)
			continue
		}
		for _, mk := range uncoveredMetrics(o.relevantMetrics(lg), ra.alarms) {
			o.lookUpMetric(ctx, &wg, &topicsWG, mk)
		}
		for _, a := range ra.alarms {
			o.topicsOf(ctx, &topicsWG, a)
		}
	}
	o.configuredTopics(ctx, &topicsWG)
	wg.Wait()
	topicsWG.Wait()

	// Stage 5: where every own alarm on a relevant metric would not pass
	// (actions disabled, no topic, topic gone, unreadable, without a
	// confirmed subscription or with a key CloudWatch cannot use), a
	// person's alarm on the same metric may: read the other alarms on it,
	// and their topics. A compliant account makes no call here.
	for _, lg := range o.logGroups {
		if lg.Error != "" || !lg.Exists {
			continue
		}
		own := o.ownAlarms[lg.Region].alarms
		for _, mk := range o.relevantMetrics(lg) {
			if o.ownAlarmsFail(mk, own) {
				o.lookUpMetric(ctx, &wg, &topicsWG, mk)
			}
		}
	}
	wg.Wait()
	topicsWG.Wait()

	// Assemble: per log group alarms, then the snapshot in stable order.
	for _, lg := range o.logGroups {
		o.assembleAlarms(lg)
	}
	return o.snapshot(regions), nil
}

// selectRegions decides which regions to observe and which requested ones
// are not enabled.
func (o *observation) selectRegions(out *ec2.DescribeRegionsOutput, listErr error) ([]Region, error) {
	status := map[string]string{}
	var enabled []string
	if listErr == nil {
		for _, r := range out.Regions {
			name := aws.ToString(r.RegionName)
			// AWS lists only the caller's partition; an emulator may list
			// every partition, and another partition's regions could never
			// be reached with these credentials anyway.
			if regionPartition(name) != o.partition {
				continue
			}
			st := aws.ToString(r.OptInStatus)
			status[name] = st
			if st == "" || st == "opt-in-not-required" || st == "opted-in" {
				enabled = append(enabled, name)
			}
		}
	}
	var regions []Region
	switch {
	case len(o.req.Regions) == 0 && listErr != nil:
		return nil, fmt.Errorf("describe regions in %s: %w", o.req.HomeRegion, listErr)
	case len(o.req.Regions) == 0:
		for _, name := range enabled {
			regions = append(regions, Region{Name: name})
		}
	default:
		if listErr != nil {
			o.in.log.Warn("region list unavailable; observing the requested regions unverified",
				"region", o.req.HomeRegion, "error", cause(listErr))
		}
		seen := map[string]bool{}
		for _, name := range o.req.Regions {
			if seen[name] {
				continue
			}
			seen[name] = true
			r := Region{Name: name}
			if listErr == nil && !slices.Contains(enabled, name) {
				if st, ok := status[name]; ok {
					r.Error = fmt.Sprintf("region not enabled (opt-in status: %s)", st)
				} else {
					r.Error = "region not enabled (not offered to this account)"
				}
			}
			regions = append(regions, r)
		}
	}
	slices.SortFunc(regions, func(a, b Region) int { return strings.Compare(a.Name, b.Name) })
	return regions, nil
}

func (o *observation) snapshot(regions []Region) Snapshot {
	s := Snapshot{
		Account:   o.account,
		Partition: o.partition,
		Regions:   regions,
		Trails:    make([]Trail, 0, len(o.trails)),
		LogGroups: make(map[string]LogGroup, len(o.logGroups)),
		Topics:    make(map[string]Topic, len(o.topics)),
	}
	for i := range s.Regions {
		if s.Regions[i].TrailARNs == nil {
			s.Regions[i].TrailARNs = []string{}
		}
	}
	for _, t := range o.trails {
		s.Trails = append(s.Trails, *t)
	}
	slices.SortFunc(s.Trails, func(a, b Trail) int { return strings.Compare(a.ARN, b.ARN) })
	for k, lg := range o.logGroups {
		s.LogGroups[k] = *lg
	}
	for k, t := range o.topics {
		s.Topics[k] = *t
	}
	return s
}

// cause renders an AWS error for a person: the service's error code and
// message when there is one, else the error itself.
func cause(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if msg := ae.ErrorMessage(); msg != "" {
			return ae.ErrorCode() + ": " + msg
		}
		return ae.ErrorCode()
	}
	return err.Error()
}

// arnField returns the i-th colon-separated field of an ARN
// (1 partition, 2 service, 3 region, 4 account, 5 resource), or "".
func arnField(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[i]
}

// regionPartition returns the partition a region name belongs to.
func regionPartition(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"},
		{"us-gov-", "aws-us-gov"},
		{"us-isob-", "aws-iso-b"},
		{"us-isof-", "aws-iso-f"},
		{"us-iso-", "aws-iso"},
		{"eu-isoe-", "aws-iso-e"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}
