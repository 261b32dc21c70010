package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// kmsEventSource is the management event source whose exclusion silently
// breaks the CMK control (account.KMSEventSource).
const kmsEventSource = account.KMSEventSource

// cmkControlKey is the catalog key of the control that needs KMS events.
const cmkControlKey = "cmk-disable-or-delete"

// maxClassicSelectors is CloudTrail's limit on classic event selectors per
// trail (PutEventSelectors: "You can configure up to five event selectors
// for each trail").
const maxClassicSelectors = 5

// trailFacts is what the planner concluded about one trail.
type trailFacts struct {
	t     account.Trail
	owned bool // the trail belongs to the observed account

	// Each of these is meaningful only when the matching observation
	// succeeded (t.Status / t.Selectors non-nil).
	logging bool
	mgmtAll bool // some selector records read and write management events
	kmsOK   bool // ... and one of those does not exclude kms.amazonaws.com

	// lg is the trail's log group as observed; nil when the trail has no
	// CloudWatch Logs delivery or the group was not observed.
	lg *account.LogGroup

	// problems say why the trail does not qualify; unknown says what could
	// not be observed. A trail with no problems and nothing unknown
	// qualifies for every control except, when !kmsOK, the CMK control.
	problems []string
	unknown  []string
	// regionProblems and regionUnknown are the subsets that matter for
	// covering regions, where log delivery does not.
	regionProblems, regionUnknown []string
	// coversRegions: multi-region, logging, all management events.
	coversRegions bool
}

// qualifies reports whether the trail is a qualifying trail for a control
// that needs (needKMS) or does not need KMS management events.
func (f *trailFacts) qualifies(needKMS bool) bool {
	if len(f.problems) > 0 || len(f.unknown) > 0 {
		return false
	}
	return !needKMS || f.kmsOK
}

// central reports whether f is an organization trail of another account
// that delivers to a log group outside account and against which nothing
// observed speaks: what stands between it and qualifying (its status, its
// selectors, its log group) can be read only in the owner's account.
// CloudTrail shows a member account the organization trail but lets only
// the management account or a delegated administrator change it
// (CloudTrail User Guide, "Creating a trail for an organization").
func (f *trailFacts) central(account string) bool {
	return !f.owned && f.t.IsOrganizationTrail && f.t.LogGroupARN != "" &&
		arnAccount(f.t.LogGroupARN) != account && len(f.problems) == 0
}

// centralRef names f for a CENTRAL result.
func (f *trailFacts) centralRef() Central {
	return Central{
		TrailARN: f.t.ARN, OwnerAccount: f.t.OwnerAccount, LogGroupARN: f.t.LogGroupARN,
		LogGroupName: logGroupName(f.t.LogGroupARN), Region: arnRegion(f.t.LogGroupARN),
	}
}

// localLogGroup reports whether the trail's log group is one Watchkeeper can
// write to: observed, existing, readable and in this account.
func (f *trailFacts) localLogGroup(account string) bool {
	return f.lg != nil && f.lg.Exists && f.lg.Error == "" && lgAccount(f.lg) == account
}

// lgAccount is the log group's account, from its ARN when not recorded.
func lgAccount(lg *account.LogGroup) string {
	if lg.Account != "" {
		return lg.Account
	}
	return arnAccount(lg.ARN)
}

func judgeTrail(t account.Trail, s account.Snapshot) *trailFacts {
	f := &trailFacts{t: t, owned: t.OwnerAccount == s.Account}
	name := trailLabel(t)
	if !f.owned {
		kind := "trail"
		if t.IsOrganizationTrail {
			kind = "organization trail"
		}
		// Not a problem by itself: it may well qualify. Said in every
		// reason about it, because Watchkeeper never changes it.
		name = fmt.Sprintf("%s %s (owned by account %s)", kind, t.ARN, t.OwnerAccount)
	}
	if !t.IsMultiRegion {
		f.regionProblems = append(f.regionProblems, fmt.Sprintf("%s is single-region, so it does not record activity in the other regions", name))
	}
	if t.Status == nil {
		f.regionUnknown = append(f.regionUnknown, fmt.Sprintf("%s: could not read its status: %s", name, orUnknown(t.StatusError)))
	} else {
		f.logging = t.Status.IsLogging
		if !f.logging {
			f.regionProblems = append(f.regionProblems, fmt.Sprintf("%s is not logging", name))
		}
	}
	if t.Selectors == nil {
		f.regionUnknown = append(f.regionUnknown, fmt.Sprintf("%s: could not read its event selectors: %s", name, orUnknown(t.SelectorsError)))
	} else {
		f.mgmtAll, f.kmsOK = t.Selectors.ManagementCoverage()
		if !f.mgmtAll {
			f.regionProblems = append(f.regionProblems, fmt.Sprintf("%s does not record all (read and write) management events: %s", name, describeSelectors(*t.Selectors)))
		}
	}
	f.problems = slices.Clone(f.regionProblems)
	f.unknown = slices.Clone(f.regionUnknown)
	f.coversRegions = t.CoversEveryRegion()

	switch {
	case t.LogGroupARN == "":
		f.problems = append(f.problems, fmt.Sprintf("%s does not deliver to CloudWatch Logs, so no metric filter can see its events", name))
	default:
		lg, ok := s.LogGroups[t.LogGroupARN]
		switch {
		case !ok:
			f.unknown = append(f.unknown, fmt.Sprintf("%s delivers to log group %s, which was not observed%s", name, t.LogGroupARN, elsewhere(t.LogGroupARN, s.Account)))
		case !lg.Exists && lg.Error == "":
			f.problems = append(f.problems, fmt.Sprintf("%s delivers to log group %s, which does not exist", name, t.LogGroupARN))
		default:
			f.lg = &lg
		}
	}
	return f
}

// elsewhere explains that a log group in another account must be checked there.
func elsewhere(logGroupARN, account string) string {
	if a := arnAccount(logGroupARN); a != "" && a != account {
		return fmt.Sprintf(" (it belongs to account %s: the metric filters and alarms must be enforced there)", a)
	}
	return ""
}

// describeSelectors summarises selectors for a reason.
func describeSelectors(sel account.Selectors) string {
	if len(sel.Classic) == 0 && len(sel.Advanced) == 0 {
		return "it has no event selectors"
	}
	var parts []string
	for i, c := range sel.Classic {
		parts = append(parts, fmt.Sprintf("selector %d includeManagementEvents=%t readWriteType=%s", i+1, c.IncludeManagementEvents, c.ReadWriteType))
	}
	for i, a := range sel.Advanced {
		switch {
		case !a.IsManagement():
			parts = append(parts, fmt.Sprintf("advanced selector %d is not a management-events selector", i+1))
		case a.HasField("readOnly"):
			parts = append(parts, fmt.Sprintf("advanced selector %d records management events only where readOnly is restricted", i+1))
		}
	}
	return strings.Join(parts, "; ")
}

func trailLabel(t account.Trail) string {
	return fmt.Sprintf("trail %s", t.ARN)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown error"
	}
	return s
}
