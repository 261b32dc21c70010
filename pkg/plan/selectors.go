package plan

import (
	"fmt"
	"slices"

	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// healSelectors returns the complete new selector set that restores all
// management events (and KMS events when withKMS) while keeping every other
// selector and every data-event resource intact; what says, for the
// action's reason, what changed. changed is false when no change is
// needed, or when none is possible (then why says so).
//
// A selector that logs data events is never modified: widening its
// ReadWriteType would also widen its data events (read events of every
// bucket it names, say), which costs money and is not ours to decide.
// Only a selector without data resources is fixed, else a management-only
// selector is added; advanced data-event selectors are likewise left as
// they are and only the management selector is edited or added.
func healSelectors(sel account.Selectors, withKMS bool) (out account.Selectors, changed bool, what, why string) {
	all, kms := sel.ManagementCoverage()
	if all && (kms || !withKMS) {
		return sel, false, "", ""
	}
	out = cloneSelectors(sel)
	if len(out.Advanced) > 0 {
		for i, a := range out.Advanced {
			if !a.IsManagement() {
				continue
			}
			var fields []account.FieldSelector
			for _, fs := range a.FieldSelectors {
				switch fs.Field {
				case "readOnly":
					continue // restricting to reads or writes is what we undo
				case "eventSource":
					fs.NotEquals = slices.DeleteFunc(fs.NotEquals, func(v string) bool { return v == kmsEventSource })
					if len(fs.NotEquals) == 0 && len(fs.Equals) == 0 && len(fs.StartsWith) == 0 &&
						len(fs.NotStartsWith) == 0 && len(fs.EndsWith) == 0 && len(fs.NotEndsWith) == 0 {
						continue
					}
				}
				fields = append(fields, fs)
			}
			out.Advanced[i].FieldSelectors = fields
			return out, true, fmt.Sprintf("change management-events advanced selector %s to record read and write management events; data-event selectors are kept unchanged", selectorName(a.Name, i)), ""
		}
		out.Advanced = append(out.Advanced, account.AdvancedSelector{
			Name:           "Management events",
			FieldSelectors: []account.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}},
		})
		return out, true, "add an advanced selector recording all management events; every existing selector is kept unchanged", ""
	}
	// Classic: fix a selector without data resources, preferring one that
	// already records all management events (only KMS is missing), then
	// any management selector, then any other.
	noData := func(c account.ClassicSelector) bool { return len(c.DataResources) == 0 }
	idx := slices.IndexFunc(out.Classic, func(c account.ClassicSelector) bool {
		return noData(c) && c.IncludeManagementEvents && c.ReadWriteType == "All"
	})
	if idx < 0 {
		idx = slices.IndexFunc(out.Classic, func(c account.ClassicSelector) bool { return noData(c) && c.IncludeManagementEvents })
	}
	if idx < 0 {
		idx = slices.IndexFunc(out.Classic, noData)
	}
	if idx < 0 {
		if len(out.Classic) >= maxClassicSelectors {
			return sel, false, "", fmt.Sprintf("it already has the maximum of %d event selectors, each logging data events; Watchkeeper never changes a data-event selector (that would change which data events are logged, and their cost), so a person must free a selector or make one record all management events", maxClassicSelectors)
		}
		out.Classic = append(out.Classic, account.ClassicSelector{ReadWriteType: "All", IncludeManagementEvents: true})
		return out, true, "add a management-events-only selector (ReadWriteType All, no data resources); every existing selector, including its data events, is kept unchanged", ""
	}
	c := &out.Classic[idx]
	c.IncludeManagementEvents = true
	c.ReadWriteType = "All"
	c.ExcludeManagementEventSources = slices.DeleteFunc(c.ExcludeManagementEventSources, func(v string) bool { return v == kmsEventSource })
	if len(c.ExcludeManagementEventSources) == 0 {
		c.ExcludeManagementEventSources = nil
	}
	return out, true, fmt.Sprintf("set event selector %d (no data resources) to record read and write management events; every other selector is kept unchanged", idx+1), ""
}

// selectorName names an advanced selector for a reason.
func selectorName(name string, i int) string {
	if name != "" {
		return fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("%d", i+1)
}

func cloneSelectors(sel account.Selectors) account.Selectors {
	var out account.Selectors
	for _, c := range sel.Classic {
		c.ExcludeManagementEventSources = slices.Clone(c.ExcludeManagementEventSources)
		var drs []account.DataResource
		for _, d := range c.DataResources {
			drs = append(drs, account.DataResource{Type: d.Type, Values: slices.Clone(d.Values)})
		}
		c.DataResources = drs
		out.Classic = append(out.Classic, c)
	}
	for _, a := range sel.Advanced {
		var fss []account.FieldSelector
		for _, fs := range a.FieldSelectors {
			fss = append(fss, account.FieldSelector{
				Field: fs.Field, Equals: slices.Clone(fs.Equals), NotEquals: slices.Clone(fs.NotEquals),
				StartsWith: slices.Clone(fs.StartsWith), NotStartsWith: slices.Clone(fs.NotStartsWith),
				EndsWith: slices.Clone(fs.EndsWith), NotEndsWith: slices.Clone(fs.NotEndsWith),
			})
		}
		out.Advanced = append(out.Advanced, account.AdvancedSelector{Name: a.Name, FieldSelectors: fss})
	}
	return out
}
