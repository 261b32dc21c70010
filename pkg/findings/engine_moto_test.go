package findings_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

// TestEngineToSecurityHub runs the real pipeline against moto: an account
// with only a trail is audited (every control FAIL, actions planned), then
// healed (every control PASS, actions applied); each report becomes
// findings in Security Hub that name the concrete log group, metric
// filter, alarm and topic, and say what Watchkeeper would do, then did.
func TestEngineToSecurityHub(t *testing.T) {
	c := hub(t, true)
	ctx := t.Context()
	tr, err := world.New(srv.Config).Trail(ctx, world.TrailSpec{Name: "main", HomeRegion: home, LogGroupName: "/ct/main"})
	if err != nil {
		t.Fatal(err)
	}
	b := catalog.Default()
	opts := engine.Options{
		Plan:    plan.Options{Benchmark: b, Subscriptions: []plan.Endpoint{{Protocol: "email", Endpoint: "sec@example.com"}}},
		Regions: []string{home},
	}
	root := findings.ID(moto.Account, b.ID, "4.3")
	lgARN := "arn:aws:logs:us-east-1:123456789012:log-group:" + tr.LogGroupName
	wantResources := []string{
		"AwsAccount AWS::::Account:123456789012",
		"Other " + lgARN,
		"Other " + tr.LogGroupName + "/watchkeeper-root-account-usage",
		"AwsCloudWatchAlarm arn:aws:cloudwatch:us-east-1:123456789012:alarm:watchkeeper-root-account-usage",
		"AwsSnsTopic arn:aws:sns:us-east-1:123456789012:watchkeeper-cis-alarms",
	}

	for h, step := range []struct {
		name       string
		apply      bool
		compliance types.ComplianceStatus
		workflow   types.WorkflowStatus
		verb       string
	}{
		{"audit", false, types.ComplianceStatusFailed, types.WorkflowStatusNew, "would apply"},
		{"apply", true, types.ComplianceStatusPassed, types.WorkflowStatusResolved, "applied"},
	} {
		o := opts
		o.Apply = step.apply
		e, err := engine.New(moto.Config(srv.URL, home), o)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Run(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		fs := findings.Build(rep, findings.Meta{Version: "test", Now: at(h)})
		res, err := findings.Publisher{Client: c}.Publish(ctx, fs)
		if err != nil || res.Skipped != "" || len(res.Failed) > 0 {
			t.Fatalf("%s: publish %+v, %v", step.name, res, err)
		}
		got := stored(t, c)
		if len(got) != len(b.Controls) {
			t.Errorf("%s: %d findings, want %d", step.name, len(got), len(b.Controls))
		}
		for id, f := range got {
			if err := findings.Validate(f); err != nil {
				t.Errorf("%s: %v", step.name, err)
			}
			if s := stateOf(f); s.compliance != step.compliance || s.workflow != step.workflow {
				t.Errorf("%s: %s is %+v, want %s and %s", step.name, id, s, step.compliance, step.workflow)
			}
		}
		f := got[root]
		var res4 []string
		for _, r := range f.Resources {
			res4 = append(res4, aws.ToString(r.Type)+" "+aws.ToString(r.Id))
		}
		if !slices.Equal(res4, wantResources) {
			t.Errorf("%s: resources of 4.3:\n got %q\nwant %q", step.name, res4, wantResources)
		}
		// The recommendation says what Watchkeeper would do, then did.
		text := aws.ToString(f.Remediation.Recommendation.Text)
		if !strings.Contains(text, step.verb) {
			t.Errorf("%s: recommendation %q does not say %q", step.name, text, step.verb)
		}
	}
}
