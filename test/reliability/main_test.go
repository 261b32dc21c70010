package reliability_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/harness"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

var (
	schedules  = flag.Int("reliability.schedules", 0, "random fault schedules in the convergence suite (make reliability runs 200); 0 runs the smoke set, a few seeds covering every fault kind")
	firstSeed  = flag.Uint64("reliability.seed", 1, "seed of the first schedule; schedule i uses seed+i")
	cliSample  = flag.Int("reliability.cli", 8, "how many schedules are also driven through the CLI binary (at most 2 of the smoke set)")
	reportPath = flag.String("reliability.report", "", "write the markdown reliability report to this file")
	workers    = flag.Int("reliability.workers", 4, "moto servers the convergence suite spreads schedules over")
)

// rig is one moto_server with the proxy the code under test talks to
// (shims plus injected faults) and a checker proxy (shims, never a fault)
// for verification plans, so checking never consumes a fault schedule.
type rig struct {
	srv            *moto.Server
	proxy, checker *awsproxy.Proxy
}

func newRig(logPath string) (*rig, error) {
	s, err := moto.Launch(logPath)
	if err != nil {
		return nil, err
	}
	r := &rig{srv: s, proxy: awsproxy.New(s.URL), checker: awsproxy.New(s.URL)}
	r.proxy.ShimAll()
	r.checker.ShimAll()
	return r, nil
}

func (r *rig) close() {
	r.proxy.Close()
	r.checker.Close()
	r.srv.Stop()
}

var (
	rigs   []*rig
	main   *rig   // rigs[0]: the one every suite but convergence uses
	bin    string // the remediator CLI
	tmpDir string
	figs   = newFigures()
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	var err error
	tmpDir, err = os.MkdirTemp("", "watchkeeper-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpDir)
	if bin, err = harness.BuildCLI(tmpDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n := max(1, *workers)
	if *schedules == 0 {
		n = min(n, 2) // the smoke set is a handful of schedules
	}
	for i := range n {
		r, err := newRig(filepath.Join(tmpDir, fmt.Sprintf("moto-%d.log", i)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer r.close()
		rigs = append(rigs, r)
	}
	main = rigs[0]

	started := time.Now()
	code := m.Run()
	figs.Duration = time.Since(started)
	if *reportPath != "" {
		if err := figs.writeMarkdown(*reportPath, code == 0); err != nil {
			fmt.Fprintln(os.Stderr, "write report:", err)
			return 1
		}
	}
	return code
}

// cfg is the SDK configuration of seeding, reading back and in-process
// engines: through the proxy (so shims and faults apply), with the SDK's
// standard retryer (3 attempts, throttling and 5xx and resets retried) but a
// short backoff, so hundreds of schedules fit in minutes. The CLI and
// Lambda samples run with the engine's own policy (engine.Retryer: 10
// attempts, real pauses); the throttling storm runs that policy in process
// with compressed pauses (stormCfg).
func (r *rig) cfg(region string) aws.Config { return cfgAt(r.proxy.URL, region) }

func cfgAt(endpoint, region string) aws.Config {
	c := moto.Config(endpoint, region)
	c.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
				return time.Duration(attempt) * 5 * time.Millisecond, nil
			})
		})
	}
	return c
}

// direct is a configuration that bypasses the proxy (no faults, no shims,
// uncounted): for reading state back without disturbing fault schedules.
func (r *rig) direct(region string) aws.Config { return moto.Config(r.srv.URL, region) }

// fresh clears faults and counters and wipes moto.
func (r *rig) fresh() error {
	r.proxy.ClearFaults()
	r.proxy.SetLatency(0)
	r.proxy.Reset()
	return r.srv.ResetErr()
}
