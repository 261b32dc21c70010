package moto_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

func TestServerAnswersAsAccount(t *testing.T) {
	srv := moto.Start(t)
	out, err := sts.NewFromConfig(srv.Config("eu-west-1")).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := *out.Account; got != moto.Account {
		t.Errorf("account = %q, want %q", got, moto.Account)
	}
	srv.Reset(t)
}

func TestEnvStripsInheritedAWSVariables(t *testing.T) {
	env := moto.Env([]string{"AWS_PROFILE=prod", "AWS_CA_BUNDLE=/x.pem", "HOME=/root"}, "http://127.0.0.1:1", "ap-south-1")
	joined := strings.Join(env, "\n")
	for _, bad := range []string{"AWS_PROFILE=prod", "AWS_CA_BUNDLE"} {
		if strings.Contains(joined, bad) {
			t.Errorf("Env kept %q", bad)
		}
	}
	for _, want := range []string{"HOME=/root", "AWS_REGION=ap-south-1", "AWS_ENDPOINT_URL=http://127.0.0.1:1"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Env lacks %q", want)
		}
	}
}
