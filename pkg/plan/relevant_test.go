package plan_test

import (
	"testing"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// TestRelevantFilter: only filters whose pattern satisfies an active
// control are worth an alarm lookup (reviewer's D3a). Their alarms are read
// whatever the transformation (dimensions, a $.field value), so the verdict
// can say exactly why such an alarm gets no data.
func TestRelevantFilter(t *testing.T) {
	cmk := control(t, "cmk-disable-or-delete")
	counting := func(pattern string, dims map[string]string) model.MetricFilter {
		return model.MetricFilter{Name: "f", Pattern: pattern, Transformations: []model.MetricTransformation{
			{MetricName: "M", MetricNamespace: "N", MetricValue: "1", Dimensions: dims}}}
	}
	rel := plan.RelevantFilter(plan.Options{Benchmark: bench()})
	for _, tc := range []struct {
		name string
		f    model.MetricFilter
		want bool
	}{
		{"the control's own pattern", counting(cmk.PatternFor(catalog.ProfileBenchmark), nil), true},
		{"an equivalent pattern under another name", counting(`{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}`, nil), true},
		{"an unrelated application filter", counting(`{ $.errorCode = "AppError1" }`, nil), false},
		{"matching but with dimensions", counting(cmk.PatternFor(catalog.ProfileBenchmark), map[string]string{"EventName": "$.eventName"}), true},
		{"matching but publishing a field", model.MetricFilter{Pattern: cmk.PatternFor(catalog.ProfileBenchmark), Transformations: []model.MetricTransformation{{MetricName: "M", MetricValue: "$.x"}}}, true},
		{"matching but publishing no metric", model.MetricFilter{Pattern: cmk.PatternFor(catalog.ProfileBenchmark)}, false},
		{"covering but too broad", counting(`{ $.eventName = * }`, nil), false},
		{"unparseable", counting(`{ $.eventName = `, nil), false},
	} {
		if got := rel(tc.f); got != tc.want {
			t.Errorf("%s: relevant = %t, want %t", tc.name, got, tc.want)
		}
	}
	excluded := plan.RelevantFilter(plan.Options{Benchmark: bench(), Exclude: []string{cmk.ID}})
	if excluded(counting(cmk.PatternFor(catalog.ProfileBenchmark), nil)) {
		t.Error("a filter only an excluded control needs is relevant")
	}
}
