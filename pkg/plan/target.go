package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// target is the one trail Watchkeeper heals and whose log group receives
// its filters and alarms.
type target struct {
	trail *trailFacts // nil when none can be targeted
	// lg is where filters and alarms go (the trail's log group, or the one
	// full healing attaches); nil when there is none, and noTargetWhy
	// then says why.
	lg            *account.LogGroup
	noTargetWhy   string
	attachPlanned bool
	warnings      []string
}

// chooseTarget picks the target: the configured trail if it is this
// account's, else the best qualifying trail of this account with a local
// log group, else the best candidate of this account.
func chooseTarget(opts Options, s account.Snapshot, trails []*trailFacts) target {
	var tg target
	if opts.TrailName != "" {
		named := func(f *trailFacts) bool { return f.t.Name == opts.TrailName || f.t.ARN == opts.TrailName }
		if i := slices.IndexFunc(trails, named); i < 0 {
			tg.warnings = append(tg.warnings, fmt.Sprintf("the configured trail %s does not exist; Watchkeeper targets the best other trail of this account", opts.TrailName))
		} else if f := trails[i]; f.owned {
			tg.trail = f
		} else {
			tg.warnings = append(tg.warnings, fmt.Sprintf("the configured trail %s (%s) is owned by account %s; Watchkeeper does not change it and targets a trail of this account instead", opts.TrailName, f.t.ARN, f.t.OwnerAccount))
		}
	}
	if tg.trail == nil {
		for _, f := range trails {
			if f.owned && f.qualifies(false) && f.localLogGroup(s.Account) && (tg.trail == nil || betterQualifying(opts, f, tg.trail)) {
				tg.trail = f
			}
		}
	}
	if tg.trail == nil {
		for _, f := range trails {
			if f.owned && (tg.trail == nil || betterCandidate(f, tg.trail, s.Account)) {
				tg.trail = f
			}
		}
	}
	tg.placeFilters(opts, s, trails)
	return tg
}

// placeFilters decides the target log group, or why there is none.
func (tg *target) placeFilters(opts Options, s account.Snapshot, trails []*trailFacts) {
	t := tg.trail
	lgAcct := ""
	if t != nil {
		lgAcct = arnAccount(t.t.LogGroupARN)
	}
	switch {
	case t == nil:
		if len(trails) > 0 && !slices.ContainsFunc(trails, func(f *trailFacts) bool { return f.owned }) {
			tg.noTargetWhy = fmt.Sprintf("every trail Watchkeeper sees is owned by another account; it never writes into another account, so the metric filters and alarms must be enforced there (or create a multi-region trail in account %s that delivers to CloudWatch Logs)", s.Account)
		} else {
			tg.noTargetWhy = fmt.Sprintf("account %s has no trail Watchkeeper could put metric filters behind; create a multi-region trail that records all management events and delivers to CloudWatch Logs (the Watchkeeper CDK app can provision one)", s.Account)
		}
	case t.localLogGroup(s.Account):
		tg.lg = t.lg
	case canAttach(opts, s, t) && mayChange(opts, t):
		tg.attachPlanned = true
		arn := strings.TrimSuffix(opts.TrailLogGroupARN, ":*")
		if lg, ok := s.LogGroups[arn]; ok && lg.Exists {
			tg.lg = &lg
		} else {
			tg.lg = &account.LogGroup{
				ARN: arn, Name: logGroupName(arn), Region: arnRegion(arn), Account: arnAccount(arn),
				Exists: true, Filters: []account.MetricFilter{}, Alarms: []account.Alarm{},
			}
		}
	case t.t.LogGroupARN != "" && !observed(s, t.t.LogGroupARN) && lgAcct == s.Account:
		tg.noTargetWhy = fmt.Sprintf("log group %s of trail %s was not observed, so Watchkeeper cannot tell what is missing", t.t.LogGroupARN, t.t.ARN)
	case t.lg != nil && t.lg.Error != "":
		tg.noTargetWhy = fmt.Sprintf("the metric filters of log group %s (trail %s) could not be read, so Watchkeeper cannot tell what is missing: %s", t.lg.ARN, t.t.ARN, t.lg.Error)
	case t.t.LogGroupARN != "" && lgAcct != s.Account && lgAcct != "":
		tg.noTargetWhy = fmt.Sprintf("trail %s delivers to log group %s in account %s; Watchkeeper never writes into another account, so the metric filters and alarms must be enforced there", t.t.ARN, t.t.LogGroupARN, lgAcct)
	default:
		tg.noTargetWhy = attachAdvice(opts, t)
	}
}

func observed(s account.Snapshot, logGroupARN string) bool {
	_, ok := s.LogGroups[logGroupARN]
	return ok
}

// attachSettings names the log group and role settings in every front end.
const attachSettings = "CLI --trail-log-group-arn and --trail-logs-role-arn, Lambda WATCHKEEPER_TRAIL_LOG_GROUP_ARN and WATCHKEEPER_TRAIL_LOGS_ROLE_ARN"

// attachAdvice says how a trail without a usable log group gets one.
func attachAdvice(opts Options, t *trailFacts) string {
	what := "does not deliver to CloudWatch Logs"
	if t.t.LogGroupARN != "" {
		what = fmt.Sprintf("delivers to log group %s, which does not exist", t.t.LogGroupARN)
	}
	how := fmt.Sprintf("with trail healing full and a log group and role to attach configured (%s) Watchkeeper attaches one (trail healing is %s)", attachSettings, opts.TrailHealing)
	if opts.TrailHealing == HealFull {
		how = fmt.Sprintf("configure a log group and role to attach (%s) so Watchkeeper can attach one", attachSettings)
	}
	return fmt.Sprintf("Watchkeeper has no log group to put metric filters on: trail %s %s; %s, or run aws cloudtrail update-trail --name %s --cloud-watch-logs-log-group-arn <arn> --cloud-watch-logs-role-arn <arn>", t.t.ARN, what, how, t.t.Name)
}

// mayChange reports whether Watchkeeper may change trail f: any trail of
// this account when no trail is configured, otherwise only the configured
// one. The CDK app scopes the function's trail writes in IAM to that trail
// (infra/permissions.go), so a write to another trail would only be denied;
// a fallback target still receives filters and alarms, which IAM allows on
// any log group, but its trail problems are reported, never healed.
func mayChange(opts Options, f *trailFacts) bool {
	return opts.TrailName == "" || f.t.Name == opts.TrailName || f.t.ARN == opts.TrailName
}

func canAttach(opts Options, s account.Snapshot, t *trailFacts) bool {
	if opts.TrailHealing != HealFull || opts.TrailLogGroupARN == "" || opts.TrailLogsRoleARN == "" {
		return false
	}
	if t.t.LogGroupARN == "" {
		return true
	}
	lg, ok := s.LogGroups[t.t.LogGroupARN]
	return ok && !lg.Exists && lg.Error == "" &&
		strings.TrimSuffix(opts.TrailLogGroupARN, ":*") != t.t.LogGroupARN
}

// betterQualifying orders qualifying trails: one whose log group already
// holds Watchkeeper's filters, then one based in the home region, then by ARN.
func betterQualifying(opts Options, a, b *trailFacts) bool {
	holds := func(lg *account.LogGroup) bool {
		return lg != nil && slices.ContainsFunc(lg.Filters, func(f account.MetricFilter) bool {
			return strings.HasPrefix(f.Name, opts.NamePrefix)
		})
	}
	if ao, bo := holds(a.lg), holds(b.lg); ao != bo {
		return ao
	}
	if ah, bh := a.t.HomeRegion == opts.HomeRegion, b.t.HomeRegion == opts.HomeRegion; ah != bh {
		return ah
	}
	return a.t.ARN < b.t.ARN
}

// betterCandidate orders trails that do not qualify: one with a usable log
// group, then one with any log group, then multi-region, then by ARN.
func betterCandidate(a, b *trailFacts, account string) bool {
	if al, bl := a.localLogGroup(account), b.localLogGroup(account); al != bl {
		return al
	}
	if al, bl := a.t.LogGroupARN != "", b.t.LogGroupARN != ""; al != bl {
		return al
	}
	if a.t.IsMultiRegion != b.t.IsMultiRegion {
		return a.t.IsMultiRegion
	}
	return a.t.ARN < b.t.ARN
}
