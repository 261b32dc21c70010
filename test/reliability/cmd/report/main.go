// Command report runs the reliability suite (go test ./test/reliability)
// and writes its figures as a markdown report: schedules run, faults
// injected by kind, runs needed to converge, duplicates, foreign changes,
// failures reported with and without cause; the throttling storm (a
// quarter of all calls throttled and one Region denied: schedules healed
// in a single run, duplicates, requests and faults by kind); and the
// concurrency, partial-failure and deadline results. "make reliability"
// runs it.
//
//	go run ./test/reliability/cmd/report -out reliability-report.md [-schedules 200] [-storms 100] [-seed 1]
//
// It exits non-zero when the suite fails; the report is written anyway and
// says so, with the seed of every failed schedule.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	out := flag.String("out", "reliability-report.md", "markdown report to write")
	schedules := flag.Int("schedules", 200, "random fault schedules in the convergence suite")
	seed := flag.Uint64("seed", 1, "seed of the first schedule")
	cli := flag.Int("cli", 8, "schedules also driven through the CLI binary")
	storms := flag.Int("storms", 100, "throttling-storm schedules (a quarter of all calls throttled, one Region denied)")
	stormCLI := flag.Int("storm-cli", 2, "storm schedules also driven through the CLI binary, with real backoff")
	flag.Parse()
	abs, err := filepath.Abs(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "test", "-count=1", "-timeout", "30m", "./test/reliability/", "-v", "-args",
		"-reliability.report="+abs,
		fmt.Sprintf("-reliability.schedules=%d", *schedules),
		fmt.Sprintf("-reliability.seed=%d", *seed),
		fmt.Sprintf("-reliability.cli=%d", *cli),
		fmt.Sprintf("-reliability.storms=%d", *storms),
		fmt.Sprintf("-reliability.storm-cli=%d", *stormCLI))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	runErr := cmd.Run()
	if _, err := os.Stat(abs); err != nil {
		fmt.Fprintf(os.Stderr, "report: the suite wrote no report (%v): %v\n", runErr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s\n", abs)
	if runErr != nil {
		fmt.Fprintf(os.Stderr, "report: the reliability suite failed: %v\n", runErr)
		os.Exit(1)
	}
}
