package catalog_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

var allIDs = []string{
	"cis-aws-v1.2.0", "cis-aws-v1.3.0", "cis-aws-v1.4.0", "cis-aws-v1.5.0", "cis-aws-v2.0.0",
	"cis-aws-v3.0.0", "cis-aws-v4.0.1", "cis-aws-v5.0.0", "cis-aws-v6.0.0", "cis-aws-v7.0.0",
}

func lookup(t *testing.T, id string) catalog.Benchmark {
	t.Helper()
	b, err := catalog.Lookup(id)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", id, err)
	}
	return b
}

func parse(t *testing.T, s string) *filterpattern.Pattern {
	t.Helper()
	p, err := filterpattern.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return p
}

func TestIDsAndDefault(t *testing.T) {
	if got := catalog.IDs(); !slices.Equal(got, allIDs) {
		t.Errorf("IDs() = %v, want %v", got, allIDs)
	}
	if got := catalog.Default().ID; got != "cis-aws-v3.0.0" {
		t.Errorf("Default().ID = %q, want cis-aws-v3.0.0", got)
	}
	for _, id := range allIDs {
		if b := lookup(t, id); b.ID != id || "cis-aws-v"+b.Version != id {
			t.Errorf("Lookup(%q) = ID %q version %q", id, b.ID, b.Version)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, id := range []string{"", "cis-aws-v4.0.0", "cis-aws-v3.0.0 ", "CIS-AWS-V3.0.0", "v3.0.0"} {
		_, err := catalog.Lookup(id)
		if !errors.Is(err, catalog.ErrUnknownBenchmark) {
			t.Errorf("Lookup(%q) error = %v, want ErrUnknownBenchmark", id, err)
			continue
		}
		for _, want := range allIDs {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Lookup(%q) error %q does not list %s", id, err, want)
			}
		}
	}
}

// TestNumbering transcribes the fact sheet's §1 table: the control number of
// every topic in every version ("" where the version lacks it).
func TestNumbering(t *testing.T) {
	type row struct {
		key, shID string
		ids       [10]string // in allIDs order
	}
	n := func(k int) [10]string {
		s := func(sec int) string { return fmt.Sprintf("%d.%d", sec, k) }
		return [10]string{s(3), s(4), s(4), s(4), s(4), s(4), s(4), s(4), s(5), s(5)}
	}
	rows := []row{
		{"unauthorized-api-calls", "CloudWatch.2", n(1)},
		{"console-signin-without-mfa", "CloudWatch.3", n(2)},
		{"root-account-usage", "CloudWatch.1", n(3)},
		{"iam-policy-changes", "CloudWatch.4", n(4)},
		{"cloudtrail-config-changes", "CloudWatch.5", n(5)},
		{"console-auth-failures", "CloudWatch.6", n(6)},
		{"cmk-disable-or-delete", "CloudWatch.7", n(7)},
		{"s3-bucket-policy-changes", "CloudWatch.8", n(8)},
		{"config-changes", "CloudWatch.9", n(9)},
		{"security-group-changes", "CloudWatch.10", n(10)},
		{"nacl-changes", "CloudWatch.11", n(11)},
		{"network-gateway-changes", "CloudWatch.12", n(12)},
		{"route-table-changes", "CloudWatch.13", n(13)},
		{"vpc-changes", "CloudWatch.14", n(14)},
		{"organizations-changes", "", [10]string{"", "4.15", "4.15", "4.15", "4.15", "4.15", "4.15", "4.15", "5.15", "5.15"}},
	}
	for i, id := range allIDs {
		b := lookup(t, id)
		var want []string
		for _, r := range rows {
			c, ok := b.ControlByKey(r.key)
			if r.ids[i] == "" {
				if ok {
					t.Errorf("%s has %s (%s); the fact sheet says it does not", id, r.key, c.ID)
				}
				continue
			}
			want = append(want, r.ids[i])
			if !ok {
				t.Errorf("%s lacks %s", id, r.key)
				continue
			}
			if c.ID != r.ids[i] || c.SecurityHubID != r.shID {
				t.Errorf("%s %s = %s/%q, want %s/%q", id, r.key, c.ID, c.SecurityHubID, r.ids[i], r.shID)
			}
		}
		var got []string
		for _, c := range b.Controls {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s control order = %v, want %v", id, got, want)
		}
		if wantSection := strings.Split(want[0], ".")[0]; b.Section != wantSection {
			t.Errorf("%s Section = %q, want %q", id, b.Section, wantSection)
		}
	}
}

var keys = []string{
	"unauthorized-api-calls", "console-signin-without-mfa", "root-account-usage", "iam-policy-changes",
	"cloudtrail-config-changes", "console-auth-failures", "cmk-disable-or-delete", "s3-bucket-policy-changes",
	"config-changes", "security-group-changes", "nacl-changes", "network-gateway-changes", "route-table-changes",
	"vpc-changes", "organizations-changes",
}

var metricNames = map[string]string{
	"unauthorized-api-calls": "UnauthorizedAPICalls", "console-signin-without-mfa": "ConsoleSignInWithoutMFA",
	"root-account-usage": "RootAccountUsage", "iam-policy-changes": "IAMPolicyChanges",
	"cloudtrail-config-changes": "CloudTrailConfigChanges", "console-auth-failures": "ConsoleAuthenticationFailures",
	"cmk-disable-or-delete": "DisableOrDeleteCMK", "s3-bucket-policy-changes": "S3BucketPolicyChanges",
	"config-changes": "AWSConfigChanges", "security-group-changes": "SecurityGroupChanges", "nacl-changes": "NACLChanges",
	"network-gateway-changes": "NetworkGatewayChanges", "route-table-changes": "RouteTableChanges",
	"vpc-changes": "VPCChanges", "organizations-changes": "OrganizationsChanges",
}

var eventSourceRE = regexp.MustCompile(`^[a-z0-9-]+\.amazonaws\.com$`)

func TestRequiredFields(t *testing.T) {
	for _, id := range allIDs {
		b := lookup(t, id)
		seen := map[string]bool{}
		for _, c := range b.Controls {
			where := id + " " + c.ID
			if !slices.Contains(keys, c.Key) {
				t.Errorf("%s: unknown key %q", where, c.Key)
			}
			if seen[c.Key] {
				t.Errorf("%s: duplicate key %q", where, c.Key)
			}
			seen[c.Key] = true
			if c.MetricName != metricNames[c.Key] {
				t.Errorf("%s: MetricName = %q, want %q", where, c.MetricName, metricNames[c.Key])
			}
			if !strings.HasPrefix(c.Title, "Ensure ") {
				t.Errorf("%s: Title = %q", where, c.Title)
			}
			oldStyle := b.Version < "2.0.0"
			if oldStyle != strings.Contains(c.Title, "log metric filter and alarm") {
				t.Errorf("%s: Title %q has the wrong wording for v%s", where, c.Title, b.Version)
			}
			if c.Pattern[catalog.ProfileBenchmark] == "" {
				t.Errorf("%s: no benchmark pattern", where)
			}
			if len(c.Accepted) == 0 {
				t.Errorf("%s: no accepted variants", where)
			}
			for _, v := range c.Accepted {
				if v.Pattern == "" || v.Source == "" {
					t.Errorf("%s: incomplete variant %+v", where, v)
				}
			}
			noEvents := c.Key == "unauthorized-api-calls" || c.Key == "root-account-usage"
			if noEvents != (len(c.Events) == 0) {
				t.Errorf("%s: Events = %v", where, c.Events)
			}
			for _, e := range c.Events {
				if !eventSourceRE.MatchString(e.Source) || e.Name == "" {
					t.Errorf("%s: bad event %+v", where, e)
				}
			}
			if c.Warnings != nil && len(c.Warnings) == 0 || slices.Contains(c.Warnings, "") {
				t.Errorf("%s: empty warning in %q", where, c.Warnings)
			}
		}
	}
}

// TestPatternsParse: every pattern the catalog writes or accepts is valid.
func TestPatternsParse(t *testing.T) {
	for _, id := range allIDs {
		for _, c := range lookup(t, id).Controls {
			for _, p := range catalog.Profiles() {
				if _, err := filterpattern.Parse(c.PatternFor(p)); err != nil {
					t.Errorf("%s %s %s: %v", id, c.ID, p, err)
				}
			}
			for _, v := range c.Accepted {
				if _, err := filterpattern.Parse(v.Pattern); err != nil {
					t.Errorf("%s %s %s: %v", id, c.ID, v.Source, err)
				}
			}
		}
	}
}

// accepts is the acceptance rule the catalog documents: a pattern satisfies
// a control when it is equivalent to, or covers, one of its variants.
func accepts(t *testing.T, c catalog.Control, s string) bool {
	p := parse(t, s)
	for _, v := range c.Accepted {
		if vp := parse(t, v.Pattern); filterpattern.Equivalent(p, vp) || filterpattern.Covers(p, vp) {
			return true
		}
	}
	return false
}

// TestWrittenPatternsAreAccepted: what Watchkeeper writes must pass its own
// audit, under every profile.
func TestWrittenPatternsAreAccepted(t *testing.T) {
	for _, id := range allIDs {
		for _, c := range lookup(t, id).Controls {
			for _, p := range catalog.Profiles() {
				if !accepts(t, c, c.PatternFor(p)) {
					t.Errorf("%s %s: the %s pattern is not accepted: %s", id, c.ID, p, c.PatternFor(p))
				}
			}
		}
	}
}

// TestNothingWrittenSilently: the benchmark profile writes the version's
// remediation text, or a control says in Warnings why not.
func TestNothingWrittenSilently(t *testing.T) {
	for _, id := range allIDs {
		for _, c := range lookup(t, id).Controls {
			w := parse(t, c.PatternFor(catalog.ProfileBenchmark))
			remediation := false
			for _, v := range c.Accepted {
				if strings.Contains(v.Source, "remediation") && filterpattern.Equivalent(w, parse(t, v.Pattern)) {
					remediation = true
				}
			}
			if !remediation && len(c.Warnings) == 0 {
				t.Errorf("%s %s writes %s, which is not the remediation text, without a warning", id, c.ID, w)
			}
		}
	}
}

// benign is a successful read by a role: no monitoring control should fire.
const benign = `{"eventVersion":"1.10","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:ci","arn":"arn:aws:sts::111122223333:assumed-role/ci/ci","accountId":"111122223333"},` +
	`"eventTime":"2026-11-20T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"eu-west-1",` +
	`"sourceIPAddress":"203.0.113.9","userAgent":"aws-sdk-go-v2/1.32.4","requestParameters":{"instancesSet":{},"filterSet":{}},` +
	`"responseElements":null,"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`

// TestNoWrittenPatternAlertsOnBenignEvents checks the warning requirement
// from the other side: no written pattern matches a benign read, and an
// accepted variant that does is covered by a warning.
func TestNoWrittenPatternAlertsOnBenignEvents(t *testing.T) {
	sawNoisy := false
	for _, id := range allIDs {
		for _, c := range lookup(t, id).Controls {
			for _, p := range catalog.Profiles() {
				if got, err := parse(t, c.PatternFor(p)).Match([]byte(benign)); err != nil || got {
					t.Errorf("%s %s %s pattern matches a benign read (err %v)", id, c.ID, p, err)
				}
			}
			for _, v := range c.Accepted {
				got, err := parse(t, v.Pattern).Match([]byte(benign))
				if err != nil {
					t.Fatal(err)
				}
				if got {
					sawNoisy = true
					if !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "almost every") }) {
						t.Errorf("%s %s accepts noisy %q without an \"almost every\" warning", id, c.ID, v.Source)
					}
				}
			}
		}
	}
	if !sawNoisy {
		t.Error("no accepted variant matched the benign event; the v1.3.0-v1.5.0 4.1 literal text should")
	}
}

// TestSecurityHubProfile: the securityhub profile writes the Security Hub
// string where one exists and satisfies the version, else the benchmark text.
func TestSecurityHubProfile(t *testing.T) {
	for _, id := range allIDs {
		b := lookup(t, id)
		for _, c := range b.Controls {
			sh, bm := c.PatternFor(catalog.ProfileSecurityHub), c.PatternFor(catalog.ProfileBenchmark)
			shVariant := slices.IndexFunc(c.Accepted, func(v catalog.Variant) bool {
				return c.SecurityHubID != "" && strings.Contains(v.Source, "Security Hub "+c.SecurityHubID) && v.Pattern == sh
			})
			mismatch := c.Key == "security-group-changes" && b.Version >= "5.0.0"
			switch {
			case c.SecurityHubID == "" || mismatch:
				if sh != bm {
					t.Errorf("%s %s: securityhub profile writes %q, want the benchmark text", id, c.ID, sh)
				}
				if mismatch && !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "CloudWatch.10") }) {
					t.Errorf("%s %s: no warning that CloudWatch.10 may fail", id, c.ID)
				}
				if shVariant >= 0 {
					t.Errorf("%s %s accepts the Security Hub string although it does not satisfy the version", id, c.ID)
				}
			default:
				if shVariant < 0 {
					t.Errorf("%s %s: securityhub profile writes %q, which is not the accepted Security Hub %s string", id, c.ID, sh, c.SecurityHubID)
				}
			}
		}
	}
}

// TestPatternRelations pins down how the texts relate, as decided by the
// filter-pattern engine.
func TestPatternRelations(t *testing.T) {
	const (
		a = `($.errorCode = "*UnauthorizedOperation")`
		b = `($.errorCode = "AccessDenied*")`
		c = `($.sourceIPAddress != "delivery.logs.amazonaws.com")`
		d = `($.eventName != "HeadBucket")`
	)
	variant := func(t *testing.T, id, key, source string) string {
		ctl, ok := lookup(t, id).ControlByKey(key)
		if !ok {
			t.Fatalf("%s lacks %s", id, key)
		}
		for _, v := range ctl.Accepted {
			if strings.Contains(v.Source, source) {
				return v.Pattern
			}
		}
		t.Fatalf("%s %s has no variant %q", id, key, source)
		return ""
	}
	written := func(t *testing.T, id, key string, p catalog.Profile) string {
		ctl, ok := lookup(t, id).ControlByKey(key)
		if !ok {
			t.Fatalf("%s lacks %s", id, key)
		}
		return ctl.PatternFor(p)
	}
	type relation struct {
		name                           string
		x, y                           func(t *testing.T) string
		equivalent, xCoversY, yCoversX bool
	}
	tests := []relation{
		{
			name: "v2.0.0+ 4.1 text binds && before ||",
			x: func(t *testing.T) string {
				return written(t, "cis-aws-v3.0.0", "unauthorized-api-calls", catalog.ProfileBenchmark)
			},
			y:          func(*testing.T) string { return "{" + a + " || (" + b + " && " + c + " && " + d + ")}" },
			equivalent: true, xCoversY: true, yCoversX: true,
		},
		{
			name: "v2.0.0+ 4.1 text is broader than the grouped intent",
			x: func(t *testing.T) string {
				return written(t, "cis-aws-v3.0.0", "unauthorized-api-calls", catalog.ProfileBenchmark)
			},
			y: func(t *testing.T) string {
				return variant(t, "cis-aws-v3.0.0", "unauthorized-api-calls", "explicitly grouped")
			},
			xCoversY: true,
		},
		{
			name: "v1.3.0 literal 4.1 text covers what Watchkeeper writes",
			x: func(t *testing.T) string {
				return variant(t, "cis-aws-v1.3.0", "unauthorized-api-calls", "v1.3.0 audit and remediation")
			},
			y: func(t *testing.T) string {
				return written(t, "cis-aws-v1.3.0", "unauthorized-api-calls", catalog.ProfileBenchmark)
			},
			xCoversY: true,
		},
		{
			name: "Security Hub CloudWatch.2 covers the v1.4.0 written form",
			x: func(t *testing.T) string {
				return written(t, "cis-aws-v1.4.0", "unauthorized-api-calls", catalog.ProfileSecurityHub)
			},
			y: func(t *testing.T) string {
				return written(t, "cis-aws-v1.4.0", "unauthorized-api-calls", catalog.ProfileBenchmark)
			},
			xCoversY: true,
		},
		{
			name: "4.13 remediation covers the v3.0.0 audit text, not vice versa",
			x: func(t *testing.T) string {
				return variant(t, "cis-aws-v3.0.0", "route-table-changes", "v3.0.0 remediation")
			},
			y:        func(t *testing.T) string { return variant(t, "cis-aws-v3.0.0", "route-table-changes", "v3.0.0 audit") },
			xCoversY: true,
		},
		{
			name:       "4.13 v3.0.0 audit (irregular spacing) equals the v4.0.1 audit text",
			x:          func(t *testing.T) string { return variant(t, "cis-aws-v3.0.0", "route-table-changes", "v3.0.0 audit") },
			y:          func(t *testing.T) string { return variant(t, "cis-aws-v4.0.1", "route-table-changes", "v4.0.1 audit") },
			equivalent: true, xCoversY: true, yCoversX: true,
		},
		{
			name: "4.2 two-term form covers the SSO alternative",
			x: func(t *testing.T) string {
				return written(t, "cis-aws-v3.0.0", "console-signin-without-mfa", catalog.ProfileBenchmark)
			},
			y: func(t *testing.T) string {
				return written(t, "cis-aws-v3.0.0", "console-signin-without-mfa", catalog.ProfileSecurityHub)
			},
			xCoversY: true,
		},
		{
			name: "4.10 v5.0.0 adds ModifySecurityGroupRules to v4.0.1",
			x: func(t *testing.T) string {
				return written(t, "cis-aws-v5.0.0", "security-group-changes", catalog.ProfileBenchmark)
			},
			y: func(t *testing.T) string {
				return written(t, "cis-aws-v4.0.1", "security-group-changes", catalog.ProfileBenchmark)
			},
			xCoversY: true,
		},
		{
			name: "4.4 CIS text covers the iam-scoped Security Hub recommendation",
			x: func(t *testing.T) string {
				return written(t, "cis-aws-v3.0.0", "iam-policy-changes", catalog.ProfileBenchmark)
			},
			y:        func(t *testing.T) string { return variant(t, "cis-aws-v3.0.0", "iam-policy-changes", "scoped to iam") },
			xCoversY: true,
		},
	}
	// Where the Security Hub string differs from the CIS text only in
	// spacing, the two must be equivalent.
	for _, key := range []string{
		"root-account-usage", "iam-policy-changes", "cloudtrail-config-changes", "console-auth-failures",
		"cmk-disable-or-delete", "s3-bucket-policy-changes", "config-changes", "security-group-changes",
		"nacl-changes", "network-gateway-changes", "route-table-changes", "vpc-changes",
	} {
		tests = append(tests, relation{
			name:       key + " Security Hub string is the v1.2.0 text respaced",
			x:          func(t *testing.T) string { return written(t, "cis-aws-v1.2.0", key, catalog.ProfileSecurityHub) },
			y:          func(t *testing.T) string { return written(t, "cis-aws-v1.2.0", key, catalog.ProfileBenchmark) },
			equivalent: true, xCoversY: true, yCoversX: true,
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := parse(t, tt.x(t)), parse(t, tt.y(t))
			if got := filterpattern.Equivalent(x, y); got != tt.equivalent {
				t.Errorf("Equivalent = %v, want %v\nx = %s\ny = %s", got, tt.equivalent, x, y)
			}
			if got := filterpattern.Covers(x, y); got != tt.xCoversY {
				t.Errorf("Covers(x, y) = %v, want %v\nx = %s\ny = %s", got, tt.xCoversY, x, y)
			}
			if got := filterpattern.Covers(y, x); got != tt.yCoversX {
				t.Errorf("Covers(y, x) = %v, want %v\nx = %s\ny = %s", got, tt.yCoversX, x, y)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		id       string
		prefixes []string // control ids with warnings, in order
	}{
		{"cis-aws-v1.2.0", nil},
		{"cis-aws-v1.4.0", []string{"4.1"}},
		{"cis-aws-v2.0.0", []string{"4.1"}},
		{"cis-aws-v3.0.0", []string{"4.1", "4.13"}},
		{"cis-aws-v5.0.0", []string{"4.1", "4.10", "4.13"}},
		{"cis-aws-v7.0.0", []string{"5.1", "5.10", "5.13"}},
	}
	for _, tt := range tests {
		var got []string
		for _, w := range lookup(t, tt.id).Warnings() {
			id, _, ok := strings.Cut(w, ": ")
			if !ok {
				t.Errorf("%s: warning %q has no control prefix", tt.id, w)
			}
			got = append(got, id)
		}
		if !slices.Equal(got, tt.prefixes) {
			t.Errorf("%s Warnings() controls = %v, want %v", tt.id, got, tt.prefixes)
		}
	}
}

func TestResolutionsDocumentConflicts(t *testing.T) {
	tests := []struct{ id, key, mention string }{
		{"cis-aws-v1.4.0", "unauthorized-api-calls", "explicitly grouped"},
		{"cis-aws-v3.0.0", "unauthorized-api-calls", "literal text"},
		{"cis-aws-v3.0.0", "route-table-changes", "remediation text"},
		{"cis-aws-v1.2.0", "console-signin-without-mfa", "Security Hub CloudWatch.3"},
		{"cis-aws-v3.0.0", "iam-policy-changes", "iam.amazonaws.com"},
	}
	for _, tt := range tests {
		c, ok := lookup(t, tt.id).ControlByKey(tt.key)
		if !ok || !strings.Contains(c.Resolution, tt.mention) {
			t.Errorf("%s %s Resolution = %q, want a mention of %q", tt.id, tt.key, c.Resolution, tt.mention)
		}
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	b := lookup(t, "cis-aws-v3.0.0")
	orig := b.Controls[0].PatternFor(catalog.ProfileBenchmark)
	b.Controls[0].Pattern[catalog.ProfileBenchmark] = "{ $.x = 1 }"
	b.Controls[0].Accepted[0].Pattern = "{ $.x = 1 }"
	b.Controls[1].Title = "changed"
	again := lookup(t, "cis-aws-v3.0.0")
	if again.Controls[0].PatternFor(catalog.ProfileBenchmark) != orig || again.Controls[0].Accepted[0].Pattern == "{ $.x = 1 }" || again.Controls[1].Title == "changed" {
		t.Error("mutating a looked-up benchmark changed the catalog")
	}
}

func TestParseProfile(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want catalog.Profile
		ok   bool
	}{{"benchmark", catalog.ProfileBenchmark, true}, {"securityhub", catalog.ProfileSecurityHub, true}, {"SecurityHub", "", false}, {"", "", false}} {
		got, err := catalog.ParseProfile(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseProfile(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// TestPatternsAreVerbatimFromFactSheet: every pattern the catalog writes
// or accepts occurs character for character in the fact sheet. The fact
// sheet lives beside the repository (../shared/reference); a clone without
// it skips the test.
func TestPatternsAreVerbatimFromFactSheet(t *testing.T) {
	sheet, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "reference", "cis-monitoring-controls.md"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("fact sheet not present beside the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range allIDs {
		for _, c := range lookup(t, id).Controls {
			texts := []string{c.PatternFor(catalog.ProfileBenchmark), c.PatternFor(catalog.ProfileSecurityHub)}
			for _, v := range c.Accepted {
				texts = append(texts, v.Pattern)
			}
			for _, s := range texts {
				if !strings.Contains(string(sheet), s) {
					t.Errorf("%s %s: pattern not in the fact sheet: %s", id, c.ID, s)
				}
			}
		}
	}
}

// TestEventsAgreeWithAcceptance: a filter on exactly the control's event
// names is accepted (it matches at least what every variant matches), and
// dropping any one name makes it fail, so Events lists nothing a pattern
// ignores and the accepted variants miss no listed event.
func TestEventsAgreeWithAcceptance(t *testing.T) {
	build := func(evs []catalog.Event, skip int) string {
		var terms []string
		for i, e := range evs {
			if i != skip {
				terms = append(terms, fmt.Sprintf("($.eventName = %q)", e.Name))
			}
		}
		return "{ " + strings.Join(terms, " || ") + " }"
	}
	for _, id := range allIDs {
		for _, c := range lookup(t, id).Controls {
			if len(c.Events) < 2 {
				continue // nothing to drop
			}
			if !accepts(t, c, build(c.Events, -1)) {
				t.Errorf("%s %s: a filter on all %d event names is not accepted", id, c.ID, len(c.Events))
			}
			for i, e := range c.Events {
				if accepts(t, c, build(c.Events, i)) {
					t.Errorf("%s %s: a filter without %s is accepted", id, c.ID, e.Name)
				}
			}
		}
	}
}
