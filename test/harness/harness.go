package harness

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

// The account the CLI suites seed: its home and second Region, and the
// endpoint every run configures (world's compliant account subscribes the
// same one, so it is never re-planned).
const (
	Home       = "us-east-1"
	Other      = "eu-west-1"
	Subscriber = "email:security@example.com"
)

// State reads regions' state back through the proxy (world.State) and
// fails the test when it cannot.
func (h *Harness) State(t testing.TB, opts world.StateOptions, regions ...string) world.State {
	t.Helper()
	s, err := world.New(h.Config).State(t.Context(), opts, regions...)
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	return s
}

// CLITimeout bounds one CLI run; the slowest (30+ regions, thousands of
// unrelated resources) take a few seconds. A run still going then is
// killed with SIGQUIT, so its stderr carries every goroutine's stack.
const CLITimeout = 90 * time.Second

// waitDelay is how long a killed run gets to write its stacks.
const waitDelay = 5 * time.Second

// Harness is one test package's end-to-end rig: the remediator binary and
// one moto_server behind a proxy.
type Harness struct {
	// Bin is the remediator binary built by Main.
	Bin string
	// Moto is the shared moto_server.
	Moto *moto.Server
	// Proxy stands in front of Moto; seeding, reading back and the CLI all
	// go through it, so its shims apply to every call.
	Proxy *awsproxy.Proxy
}

// PrebuiltCLIEnv names a remediator binary built beforehand with a plain
// "go build ./functions/remediator"; "make test" builds it once for every
// suite instead of once per suite.
const PrebuiltCLIEnv = "WATCHKEEPER_CLI"

// BuildCLI builds functions/remediator into dir and returns the binary's
// path, or returns the binary PrebuiltCLIEnv names. It must run from a
// package directory two levels below the module root (test/<name>), as go
// test does. The build's output goes to stderr.
func BuildCLI(dir string) (string, error) {
	if pre := os.Getenv(PrebuiltCLIEnv); pre != "" {
		if _, err := os.Stat(pre); err != nil {
			return "", fmt.Errorf("%s: %w", PrebuiltCLIEnv, err)
		}
		return pre, nil
	}
	bin := filepath.Join(dir, "remediator")
	build := exec.Command("go", "build", "-o", bin, "./functions/remediator")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build remediator: %w", err)
	}
	return bin, nil
}

// Main builds the CLI, launches moto_server behind a fresh proxy, calls
// setup (which records the harness and installs the package's shims), runs
// m and stops everything. It returns the exit code for os.Exit; a failure
// to set up is printed to stderr and returns 1.
func Main(m *testing.M, setup func(*Harness)) int {
	pkg, _ := os.Getwd()
	dir, err := os.MkdirTemp("", "watchkeeper-"+filepath.Base(pkg)+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	var h Harness
	if h.Bin, err = BuildCLI(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if h.Moto, err = moto.Launch(filepath.Join(dir, "moto.log")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer h.Moto.Stop()
	h.Proxy = awsproxy.New(h.Moto.URL)
	defer h.Proxy.Close()
	setup(&h)
	return m.Run()
}

// Endpoint is the proxy's URL, which every client and the CLI use.
func (h *Harness) Endpoint() string { return h.Proxy.URL }

// Config is the SDK configuration tests seed and read back state with,
// through the same proxy the CLI uses. Its method value suits world.New.
func (h *Harness) Config(region string) aws.Config { return moto.Config(h.Proxy.URL, region) }

// Env is the CLI's hermetic environment with home as its region: the
// process environment stripped of every AWS_* variable, plus the proxy's
// endpoint and dummy credentials (moto.Env).
func (h *Harness) Env(home string) []string { return moto.Env(os.Environ(), h.Proxy.URL, home) }

// Reset wipes moto's state, failing tb if it cannot.
func (h *Harness) Reset(tb testing.TB) {
	tb.Helper()
	h.Moto.Reset(tb)
}

// Fresh wipes moto's state and returns a World that seeds it through the
// proxy, as the CLI sees it.
func (h *Harness) Fresh(tb testing.TB) *world.World {
	tb.Helper()
	h.Reset(tb)
	return world.New(h.Config)
}

// Result is one CLI run.
type Result struct {
	Code   int    // exit code
	Stdout string // everything the binary wrote to stdout
	Stderr string
	// Report is stdout decoded; it is zero when Code is 1 (an error, which
	// prints no report).
	Report Report
}

// RunCLI runs the remediator with args in env (normally Env's result),
// bounded by CLITimeout, and decodes the single JSON document on its stdout
// unless it exited 1. Exiting non-zero is not an error; failing to start,
// or a stdout that is not exactly one JSON report, is.
func (h *Harness) RunCLI(ctx context.Context, env []string, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, CLITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.Bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = waitDelay
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	line := strings.Join(args, " ")
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		return res, fmt.Errorf("run remediator %s: %w", line, err)
	}
	if res.Code == 1 {
		return res, nil
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&res.Report); err != nil {
		return res, fmt.Errorf("remediator %s: stdout is not a JSON report: %w\nstdout:\n%s\nstderr:\n%s", line, err, res.Stdout, res.Stderr)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return res, fmt.Errorf("remediator %s: stdout holds more than one JSON document (next: %s, %v)", line, extra, err)
	}
	return res, nil
}
