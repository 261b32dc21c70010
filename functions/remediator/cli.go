package main

import (
	"fmt"
	"io"
)

// Exit codes of the command-line tool.
const (
	exitCompliant    = 0 // compliant (for apply: compliant after applying)
	exitError        = 1 // bad flags, no credentials, cannot evaluate
	exitNonCompliant = 2 // not compliant, or actions pending
)

const usage = `Watchkeeper keeps the CIS AWS Foundations Benchmark monitoring controls true.

Usage:
  remediator <command> [flags]

Commands:
  controls   list the monitoring controls of a benchmark version
  audit      evaluate every control and region (read-only)
  plan       audit, then show the actions that would heal the account (read-only)
  apply      audit, heal, and report the state after healing
  version    print the version

Run "remediator <command> --help" for a command's flags.

` + exitHelp

// exitHelp documents the exit codes of audit, plan and apply. It is the one
// description: --help prints it, the README quotes it verbatim (checked by
// TestREADMEQuotesExitCodes), and everything else points here.
const exitHelp = `Exit codes (audit, plan, apply):
  0  compliant and no action pending (apply: compliant after applying)
  2  not compliant, or actions pending (audit and plan too, e.g. a
     configured --subscribe endpoint not yet subscribed), or some region
     could not be evaluated (e.g. not enabled; each is named on stderr
     with the reason)
  1  could not evaluate at all: bad flags, no credentials, the caller's
     identity or region list unreadable (the cause is on stderr); or apply
     changed the account but could not re-read it before the deadline (the
     report lists what was applied and is not final)
`

// runCLI runs one command and returns the process exit code.
func runCLI(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitCompliant
	case "version", "--version":
		fmt.Fprintf(stdout, "watchkeeper %s\n", version)
		return exitCompliant
	case "controls":
		return runControls(args[1:], stdout, stderr)
	case "audit", "plan", "apply":
		return runEngine(args[0], args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "remediator: unknown command %q\n\n%s", args[0], usage)
		return exitError
	}
}
