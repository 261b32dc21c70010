package config_test

import (
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/config"
)

// TestNameLimits pins each length limit at its boundary: the longest
// allowed value passes and one character more fails (CloudWatch
// PutMetricData namespace 255, SNS topic name 256, KMS alias name 250,
// CloudTrail trail name 128, log group name 512, IAM role name 64, e-mail
// local part 64 and domain label 63).
func TestNameLimits(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name  string
		check func(string) error
		ok    string
		long  string
	}{
		{"namespace", config.CheckNamespace, a(255), a(256)},
		{"topic name", config.CheckTopicName, a(256), a(257)},
		{"KMS alias", config.CheckKMSKey, "alias/" + a(250), "alias/" + a(251)},
		{"trail name", config.CheckTrailName, a(128), a(129)},
		{"log group", config.CheckLogGroupARN, "arn:aws:logs:us-east-1:123456789012:log-group:" + a(512) + ":*", "arn:aws:logs:us-east-1:123456789012:log-group:" + a(513)},
		{"role name", config.CheckRoleARN, "arn:aws:iam::123456789012:role/path/" + a(64), "arn:aws:iam::123456789012:role/path/" + a(65)},
		{"e-mail local part", func(s string) error { return config.CheckSubscription("email", s) }, a(64) + "@example.com", a(65) + "@example.com"},
		{"e-mail domain label", func(s string) error { return config.CheckSubscription("email", s) }, "sec@" + a(63) + ".com", "sec@" + a(64) + ".com"},
	} {
		if err := tc.check(tc.ok); err != nil {
			t.Errorf("%s at the limit: %v", tc.name, err)
		}
		if err := tc.check(tc.long); err == nil {
			t.Errorf("%s one over the limit accepted", tc.name)
		}
	}
}
