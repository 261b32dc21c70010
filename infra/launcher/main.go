// Command launcher is the CDK app command (cdk.json "app"). It runs the
// real app, `go run ./infra`, and adds what that alone cannot do:
//
//   - It says what is happening. On a fresh machine, Go compiles the AWS
//     CDK's Go bindings for the app and the AWS SDK for the Lambda, minutes
//     each, and synth used to print nothing meanwhile. (cdk.json echoes
//     "compiling the CDK app…" before `go run` compiles this launcher,
//     which takes a while of its own on a fresh machine.)
//   - It runs those two compiles at the same time. Each is dominated by one
//     huge package (awscdk; the EC2 SDK) that the compiler handles on one
//     core, so on two or more cores the pair takes about as long as the
//     longer one, not the sum. The app would otherwise build the Lambda
//     itself, after its own compile and its start; it gets the launcher's
//     bootstrap instead (lambdabuild.PrebuiltEnv). Later runs take seconds
//     either way: Go's build cache keeps both compiles, keyed by their
//     sources, and go run keeps the linked app. The price: the app starts
//     after both compiles, so on a fresh machine an invalid configuration
//     is reported a minute or two later than it could be. Starting the app
//     at once and having it wait for the Lambda would need a way to stop a
//     go build midway, which only a process-group kill does.
//   - It drops one line that jsii-runtime-go prints at exit although
//     nothing went wrong (see benignWaitid).
//
// It imports only the standard library and lambdabuild: on a fresh machine
// its own compile is that of the standard library, which the app needs
// anyway.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/watchkeeper/watchkeeper/infra/internal/lambdabuild"
)

// benignWaitid is printed (without a newline) by jsii-runtime-go v1.139.0
// (internal/kernel/process/process.go) when the app closes the runtime.
// The runtime waits for its node child in two places at once: a goroutine
// started with the child calls cmd.Wait(), and Close calls cmd.Wait() again
// after sending the exit request. Both block in waitid(2) on the child;
// when node exits, one of them reaps it and the other gets ECHILD. When
// the goroutine is the one that loses, it prints this line, with the error
// of its own wait rather than node's exit status, which the other wait
// collected. So the line says nothing about how node exited, and appears in
// about half the runs. A real abnormal exit reads "exit status N" or
// "signal: ...", and passes through.
const benignWaitid = "Runtime process exited abnormally: waitid: no child processes"

func main() { os.Exit(run()) }

// run returns the exit status: the app's, or 1 when a compile fails.
func run() int {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fail(fmt.Errorf("no Go toolchain on PATH: %w", err))
	}
	// Ctrl-C reaches the whole process group; the children decide how to
	// stop, and this process waits to pass on their status.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	work, err := os.MkdirTemp("", "watchkeeper-launcher-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(work)
	bootstrap := filepath.Join(work, "bootstrap")

	say("building the Lambda (linux/arm64)…")
	// go list -export compiles ./infra and everything it imports into the
	// build cache, where the go run below finds them, without linking.
	app := exec.Command(goBin, "list", "-export", "./infra")
	app.Stdout, app.Stderr = io.Discard, os.Stderr
	lambda := lambdabuild.Command(goBin, ".", bootstrap)
	if err := app.Start(); err != nil {
		return fail(err)
	}
	lambdaErr := lambda.Run()
	if err := app.Wait(); err != nil {
		return fail(fmt.Errorf("compile the CDK app (./infra): %w", err))
	}
	if lambdaErr != nil {
		return fail(fmt.Errorf("build the Lambda (%s for linux/arm64): %w", lambdabuild.Package, lambdaErr))
	}

	say("synthesizing…")
	cmd := exec.Command(goBin, "run", "./infra")
	cmd.Stdin, cmd.Stdout = os.Stdin, os.Stdout
	cmd.Env = append(os.Environ(), lambdabuild.PrebuiltEnv+"="+bootstrap)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fail(err)
	}
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	copyErr := filterStderr(os.Stderr, stderr)
	err = cmd.Wait()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err = errors.Join(err, copyErr); err != nil {
		return fail(err)
	}
	return 0
}

func say(msg string) { fmt.Fprintln(os.Stderr, "watchkeeper:", msg) }

func fail(err error) int {
	say(err.Error())
	return 1
}

// filterStderr copies src to dst line by line, removing benignWaitid. The
// line has no newline of its own, so it may be glued to the front of the
// next one (go run's "exit status 1"); that remainder is kept.
func filterStderr(dst io.Writer, src io.Reader) error {
	br := bufio.NewReader(src)
	for {
		line, err := br.ReadString('\n')
		if rest := strings.ReplaceAll(line, benignWaitid, ""); rest != line && strings.TrimSpace(rest) == "" {
			line = ""
		} else {
			line = rest
		}
		if line != "" {
			if _, werr := io.WriteString(dst, line); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
