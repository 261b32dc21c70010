// Package moto runs moto_server (a real AWS emulator) for tests and builds
// hermetic AWS configurations and process environments that point at it.
//
// Tests never use the developer's AWS profile, region or CA bundle: every
// configuration built here has static dummy credentials, an explicit region
// and moto's endpoint, and Env strips every inherited AWS_* variable.
package moto

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Account is the account id moto reports for the dummy credentials.
const Account = "123456789012"

// Dummy credentials. moto accepts any.
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
)

// Server is one moto_server process listening on a free loopback port.
type Server struct {
	// URL is the endpoint, e.g. "http://127.0.0.1:45123".
	URL string
	cmd *exec.Cmd // a server Launch started
	// A server forked from the zygote: the connection it lives as long as,
	// and its process.
	conn net.Conn
	proc *os.Process
}

// Binary returns the moto_server executable, or an error saying how to get
// it. Launch runs the same server through server.py when python3 is on the
// PATH (see launcher).
func Binary() (string, error) {
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("moto_server")
	if err != nil {
		return "", errors.New("moto_server not found on PATH: install it with pip install 'moto[server]==5.2.1'")
	}
	return p, nil
}

// Start starts moto_server on a free port and stops it when tb ends. It
// fails the test if moto_server is missing: the suite is meant to exercise
// real protocols, and CI installs moto.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := Launch(filepath.Join(tb.TempDir(), "moto.log"))
	if err != nil {
		tb.Fatalf("start moto_server: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Main serves a test package's TestMain: it launches one moto_server (its
// log in a temporary directory named after pkg), calls run with it, stops
// the server and returns run's exit code, or 1 when the server cannot
// start. Use it as os.Exit(moto.Main("inspect", func(s *moto.Server) int {
// srv = s; return m.Run() })).
func Main(pkg string, run func(*Server) int) int {
	dir, err := os.MkdirTemp("", "watchkeeper-"+pkg+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := Launch(filepath.Join(dir, "moto.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()
	return run(srv)
}

// Launch starts moto_server on a free port, writing its output to logPath,
// and waits until it answers. The caller must call Stop.
//
// The port is chosen by the kernel, not by us: moto_server binds port 0
// (werkzeug records the bound port) and logs "Running on
// http://127.0.0.1:PORT", which Launch reads. No other process can take the
// port between choosing and binding it, so many servers, in this process or
// in parallel test binaries, can start at once.
//
// When ZygoteEnv names a zygote's socket, the server is forked from it
// instead (same application, same environment, without moto's start-up
// cost); if the zygote does not answer, Launch says so on stderr and starts
// the server itself.
func Launch(logPath string) (*Server, error) {
	if sock := os.Getenv(ZygoteEnv); sock != "" && os.Getenv("MOTO_SERVER") == "" {
		s, err := forkServer(sock, logPath)
		if err == nil {
			return s, nil
		}
		fmt.Fprintf(os.Stderr, "moto: %s: %v; starting moto_server instead\n", ZygoteEnv, err)
	}
	return startServer(logPath)
}

// ZygoteEnv names the Unix socket of a moto fork server (server.py
// --zygote), which "make test" starts once for all its test binaries: each
// server forked from it skips the ~2.5 s of CPU moto spends importing
// itself and its services before the first answer.
const ZygoteEnv = "WATCHKEEPER_MOTO_ZYGOTE"

// serverEnv is the environment of every moto server: the hermetic one
// (Env) plus moto's own settings.
func serverEnv() []string {
	return append(Env(os.Environ(), "", "us-east-1"),
		// Python buffers stdout when it is not a terminal; moto logs to
		// stderr, but unbuffered output keeps the log complete if the
		// process dies.
		"PYTHONUNBUFFERED=1",
		// moto creates an EC2 backend per Region on first use, and with it
		// ~1,200 default AMIs plus a volume and a snapshot each: 0.13 s of
		// CPU per Region after every reset, half of moto's CPU in
		// test/verdicts (cProfile), for images no test reads (the engine's
		// only EC2 call is DescribeRegions). moto's documented switch
		// (moto/settings.py, ec2_load_default_amis) turns that off.
		"MOTO_EC2_LOAD_DEFAULT_AMIS=false")
}

// startServer runs a new moto server process (launcher) and waits for it.
func startServer(logPath string) (*Server, error) {
	bin, args, err := launcher(filepath.Dir(logPath))
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create moto log: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("moto output pipe: %w", err)
	}
	cmd := exec.Command(bin, append(args, "-H", "127.0.0.1", "-p", "0")...)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.Env = serverEnv()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	pw.Close() // the child holds its own copy; EOF comes when it exits

	urls := make(chan string, 1)
	go copyLog(pr, logf, urls)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &Server{cmd: cmd}

	timeout := time.NewTimer(startTimeout)
	defer timeout.Stop()
	select {
	case s.URL = <-urls:
	case err := <-exited:
		return nil, fmt.Errorf("moto_server exited before listening (%v; log: %s)", err, logPath)
	case <-timeout.C:
		s.Stop()
		return nil, fmt.Errorf("moto_server did not report its port within %s (log: %s)", startTimeout, logPath)
	}
	return s, s.awaitAnswer(timeout.C, exited, logPath)
}

// forkServer asks the zygote listening on sock for a server (the protocol
// is in server.py) and waits for it. The server lives as long as the
// connection: Stop closes it, and so does the test binary's exit, however
// it ends.
func forkServer(sock, logPath string) (*Server, error) {
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range serverEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	req, err := json.Marshal(struct {
		Env map[string]string `json:"env"`
		Log string            `json:"log"`
	}{env, logPath})
	if err != nil {
		conn.Close()
		return nil, err
	}
	var reply struct {
		URL string `json:"url"`
		PID int    `json:"pid"`
	}
	_ = conn.SetDeadline(time.Now().Add(startTimeout))
	if _, err := conn.Write(append(req, '\n')); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ask the zygote for a server: %w", err)
	}
	if err := json.NewDecoder(conn).Decode(&reply); err != nil {
		conn.Close()
		return nil, fmt.Errorf("the zygote's reply (log: %s): %w", logPath, err)
	}
	_ = conn.SetDeadline(time.Time{})
	s := &Server{URL: reply.URL, conn: conn}
	// On Linux FindProcess holds a pidfd, so Stop can never signal another
	// process that later reuses the pid.
	if p, err := os.FindProcess(reply.PID); err == nil {
		s.proc = p
	}
	timeout := time.NewTimer(startTimeout)
	defer timeout.Stop()
	return s, s.awaitAnswer(timeout.C, nil, logPath)
}

// awaitAnswer waits until the server's application answers: the port is
// reported once the socket listens, and one request proves the app itself
// answers. It stops the server when it gives up.
func (s *Server) awaitAnswer(timeout <-chan time.Time, exited <-chan error, logPath string) error {
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("moto_server on %s exited (%v; log: %s)", s.URL, err, logPath)
		case <-timeout:
			s.Stop()
			return fmt.Errorf("moto_server did not answer on %s within %s (log: %s)", s.URL, startTimeout, logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// serverPy is moto_server's entry point without moto 5.2.1's per-request
// directory scan, and the zygote (its docstring has both measurements).
//
//go:embed server.py
var serverPy []byte

// launcher returns the command that starts moto's server and its leading
// arguments: python3 running serverPy (written into dir), or the
// moto_server executable itself when MOTO_SERVER names one or python3 is
// not on the PATH. serverPy hands over to moto_server when python3 lacks
// moto, so every path ends in the same server.
func launcher(dir string) (string, []string, error) {
	if os.Getenv("MOTO_SERVER") == "" {
		if py, err := exec.LookPath("python3"); err == nil {
			script := filepath.Join(dir, "moto_server.py")
			if err := os.WriteFile(script, serverPy, 0o644); err != nil {
				return "", nil, fmt.Errorf("write moto launcher: %w", err)
			}
			return py, []string{script}, nil
		}
	}
	bin, err := Binary()
	return bin, nil, err
}

// startTimeout bounds moto_server's start (about 1 s on an idle machine;
// much longer when a dozen start at once on 2 cores).
const startTimeout = 60 * time.Second

// listening matches werkzeug's startup line for the address moto bound.
var listening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// copyLog copies moto's output to logf until the process exits, sending the
// URL from the first startup line on urls.
func copyLog(r *os.File, logf *os.File, urls chan<- string) {
	defer r.Close()
	defer logf.Close()
	br := bufio.NewReader(r)
	found := false
	for {
		line, err := br.ReadString('\n')
		_, _ = logf.WriteString(line)
		if !found {
			if m := listening.FindStringSubmatch(line); m != nil {
				found = true
				urls <- m[1]
			}
		}
		if err != nil {
			return
		}
	}
}

// Stop ends the moto_server process.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	if s.proc != nil {
		_ = s.proc.Kill()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

// Reset wipes every resource in moto, so the next scenario starts from an
// empty account.
func (s *Server) Reset(tb testing.TB) {
	tb.Helper()
	if err := s.ResetErr(); err != nil {
		tb.Fatal(err)
	}
}

// ResetErr is Reset for callers without a testing.TB (the demo, benchmarks).
func (s *Server) ResetErr() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Config returns an SDK configuration for region that talks to endpoint
// (usually Server.URL, or a proxy in front of it) with dummy credentials.
// It reads nothing from the environment or shared config files.
func Config(endpoint, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint:     aws.String(endpoint),
		HTTPClient:       &http.Client{Timeout: 60 * time.Second},
		RetryMaxAttempts: 3,
	}
}

// Config is the package-level Config for this server.
func (s *Server) Config(region string) aws.Config { return Config(s.URL, region) }

// Env returns base without any AWS_* variable (the user's profile, region,
// CA bundle, credentials, endpoints...), plus dummy credentials, region and,
// when endpoint is not "", AWS_ENDPOINT_URL. Use it for every subprocess a
// test starts: the CLI, the Lambda bootstrap, the aws CLI.
func Env(base []string, endpoint, region string) []string {
	out := make([]string, 0, len(base)+8)
	for _, kv := range base {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		out = append(out, kv)
	}
	out = append(out,
		"AWS_ACCESS_KEY_ID="+AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+SecretAccessKey,
		"AWS_REGION="+region,
		"AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
	if endpoint != "" {
		out = append(out, "AWS_ENDPOINT_URL="+endpoint)
	}
	return out
}

// Env is the package-level Env for this server.
func (s *Server) Env(region string) []string { return Env(os.Environ(), s.URL, region) }
