package lambdart

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ModuleRoot returns the directory of the Watchkeeper go.mod (from `go env GOMOD`).
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// BuildOptions say how to build the bootstrap.
type BuildOptions struct {
	// GOARCH defaults to the host's, so the result runs here.
	GOARCH string
	// Stripped adds -trimpath -ldflags="-s -w", as the deployment build does.
	Stripped bool
}

// PrebuiltEnv names a bootstrap built beforehand exactly as Build's default
// options build it; "make test" builds it once for every suite instead of
// once per suite.
const PrebuiltEnv = "WATCHKEEPER_BOOTSTRAP"

// Build compiles ./functions/remediator as Lambda's provided.al2023 runtime
// expects it: a static linux binary (CGO_ENABLED=0) without the legacy RPC
// mode (-tags lambda.norpc), written to out. With default options and
// PrebuiltEnv set, out becomes a link to the prebuilt binary.
func Build(ctx context.Context, out string, o BuildOptions) error {
	if pre := os.Getenv(PrebuiltEnv); pre != "" && o == (BuildOptions{}) {
		if err := os.Symlink(pre, out); err != nil {
			return fmt.Errorf("use %s=%s: %w", PrebuiltEnv, pre, err)
		}
		return nil
	}
	root, err := ModuleRoot(ctx)
	if err != nil {
		return err
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	args := []string{"build", "-tags", "lambda.norpc", "-o", out}
	if o.Stripped {
		args = append(args, "-trimpath", "-ldflags=-s -w")
	}
	args = append(args, "./functions/remediator")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// Process is a function binary running under a stand-in Runtime API.
type Process struct {
	Server *Server
	Cmd    *exec.Cmd
	// Started is just before the process was started: Ready minus Started
	// is the cold start.
	Started time.Time
	// Stdout (EMF metrics) and Stderr (slog JSON logs) collect the output.
	Stdout, Stderr *Buffer

	waitErr error
	done    chan struct{}
}

// Launch starts a stand-in server and bin with env plus
// AWS_LAMBDA_RUNTIME_API pointing at it. env should come from moto.Env so
// nothing of the developer's AWS setup leaks in.
func Launch(bin string, env []string) (*Process, error) {
	s, err := Start()
	if err != nil {
		return nil, err
	}
	p := &Process{Server: s, Stdout: &Buffer{}, Stderr: &Buffer{}, done: make(chan struct{})}
	p.Cmd = exec.Command(bin)
	p.Cmd.Env = append(append([]string(nil), env...), "AWS_LAMBDA_RUNTIME_API="+s.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=watchkeeper-remediator", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128")
	p.Cmd.Stdout, p.Cmd.Stderr = p.Stdout, p.Stderr
	p.Started = time.Now()
	if err := p.Cmd.Start(); err != nil {
		s.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.waitErr = p.Cmd.Wait(); close(p.done) }()
	return p, nil
}

// ColdStart waits for the first next request and returns the time since
// the process was started.
func (p *Process) ColdStart(ctx context.Context) (time.Duration, error) {
	select {
	case <-p.done:
		return 0, fmt.Errorf("process exited before asking for an event: %v\nstderr:\n%s", p.waitErr, p.Stderr)
	case <-p.Server.ready:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return p.Server.FirstNext().Sub(p.Started), nil
}

// PeakRSS reads the process's peak resident set size (VmHWM) from
// /proc/PID/status, in bytes. Linux only; call it while the process runs.
func (p *Process) PeakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", p.Cmd.Process.Pid)
}

// Stop kills the process (Lambda freezes and later kills it; there is no
// graceful stop to wait for) and closes the server.
func (p *Process) Stop() {
	if p.Cmd.Process != nil {
		_ = p.Cmd.Process.Kill()
	}
	<-p.done
	p.Server.Close()
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Buffer is a bytes.Buffer safe for one writer and concurrent readers.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the complete lines written so far.
func (b *Buffer) Lines() []string {
	s := strings.TrimRight(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Do is Server.Do that fails as soon as the process exits, instead of
// waiting for an answer that cannot come.
func (p *Process) Do(ctx context.Context, req Request) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-p.done:
			cancel(fmt.Errorf("function process exited: %v", p.waitErr))
		case <-ctx.Done():
		}
	}()
	r, err := p.Server.Do(ctx, req)
	if err != nil && context.Cause(ctx) != nil {
		return r, fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	return r, err
}

// Invoke is Server.Invoke that fails as soon as the process exits.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, *ErrorPayload, error) {
	r, err := p.Do(ctx, Request{Payload: payload})
	if err != nil {
		return nil, nil, err
	}
	return r.Response, r.Error, nil
}
