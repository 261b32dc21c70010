package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

func TestEvaluateMalformed(t *testing.T) {
	req := policy.CloudWatchPublishRequest(topicARN, account, alarmARN)
	allow := `"Effect":"Allow","Principal":"*","Action":"sns:Publish"`
	for _, tc := range []struct {
		name, doc, where string
	}{
		{"not JSON", `{"Statement": [`, "offset"},
		{"not an object", `[1]`, "document"},
		{"no Statement", `{"Version":"2012-10-17"}`, "Statement"},
		{"unknown Version", `{"Version":"2020-01-01","Statement":[]}`, "Version"},
		{"Statement a string", `{"Statement":"x"}`, "statement 1: Statement"},
		{"statement not an object", `{"Statement":[{` + allow + `},7]}`, "statement 2: Statement"},
		{"unknown element", `{"Statement":{` + allow + `,"Principals":"*"}}`, "statement 1: Principals"},
		{"bad Effect", `{"Statement":{"Effect":"allow","Principal":"*","Action":"sns:Publish"}}`, "statement 1: Effect"},
		{"no Effect", `{"Statement":{"Principal":"*","Action":"sns:Publish"}}`, "statement 1: Effect"},
		{"Sid not a string", `{"Statement":{"Sid":1,` + allow + `}}`, "statement 1: Sid"},
		{"no principal", `{"Statement":{"Effect":"Deny","Action":"sns:Publish"}}`, "statement 1: Principal"},
		{"both principals", `{"Statement":{` + allow + `,"NotPrincipal":"*"}}`, "statement 1: Principal"},
		{"principal string other than *", `{"Statement":{"Effect":"Deny","Principal":"me","Action":"x"}}`, "statement 1: Principal"},
		{"principal values not strings", `{"Statement":{"Effect":"Deny","Principal":{"AWS":[1]},"Action":"x"}}`, "statement 1: Principal"},
		{"no action", `{"Statement":{"Effect":"Deny","Principal":"*"}}`, "statement 1: Action"},
		{"both actions", `{"Statement":{` + allow + `,"NotAction":"x"}}`, "statement 1: Action"},
		{"null action", `{"Statement":{"Effect":"Deny","Principal":"*","Action":null}}`, "statement 1: Action"},
		{"empty action list", `{"Statement":{"Effect":"Deny","Principal":"*","Action":[]}}`, "statement 1: Action"},
		{"both resources", `{"Statement":{` + allow + `,"Resource":"*","NotResource":"*"}}`, "statement 1: Resource"},
		{"resource not a string", `{"Statement":{` + allow + `,"Resource":{"a":1}}}`, "statement 1: Resource"},
		{"condition not an object", `{"Statement":{` + allow + `,"Condition":"x"}}`, "statement 1: Condition"},
		{"condition operator without keys", `{"Statement":{` + allow + `,"Condition":{"StringEquals":{}}}}`, "statement 1: Condition"},
		{"condition value an object", `{"Statement":{` + allow + `,"Condition":{"StringEquals":{"k":{"a":1}}}}}`, "statement 1: Condition"},
		{"condition value list empty", `{"Statement":{` + allow + `,"Condition":{"StringEquals":{"k":[]}}}}`, "statement 1: Condition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := policy.Evaluate(tc.doc, req)
			var pe *policy.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Evaluate error = %v (decision %+v); want a *PolicyError", err, d)
			}
			if !strings.HasPrefix(pe.Where, tc.where) {
				t.Errorf("PolicyError.Where = %q; want it to start with %q (error %v)", pe.Where, tc.where, err)
			}
		})
	}
}

func TestEvaluateBadRequest(t *testing.T) {
	doc := `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*"}}`
	good := policy.CloudWatchPublishRequest(topicARN, account, alarmARN)
	noService := good
	noService.Service = ""
	both := good
	both.Absent = append(both.Absent, "AWS:SOURCEACCOUNT")
	twice := good.With("x", "1")
	twice.Context["X"] = []string{"2"}
	for name, r := range map[string]policy.Request{"no service": noService, "known and absent": both, "key twice": twice} {
		if _, err := policy.Evaluate(doc, r); !errors.Is(err, policy.ErrRequest) {
			t.Errorf("%s: Evaluate error = %v; want ErrRequest", name, err)
		}
	}
	if _, err := policy.EvaluateAll(doc); !errors.Is(err, policy.ErrRequest) {
		t.Errorf("EvaluateAll with no requests: error = %v; want ErrRequest", err)
	}
}

func TestCloudWatchRequests(t *testing.T) {
	r := policy.CloudWatchPublishRequest(topicARN, "", alarmARN)
	for key, want := range map[string]string{
		"aws:SourceAccount": account, "aws:SourceOwner": account, "aws:SourceArn": alarmARN,
		"aws:ResourceAccount": account, "aws:PrincipalServiceName": policy.CloudWatch,
		"aws:PrincipalIsAWSService": "true", "aws:ViaAWSService": "false",
	} {
		if got := r.Context[key]; len(got) != 1 || got[0] != want {
			t.Errorf("publish request %s = %q; want [%q]", key, got, want)
		}
	}
	if _, ok := r.Context["aws:SecureTransport"]; ok {
		t.Error("publish request knows aws:SecureTransport; no page documents it for an unencrypted topic")
	}
	tls := r.With("AWS:SECURETRANSPORT", "true")
	if _, ok := r.Context["AWS:SECURETRANSPORT"]; ok {
		t.Error("With changed the request it was called on")
	}
	if got := tls.Context["AWS:SECURETRANSPORT"]; len(got) != 1 {
		t.Errorf("With: context %v", tls.Context)
	}
	keys := policy.CloudWatchKeyRequests(testKeyARN, keyAccount, keyAlarm)
	if len(keys) != len(policy.CloudWatchKeyActions) {
		t.Fatalf("CloudWatchKeyRequests returned %d requests; want %d", len(keys), len(policy.CloudWatchKeyActions))
	}
	for i, k := range keys {
		if k.Action != policy.CloudWatchKeyActions[i] || k.Resource != testKeyARN || k.Context["aws:SecureTransport"][0] != "true" {
			t.Errorf("key request %d = %+v", i, k)
		}
		if _, ok := k.Context["aws:SourceOwner"]; ok {
			t.Errorf("key request %d has aws:SourceOwner, which SNS documents only for publishing", i)
		}
	}
}
