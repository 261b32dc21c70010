package policy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

// FuzzEvaluate checks that Evaluate never panics, that an error comes with
// a zero Decision, and that every Decision keeps its invariants.
func FuzzEvaluate(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "keypolicy", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		topicPolicy("2008-10-17", defaultTopicStatement+","+sslOnlyStatement),
		topicPolicy("2012-10-17", `{"Effect":"Deny","NotPrincipal":{"Service":["cloudwatch.amazonaws.com"]},"NotAction":"sns:Sub*","NotResource":"arn:aws:sns:*:*:x"}`),
		topicPolicy("2012-10-17", `{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"ForAllValues:StringNotLikeIfExists":{"aws:SourceArn":["${aws:x}","arn:*"]},"Null":{"aws:PrincipalTag/a":true}}}`),
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:*"},"Bool":{"aws:SecureTransport":[false,1.5]}}}}`,
		`{"Statement":[]}`,
		`{}`,
	} {
		f.Add(s)
	}
	publish := policy.CloudWatchPublishRequest(topicARN, account, alarmARN)
	keys := policy.CloudWatchKeyRequests(testKeyARN, keyAccount, keyAlarm)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := policy.Evaluate(doc, publish)
		if err != nil {
			if d.Allowed || d.Denied || d.Uncertain != nil {
				t.Errorf("Evaluate returned %+v with error %v", d, err)
			}
			return
		}
		checkInvariants(t, d)
		all, err := policy.EvaluateAll(doc, keys...)
		if err != nil {
			t.Fatalf("EvaluateAll failed on a document Evaluate accepted: %v", err)
		}
		checkInvariants(t, all)
	})
}
