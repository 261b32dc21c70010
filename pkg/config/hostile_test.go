package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/config"
	"github.com/watchkeeper/watchkeeper/test/memtest"
)

// rejects runs FromEnv on m (plus AWS_REGION) and requires an error naming
// exactly vars, clipped, in bounded memory.
func rejects(t *testing.T, m map[string]string, vars ...string) error {
	t.Helper()
	if _, ok := m["AWS_REGION"]; !ok {
		m["AWS_REGION"] = "us-east-1"
	}
	var err error
	n := memtest.Allocated(func() { _, err = config.FromEnv(env(m)) })
	if err == nil {
		t.Fatal("FromEnv accepted it")
	}
	// Errors name canonical fields; AWS_REGION and WATCHKEEPER_HOME_REGION
	// both set homeRegion.
	var fields []string
	for _, v := range vars {
		if f := config.EnvField(v); !contains(fields, f) {
			fields = append(fields, f)
		}
	}
	vars = fields
	var got []string
	for _, e := range unjoin(err) {
		var ve *config.FieldError
		if !errors.As(e, &ve) {
			t.Fatalf("%v (%T) is not a *FieldError", e, e)
		}
		if !contains(got, ve.Field) {
			got = append(got, ve.Field)
		}
	}
	for _, v := range vars {
		if !contains(got, v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
	if len(got) != len(vars) {
		t.Errorf("error names %v, want %v", got, vars)
	}
	if len(err.Error()) > 512*len(vars)+2048 || !utf8.ValidString(err.Error()) {
		t.Errorf("error is %d bytes (valid UTF-8 %v); hostile values must be clipped", len(err.Error()), utf8.ValidString(err.Error()))
	}
	if n > memtest.Bound {
		t.Errorf("FromEnv allocated %d MiB, want < %d", n>>20, memtest.Bound>>20)
	}
	return err
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestFromEnvMegabyteValues: every variable a megabyte long at once, each
// named once, in bounded memory.
func TestFromEnvMegabyteValues(t *testing.T) {
	m := map[string]string{}
	for _, v := range config.Vars() {
		m[v] = strings.Repeat("a", 1<<20)
	}
	err := rejects(t, m, config.Vars()...)
	if !strings.Contains(err.Error(), "1048576 bytes; at most 4096") {
		t.Errorf("error does not give the size: %v", err)
	}
	// A megabyte AWS_REGION (the home region's default) is reported too.
	rejects(t, map[string]string{"AWS_REGION": strings.Repeat("us-east-1", 1<<17)}, config.EnvAWSRegion, config.EnvHomeRegion)
}

// TestFromEnvAbsurdLists: 10,000 subscriptions or regions, within and
// beyond the value length limit.
func TestFromEnvAbsurdLists(t *testing.T) {
	var subs, regions, exclude []string
	for i := range 10_000 {
		subs = append(subs, fmt.Sprintf("email:user%d@example.com", i))
		regions = append(regions, fmt.Sprintf("us-east-%d", i))
		exclude = append(exclude, fmt.Sprintf("4.%d", i))
	}
	for _, tc := range []struct {
		name, v, value, want string
	}{
		{"10,000 subscriptions", config.EnvSubscriptions, strings.Join(subs, ","), "at most 4096"},
		{"10,000 regions", config.EnvRegions, strings.Join(regions, ","), "at most 4096"},
		{"10,000 excluded ids", config.EnvExclude, strings.Join(exclude, ","), "at most 4096"},
		{"1,000 subscriptions within the length limit", config.EnvSubscriptions, strings.Repeat("sms:+14155550100,", 240), "240 subscriptions; at most 20"},
		{"800 regions within the length limit", config.EnvRegions, strings.Repeat("a-b-1,", 600), "600 regions; at most 64"},
		{"2,000 empty list items and one bad one", config.EnvSubscriptions, strings.Repeat(",", 2000) + "x", "PROTOCOL:ENDPOINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rejects(t, map[string]string{tc.v: tc.value}, tc.v)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
	t.Run("hundreds of unknown excluded ids", func(t *testing.T) {
		// Every unknown id is reported (each message lists the valid ids),
		// but the value limit bounds how many there can be.
		err := rejects(t, map[string]string{config.EnvExclude: strings.Repeat("9.9,", 1000) + strings.Repeat("x,", 5)}, config.EnvExclude)
		if n := len(unjoin(err)); n != 2 {
			t.Errorf("%d problems for 2 distinct unknown ids: %v", n, err)
		}
	})
}

// TestFromEnvNumbersAndEmpty: there are no numeric variables, so numbers
// (negative, overflowing, NaN) are rejected as the values they are not;
// empty and blank values mean the default.
func TestFromEnvNumbersAndEmpty(t *testing.T) {
	for _, n := range []string{"-1", "0", "18446744073709551616", "1e309", "NaN", "-Inf", "0x7fffffff"} {
		rejects(t, map[string]string{config.EnvMode: n, config.EnvTrailHealing: n, config.EnvNotify: n, config.EnvLogLevel: n,
			config.EnvBenchmark: n, config.EnvHomeRegion: n, config.EnvTopicKMSKey: n, config.EnvSelfRoleARN: n},
			config.EnvMode, config.EnvTrailHealing, config.EnvNotify, config.EnvLogLevel, config.EnvBenchmark, config.EnvHomeRegion,
			config.EnvTopicKMSKey, config.EnvSelfRoleARN)
	}
	all := map[string]string{"AWS_REGION": "us-east-1"}
	blank := map[string]string{"AWS_REGION": "us-east-1"}
	for _, v := range config.Vars() {
		all[v] = ""
		blank[v] = " \t "
	}
	for name, m := range map[string]map[string]string{"empty": all, "blank": blank} {
		c, err := config.FromEnv(env(m))
		if err != nil {
			t.Errorf("%s values: %v", name, err)
			continue
		}
		d, _ := config.FromEnv(env(map[string]string{"AWS_REGION": "us-east-1"}))
		if c.LogValue().String() != d.LogValue().String() {
			t.Errorf("%s values do not mean the defaults: %v vs %v", name, c.LogValue(), d.LogValue())
		}
	}
}

// TestFromEnvQuotesAndUnicode: quotes, backslashes, emoji, RTL and
// zero-width marks are rejected wherever AWS names cannot hold them, and
// the message quotes the value safely.
func TestFromEnvQuotesAndUnicode(t *testing.T) {
	odd := []string{`a"b`, `a\b`, "alarms-🔥", "alarms-\u202egnp", "alarms\u200b", "alarms\u00a0x", `"; rm -rf /`}
	for _, s := range odd {
		t.Run(s, func(t *testing.T) {
			m := map[string]string{
				config.EnvTopicName:        s,
				config.EnvNamespace:        "CIS" + s,
				config.EnvTrailName:        "trail" + s,
				config.EnvHomeRegion:       "us-east-1" + s,
				config.EnvRegions:          "eu-west-1," + s,
				config.EnvExclude:          "4.1" + s,
				config.EnvSubscriptions:    "email:" + s + "@example.com",
				config.EnvTopicKMSKey:      "alias/" + s,
				config.EnvMode:             "apply" + s,
				config.EnvTrailHealing:     "safe" + s,
				config.EnvPatternProfile:   "benchmark" + s,
				config.EnvNotify:           "true" + s,
				config.EnvLogLevel:         "INFO" + s,
				config.EnvTrailLogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:" + s,
				config.EnvTrailLogsRoleARN: "arn:aws:iam::123456789012:role/r" + s,
				config.EnvSelfRoleARN:      "arn:aws:iam::123456789012:role/wk/" + s,
			}
			err := rejects(t, m, config.EnvTopicName, config.EnvNamespace, config.EnvTrailName, config.EnvHomeRegion, config.EnvRegions,
				config.EnvExclude, config.EnvSubscriptions, config.EnvTopicKMSKey, config.EnvMode, config.EnvTrailHealing,
				config.EnvPatternProfile, config.EnvNotify, config.EnvLogLevel, config.EnvTrailLogsRoleARN, config.EnvTrailLogGroupARN, config.EnvSelfRoleARN)
			// The value is quoted with %q, so a quote cannot end the message's
			// quoting and a control character cannot start a new line.
			if strings.Contains(err.Error(), "\n"+s) {
				t.Errorf("value starts a line of the message: %v", err)
			}
		})
	}
}
