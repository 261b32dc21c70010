package moto_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
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

// zygote starts server.py's fork server for the test and points Launch at
// it (moto.ZygoteEnv), as make test does.
func zygote(t *testing.T) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "moto.sock")
	cmd := exec.Command("python3", "server.py", "--zygote", sock)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("python3: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "ready") {
			t.Fatalf("zygote did not start: %q", line)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("zygote not ready after a minute")
	}
	t.Setenv("MOTO_SERVER", "")
	t.Setenv(moto.ZygoteEnv, sock)
}

// TestZygoteForksIndependentServers proves servers forked from the zygote
// are as separate as started ones: each URL reaches its own state, their
// random ids differ (each child reseeds), and Stop ends one without the
// other.
func TestZygoteForksIndependentServers(t *testing.T) {
	zygote(t)
	a, err := moto.Launch(filepath.Join(t.TempDir(), "a.log"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := moto.Launch(filepath.Join(t.TempDir(), "b.log"))
	if err != nil {
		a.Stop()
		t.Fatal(err)
	}
	defer b.Stop()
	if _, err := sns.NewFromConfig(a.Config("us-east-1")).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("only-in-a")}); err != nil {
		t.Fatalf("CreateTopic on a: %v", err)
	}
	if out, err := sns.NewFromConfig(b.Config("us-east-1")).ListTopics(t.Context(), &sns.ListTopicsInput{}); err != nil || len(out.Topics) != 0 {
		t.Errorf("b lists %v (%v), want no topic", out, err)
	}
	var keys []string
	for _, s := range []*moto.Server{a, b} {
		out, err := kms.NewFromConfig(s.Config("us-east-1")).CreateKey(t.Context(), &kms.CreateKeyInput{})
		if err != nil {
			t.Fatalf("CreateKey on %s: %v", s.URL, err)
		}
		keys = append(keys, aws.ToString(out.KeyMetadata.KeyId))
	}
	if keys[0] == keys[1] {
		t.Errorf("both servers made key %s: the forked servers share a random state", keys[0])
	}
	a.Stop()
	if !eventually(func() bool {
		resp, err := http.Get(a.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	}) {
		t.Errorf("%s still answers after Stop", a.URL)
	}
	if _, err := sns.NewFromConfig(b.Config("us-east-1")).ListTopics(t.Context(), &sns.ListTopicsInput{}); err != nil {
		t.Errorf("b stopped with a: %v", err)
	}
}

// TestZygoteServerTakesTheRequestEnvironment proves a forked server reads
// moto's settings from the environment Launch sends, not the zygote's:
// with INITIAL_NO_AUTH_ACTION_COUNT=0 moto authenticates every request, so
// the dummy credentials are refused (test/iampolicy relies on this).
func TestZygoteServerTakesTheRequestEnvironment(t *testing.T) {
	zygote(t)
	t.Setenv("INITIAL_NO_AUTH_ACTION_COUNT", "0")
	s, err := moto.Launch(filepath.Join(t.TempDir(), "moto.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if _, err := sns.NewFromConfig(s.Config("us-east-1")).ListTopics(t.Context(), &sns.ListTopicsInput{}); err == nil {
		t.Error("ListTopics with unknown credentials succeeded: the server did not take INITIAL_NO_AUTH_ACTION_COUNT=0")
	}
}

// TestLaunchFallsBackWithoutZygote proves a zygote that does not answer
// costs nothing but speed: Launch starts the server itself.
func TestLaunchFallsBackWithoutZygote(t *testing.T) {
	t.Setenv(moto.ZygoteEnv, filepath.Join(t.TempDir(), "absent.sock"))
	s, err := moto.Launch(filepath.Join(t.TempDir(), "moto.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if _, err := sns.NewFromConfig(s.Config("us-east-1")).ListTopics(t.Context(), &sns.ListTopicsInput{}); err != nil {
		t.Errorf("ListTopics: %v", err)
	}
}

func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}
