package cisaudit_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/test/cisaudit"
	"github.com/watchkeeper/watchkeeper/test/moto"
	"github.com/watchkeeper/watchkeeper/test/world"
)

const region = "us-east-1"

func TestPrescribed(t *testing.T) {
	v300, err := catalog.Lookup("cis-aws-v3.0.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v300.Controls {
		got := cisaudit.Prescribed(v300, c, catalog.ProfileBenchmark)
		if len(got) == 0 {
			t.Errorf("%s: no prescribed text", c.ID)
		}
		// v3.0.0 writes its own remediation text, so the audit must accept it.
		if !slices.Contains(got, c.PatternFor(catalog.ProfileBenchmark)) {
			t.Errorf("%s: written pattern %q not among the v3.0.0 texts %q", c.ID, c.PatternFor(catalog.ProfileBenchmark), got)
		}
		for _, v := range c.Accepted {
			if strings.HasPrefix(v.Source, "Security Hub") && !strings.Contains(v.Source, "v3.0.0") && slices.Contains(got, v.Pattern) {
				t.Errorf("%s: Security Hub-only text %q accepted under the benchmark profile", c.ID, v.Pattern)
			}
		}
	}
	// The grouped 4.1 form Watchkeeper writes for v1.3.0–v1.5.0 is not the
	// benchmark's text, so a literal audit must not accept it.
	v140, err := catalog.Lookup("cis-aws-v1.4.0")
	if err != nil {
		t.Skip("catalog has no v1.4.0")
	}
	c, _ := v140.Control("4.1")
	if w := c.PatternFor(catalog.ProfileBenchmark); slices.Contains(cisaudit.Prescribed(v140, c, catalog.ProfileBenchmark), w) {
		t.Errorf("v1.4.0 4.1: Watchkeeper's own resolution %q is accepted as the benchmark text", w)
	}
}

// TestAudit proves the oracle can both pass and fail: a compliant account
// passes every control; each way of breaking one step fails exactly the
// controls it should, with the step named.
func TestAudit(t *testing.T) {
	srv := moto.Start(t)
	b := catalog.Default()
	root, _ := b.Control("4.3")
	iam, _ := b.Control("4.4")
	env := moto.Env(os.Environ(), srv.URL, region)
	audit := func(t *testing.T) cisaudit.Report {
		t.Helper()
		rep, err := cisaudit.Run(t.Context(), b, cisaudit.Options{Env: env, Region: region})
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
		return rep
	}
	seed := func(t *testing.T) world.Account {
		t.Helper()
		srv.Reset(t)
		acct, err := world.New(srv.Config).Compliant(t.Context(), world.CompliantSpec{HomeRegion: region, Benchmark: b})
		if err != nil {
			t.Fatal(err)
		}
		return acct
	}
	ids := func(rs []cisaudit.Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	all := ids(func() []cisaudit.Result {
		var rs []cisaudit.Result
		for _, c := range b.Controls {
			rs = append(rs, cisaudit.Result{ID: c.ID})
		}
		return rs
	}())

	for _, tc := range []struct {
		name     string
		breakIt  func(t *testing.T, acct world.Account)
		wantFail []string
		wantWhy  map[string]string // by control id; "*" for every control
	}{
		{name: "compliant account passes"},
		{
			// One run, two controls broken at different steps.
			name: "re-spaced pattern and deleted alarm",
			breakIt: func(t *testing.T, acct world.Account) {
				logs := cloudwatchlogs.NewFromConfig(srv.Config(region))
				// moto 5.2.1 appends a second filter of the same name on
				// PutMetricFilter instead of updating it, as AWS does ("Creates
				// or updates a metric filter", CloudWatch Logs API reference,
				// PutMetricFilter); delete first to get AWS's result.
				if _, err := logs.DeleteMetricFilter(t.Context(), &cloudwatchlogs.DeleteMetricFilterInput{
					LogGroupName: aws.String(acct.Trail.LogGroupName), FilterName: aws.String(acct.Prefix + root.Key),
				}); err != nil {
					t.Fatal(err)
				}
				// The same pattern without spaces: equivalent, but not the text.
				_, err := logs.PutMetricFilter(t.Context(), &cloudwatchlogs.PutMetricFilterInput{
					LogGroupName:  aws.String(acct.Trail.LogGroupName),
					FilterName:    aws.String(acct.Prefix + root.Key),
					FilterPattern: aws.String(`{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType!="AwsServiceEvent"}`),
					MetricTransformations: []logtypes.MetricTransformation{{
						MetricName: aws.String(root.MetricName), MetricNamespace: aws.String(acct.Namespace), MetricValue: aws.String("1"),
					}},
				})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cloudwatch.NewFromConfig(srv.Config(region)).DeleteAlarms(t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{acct.Prefix + iam.Key}}); err != nil {
					t.Fatal(err)
				}
			},
			wantFail: []string{root.ID, iam.ID},
			wantWhy:  map[string]string{root.ID: "prescribed filterPattern", iam.ID: "no alarm"},
		},
		{
			name: "no subscriber",
			breakIt: func(t *testing.T, acct world.Account) {
				c := sns.NewFromConfig(srv.Config(region))
				subs, err := c.ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.TopicARN)})
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range subs.Subscriptions {
					if _, err := c.Unsubscribe(t.Context(), &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn}); err != nil {
						t.Fatal(err)
					}
				}
			},
			wantFail: all,
			wantWhy:  map[string]string{"*": "valid SubscriptionArn"},
		},
		{
			name: "logging stopped",
			breakIt: func(t *testing.T, acct world.Account) {
				if _, err := cloudtrail.NewFromConfig(srv.Config(region)).StopLogging(t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String(acct.Trail.Name)}); err != nil {
					t.Fatal(err)
				}
			},
			wantFail: all,
			wantWhy:  map[string]string{"*": "not logging"},
		},
		{
			name: "only advanced selectors (the text reads classic selectors only)",
			breakIt: func(t *testing.T, acct world.Account) {
				_, err := cloudtrail.NewFromConfig(srv.Config(region)).PutEventSelectors(t.Context(), &cloudtrail.PutEventSelectorsInput{
					TrailName: aws.String(acct.Trail.Name),
					AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
						Name:           aws.String("Management events"),
						FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}},
					}},
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			wantFail: all,
			wantWhy:  map[string]string{"*": "IncludeManagementEvents"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := seed(t)
			if tc.breakIt != nil {
				tc.breakIt(t, acct)
			}
			rep := audit(t)
			if len(rep.Results) != len(b.Controls) {
				t.Fatalf("%d results, want %d", len(rep.Results), len(b.Controls))
			}
			failed := rep.Failed()
			if got := ids(failed); !slices.Equal(got, tc.wantFail) {
				t.Errorf("failed controls %v, want %v", got, tc.wantFail)
			}
			for _, f := range failed {
				want, ok := tc.wantWhy[f.ID]
				if !ok {
					want = tc.wantWhy["*"]
				}
				if !strings.Contains(f.Why, want) {
					t.Errorf("control %s fails with %q, want it to mention %q", f.ID, f.Why, want)
				}
			}
			if rep.Commands == 0 {
				t.Error("the audit ran no aws command")
			}
			if tc.breakIt == nil {
				sameOutputEitherDriver(t, env, acct, root.MetricName)
			}
		})
	}
}

// sameOutputEitherDriver proves the one-session driver prints exactly what an
// `aws` process per command prints, for the command shapes the audit uses: a
// plain read, a --query (JMESPath) read and a failing command. The session
// runs them all, twice, as an audit runs its commands, so state one command
// leaves in the session (its shared model loader included) would show in a
// later one.
func sameOutputEitherDriver(t *testing.T, env []string, acct world.Account, metric string) {
	t.Helper()
	var commands [][]string
	for _, args := range [][]string{
		{"cloudtrail", "describe-trails"},
		{"logs", "describe-metric-filters", "--log-group-name", acct.Trail.LogGroupName},
		{"cloudwatch", "describe-alarms", "--query", "MetricAlarms[?MetricName == `" + metric + "`]"},
		{"sns", "list-subscriptions-by-topic", "--topic-arn", acct.TopicARN + "-gone"},
	} {
		commands = append(commands, append(args, "--region", region, "--output", "json"))
	}
	spawned, perrs := cisaudit.RunCommands(t.Context(), cisaudit.Options{Env: env, AWS: "aws"}, commands)
	session, serrs := cisaudit.RunCommands(t.Context(), cisaudit.Options{Env: env}, append(commands, commands...))
	for i := range session {
		j := i % len(commands)
		if string(session[i]) != string(spawned[j]) || (serrs[i] == nil) != (perrs[j] == nil) {
			t.Errorf("aws %v (round %d): session printed %q (error %v), aws printed %q (error %v)", commands[j], i/len(commands)+1, session[i], serrs[i], spawned[j], perrs[j])
		}
	}
}
