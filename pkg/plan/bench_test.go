package plan_test

import (
	"fmt"
	"testing"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

func BenchmarkCompute(b *testing.B) {
	withForeign := func(n int) func() model.Snapshot {
		return func() model.Snapshot {
			s := compliantAccount()
			editLG(&s, mainLG, func(g *model.LogGroup) {
				for i := range n {
					g.Filters = append(g.Filters, model.MetricFilter{
						Name:            fmt.Sprintf("app-%04d", i),
						Pattern:         fmt.Sprintf(`{ $.eventSource = "app%d.example.com" && $.errorCode = "Throttling*" }`, i),
						Transformations: []model.MetricTransformation{{MetricName: fmt.Sprintf("App%d", i), MetricNamespace: "App", MetricValue: "1"}},
					})
				}
			})
			return s
		}
	}
	for _, bc := range []struct {
		name string
		snap func() model.Snapshot
	}{
		{"compliant", compliantAccount},
		{"empty-log-group", func() model.Snapshot { s := emptyAccount(); addTrail(&s, "main"); return s }},
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
