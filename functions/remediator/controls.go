package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

const controlsUsage = `Usage: remediator controls [flags]

List the monitoring controls of a CIS AWS Foundations Benchmark version:
number, Security Hub id, metric name, title and the filter pattern
Watchkeeper writes, with warnings where the benchmark's own text is
questionable.

Flags:
`

// controlView is one control as "remediator controls --output json" prints
// it. FilterPattern is the pattern written under the chosen profile.
type controlView struct {
	ID               string            `json:"id"`
	Key              string            `json:"key"`
	SecurityHubID    string            `json:"securityHubId"`
	Title            string            `json:"title"`
	FilterPattern    string            `json:"filterPattern"`
	PatternProfile   catalog.Profile   `json:"patternProfile"`
	MetricName       string            `json:"metricName"`
	Events           []catalog.Event   `json:"events"`
	AcceptedVariants []catalog.Variant `json:"acceptedVariants"`
	Warnings         []string          `json:"warnings"`
	Resolution       string            `json:"resolution,omitempty"`
}

// runControls implements "remediator controls".
func runControls(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("controls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	benchmark := fs.String("benchmark", catalog.DefaultBenchmark, "benchmark id: "+strings.Join(catalog.IDs(), ", "))
	profile := fs.String("pattern-profile", string(catalog.ProfileBenchmark), "pattern written: benchmark (the version's text) or securityhub (Security Hub's exact strings)")
	output := fs.String("output", "text", "output format: json or text")
	wide := fs.Bool("wide", false, "text output: also print each filter pattern, warning and resolution")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), controlsUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitCompliant
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "remediator controls: unexpected argument %q\n", fs.Arg(0))
		return exitError
	}
	b, err := catalog.Lookup(*benchmark)
	if err != nil {
		fmt.Fprintf(stderr, "remediator controls: %v\n", err)
		return exitError
	}
	p, err := catalog.ParseProfile(*profile)
	if err != nil {
		fmt.Fprintf(stderr, "remediator controls: %v\n", err)
		return exitError
	}
	views := make([]controlView, len(b.Controls))
	for i, c := range b.Controls {
		views[i] = controlView{
			ID: c.ID, Key: c.Key, SecurityHubID: c.SecurityHubID, Title: c.Title,
			FilterPattern: c.PatternFor(p), PatternProfile: p, MetricName: c.MetricName,
			Events: nonNil(c.Events), AcceptedVariants: nonNil(c.Accepted), Warnings: nonNil(c.Warnings),
			Resolution: c.Resolution,
		}
	}
	switch *output {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // patterns contain && and >; keep them readable
		if err := enc.Encode(views); err != nil {
			fmt.Fprintf(stderr, "remediator controls: write output: %v\n", err)
			return exitError
		}
	case "text":
		if err := writeControlsText(stdout, b, p, views, *wide); err != nil {
			fmt.Fprintf(stderr, "remediator controls: write output: %v\n", err)
			return exitError
		}
	default:
		fmt.Fprintf(stderr, "remediator controls: unknown output %q (supported: json, text)\n", *output)
		return exitError
	}
	return exitCompliant
}

// writeControlsText prints an aligned table, then the warnings; with wide it
// prints each control's pattern, warnings and resolution after the table.
func writeControlsText(w io.Writer, b catalog.Benchmark, p catalog.Profile, views []controlView, wide bool) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s (CIS AWS Foundations Benchmark v%s, section %s), pattern profile %s\n\n", b.ID, b.Version, b.Section, p)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSECURITY HUB\tMETRIC\tTITLE")
	for _, v := range views {
		sh := v.SecurityHubID
		if sh == "" {
			sh = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.ID, sh, v.MetricName, v.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if wide {
		for _, v := range views {
			fmt.Fprintf(ew, "\n%s %s\n  pattern:    %s\n", v.ID, v.Key, v.FilterPattern)
			for _, warn := range v.Warnings {
				fmt.Fprintf(ew, "  warning:    %s\n", warn)
			}
			if v.Resolution != "" {
				fmt.Fprintf(ew, "  resolution: %s\n", v.Resolution)
			}
		}
		return ew.err
	}
	if warnings := b.Warnings(); len(warnings) > 0 {
		fmt.Fprintln(ew, "\nWarnings:")
		for _, warn := range warnings {
			fmt.Fprintf(ew, "  %s\n", warn)
		}
	}
	fmt.Fprintln(ew, "\nRun with --wide for the filter patterns, or --output json for everything.")
	return ew.err
}

// errWriter remembers the first write error, so a table of many small
// writes is checked once.
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

// nonNil makes empty lists print as [] rather than null in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
