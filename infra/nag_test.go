package main

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// The AwsSolutions pack reports no unsuppressed error or warning for either
// shape of the stack; every suppression carries a written reason (checked
// by TestEveryNagSuppressionHasAReason).
func TestAwsSolutionsChecksPass(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}},
	})
	AddNagChecks(app)
	named := defaultTestConfig()
	named.TrailName = "org-main"
	for name, cfg := range map[string]Config{"Default": defaultTestConfig(), "WithTrail": trailTestConfig(), "NamedTrail": named} {
		stack := NewWatchkeeperStack(app, name, &WatchkeeperStackProps{
			StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}},
			Config:     cfg,
			ModuleRoot: moduleRoot(t),
		})
		ann := assertions.Annotations_FromStack(stack)
		nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		findings := append(*ann.FindError(jsii.String("*"), nag), *ann.FindWarning(jsii.String("*"), nag)...)
		for _, m := range findings {
			// Printed as JSON: the message type's Go fields are deprecated
			// aliases of the cloud assembly schema.
			var msg struct {
				ID    string `json:"id"`
				Entry struct {
					Data any `json:"data"`
				} `json:"entry"`
			}
			b, _ := json.Marshal(m)
			_ = json.Unmarshal(b, &msg)
			t.Errorf("%s: %s: unsuppressed %v", name, msg.ID, msg.Entry.Data)
		}
	}
}

// Every cdk-nag suppression in the template says why.
func TestEveryNagSuppressionHasAReason(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		cfg     Config
	}{{"default", defaultTestConfig()}, {"trail", trailTestConfig()}} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			n := 0
			for id, r := range f.doc["Resources"].(map[string]any) {
				md, _ := r.(map[string]any)["Metadata"].(map[string]any)
				nag, _ := md["cdk_nag"].(map[string]any)
				rules, _ := nag["rules_to_suppress"].([]any)
				for _, rule := range rules {
					n++
					m := rule.(map[string]any)
					if reason, _ := m["reason"].(string); len(reason) < 40 {
						t.Errorf("%s: suppression of %v has no real reason: %q", id, m["id"], reason)
					}
				}
			}
			if n == 0 {
				t.Error("no suppressions found: the metadata layout changed, or this test no longer checks anything")
			}
		})
	}
}
