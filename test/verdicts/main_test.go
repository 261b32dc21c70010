// Package verdicts_test proves Watchkeeper's verdict rule against moto_server
// with a table of accounts: a control PASSes only if one occurrence of any of
// its events, recorded by a qualifying trail, becomes a notification
// delivered to a confirmed subscriber, and the benchmark's audit criteria
// hold.
//
// Every case starts from a compliant account built with test/world and
// changes exactly one link of one control's alert path (or builds a chain
// under a person's own names), runs the real remediator binary's
// "audit --output json", and asserts each control's status and reason codes
// (never reason wording). A representative subset is then healed with
// "apply" and proven converged, and the benchmark's own audit (test/cisaudit)
// is run on the result.
//
// One moto_server serves the package, behind test/awsproxy with its moto
// shims plus two of this package's (shims_test.go); cases run sequentially
// and reset moto before seeding.
package verdicts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	home  = "us-east-1"
	other = "eu-west-1"
	// subscriber is the endpoint every run configures; the compliant
	// account subscribes the same one, so it is never re-planned.
	subscriber = "email:security@example.com"
	prefix     = "watchkeeper-"
	topicName  = "watchkeeper-cis-alarms"
	account    = moto.Account
)

// cliTimeout bounds one CLI run.
const cliTimeout = 90 * time.Second

var (
	bin      string       // the remediator binary built by TestMain
	srv      *moto.Server // shared moto_server
	endpoint string       // the proxy in front of srv; every client uses it
	proxy    *awsproxy.Proxy
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "watchkeeper-verdicts-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	bin = filepath.Join(dir, "remediator")
	build := exec.Command("go", "build", "-o", bin, "./functions/remediator")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build remediator:", err)
		return 1
	}

	srv, err = moto.Launch(filepath.Join(dir, "moto.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()

	proxy = awsproxy.New(srv.URL)
	defer proxy.Close()
	proxy.ShimAll()
	endpoint = proxy.URL
	return m.Run()
}

// cfg is the SDK configuration tests use to seed and read back state,
// through the same proxy the CLI uses.
func cfg(region string) aws.Config { return moto.Config(endpoint, region) }

// fresh resets moto and returns a World over it.
func fresh(t *testing.T) *world.World {
	t.Helper()
	srv.Reset(t)
	return world.New(cfg)
}

// report is the CLI's JSON document (README, "Command line"), declared
// here so the tests pin the published contract.
type report struct {
	Account    string    `json:"account"`
	Benchmark  string    `json:"benchmark"`
	HomeRegion string    `json:"homeRegion"`
	Compliant  bool      `json:"compliant"`
	Controls   []control `json:"controls"`
	Regions    []region  `json:"regions"`
	Actions    []action  `json:"actions"`
	Warnings   []string  `json:"warnings"`
}

type control struct {
	ID      string   `json:"id"`
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
	Codes   []string `json:"codes"`
}

type region struct {
	Region  string   `json:"region"`
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
}

type action struct {
	Action string `json:"action"`
	Region string `json:"region"`
	Target string `json:"target"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

func (r report) control(id string) (control, bool) {
	for _, c := range r.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return control{}, false
}

func (r report) actionsWith(st string) []action {
	var out []action
	for _, a := range r.Actions {
		if a.Status == st {
			out = append(out, a)
		}
	}
	return out
}

// summary renders the non-passing controls, regions and the actions of a
// report for failure messages.
func summary(r report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "compliant=%t", r.Compliant)
	for _, c := range r.Controls {
		if c.Status != "PASS" {
			fmt.Fprintf(&b, "\n  control %s %s %q %q", c.ID, c.Status, c.Codes, c.Reasons)
		}
	}
	for _, rg := range r.Regions {
		if rg.Status != "PASS" {
			fmt.Fprintf(&b, "\n  region %s %s %q", rg.Region, rg.Status, rg.Reasons)
		}
	}
	for _, a := range r.Actions {
		fmt.Fprintf(&b, "\n  action %s %s %s %s (%s) %s", a.Status, a.Action, a.Region, a.Target, a.Reason, a.Error)
	}
	return b.String()
}

// baseFlags keep runs to the home region and configure the subscriber the
// compliant account already has.
var baseFlags = []string{"--regions", home, "--home-region", home, "--subscribe", subscriber}

// result is one CLI run.
type result struct {
	code   int
	rep    report
	stderr string
}

// cli runs "remediator MODE baseFlags... extra... --output json" against
// moto (through the proxy) and decodes its single JSON document.
func cli(t *testing.T, mode string, extra ...string) result {
	t.Helper()
	args := append(append(append([]string{mode}, baseFlags...), extra...), "--output", "json")
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// A hung run is killed with SIGQUIT so its stderr carries the stacks.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = moto.Env(os.Environ(), endpoint, home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("run remediator %s: %v", strings.Join(args, " "), err)
	}
	if res.code == 1 {
		t.Fatalf("remediator %s: exit 1 (could not evaluate)\nstderr:\n%s", strings.Join(args, " "), res.stderr)
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&res.rep); err != nil {
		t.Fatalf("remediator %s: stdout is not a JSON report: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), res.stderr)
	}
	var extraDoc json.RawMessage
	if err := dec.Decode(&extraDoc); !errors.Is(err, io.EOF) {
		t.Fatalf("remediator %s: stdout holds more than one JSON document", strings.Join(args, " "))
	}
	return res
}
