// Command fixturedemo shows what the catalog means in practice: it prints a
// benchmark's monitoring controls and evaluates every CloudTrail fixture in
// pkg/catalog/testdata/events against the pattern Watchkeeper writes for
// each control, printing one row per fixture (control, fixture, expected,
// got, ✓/✗). It exits 1 on any mismatch, so "make demo" fails loudly if the
// catalog and the filter-pattern engine disagree with the fixtures.
//
//	go run ./test/fixturedemo [--benchmark cis-aws-v3.0.0] [--pattern-profile benchmark|securityhub] [--all] [--testdata DIR]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/catalog/catalogtest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fixturedemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	benchmark := fs.String("benchmark", catalog.DefaultBenchmark, "benchmark id: "+strings.Join(catalog.IDs(), ", "))
	profile := fs.String("pattern-profile", string(catalog.ProfileBenchmark), "pattern profile: benchmark or securityhub")
	all := fs.Bool("all", false, "evaluate every benchmark under every profile and print only the summary lines")
	dir := fs.String("testdata", catalogtest.Dir(), "fixture directory (pkg/catalog/testdata/events)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	fixtures, err := catalogtest.Load(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "fixturedemo: %v\n", err)
		return 1
	}
	if len(fixtures) == 0 {
		fmt.Fprintf(stderr, "fixturedemo: no fixtures in %s\n", *dir)
		return 1
	}
	if *all {
		failed := false
		for _, id := range catalog.IDs() {
			b, err := catalog.Lookup(id)
			if err != nil {
				fmt.Fprintf(stderr, "fixturedemo: %v\n", err)
				return 1
			}
			for _, p := range catalog.Profiles() {
				results := catalogtest.Evaluate(b, p, fixtures)
				bad := mismatches(results)
				fmt.Fprintf(stdout, "%-16s %-12s %4d evaluations, %d mismatches\n", id, p, len(results), len(bad))
				for _, r := range bad {
					fmt.Fprintf(stdout, "  ✗ %s %s %s\n", r.Control, r.Fixture, describe(r))
				}
				failed = failed || len(bad) > 0
			}
		}
		if failed {
			return 1
		}
		return 0
	}
	b, err := catalog.Lookup(*benchmark)
	if err != nil {
		fmt.Fprintf(stderr, "fixturedemo: %v\n", err)
		return 1
	}
	p, err := catalog.ParseProfile(*profile)
	if err != nil {
		fmt.Fprintf(stderr, "fixturedemo: %v\n", err)
		return 1
	}
	results := catalogtest.Evaluate(b, p, fixtures)
	if err := report(stdout, b, p, results); err != nil {
		fmt.Fprintf(stderr, "fixturedemo: write output: %v\n", err)
		return 1
	}
	if len(mismatches(results)) > 0 {
		return 1
	}
	return 0
}

func mismatches(rs []catalogtest.Result) []catalogtest.Result {
	var out []catalogtest.Result
	for _, r := range rs {
		if !r.OK() {
			out = append(out, r)
		}
	}
	return out
}

func describe(r catalogtest.Result) string {
	what := "written pattern"
	if r.Variant != "" {
		what = "accepted variant: " + r.Variant
	}
	if r.Err != nil {
		return fmt.Sprintf("(%s) error: %v", what, r.Err)
	}
	return fmt.Sprintf("(%s) expected %s, got %s", what, verdict(r.Want), verdict(r.Got))
}

func verdict(b bool) string {
	if b {
		return "match"
	}
	return "no match"
}

// report prints the catalog, then one table per control.
func report(w io.Writer, b catalog.Benchmark, p catalog.Profile, results []catalogtest.Result) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s (CIS AWS Foundations Benchmark v%s), pattern profile %s\n\n", b.ID, b.Version, p)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tSECURITY HUB\tMETRIC\tTITLE")
	for _, c := range b.Controls {
		sh := c.SecurityHubID
		if sh == "" {
			sh = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, sh, c.MetricName, c.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	byControl := map[string][]catalogtest.Result{}
	for _, r := range results {
		byControl[r.Control] = append(byControl[r.Control], r)
	}
	total, bad := 0, 0
	for _, c := range b.Controls {
		fmt.Fprintf(ew, "\n%s %s\n  pattern: %s\n", c.ID, c.Key, c.PatternFor(p))
		for _, warn := range c.Warnings {
			fmt.Fprintf(ew, "  warning: %s\n", warn)
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CONTROL\tFIXTURE\tAGAINST\tEXPECTED\tGOT\tOK\tWHY")
		for _, r := range byControl[c.ID] {
			against := "written"
			if r.Variant != "" {
				against = "variant: " + r.Variant
			}
			mark := "✓"
			got := verdict(r.Got)
			if r.Err != nil {
				got = "error: " + r.Err.Error()
			}
			if !r.OK() {
				mark = "✗"
				bad++
			}
			total++
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Control, r.Fixture, against, verdict(r.Want), got, mark, r.Why)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(ew, "\n%d evaluations, %d as expected, %d mismatches\n", total, total-bad, bad)
	return ew.err
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
