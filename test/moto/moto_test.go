package moto_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
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

// TestLaunchConcurrent starts eight servers at once, as parallel test
// packages do, and proves each URL reaches its own live server: a topic
// created through one URL is seen through that URL only. When ports were
// picked by listen-close-reuse, two servers could race for one port; the
// loser exited and its readiness check was answered by the winner, so two
// tests shared (and reset) one account.
func TestLaunchConcurrent(t *testing.T) {
	const n = 8
	srvs := make([]*moto.Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			srvs[i], errs[i] = moto.Launch(filepath.Join(t.TempDir(), fmt.Sprintf("moto-%d.log", i)))
		})
	}
	wg.Wait()
	for i, s := range srvs {
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i, errs[i])
		}
		t.Cleanup(s.Stop)
	}
	seen := map[string]bool{}
	for i, s := range srvs {
		if seen[s.URL] {
			t.Fatalf("two servers report %s", s.URL)
		}
		seen[s.URL] = true
		name := fmt.Sprintf("topic-%d", i)
		if _, err := sns.NewFromConfig(s.Config("us-east-1")).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: &name}); err != nil {
			t.Fatalf("server %d (%s): CreateTopic: %v", i, s.URL, err)
		}
	}
	for i, s := range srvs {
		out, err := sns.NewFromConfig(s.Config("us-east-1")).ListTopics(t.Context(), &sns.ListTopicsInput{})
		if err != nil {
			t.Fatalf("server %d (%s): ListTopics: %v", i, s.URL, err)
		}
		want := fmt.Sprintf(":topic-%d", i)
		if len(out.Topics) != 1 || !strings.HasSuffix(*out.Topics[0].TopicArn, want) {
			var got []string
			for _, tp := range out.Topics {
				got = append(got, *tp.TopicArn)
			}
			t.Errorf("server %d (%s) has topics %v, want only one ending %q", i, s.URL, got, want)
		}
	}
}

// TestLaunchReportsEarlyExit proves a server that dies before listening is
// reported at once, with its log, rather than after the start timeout.
func TestLaunchReportsEarlyExit(t *testing.T) {
	t.Setenv("MOTO_SERVER", "false")
	start := time.Now()
	_, err := moto.Launch(filepath.Join(t.TempDir(), "moto.log"))
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Fatalf("Launch = %v, want an early-exit error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("early exit reported after %s", d)
	}
}
