package cisaudit

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// driver runs one aws CLI command and returns its standard output.
type driver interface {
	run(ctx context.Context, args []string) ([]byte, error)
	close()
}

// spawn runs every command as its own `aws` process.
type spawn struct {
	exe string
	env []string
}

func (s spawn) run(ctx context.Context, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.exe, args...)
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (spawn) close() {}

//go:embed awsdriver.py
var sessionScript string

// session runs every command through awscli's own clidriver in one Python
// process (awsdriver.py): the same code and arguments as the `aws`
// executable, without a second of interpreter start-up per command.
type session struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// startSession starts the Python process and waits until awscli is
// imported; it fails when python cannot import awscli.
func startSession(python string, env []string) (*session, error) {
	cmd := exec.Command(python, "-c", sessionScript)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &session{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	if line, err := s.stdout.ReadString('\n'); err != nil || line != "ready\n" {
		s.close()
		return nil, fmt.Errorf("%s cannot run awscli: %s", python, strings.TrimSpace(stderr.String()))
	}
	return s, nil
}

func (s *session) run(ctx context.Context, args []string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	line, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	if _, err := s.stdin.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("aws CLI session: %w", err)
	}
	raw, err := s.stdout.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("aws CLI session: %w", err)
	}
	var reply struct {
		RC     int    `json:"rc"`
		Stdout string `json:"stdout"`
		Stderr string `json:"stderr"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return nil, fmt.Errorf("aws CLI session: %w", err)
	}
	if reply.RC != 0 {
		return nil, fmt.Errorf("exit status %d: %s", reply.RC, strings.TrimSpace(reply.Stderr))
	}
	return []byte(reply.Stdout), nil
}

func (s *session) close() {
	_ = s.stdin.Close()
	if err := s.cmd.Wait(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		_ = s.cmd.Process.Kill()
	}
}
