package main

import (
	"encoding/json"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/watchkeeper/watchkeeper/test/cfn"
)

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// Test stacks are pinned to this environment so ARNs in the template are
// literal and can be compared as strings.
const (
	testAccount = "123456789012"
	testRegion  = "eu-west-1"
)

// fixture is one synthesized stack, shared by every test that asserts on
// the same configuration: jsii costs seconds per synth.
type fixture struct {
	stack awscdk.Stack
	tpl   assertions.Template
	// doc is the template as plain JSON values.
	doc map[string]any
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[string]*fixture{}
)

// defaultTestConfig is the configuration most tests assert on: the defaults
// plus two notification emails.
func defaultTestConfig() Config {
	c := DefaultConfig()
	c.NotificationEmails = []string{"sec@example.com", "ops@example.com"}
	return c
}

func trailTestConfig() Config {
	c := defaultTestConfig()
	c.ProvisionTrail = true
	c.TrailHealing = "full"
	c.Mode = "report"
	c.Schedule = "rate(6 hours)"
	c.ExcludedControls = []string{"4.14", "4.15"}
	return c
}

// synth returns the fixture for cfg, building it once per name. Bundling is
// skipped (context aws:cdk:bundling-stacks = []): TestLocalBundling covers
// the build and test/cdkcheck the real CLI synth.
func synth(t *testing.T, name string, cfg Config) *fixture {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[name]; ok {
		return f
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("fixture %s: invalid config: %v", name, err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}},
	})
	stack := NewWatchkeeperStack(app, "Test", &WatchkeeperStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}},
		Config:     cfg,
		ModuleRoot: moduleRoot(t),
	})
	tpl := assertions.Template_FromStack(stack, nil)
	f := &fixture{stack: stack, tpl: tpl, doc: cfn.ResolvePseudo(toMap(t, tpl.ToJSON()), pseudoParameters).(map[string]any)}
	fixtures[name] = f
	return f
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := findModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// toMap round-trips a jsii value through JSON into plain Go values.
func toMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// resources returns the template's resources of type typ, by logical id.
func (f *fixture) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range f.doc["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// only returns the single resource of type typ, failing otherwise.
func (f *fixture) only(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := f.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("got %d %s resources, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	panic("unreachable")
}

// logicalID returns the logical id of the single resource of type typ
// whose properties contain the given top-level key/value.
func (f *fixture) logicalID(t *testing.T, typ string) string {
	t.Helper()
	id, _ := f.only(t, typ)
	return id
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// statements returns the statements of every AWS::IAM::Policy attached to
// the role with logical id roleID.
func (f *fixture) roleStatements(t *testing.T, roleID string) []any {
	t.Helper()
	var out []any
	ids := []string{}
	pols := f.resources("AWS::IAM::Policy")
	for id := range pols {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := props(pols[id])
		for _, r := range p["Roles"].([]any) {
			if ref, _ := r.(map[string]any)["Ref"].(string); ref == roleID {
				out = append(out, p["PolicyDocument"].(map[string]any)["Statement"].([]any)...)
			}
		}
	}
	return out
}

func ref(id string) map[string]any          { return map[string]any{"Ref": id} }
func getAtt(id, attr string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

// asStrings returns v as a []string, accepting a single string too
// (CloudFormation allows both for IAM Action and Resource).
func asStrings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// pseudoParameters are the values the fixtures' pseudo parameters resolve
// to. The stacks pin account and region, but CDK keeps AWS::Partition a
// token (it cannot know the partition of every region).
var pseudoParameters = map[string]string{
	"AWS::Partition": "aws",
	"AWS::AccountId": testAccount,
	"AWS::Region":    testRegion,
	"AWS::URLSuffix": "amazonaws.com",
}
