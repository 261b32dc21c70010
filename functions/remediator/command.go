package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	wkconfig "github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/truncate"
)

// engineFlags are the parsed flags of "remediator audit|plan|apply".
type engineFlags struct {
	benchmark        string
	profile          string
	regions          string
	homeRegion       string
	namespace        string
	topicName        string
	topicKMSKey      string
	subscribe        subscriptions
	exclude          string
	trailHealing     string
	trailName        string
	trailLogGroupARN string
	trailLogsRoleARN string
	centralRoleARN   string
	organization     bool
	output           string
	findings         string
	// securityHub is the built --findings: import findings after the run.
	securityHub bool
	timeout     time.Duration
	verbose     bool
}

// subscriptions is the repeatable --subscribe flag: raw PROTOCOL:ENDPOINT
// items, checked by the configuration builder with the other fields.
type subscriptions []string

func (s *subscriptions) String() string { return strings.Join(*s, ",") }

func (s *subscriptions) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func newEngineFlagSet(mode string, f *engineFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("remediator "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.benchmark, "benchmark", catalog.DefaultBenchmark, "benchmark `id` ("+strings.Join(catalog.IDs(), ", ")+")")
	fs.StringVar(&f.profile, "pattern-profile", string(catalog.ProfileBenchmark), "pattern written into filters: benchmark or securityhub")
	fs.StringVar(&f.regions, "regions", "", "comma-separated `regions` to evaluate (default: every enabled region)")
	fs.StringVar(&f.homeRegion, "home-region", "", "`region` for the topic, filters and alarms when no trail decides it (default: the AWS configuration's region)")
	fs.StringVar(&f.namespace, "namespace", plan.DefaultNamespace, "metric `namespace` of the filters Watchkeeper writes")
	fs.StringVar(&f.topicName, "topic-name", plan.DefaultNamePrefix+plan.DefaultTopicSuffix, "SNS topic `name` the alarms notify")
	fs.StringVar(&f.topicKMSKey, "topic-kms-key", "", "KMS `key` id or ARN to encrypt a topic Watchkeeper creates")
	fs.Var(&f.subscribe, "subscribe", "`PROTOCOL:ENDPOINT` to subscribe to the topic (repeatable)")
	fs.StringVar(&f.exclude, "exclude", "", "comma-separated control `ids` to report EXCLUDED and never heal")
	fs.StringVar(&f.trailHealing, "trail-healing", string(plan.HealSafe), "how far trails may be changed: none, safe or full")
	fs.StringVar(&f.trailName, "trail-name", "", "trail `name` or ARN to target; the only trail changed when set")
	fs.StringVar(&f.trailLogGroupARN, "trail-log-group-arn", "", "log group `ARN` to attach to the trail under --trail-healing full")
	fs.StringVar(&f.trailLogsRoleARN, "trail-logs-role-arn", "", "IAM role `ARN` CloudTrail uses to deliver to that log group")
	fs.StringVar(&f.centralRoleARN, "central-role-arn", "", "read-only IAM role `ARN` in the organization trail owner's account; a member assumes it to judge the central chain (PASS/FAIL instead of CENTRAL)")
	fs.BoolVar(&f.organization, "organization", false, "list the organization's accounts and report which ones this account's organization trail covers (management account or delegated administrator)")
	fs.StringVar(&f.output, "output", "text", "output format: json, text or asff (one Security Hub finding per control)")
	fs.StringVar(&f.findings, "findings", string(wkconfig.FindingsNone), "also import one finding per control into the home Region's Security Hub: securityhub or none")
	fs.DurationVar(&f.timeout, "timeout", 0, "overall `deadline` for the run, e.g. 5m (default: none)")
	fs.BoolVar(&f.verbose, "v", false, "log progress to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: remediator %s [flags]\n\nFlags:\n", mode)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\n%s", exitHelp)
	}
	return fs
}

// options maps f onto the configuration builder (pkg/config), which
// checks every shared field the way the Lambda and the CDK app do, checks
// the CLI's own flags, and returns the engine options (everything but the
// home region's default, which needs the AWS configuration). Every problem
// is reported at once, so a user fixes their command line in one go.
func (f *engineFlags) options(mode string) (engine.Options, error) {
	cfg, err := wkconfig.Build(wkconfig.Input{
		Benchmark:        f.benchmark,
		PatternProfile:   f.profile,
		Namespace:        f.namespace,
		TopicName:        f.topicName,
		TopicKMSKey:      f.topicKMSKey,
		Subscriptions:    f.subscribe,
		Exclude:          wkconfig.List(f.exclude),
		HomeRegion:       f.homeRegion,
		Regions:          wkconfig.List(f.regions),
		TrailHealing:     f.trailHealing,
		TrailName:        f.trailName,
		TrailLogGroupARN: f.trailLogGroupARN,
		TrailLogsRoleARN: f.trailLogsRoleARN,
		CentralRoleARN:   f.centralRoleARN,
		Findings:         f.findings,
	})
	errs := []error{err}
	if f.output != "json" && f.output != "text" && f.output != "asff" {
		errs = append(errs, fmt.Errorf("--output: unknown format %q (supported: json, text, asff)", clip(f.output)))
	}
	if f.timeout < 0 {
		errs = append(errs, fmt.Errorf("--timeout: %s is negative", f.timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return engine.Options{}, err
	}
	f.securityHub = cfg.Findings == wkconfig.FindingsSecurityHub
	// --timeout sizes the SDK's retries (engine.Retryer); without one they
	// are sized for engine.DefaultRunTime, the Lambda's timeout.
	return engine.Options{Plan: cfg.PlanOptions(), Regions: cfg.Regions, Apply: mode == "apply", Mode: mode, RunTime: f.timeout,
		CentralRoleARN: cfg.CentralRoleARN, Organization: f.organization}, nil
}

// clip shortens a value quoted in an error.
func clip(s string) string { return truncate.String(s, 80) }

// runEngine implements "remediator audit|plan|apply".
//
// audit evaluates every control and region; plan also shows the actions that
// would heal the account; apply heals it and reports the state afterwards.
// Its exit codes are described once, in exitHelp.
func runEngine(mode string, args []string, stdout, stderr io.Writer) int {
	var f engineFlags
	fs := newEngineFlagSet(mode, &f, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitCompliant
		}
		return exitError // the flag package has printed the problem and usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "remediator %s: unexpected argument %q\n", mode, fs.Arg(0))
		return exitError
	}
	opts, err := f.options(mode)
	if err != nil {
		fmt.Fprintf(stderr, "remediator %s: %v\n", mode, err)
		return exitError
	}

	// Ctrl-C or SIGTERM cancels the run; apply then starts no new action
	// and the report still says what was done.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The standard chain: environment, shared config and credentials files,
	// SSO, IMDS; AWS_ENDPOINT_URL redirects every client (tests use moto).
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "remediator %s: load AWS configuration: %v\n", mode, err)
		return exitError
	}
	if opts.Plan.HomeRegion == "" && cfg.Region == "" {
		fmt.Fprintf(stderr, "remediator %s: no home region: pass --home-region or set AWS_REGION\n", mode)
		return exitError
	}
	eng, err := engine.New(cfg, opts)
	if err != nil {
		fmt.Fprintf(stderr, "remediator %s: %v\n", mode, err)
		return exitError
	}
	rep, runErr := eng.Run(ctx)
	if runErr != nil && len(rep.Actions) == 0 {
		fmt.Fprintf(stderr, "remediator %s: cannot evaluate the account: %v\n", mode, runErr)
		return exitError
	}
	if f.securityHub {
		importFindings(ctx, newSecurityHub(cfg), &rep, opts.Logger)
	}
	// A run that changed the account and then could not re-read it still
	// reports what it did, and then fails.
	switch f.output {
	case "json":
		err = rep.WriteJSON(stdout)
	case "asff":
		err = writeASFF(stdout, rep)
	default:
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "remediator %s: write report: %v\n", mode, err)
		return exitError
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "remediator %s: the report is not final: %v\n", mode, runErr)
		return exitError
	}
	// Regions that could not be evaluated make the run exit 2 (not 1: the
	// rest was evaluated); say which and why where a person looks.
	for _, g := range rep.Regions {
		if g.Status == plan.StatusError {
			fmt.Fprintf(stderr, "remediator %s: region %s could not be evaluated: %s\n", mode, g.Region, strings.Join(g.Reasons, "; "))
		}
	}
	return exitCode(rep.Compliant, len(rep.Pending()))
}

// exitCode maps a finished run to the process exit code.
func exitCode(compliant bool, pending int) int {
	switch {
	case !compliant:
		return exitNonCompliant
	case pending > 0:
		// audit and plan: something would change (a configured endpoint
		// not yet subscribed, say); apply: the account did not converge.
		return exitNonCompliant
	default:
		return exitCompliant
	}
}
