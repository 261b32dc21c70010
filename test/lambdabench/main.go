// Command lambdabench measures the Lambda front end (make bench) and writes
// a markdown report:
//
//   - binary size of the deployment build (stripped: -trimpath
//     -ldflags="-s -w", CGO_ENABLED=0, -tags lambda.norpc) for arm64 and
//     amd64;
//   - cold start: process start to the first GET .../invocation/next at the
//     Lambda Runtime API stand-in (test/lambdart), over several launches;
//     goal under 50 ms;
//   - handler overhead per invocation: the stand-in's delivery-to-answer
//     time minus the engine time the handler logs (engineMs), over N
//     report-only invocations against a compliant account, plus the full
//     time of invocations that never reach the engine (a rejected event, an
//     own-role event);
//   - peak RSS (VmHWM) of the function process after a full healing run and
//     the N invocations; goal under 64 MB (fits a 128 MB function).
//
// Everything runs against a moto_server it starts itself, with dummy
// credentials. Times depend on the machine; the report says which.
//
// Usage: go run ./test/lambdabench -out lambda-bench.md [-n 20] [-launches 10]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/watchkeeper/watchkeeper/test/lambdart"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const (
	region   = "us-east-1"
	selfRole = "arn:aws:iam::123456789012:role/service/watchkeeper-remediator-role"
	// Goals from issue #4.
	goalColdStart = 50 * time.Millisecond
	goalRSS       = 64 << 20
)

func main() {
	out := flag.String("out", "lambda-bench.md", "markdown report to write (- for stdout)")
	n := flag.Int("n", 20, "report-only invocations to average handler overhead over")
	launches := flag.Int("launches", 10, "process launches to measure cold start over")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	md, err := run(ctx, *n, *launches)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(1)
	}
	if *out == "-" {
		fmt.Print(md)
		return
	}
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(1)
	}
	fmt.Print(md)
}

type row struct{ metric, value, goal, verdict string }

func run(ctx context.Context, n, launches int) (string, error) {
	tmp, err := os.MkdirTemp("", "watchkeeper-lambdabench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	var rows []row

	// Binary sizes, as deployed.
	bins := map[string]string{}
	for _, arch := range []string{"arm64", "amd64"} {
		bin := filepath.Join(tmp, "bootstrap-"+arch)
		if err := lambdart.Build(ctx, bin, lambdart.BuildOptions{GOARCH: arch, Stripped: true}); err != nil {
			return "", err
		}
		st, err := os.Stat(bin)
		if err != nil {
			return "", err
		}
		bins[arch] = bin
		rows = append(rows, row{"binary size, linux/" + arch + ", stripped", fmt.Sprintf("%.2f MiB (%d bytes)", float64(st.Size())/(1<<20), st.Size()), "", ""})
	}
	host, ok := bins[runtime.GOARCH]
	if !ok {
		host = filepath.Join(tmp, "bootstrap-host")
		if err := lambdart.Build(ctx, host, lambdart.BuildOptions{Stripped: true}); err != nil {
			return "", err
		}
	}

	srv, err := moto.Launch(filepath.Join(tmp, "moto.log"))
	if err != nil {
		return "", err
	}
	defer srv.Stop()
	cfg := func(r string) aws.Config { return moto.Config(srv.URL, r) }
	if _, err := world.New(cfg).Trail(ctx, world.TrailSpec{Name: world.DefaultTrailName, HomeRegion: region, LogGroupName: world.DefaultLogGroupName}); err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	env := append(moto.Env(os.Environ(), srv.URL, region),
		"WATCHKEEPER_REGIONS="+region, "WATCHKEEPER_SUBSCRIPTIONS=email:security@example.com",
		"WATCHKEEPER_SELF_ROLE_ARN="+selfRole, "LOG_LEVEL=INFO")

	// Cold start over several launches.
	var colds []time.Duration
	for i := 0; i < launches; i++ {
		p, err := lambdart.Launch(host, env)
		if err != nil {
			return "", err
		}
		d, err := p.ColdStart(ctx)
		p.Stop()
		if err != nil {
			return "", err
		}
		colds = append(colds, d)
	}
	slices.Sort(colds)
	med := colds[len(colds)/2]
	rows = append(rows, row{fmt.Sprintf("cold start (process start → first next), median of %d", launches), ms(med), "< 50 ms", verdict(med < goalColdStart)},
		row{"cold start, min / max", ms(colds[0]) + " / " + ms(colds[len(colds)-1]), "", ""})

	// One process for the rest: a full healing run, then N report-only runs.
	p, err := lambdart.Launch(host, env)
	if err != nil {
		return "", err
	}
	defer p.Stop()
	if _, err := p.ColdStart(ctx); err != nil {
		return "", err
	}
	root, err := lambdart.ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	scheduled, err := os.ReadFile(filepath.Join(root, "pkg", "trigger", "testdata", "events", "scheduled.json"))
	if err != nil {
		return "", err
	}
	full, err := p.Do(ctx, lambdart.Request{Payload: scheduled})
	if err != nil || full.Error != nil {
		return "", fmt.Errorf("healing run: %v %+v", err, full.Error)
	}
	var healed struct{ Actions []json.RawMessage }
	if err := json.Unmarshal(full.Response, &healed); err != nil {
		return "", fmt.Errorf("healing run response: %w", err)
	}
	rows = append(rows, row{fmt.Sprintf("full healing run of a drifted account (%d actions, moto)", len(healed.Actions)), ms(full.Duration()), "", ""})

	var overheads, totals []time.Duration
	for i := 0; i < n; i++ {
		lines := len(p.Stderr.Lines())
		res, err := p.Do(ctx, lambdart.Request{Payload: []byte(`{"mode":"report"}`)})
		if err != nil || res.Error != nil {
			return "", fmt.Errorf("report run %d: %v %+v", i, err, res.Error)
		}
		engine, err := engineTime(p, lines)
		if err != nil {
			return "", err
		}
		totals = append(totals, res.Duration())
		overheads = append(overheads, res.Duration()-engine)
	}
	slices.Sort(overheads)
	slices.Sort(totals)
	rows = append(rows,
		row{fmt.Sprintf("report-only invocation of a compliant account, median of %d", n), ms(totals[n/2]), "", ""},
		row{"handler overhead per invocation (invocation − engine), median", ms(overheads[n/2]), "", ""},
		row{"handler overhead per invocation, max", ms(overheads[n-1]), "", ""})

	for _, c := range []struct{ name, payload string }{
		{"rejected event (malformed JSON): full invocation", `{"detail-type":`},
		{"own-role event (loop guard skip): full invocation", string(mustRead(root, "self-put-metric-filter.json"))},
	} {
		var ds []time.Duration
		for i := 0; i < n; i++ {
			res, err := p.Do(ctx, lambdart.Request{Payload: []byte(c.payload)})
			if err != nil {
				return "", err
			}
			ds = append(ds, res.Duration())
		}
		slices.Sort(ds)
		rows = append(rows, row{c.name + ", median", ms(ds[n/2]), "", ""})
	}

	rss, err := p.PeakRSS()
	if err != nil {
		return "", err
	}
	rows = append(rows, row{"peak RSS (VmHWM) after all of the above", fmt.Sprintf("%.1f MiB", float64(rss)/(1<<20)), "< 64 MB", verdict(rss < goalRSS)})

	var b strings.Builder
	fmt.Fprintf(&b, "# Lambda front end: cold start, overhead, size, memory\n\n")
	fmt.Fprintf(&b, "Measured %s on %s/%s, %d CPUs (shared machine: times are indicative), against moto_server.\n\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintln(&b, "| Metric | Value | Goal | |")
	fmt.Fprintln(&b, "|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.metric, r.value, r.goal, r.verdict)
	}
	fmt.Fprintln(&b, "\nCold start is the time from starting the bootstrap process to its first request for an event at the")
	fmt.Fprintln(&b, "Runtime API stand-in: configuration parsed and validated, AWS configuration loaded, engines built.")
	fmt.Fprintln(&b, "Handler overhead is everything the invocation costs beyond the engine's own run: Runtime API round")
	fmt.Fprintln(&b, "trip, event decoding, logging, EMF output, report encoding.")
	return b.String(), nil
}

// engineTime reads engineMs from the "run finished" log line written after
// line index from.
func engineTime(p *lambdart.Process, from int) (time.Duration, error) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		lines := p.Stderr.Lines()
		for _, l := range lines[min(from, len(lines)):] {
			var rec struct {
				Msg      string  `json:"msg"`
				EngineMs float64 `json:"engineMs"`
			}
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "run finished" {
				return time.Duration(rec.EngineMs * float64(time.Millisecond)), nil
			}
		}
	}
	return 0, fmt.Errorf("no \"run finished\" log line with engineMs")
}

func mustRead(root, name string) []byte {
	b, err := os.ReadFile(filepath.Join(root, "pkg", "trigger", "testdata", "events", name))
	if err != nil {
		panic(err)
	}
	return b
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func verdict(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}
