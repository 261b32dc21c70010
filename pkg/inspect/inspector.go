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
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/region"
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
	RelevantFilter func(account.MetricFilter) bool
	// AlarmNotifies says whether alarm a, fed by the metric transformation
	// t, turns one matching event into a delivered notification, exactly as
	// the planner judges it (the engine passes the planner's predicate;
	// inspect cannot judge alarms, topic policies or keys itself). topic
	// looks up the topics observed so far, by ARN. Where some own alarm on
	// a relevant metric notifies, a person's alarms on that metric need no
	// lookup. Nil means unknown: every own alarm on a relevant metric then
	// counts as failing, which is correct but costs one
	// DescribeAlarmsForMetric per such metric. One observation calls it
	// from one goroutine, once the topics its own alarms notify have been
	// read (concurrent observations may call it concurrently).
	AlarmNotifies func(a account.Alarm, t account.MetricTransformation, topic func(arn string) (account.Topic, bool)) bool
	// Organization, if set, lists the organization's accounts
	// (paginated) in the first stage; the snapshot then carries them
	// (Snapshot.Organization). Nil lists nothing.
	Organization OrgLister
	// Central returns readers in the account of CentralRole, a read-only
	// role in an organization trail owner's account (STS AssumeRole). With
	// it, an organization trail of that account, its log group's filters
	// and alarms, and the topics and keys they name in that account are
	// read through it, so the planner judges the central chain for real.
	// Nil, or CentralRole "", reads nothing of another account.
	Central     func(region string) Clients
	CentralRole string
	// Concurrency bounds in-flight API calls; 0 means DefaultConcurrency.
	// A full audit finishes in a fixed number of round trips only while
	// Concurrency is at least the number of concurrent calls of a stage:
	// a handful when a trail covers every region, one per region when the
	// regions' trails must be listed.
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
	// HomeRegion is where regions are listed, where trails are listed
	// first (a trail covering every region seen there spares listing the
	// others) and where Watchkeeper's topic is looked for; it is required.
	HomeRegion string
}

// Observe reads the account. It returns an error only when nothing can be
// evaluated: the caller's identity cannot be read, the region list cannot be
// read and none was requested, or ctx ends. Everything narrower (a region,
// a trail, a log group, a topic, a key) is recorded in the Snapshot with its
// cause, so the planner can still judge the rest.
//
// Calls are made in stages whose calls are independent and run
// concurrently: identity, regions and the trails the home region sees;
// each candidate trail's status and selectors, its log group's filters,
// Watchkeeper's own alarms and Watchkeeper's topic; only when no trail seen
// from the home region covers every region, the trails of every other
// region and what the new candidates need; alarms on relevant metrics no
// own alarm watches, and the notified topics with their subscriptions and
// KMS keys; then, only where no own alarm on a relevant metric would
// notify anyone (Options.AlarmNotifies), the other alarms on that metric
// and their topics. The number of calls depends on the resources that
// matter, and on the regions only when no trail covers them all, never on
// unrelated alarms, log groups, topics or filters (see the package
// documentation for the budget).
func (in *Inspector) Observe(ctx context.Context, req Request) (account.Snapshot, error) {
	if req.HomeRegion == "" {
		return account.Snapshot{}, errors.New("observe: home region is required")
	}
	if in.opts.Clients == nil || in.opts.Identity == nil || in.opts.RegionLister == nil {
		return account.Snapshot{}, errors.New("observe: inspector needs Clients, Identity and RegionLister")
	}
	o := &observation{
		in:        in,
		req:       req,
		sem:       make(chan struct{}, in.opts.Concurrency),
		trails:    map[string]*account.Trail{},
		logGroups: map[string]*account.LogGroup{},
		topics:    map[string]*account.Topic{},
		ownAlarms: map[scope]*regionAlarms{},
		allAlarms: map[scope]*regionAlarms{},
		forMetric: map[metricKey]*metricAlarms{},
		relevant:  map[string][]metricRef{},
	}
	snap, err := o.run(ctx)
	if err != nil {
		return account.Snapshot{}, err
	}
	if err := ctx.Err(); err != nil {
		return account.Snapshot{}, fmt.Errorf("observe: %w", err)
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
	// central is the account of Options.CentralRole ("" when none).
	central string
	org     *account.Organization

	mu        sync.Mutex
	trails    map[string]*account.Trail    // by ARN
	logGroups map[string]*account.LogGroup // by ARN
	topics    map[string]*account.Topic    // by ARN
	ownAlarms map[scope]*regionAlarms      // by account and Region
	// topicsWG waits for topic reads, which stages start as they find
	// topics and which run concurrently with the stage that found them.
	topicsWG sync.WaitGroup
	// allAlarms are every metric alarm of a Region, listed only where a
	// relevant metric has no notifying alarm otherwise (stage 5).
	allAlarms map[scope]*regionAlarms
	forMetric map[metricKey]*metricAlarms
	relevant  map[string][]metricRef // by log group ARN, see relevantMetrics
}

type regionAlarms struct {
	alarms []account.Alarm
	err    error
}

// scope is where a listing is made: an account (the caller's, or the
// central role's) and a Region.
type scope struct{ account, region string }

type metricKey struct{ account, region, name, namespace string }

type metricAlarms struct {
	alarms []account.Alarm
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

func (o *observation) run(ctx context.Context) (account.Snapshot, error) {
	regions, home, homeTrails, err := o.identify(ctx)
	if err != nil {
		return account.Snapshot{}, err
	}
	o.readTrails(ctx, regions, &home, homeTrails)
	o.readAlarms(ctx)
	// Assemble: per log group alarms, then the snapshot in stable order.
	for _, lg := range o.logGroups {
		o.assembleAlarms(lg)
	}
	return o.snapshot(regions), nil
}

// identify is stage 1: who am I, which regions are enabled, and which
// trails the home Region sees.
func (o *observation) identify(ctx context.Context) ([]account.Region, account.Region, []*account.Trail, error) {
	// Stage 1: who am I, which regions are enabled, and which trails the
	// home region sees: its own, and a shadow copy of every multi-region
	// trail of the account (CloudTrail API reference, DescribeTrails,
	// includeShadowTrails).
	var (
		ident      *sts.GetCallerIdentityOutput
		identErr   error
		regionsOut *ec2.DescribeRegionsOutput
		regionsErr error
		home       = account.Region{Name: o.req.HomeRegion}
		homeTrails []*account.Trail
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
	wg.Go(func() { homeTrails = o.describeTrails(ctx, &home) })
	if lister := o.in.opts.Organization; lister != nil {
		wg.Go(func() { o.org = o.listAccounts(ctx, lister) })
	}
	wg.Wait()
	if identErr != nil {
		return nil, home, nil, fmt.Errorf("get caller identity: %w", identErr)
	}
	o.account = aws.ToString(ident.Account)
	if role, err := arn.Parse(o.in.opts.CentralRole); err == nil && o.in.opts.Central != nil && role.AccountID != o.account {
		o.central = role.AccountID
	}
	caller, _ := arn.Parse(aws.ToString(ident.Arn)) // the zero ARN when malformed
	o.partition = caller.Partition
	if o.partition == "" {
		o.partition = "aws"
	}
	regions, err := o.selectRegions(regionsOut, regionsErr)
	return regions, home, homeTrails, err

}

// readTrails is stage 2: the candidate trails' status and selectors, their
// log groups' filters, Watchkeeper's own alarms there and its topic; then,
// only when no trail seen from the home Region covers every Region, the
// other Regions' trails.
func (o *observation) readTrails(ctx context.Context, regions []account.Region, home *account.Region, homeTrails []*account.Trail) {
	var wg sync.WaitGroup
	// Stage 2: the candidate trails' status and selectors, their log
	// groups' filters, Watchkeeper's own alarms in those log groups'
	// regions, and Watchkeeper's topic.
	o.configuredTopic(ctx, &o.topicsWG, o.req.HomeRegion)
	o.readCandidates(ctx, &wg, &o.topicsWG, homeTrails)
	wg.Wait()

	// A trail seen from the home region that covers every region makes the
	// other regions' listings unnecessary: only single-region trails are
	// left to find there, and they cannot change any region's coverage.
	// Otherwise (or when the home region could not be listed), list every
	// other region's trails, and read the candidates found there.
	covering := ""
	if home.Error == "" {
		covering = o.coveringTrail()
	}
	var found [][]*account.Trail
	for i := range regions {
		r := &regions[i]
		switch {
		case r.Error != "":
		case r.Name == home.Name:
			r.TrailARNs, r.Error = home.TrailARNs, home.Error
			r.CoveredBy = covering
		case covering != "":
			r.CoveredBy = covering
		default:
			found = append(found, nil)
			j := len(found) - 1
			wg.Go(func() { found[j] = o.describeTrails(ctx, r) })
		}
	}
	wg.Wait()
	if len(found) > 0 {
		o.readCandidates(ctx, &wg, &o.topicsWG, slices.Concat(found...))
		wg.Wait()
	}

}

// readCandidates starts reading what the newly seen trails need: each
// candidate trail's (one with a log group, or multi-region) status and
// selectors, and for each log group not registered before, its metric
// filters, Watchkeeper's own alarms in its region (once per region) and
// Watchkeeper's topic there. Trails of another account are recorded with
// the reason they are not read.
func (o *observation) readCandidates(ctx context.Context, wg, topicsWG *sync.WaitGroup, trails []*account.Trail) {
	var added []*account.LogGroup
	for _, t := range trails {
		if t.LogGroupARN == "" && !t.IsMultiRegion {
			continue
		}
		if t.OwnerAccount != o.account && !o.readable(t.OwnerAccount) {
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
			if lg := o.addLogGroup(t.LogGroupARN); lg != nil {
				added = append(added, lg)
			}
		}
	}
	for _, lg := range added {
		if lg.Error != "" {
			continue
		}
		if lg.Account == o.account {
			o.configuredTopic(ctx, topicsWG, lg.Region)
		}
		wg.Go(func() { o.metricFilters(ctx, lg) })
		if sc := (scope{lg.Account, lg.Region}); o.ownAlarms[sc] == nil {
			ra := &regionAlarms{}
			o.ownAlarms[sc] = ra
			wg.Go(func() { o.describeOwnAlarms(ctx, sc, ra) })
		}
	}
}

// coveringTrail returns the ARN of the first (by ARN) trail observed so far
// that covers every region (Trail.CoversEveryRegion), or "".
func (o *observation) coveringTrail() string {
	var arns []string
	for arn, t := range o.trails {
		if t.CoversEveryRegion() {
			arns = append(arns, arn)
		}
	}
	if len(arns) == 0 {
		return ""
	}
	return slices.Min(arns)
}

// topicsRead returns a lookup over a copy of the topics read so far, so
// a predicate can use it while other topics are still being read.
func (o *observation) topicsRead() func(arn string) (account.Topic, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	topics := make(map[string]account.Topic, len(o.topics))
	for arn, t := range o.topics {
		topics[arn] = *t
	}
	return func(arn string) (account.Topic, bool) {
		t, ok := topics[arn]
		return t, ok
	}
}

// selectRegions decides which regions to observe and which requested ones
// are not enabled.
func (o *observation) selectRegions(out *ec2.DescribeRegionsOutput, listErr error) ([]account.Region, error) {
	status := map[string]string{}
	var enabled []string
	if listErr == nil {
		for _, r := range out.Regions {
			name := aws.ToString(r.RegionName)
			// AWS lists only the caller's partition; an emulator may list
			// every partition, and another partition's regions could never
			// be reached with these credentials anyway.
			if region.Partition(name) != o.partition {
				continue
			}
			st := aws.ToString(r.OptInStatus)
			status[name] = st
			if st == "" || st == "opt-in-not-required" || st == "opted-in" {
				enabled = append(enabled, name)
			}
		}
	}
	var regions []account.Region
	switch {
	case len(o.req.Regions) == 0 && listErr != nil:
		return nil, fmt.Errorf("describe regions in %s: %w", o.req.HomeRegion, listErr)
	case len(o.req.Regions) == 0:
		for _, name := range enabled {
			regions = append(regions, account.Region{Name: name})
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
			r := account.Region{Name: name}
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
	slices.SortFunc(regions, func(a, b account.Region) int { return strings.Compare(a.Name, b.Name) })
	return regions, nil
}

// readable reports whether resources of account acct are read: the
// caller's own, and the central role's account.
func (o *observation) readable(acct string) bool {
	return acct == o.account || (acct != "" && acct == o.central)
}

// clients returns the readers for a resource of account acct in region:
// the central role's when acct is its account, else the caller's.
func (o *observation) clients(acct, region string) Clients {
	if acct != o.account && acct != "" && acct == o.central {
		return o.in.opts.Central(region)
	}
	return o.in.opts.Clients(region)
}

func (o *observation) snapshot(regions []account.Region) account.Snapshot {
	s := account.Snapshot{
		Account:      o.account,
		Partition:    o.partition,
		Organization: o.org,
		Regions:      regions,
		Trails:       make([]account.Trail, 0, len(o.trails)),
		LogGroups:    make(map[string]account.LogGroup, len(o.logGroups)),
		Topics:       make(map[string]account.Topic, len(o.topics)),
	}
	if o.central != "" {
		s.CentralRole, s.CentralAccount = o.in.opts.CentralRole, o.central
	}
	for i := range s.Regions {
		if s.Regions[i].TrailARNs == nil {
			s.Regions[i].TrailARNs = []string{}
		}
	}
	for _, t := range o.trails {
		s.Trails = append(s.Trails, *t)
	}
	slices.SortFunc(s.Trails, func(a, b account.Trail) int { return strings.Compare(a.ARN, b.ARN) })
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
