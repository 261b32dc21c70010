package plan_test

import (
	"fmt"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

func BenchmarkCompute(b *testing.B) {
	withForeign := func(n int) func() inspect.Snapshot {
		return func() inspect.Snapshot {
			s := compliantAccount()
			editLG(&s, mainLG, func(g *inspect.LogGroup) {
				for i := range n {
					g.Filters = append(g.Filters, inspect.MetricFilter{
						Name:            fmt.Sprintf("app-%04d", i),
						Pattern:         fmt.Sprintf(`{ $.eventSource = "app%d.example.com" && $.errorCode = "Throttling*" }`, i),
						Transformations: []inspect.MetricTransformation{{MetricName: fmt.Sprintf("App%d", i), MetricNamespace: "App", MetricValue: "1"}},
					})
				}
			})
			return s
		}
	}
	for _, bc := range []struct {
		name string
		snap func() inspect.Snapshot
	}{
		{"compliant", compliantAccount},
		{"empty-log-group", func() inspect.Snapshot { s := emptyAccount(); addTrail(&s, "main"); return s }},
		{"compliant+1000-foreign-filters", withForeign(1000)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, o := bc.snap(), options()
			var actions int
			for b.Loop() {
				actions = len(plan.Compute(o, s).Actions)
			}
			b.ReportMetric(float64(actions), "actions")
		})
	}
}
