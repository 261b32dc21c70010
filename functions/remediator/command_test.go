package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/engine"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// TestEngineFlagErrors checks that every bad command line exits 1 before
// any AWS call, with a message on stderr that names the problem, and
// prints nothing on stdout (which scripts parse as the report).
func TestEngineFlagErrors(t *testing.T) {
	// Point the SDK at nothing: if validation let a case through, the run
	// would fail on credentials or the endpoint, with a different message.
	hermetic(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"bad healing level", []string{"audit", "--trail-healing", "bogus"}, []string{"trailHealing: ", `"bogus"`, "none, safe, full"}},
		{"unknown benchmark", []string{"plan", "--benchmark", "cis-aws-v9"}, []string{"benchmark: ", "cis-aws-v9", catalog.DefaultBenchmark}},
		{"unknown profile", []string{"plan", "--pattern-profile", "strict"}, []string{"patternProfile: ", "strict"}},
		{"unknown control excluded", []string{"apply", "--exclude", "4.3,4.99"}, []string{"excludedControls: ", `"4.99"`, "unknown control"}},
		{"control of another version excluded", []string{"audit", "--exclude", "3.1"}, []string{"excludedControls: ", `"3.1"`}},
		{"bad output", []string{"audit", "--output", "yaml"}, []string{"--output", "yaml"}},
		{"subscription without protocol", []string{"apply", "--subscribe", "security@example.com"}, []string{"PROTOCOL:ENDPOINT"}},
		{"unknown subscription protocol", []string{"apply", "--subscribe", "ftp:host"}, []string{`"ftp"`}},
		{"bad region", []string{"audit", "--regions", "us-east-1,mars-1"}, []string{"regions: ", `"mars-1"`, "not an AWS Region name"}},
		{"duplicate region", []string{"audit", "--regions", "us-east-1,us-east-1"}, []string{`regions: "us-east-1" is listed twice`}},
		{"bad home region", []string{"audit", "--home-region", "home"}, []string{"homeRegion: "}},
		{"log group without role", []string{"apply", "--trail-healing", "full", "--trail-log-group-arn", "arn:aws:logs:us-east-1:123456789012:log-group:ct"}, []string{"together"}},
		{"log group not an ARN", []string{"apply", "--trail-log-group-arn", "ct", "--trail-logs-role-arn", "arn:aws:iam::123456789012:role/r"}, []string{"trailLogGroupArn: ", "not a CloudWatch Logs log group ARN"}},
		{"negative timeout", []string{"audit", "--timeout", "-1s"}, []string{"--timeout"}},
		{"bad namespace", []string{"audit", "--namespace", "AWS/Logs"}, []string{"namespace: ", "reserved"}},
		{"duplicate subscription, any case", []string{"apply", "--subscribe", "email:a@example.com", "--subscribe", "EMAIL:a@example.com"}, []string{"subscriptions: ", "listed twice"}},
		{"unknown flag", []string{"audit", "--dry-run"}, []string{"dry-run"}},
		{"positional argument", []string{"plan", "us-east-1"}, []string{"unexpected argument", "us-east-1"}},
		{"several problems at once", []string{"audit", "--trail-healing", "x", "--output", "y"}, []string{"trailHealing: ", "--output"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runCLI(tc.args, &stdout, &stderr)
			if code != exitError {
				t.Fatalf("runCLI(%q) = %d, want %d; stderr:\n%s", tc.args, code, exitError, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not mention %q:\n%s", w, stderr.String())
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing on error", stdout.String())
			}
		})
	}
}

// hermetic clears the AWS environment so no test can reach a real account.
func hermetic(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens there
}

func TestEngineNoRegion(t *testing.T) {
	hermetic(t)
	var stdout, stderr bytes.Buffer
	if code := runCLI([]string{"audit"}, &stdout, &stderr); code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr.String(), "--home-region") || !strings.Contains(stderr.String(), "AWS_REGION") {
		t.Errorf("stderr does not say how to set a region:\n%s", stderr.String())
	}
}

func TestEngineHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runCLI([]string{"plan", "--help"}, &stdout, &stderr); code != exitCompliant {
		t.Fatalf("plan --help: exit %d, want %d", code, exitCompliant)
	}
	for _, f := range []string{"-benchmark", "-pattern-profile", "-regions", "-home-region", "-namespace", "-topic-name", "-topic-kms-key",
		"-subscribe", "-exclude", "-trail-healing", "-trail-name", "-trail-log-group-arn", "-trail-logs-role-arn", "-output", "-timeout"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("help does not list %s", f)
		}
	}
}

// TestEngineOptions checks how flags become engine options.
func TestEngineOptions(t *testing.T) {
	v120, err := catalog.Lookup("cis-aws-v1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mode string
		args []string
		want engine.Options
	}{
		{
			name: "defaults",
			mode: "audit",
			want: engine.Options{Mode: "audit", Plan: plan.Options{
				Benchmark: catalog.Default(), Profile: catalog.ProfileBenchmark, Namespace: plan.DefaultNamespace,
				TopicName: "watchkeeper-cis-alarms", TrailHealing: plan.HealSafe,
			}},
		},
		{
			name: "everything",
			mode: "apply",
			args: []string{
				"--benchmark", "cis-aws-v1.2.0", "--pattern-profile", "securityhub", "--regions", "eu-west-1, us-east-1",
				"--home-region", "eu-west-1", "--namespace", "Sec", "--topic-name", "alerts", "--topic-kms-key", "alias/alerts",
				"--subscribe", "email:a@example.com", "--subscribe", "https:https://hooks.example.com/x?a=b",
				"--exclude", "3.1, 3.2", "--trail-healing", "full", "--trail-name", "org",
				"--trail-log-group-arn", "arn:aws:logs:eu-west-1:123456789012:log-group:ct", "--trail-logs-role-arn", "arn:aws:iam::123456789012:role/ct",
				"--timeout", "2m",
			},
			want: engine.Options{
				Mode: "apply", Apply: true, Regions: []string{"eu-west-1", "us-east-1"}, RunTime: 2 * time.Minute,
				Plan: plan.Options{
					Benchmark: v120, Profile: catalog.ProfileSecurityHub, HomeRegion: "eu-west-1", Namespace: "Sec",
					TopicName: "alerts", TopicKMSKeyID: "alias/alerts",
					Subscriptions: []plan.Endpoint{{Protocol: "email", Endpoint: "a@example.com"}, {Protocol: "https", Endpoint: "https://hooks.example.com/x?a=b"}},
					Exclude:       []string{"3.1", "3.2"}, TrailHealing: plan.HealFull, TrailName: "org",
					TrailLogGroupARN: "arn:aws:logs:eu-west-1:123456789012:log-group:ct", TrailLogsRoleARN: "arn:aws:iam::123456789012:role/ct",
				},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f engineFlags
			fs := newEngineFlagSet(tc.mode, &f, new(bytes.Buffer))
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := f.options(tc.mode)
			if err != nil {
				t.Fatalf("options: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
			if tc.name == "everything" && f.timeout != 2*time.Minute {
				t.Errorf("timeout = %s, want 2m", f.timeout)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		compliant bool
		pending   int
		want      int
	}{
		{"audit", true, 0, exitCompliant},
		{"audit", true, 3, exitNonCompliant}, // compliant, but actions are pending
		{"audit", false, 0, exitNonCompliant},
		{"plan", true, 0, exitCompliant},
		{"plan", true, 1, exitNonCompliant}, // compliant, but something would change
		{"plan", false, 2, exitNonCompliant},
		{"apply", true, 0, exitCompliant},
		{"apply", true, 1, exitNonCompliant}, // did not converge
		{"apply", false, 0, exitNonCompliant},
	} {
		if got := exitCode(tc.compliant, tc.pending); got != tc.want {
			t.Errorf("exitCode(%s, compliant=%t, pending=%d) = %d, want %d", tc.mode, tc.compliant, tc.pending, got, tc.want)
		}
	}
}

// TestHelpDocumentsExitCodes: --help of each engine command and the
// top-level usage state the exit-code rules.
func TestHelpDocumentsExitCodes(t *testing.T) {
	for _, args := range [][]string{{"audit", "--help"}, {"plan", "--help"}, {"apply", "--help"}, {"--help"}} {
		var stdout, stderr strings.Builder
		if code := runCLI(args, &stdout, &stderr); code != exitCompliant {
			t.Errorf("%q: exit %d, want 0", args, code)
		}
		out := stdout.String() + stderr.String()
		for _, want := range []string{"Exit codes", "0  compliant and no action pending", "2  not compliant, or actions pending", "could not be evaluated", "1  could not evaluate at all"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q help lacks %q:\n%s", args, want, out)
			}
		}
	}
}
