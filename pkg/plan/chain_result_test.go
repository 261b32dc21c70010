package plan_test

import (
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// TestControlResultChain: a passing control names the chain that
// satisfies it; a failing one names where Watchkeeper's own filter and
// alarm go, with its topic; an excluded one none. Problems pair each
// problem reason with its code, in the order of Reasons.
func TestControlResultChain(t *testing.T) {
	s := compliantAccount()
	root := control(t, "root-account-usage")
	cmk := control(t, "cmk-disable-or-delete")
	vpc := control(t, "vpc-changes")
	dropFilter(&s, mainLG, prefix+root.Key)
	// The CMK control passes through a person's filter and alarm instead
	// of Watchkeeper's.
	dropFilter(&s, mainLG, prefix+cmk.Key)
	dropAlarm(&s, mainLG, prefix+cmk.Key)
	editLG(&s, mainLG, func(g *model.LogGroup) {
		f := ownFilter(cmk, "")
		f.Name = "team-kms"
		g.Filters = append(g.Filters, f)
		a := ownAlarm(cmk, plan.DefaultNamespace, cmk.MetricName)
		a.Name, a.ARN = "team-kms-alarm", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:team-kms-alarm"
		g.Alarms = append(g.Alarms, a)
	})
	opts := options()
	opts.Exclude = []string{vpc.ID}
	p := plan.Compute(opts, s)
	byID := map[string]plan.ControlResult{}
	for _, c := range p.Controls {
		byID[c.ID] = c
	}
	own := func(key string) *plan.Chain {
		return &plan.Chain{Region: home, LogGroupARN: mainLG, LogGroupName: "/aws/cloudtrail/main", FilterName: prefix + key,
			AlarmName: prefix + key, AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + prefix + key, TopicARN: ourTopic}
	}
	teamKMS := &plan.Chain{Region: home, LogGroupARN: mainLG, LogGroupName: "/aws/cloudtrail/main", FilterName: "team-kms",
		AlarmName: "team-kms-alarm", AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:team-kms-alarm", TopicARN: ourTopic}
	iam := control(t, "iam-policy-changes")
	for id, want := range map[string]*plan.Chain{
		root.ID: own(root.Key), // FAIL: where Watchkeeper's filter goes
		cmk.ID:  teamKMS,       // PASS through a person's chain
		iam.ID:  own(iam.Key),  // PASS through Watchkeeper's
		vpc.ID:  nil,           // EXCLUDED
	} {
		if diff := gocmp.Diff(want, byID[id].Chain); diff != "" {
			t.Errorf("control %s (%s) chain (-want +got):\n%s", id, byID[id].Status, diff)
		}
	}

	r := byID[root.ID]
	if r.Status != plan.StatusFail || len(r.Problems) != len(r.Reasons) {
		t.Fatalf("root: status %s, %d problems for %d reasons", r.Status, len(r.Problems), len(r.Reasons))
	}
	for i, pr := range r.Problems {
		if pr.Reason != r.Reasons[i] || (pr.Code != "" && !slices.Contains(r.Codes, pr.Code)) {
			t.Errorf("root: problem %d %+v does not match reason %q and codes %v", i, pr, r.Reasons[i], r.Codes)
		}
	}
	if r.Problems[0].Code != plan.CodeFiltersNotPresent {
		t.Errorf("root: first problem code %q, want %s", r.Problems[0].Code, plan.CodeFiltersNotPresent)
	}
	if c := byID[iam.ID]; len(c.Problems) != len(c.Reasons)-1 {
		t.Errorf("iam (PASS): %d problems for %d reasons, want one fewer (the first says what satisfies it)", len(c.Problems), len(c.Reasons))
	}
	if c := byID[vpc.ID]; len(c.Problems) != 1 || c.Problems[0].Reason != c.Reasons[0] {
		t.Errorf("vpc (EXCLUDED): problems %+v, reasons %v", c.Problems, c.Reasons)
	}
}
