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
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/harness"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	home       = harness.Home
	other      = harness.Other
	subscriber = harness.Subscriber
	prefix     = world.DefaultPrefix
	topicName  = world.DefaultTopicName
	account    = moto.Account
)

var (
	h        *harness.Harness // the CLI binary, moto_server and proxy, set up by TestMain
	endpoint string           // the proxy in front of moto; every client uses it
	proxy    *awsproxy.Proxy
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, func(hh *harness.Harness) {
		h, endpoint, proxy = hh, hh.Endpoint(), hh.Proxy
		proxy.ShimAll()
	}))
}

// cfg is the SDK configuration tests use to seed and read back state,
// through the same proxy the CLI uses.
func cfg(region string) aws.Config { return h.Config(region) }

// fresh resets moto and returns a World over it (harness.Fresh).
func fresh(t *testing.T) *world.World { t.Helper(); return h.Fresh(t) }

// The CLI's JSON report (README, "Command line"), as harness declares it.
type (
	report = harness.Report
	action = harness.Action
)

// summary renders the non-passing controls, regions and the actions of a
// report for failure messages.
func summary(r report) string { return r.Summary() }

// baseFlags keep runs to the home region and configure the subscriber the
// compliant account already has.
var baseFlags = []string{"--regions", home, "--home-region", home, "--subscribe", subscriber}

// cli runs "remediator MODE baseFlags... extra... --output json" against
// moto (through the proxy) and decodes its single JSON document.
func cli(t *testing.T, mode string, extra ...string) harness.Result {
	t.Helper()
	args := append(append(append([]string{mode}, baseFlags...), extra...), "--output", "json")
	res, err := h.RunCLI(t.Context(), h.Env(home), args...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code == 1 {
		t.Fatalf("remediator %s: exit 1 (could not evaluate)\nstderr:\n%s", strings.Join(args, " "), res.Stderr)
	}
	return res
}
