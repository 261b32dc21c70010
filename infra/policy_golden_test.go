package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updatePolicyGolden = flag.Bool("update-policy", false, "rewrite "+policyGolden+" from the synthesized stack")

// policyGolden is the remediator's synthesized policy for one
// configuration (apply, trailHealing=safe, trailName=org-main, two e-mail
// subscriptions), with the stack's own resources as literal ARNs.
// test/iampolicy attaches exactly this document to a role in moto and
// attacks it; reviewers read policy changes in its diff.
const policyGolden = "../test/iampolicy/testdata/remediator-policy.json"

// The golden policy is the synthesized one. After an intended change run
// go test ./infra -run TestRemediatorPolicyGolden -update-policy.
func TestRemediatorPolicyGolden(t *testing.T) {
	c := iamCaseNamed(t, "apply-safe-named-trail")
	f := synth(t, c.fixture, c.cfg)
	doc := map[string]any{"Version": "2012-10-17", "Statement": literalARNs(f, f.roleStatements(t, f.remediatorRoleID()))}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *updatePolicyGolden {
		if err := os.MkdirAll(filepath.Dir(policyGolden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(policyGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(policyGolden)
	if err != nil {
		t.Fatalf("%v (create it with -update-policy)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is stale: the synthesized policy changed; review the diff after go test ./infra -run TestRemediatorPolicyGolden -update-policy", policyGolden)
	}
}

// literalARNs replaces {"Fn::GetAtt": [id, "Arn"]} and {"Ref": id} of the
// stack's own resources with the ARN CloudFormation would return, built
// from the logical id, so the document is a policy IAM (or moto) accepts.
func literalARNs(f *fixture, v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = literalARNs(f, e)
		}
		return out
	case map[string]any:
		if ga, ok := t["Fn::GetAtt"].([]any); ok && len(ga) == 2 && ga[1] == "Arn" {
			return resourceARN(f, ga[0].(string))
		}
		if id, ok := t["Ref"].(string); ok && len(t) == 1 {
			return resourceARN(f, id)
		}
		out := map[string]any{}
		for k, e := range t {
			out[k] = literalARNs(f, e)
		}
		return out
	}
	return v
}

func resourceARN(f *fixture, id string) string {
	res, _ := f.doc["Resources"].(map[string]any)[id].(map[string]any)
	typ, _ := res["Type"].(string)
	prefix := "arn:aws:"
	rest := ":" + testRegion + ":" + testAccount + ":"
	switch typ {
	case "AWS::KMS::Key":
		return prefix + "kms" + rest + "key/" + id
	case "AWS::Logs::LogGroup":
		return prefix + "logs" + rest + "log-group:" + id + ":*"
	case "AWS::SQS::Queue":
		return prefix + "sqs" + rest + id
	case "AWS::SNS::Topic":
		return prefix + "sns" + rest + id
	case "AWS::IAM::Role":
		return prefix + "iam::" + testAccount + ":role/" + id
	case "AWS::Events::Rule":
		return prefix + "events" + rest + "rule/" + id
	}
	return prefix + "unknown" + rest + typ + "/" + id
}
