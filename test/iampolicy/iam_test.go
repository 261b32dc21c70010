// Package iampolicy_test attacks the remediator's synthesized IAM policy
// with a session of a role that holds it, on moto_server with IAM
// enforcement on (INITIAL_NO_AUTH_ACTION_COUNT), and pins which parts of a
// policy moto 5.2.1 actually evaluates, so docs/security.md can say
// exactly what this proves and what infra's policy-evaluation tests
// (infra/permissions_test.go) prove instead.
//
// The policy is testdata/remediator-policy.json, which the infra tests
// keep equal to the synthesized stack (TestRemediatorPolicyGolden).
package iampolicy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// Region and names match the golden policy's configuration (infra's
// "apply-safe-named-trail" fixture: trailName=org-main, topic
// watchkeeper-cis-alarms, subscriptions sec@ and ops@example.com).
const (
	region     = "eu-west-1"
	ownTrail   = "org-main"
	otherTrail = "someone-elses"
	topicName  = "watchkeeper-cis-alarms"
	roleName   = "watchkeeper-remediator"
	adminUser  = "iampolicy-test-admin"
	// unauthenticatedCalls is how many requests moto serves before it
	// starts enforcing IAM: enough to create an admin user and its key,
	// whose credentials sign everything after.
	unauthenticatedCalls = 3
)

// guardedMoto is a moto_server that enforces IAM, with an admin user for
// setting up the account.
type guardedMoto struct {
	srv   *moto.Server
	admin aws.Credentials
}

// startGuarded starts moto with IAM enforcement after the first
// unauthenticatedCalls requests, which create the admin user, its
// allow-everything policy and its access key.
func startGuarded(t *testing.T) *guardedMoto {
	t.Helper()
	t.Setenv("INITIAL_NO_AUTH_ACTION_COUNT", fmt.Sprint(unauthenticatedCalls))
	srv := moto.Start(t)
	dummy := aws.Credentials{AccessKeyID: moto.AccessKeyID, SecretAccessKey: moto.SecretAccessKey}
	g := &guardedMoto{srv: srv}
	must := func(_ []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("set up the admin user: %v", err)
		}
	}
	must(g.iam(t, dummy, "CreateUser", "UserName", adminUser))
	must(g.iam(t, dummy, "PutUserPolicy", "UserName", adminUser, "PolicyName", "all",
		"PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	body, err := g.iam(t, dummy, "CreateAccessKey", "UserName", adminUser)
	if err != nil {
		t.Fatalf("set up the admin user: %v", err)
	}
	var key struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := xml.Unmarshal(body, &key); err != nil || key.ID == "" {
		t.Fatalf("CreateAccessKey response %q: %v", body, err)
	}
	g.admin = aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
	// Proves enforcement is on: the dummy credentials are now refused.
	if _, err := g.iam(t, dummy, "ListUsers"); err == nil {
		t.Fatal("moto still serves unauthenticated requests; INITIAL_NO_AUTH_ACTION_COUNT did not take effect")
	}
	return g
}

// config is an SDK configuration signed with creds.
func (g *guardedMoto) config(creds aws.Credentials) aws.Config {
	cfg := g.srv.Config(region)
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	cfg.RetryMaxAttempts = 1 // a denial is final; moto's 500s are not worth retrying either
	return cfg
}

// newRole creates the remediator's role (trusting the admin user, so the
// test can assume it) with the given inline policies, and returns the
// credentials of a session of it.
func (g *guardedMoto) newRole(t *testing.T, policies map[string]string) aws.Credentials {
	t.Helper()
	return g.newRoleNamed(t, roleName, policies)
}

// newRoleNamed is newRole for a role of another name.
func (g *guardedMoto) newRoleNamed(t *testing.T, roleName string, policies map[string]string) aws.Credentials {
	t.Helper()
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/%s"},"Action":"sts:AssumeRole"}]}`, moto.Account, adminUser)
	if _, err := g.iam(t, g.admin, "CreateRole", "RoleName", roleName, "AssumeRolePolicyDocument", trust); err != nil {
		t.Fatalf("create role: %v", err)
	}
	for name, doc := range policies {
		if _, err := g.iam(t, g.admin, "PutRolePolicy", "RoleName", roleName, "PolicyName", name, "PolicyDocument", doc); err != nil {
			t.Fatalf("put role policy %s: %v", name, err)
		}
	}
	out, err := sts.NewFromConfig(g.config(g.admin)).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", moto.Account, roleName)),
		RoleSessionName: aws.String("stolen"),
	})
	if err != nil {
		t.Fatalf("assume role: %v", err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

// iam makes one IAM Query API call (the module pins no IAM client: the
// product never calls IAM), SigV4-signed with creds for us-east-1, where
// IAM signs. Pairs are parameter names and values.
func (g *guardedMoto) iam(t *testing.T, creds aws.Credentials, action string, pairs ...string) ([]byte, error) {
	t.Helper()
	form := url.Values{"Action": {action}, "Version": {"2010-05-08"}}
	for i := 0; i+1 < len(pairs); i += 2 {
		form.Set(pairs[i], pairs[i+1])
	}
	body := []byte(form.Encode())
	ctx := t.Context()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return data, &statusError{status: resp.StatusCode, body: string(data)}
	}
	return data, nil
}

// statusError is a failed raw IAM call.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %.300s", e.status, e.body) }

// denied reports whether err is an authorization failure: an AccessDenied
// error code, or HTTP 403 (moto answers JSON-protocol services with an
// XML body the SDK cannot read a code from).
func denied(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && strings.HasPrefix(ae.ErrorCode(), "AccessDenied") {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden {
		return true
	}
	var se *statusError
	return errors.As(err, &se) && se.status == http.StatusForbidden
}

// goldenPolicy is the synthesized remediator policy.
func goldenPolicy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/remediator-policy.json")
	if err != nil {
		t.Fatalf("%v (infra's TestRemediatorPolicyGolden -update-policy writes it)", err)
	}
	return string(b)
}

func ctx(t *testing.T) context.Context { return t.Context() }
