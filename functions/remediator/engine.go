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
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	wkconfig "github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
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
	output           string
	timeout          time.Duration
	verbose          bool
}

// subscriptions is the repeatable --subscribe flag.
type subscriptions []plan.Endpoint

func (s *subscriptions) String() string {
	parts := make([]string, len(*s))
	for i, e := range *s {
		parts[i] = e.Protocol + ":" + e.Endpoint
	}
	return strings.Join(parts, ",")
}

// Set parses PROTOCOL:ENDPOINT. The protocol is checked against the ones SNS
// Subscribe accepts (SNS API reference, Subscribe, "Protocol"), so a typo
// fails here rather than as an API error halfway through an apply.
func (s *subscriptions) Set(v string) error {
	proto, endpoint, ok := strings.Cut(v, ":")
	if !ok || proto == "" || endpoint == "" {
		return fmt.Errorf("%q is not PROTOCOL:ENDPOINT (e.g. email:security@example.com)", v)
	}
	switch proto {
	case "http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose":
	default:
		return fmt.Errorf("unknown subscription protocol %q (supported: http, https, email, email-json, sms, sqs, application, lambda, firehose)", proto)
	}
	if strings.IndexFunc(endpoint, unicode.IsControl) >= 0 {
		return fmt.Errorf("%q: endpoint contains control characters", v)
	}
	if err := wkconfig.CheckSubscription(proto, endpoint); err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	*s = append(*s, plan.Endpoint{Protocol: proto, Endpoint: endpoint})
	return nil
}

// regionName matches AWS region names (us-east-1, ap-southeast-4,
// us-gov-west-1, cn-north-1, eu-isoe-west-1).
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

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
	fs.StringVar(&f.trailName, "trail-name", "", "preferred trail `name` to target and heal")
	fs.StringVar(&f.trailLogGroupARN, "trail-log-group-arn", "", "log group `ARN` to attach to the trail under --trail-healing full")
	fs.StringVar(&f.trailLogsRoleARN, "trail-logs-role-arn", "", "IAM role `ARN` CloudTrail uses to deliver to that log group")
	fs.StringVar(&f.output, "output", "text", "output format: json or text")
	fs.DurationVar(&f.timeout, "timeout", 0, "overall `deadline` for the run, e.g. 5m (default: none)")
	fs.BoolVar(&f.verbose, "v", false, "log progress to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: remediator %s [flags]\n\nFlags:\n", mode)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\n%s", exitHelp)
	}
	return fs
}

// splitList splits a comma-separated flag value, trimming blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// options validates f and turns it into engine options (everything but the
// home region's default, which needs the AWS configuration). Every problem is
// reported at once, so a user fixes their command line in one go.
func (f *engineFlags) options(mode string) (engine.Options, error) {
	var errs []error
	bench, err := catalog.Lookup(f.benchmark)
	if err != nil {
		errs = append(errs, fmt.Errorf("--benchmark: %w", err))
	}
	profile, err := catalog.ParseProfile(f.profile)
	if err != nil {
		errs = append(errs, fmt.Errorf("--pattern-profile: %w", err))
	}
	healing, err := plan.ParseHealingLevel(f.trailHealing)
	if err != nil {
		errs = append(errs, fmt.Errorf("--trail-healing: %w", err))
	}
	if f.output != "json" && f.output != "text" {
		errs = append(errs, fmt.Errorf("--output: unknown format %q (supported: json, text)", f.output))
	}
	if f.timeout < 0 {
		errs = append(errs, fmt.Errorf("--timeout: %s is negative", f.timeout))
	}
	var regions []string
	if f.regions != "" {
		regions = splitList(f.regions)
		if len(regions) == 0 {
			errs = append(errs, errors.New("--regions: empty list"))
		}
		if len(regions) > wkconfig.MaxRegions {
			errs = append(errs, fmt.Errorf("--regions: %d regions; at most %d allowed", len(regions), wkconfig.MaxRegions))
			regions = nil
		}
		seen := map[string]bool{}
		for _, r := range regions {
			if !regionName.MatchString(r) {
				errs = append(errs, fmt.Errorf("--regions: %q is not a region name", r))
			} else if seen[r] {
				errs = append(errs, fmt.Errorf("--regions: %s listed twice", r))
			}
			seen[r] = true
		}
	}
	if f.homeRegion != "" && !regionName.MatchString(f.homeRegion) {
		errs = append(errs, fmt.Errorf("--home-region: %q is not a region name", f.homeRegion))
	}
	// Names and ARNs follow the Lambda's configuration rules (pkg/config),
	// so both front ends refuse what AWS could not hold before any write.
	for _, c := range []struct {
		flag, value string
		optional    bool
		check       func(string) error
	}{
		{"--namespace", f.namespace, false, wkconfig.CheckNamespace},
		{"--topic-name", f.topicName, false, wkconfig.CheckTopicName},
		{"--topic-kms-key", f.topicKMSKey, true, wkconfig.CheckKMSKey},
		{"--trail-name", f.trailName, true, wkconfig.CheckTrailName},
		{"--trail-log-group-arn", f.trailLogGroupARN, true, wkconfig.CheckLogGroupARN},
		{"--trail-logs-role-arn", f.trailLogsRoleARN, true, wkconfig.CheckRoleARN},
	} {
		if c.optional && c.value == "" {
			continue
		}
		if err := c.check(c.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.flag, err))
		}
	}
	exclude := splitList(f.exclude)
	if bench.ID != "" {
		for _, id := range exclude {
			if _, ok := bench.Control(id); !ok {
				errs = append(errs, fmt.Errorf("--exclude: %w %q in %s", catalog.ErrUnknownControl, id, bench.ID))
			}
		}
	}
	if (f.trailLogGroupARN == "") != (f.trailLogsRoleARN == "") {
		errs = append(errs, errors.New("--trail-log-group-arn and --trail-logs-role-arn must be given together"))
	}
	if err := errors.Join(errs...); err != nil {
		return engine.Options{}, err
	}
	return engine.Options{
		Plan: plan.Options{
			Benchmark:        bench,
			Profile:          profile,
			HomeRegion:       f.homeRegion,
			Namespace:        f.namespace,
			TopicName:        f.topicName,
			TopicKMSKeyID:    f.topicKMSKey,
			Subscriptions:    f.subscribe,
			Exclude:          exclude,
			TrailHealing:     healing,
			TrailName:        f.trailName,
			TrailLogGroupARN: f.trailLogGroupARN,
			TrailLogsRoleARN: f.trailLogsRoleARN,
		},
		Regions: regions,
		Apply:   mode == "apply",
		Mode:    mode,
	}, nil
}

// runEngine implements "remediator audit|plan|apply".
//
// audit evaluates every control and region; plan also shows the actions that
// would heal the account; apply heals it and reports the state afterwards.
// Exit codes (exitHelp): 0 compliant and no action pending (apply:
// compliant after applying), 2 not compliant or actions pending (audit
// too: a configured subscription not yet made is pending), or some region
// could not be evaluated (named on stderr), 1 the account could not be
// evaluated at all (bad flags, no credentials), or apply's changes could
// not be verified (engine.ErrUnverified), with the cause on stderr.
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
	// A run that changed the account and then could not re-read it still
	// reports what it did, and then fails.
	if f.output == "json" {
		err = rep.WriteJSON(stdout)
	} else {
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
