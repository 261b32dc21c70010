package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
	"github.com/watchkeeper/watchkeeper/pkg/region"
)

// The Check functions are the rules Build applies to AWS names and ARNs.
// Each error quotes the (clipped) value and says what is allowed; Build
// prefixes the field.

// Length bounds are checked with len, not with counted repetition: Go's
// regexp compiles x{1,512} into 512 copies of x, which made building these
// patterns cost about 15 ms of the Lambda's cold start.
var (
	emailRE     = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
	smsRE       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)                        // at most 256
	trailNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]+[A-Za-z0-9]$`) // 3 to 128
	namespaceRE = regexp.MustCompile(`^[A-Za-z0-9 ._/#-]+$`)                    // at most 255
	uuidRE      = regexp.MustCompile(`^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	aliasRE     = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]+$`) // name at most 250
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	// logGroupRE is a log group name of at most 512 characters (CloudWatch
	// Logs API reference, CreateLogGroup, logGroupName pattern), with the
	// ":*" CloudTrail's CloudWatchLogsLogGroupArn and CloudFormation's Arn
	// attribute carry.
	logGroupRE = regexp.MustCompile(`^[A-Za-z0-9._/#-]+(:\*)?$`)
	// roleRE is an IAM role's path and name, the name at most 64 characters
	// (IAM API reference, Role: path of printable ASCII without spaces, name
	// of [\w+=,.@-]).
	roleRE = regexp.MustCompile(`^([!-~]*/)?[A-Za-z0-9_+=,.@-]+$`)
)

// validEmail is emailRE with the address limits: a local part of at most
// 64 characters and domain labels of at most 63 (RFC 5321, 4.5.3.1).
func validEmail(s string) bool {
	local, domain, _ := strings.Cut(s, "@")
	if !emailRE.MatchString(s) || len(local) > 64 {
		return false
	}
	for label := range strings.SplitSeq(domain, ".") {
		if len(label) > 63 {
			return false
		}
	}
	return true
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// CheckNamespace reports whether s is a usable CloudWatch metric namespace
// for a metric filter (no ':', which metric filters refuse).
func CheckNamespace(s string) error {
	if len(s) > 255 || !namespaceRE.MatchString(s) {
		return fmt.Errorf("%q is not a metric namespace (1-255 letters, digits, spaces and . _ / # -)", clip(s))
	}
	if strings.HasPrefix(s, "AWS/") {
		return fmt.Errorf("%q is reserved for AWS (namespaces starting with AWS/)", clip(s))
	}
	return nil
}

// CheckTopicName reports whether s is an SNS standard topic name.
func CheckTopicName(s string) error {
	if len(s) > 256 || !topicNameRE.MatchString(s) {
		return fmt.Errorf("%q is not an SNS topic name (1-256 letters, digits, '-' or '_')", clip(s))
	}
	return nil
}

// CheckKMSKey reports whether s is a KMS key id, key ARN, alias or alias ARN.
func CheckKMSKey(s string) error {
	if uuidRE.MatchString(s) || (len(s) <= len("alias/")+250 && aliasRE.MatchString(s)) || isARN(s, "kms", "key/") || isARN(s, "kms", "alias/") {
		return nil
	}
	return fmt.Errorf("%q is not a KMS key id, key ARN, alias/NAME or alias ARN", clip(s))
}

// CheckTrailName reports whether s is a CloudTrail trail name or trail ARN.
func CheckTrailName(s string) error {
	if (len(s) > 128 || !trailNameRE.MatchString(s)) && !isARN(s, "cloudtrail", "trail/") {
		return fmt.Errorf("%q is not a trail name (3-128 letters, digits, '.', '-', '_') or trail ARN", clip(s))
	}
	return nil
}

// CheckLogGroupARN reports whether s is a CloudWatch Logs log group ARN.
func CheckLogGroupARN(s string) error {
	if a, ok := parseARN(s, "logs", "log-group:"); ok && validLogGroup(strings.TrimPrefix(a.Resource, "log-group:")) {
		return nil
	}
	return fmt.Errorf("%q is not a CloudWatch Logs log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)", clip(s))
}

// CheckRoleARN reports whether s is an IAM role ARN
// (arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME).
func CheckRoleARN(s string) error {
	a, err := arn.Parse(s)
	if err == nil && strings.HasPrefix(a.Partition, "aws") && a.Service == "iam" && a.Region == "" && accountRE.MatchString(a.AccountID) {
		if name, ok := strings.CutPrefix(a.Resource, "role/"); ok && roleRE.MatchString(name) && len(name[strings.LastIndex(name, "/")+1:]) <= 64 {
			return nil
		}
	}
	return fmt.Errorf("%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", clip(s))
}

// Protocols are the SNS subscription protocols Watchkeeper accepts (SNS
// Subscribe API reference, "Protocol").
var Protocols = []string{"application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs"}

// ParseSubscription parses one PROTOCOL:ENDPOINT item. The protocol is
// case-insensitive and returned lowercase; the endpoint must be plausible
// for it, so a typo fails before any write rather than halfway through
// an apply.
func ParseSubscription(item string) (plan.Endpoint, error) {
	proto, endpoint, ok := strings.Cut(item, ":")
	proto = strings.ToLower(strings.TrimSpace(proto))
	endpoint = strings.TrimSpace(endpoint)
	if !ok || proto == "" || endpoint == "" {
		return plan.Endpoint{}, fmt.Errorf("%q is not PROTOCOL:ENDPOINT (e.g. email:sec@example.com; protocols: %s)", clip(item), strings.Join(Protocols, ", "))
	}
	if err := CheckSubscription(proto, endpoint); err != nil {
		return plan.Endpoint{}, fmt.Errorf("%q: %w", clip(item), err)
	}
	return plan.Endpoint{Protocol: proto, Endpoint: endpoint}, nil
}

// CheckSubscription returns an error saying why endpoint is not plausible
// for the (lowercase) SNS protocol proto, or nil.
func CheckSubscription(proto, endpoint string) error {
	switch proto {
	case "email", "email-json":
		if len(endpoint) > 254 || !validEmail(endpoint) {
			return errors.New("not an e-mail address")
		}
	case "sms":
		if !smsRE.MatchString(endpoint) {
			return errors.New("not an E.164 phone number (e.g. +14155550100)")
		}
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != proto || u.Host == "" || u.User != nil {
			return fmt.Errorf("not an %s:// URL with a host (and no credentials)", proto)
		}
	case "sqs", "lambda", "firehose", "application":
		return checkEndpointARN(proto, endpoint)
	default:
		return fmt.Errorf("unknown protocol %q (allowed: %s)", clip(proto), strings.Join(Protocols, ", "))
	}
	return nil
}

// checkEndpointARN checks the ARN endpoints of the sqs, lambda, firehose
// and application protocols.
func checkEndpointARN(proto, endpoint string) error {
	want := map[string]struct{ service, prefix, what string }{
		"sqs":         {"sqs", "", "an SQS queue ARN"},
		"lambda":      {"lambda", "function:", "a Lambda function ARN"},
		"firehose":    {"firehose", "deliverystream/", "a Firehose delivery stream ARN"},
		"application": {"sns", "endpoint/", "an SNS platform endpoint ARN"},
	}[proto]
	if !isARN(endpoint, want.service, want.prefix) {
		return errors.New("not " + want.what)
	}
	return nil
}

// parseARN parses s as a regional ARN of service in this account shape
// (a Region name, a 12-digit account) whose resource starts with prefix
// and has no blanks.
func parseARN(s, service, prefix string) (arn.ARN, bool) {
	a, err := arn.Parse(s)
	if err != nil || !strings.HasPrefix(a.Partition, "aws") || a.Service != service {
		return arn.ARN{}, false
	}
	if !region.Valid(a.Region) || !accountRE.MatchString(a.AccountID) {
		return arn.ARN{}, false
	}
	res := a.Resource
	if len(res) <= len(prefix) || !strings.HasPrefix(res, prefix) || strings.ContainsAny(res, " \t") {
		return arn.ARN{}, false
	}
	return a, true
}

func isARN(s, service, prefix string) bool {
	_, ok := parseARN(s, service, prefix)
	return ok
}

// validLogGroup reports whether s is a log group name (at most 512
// characters) with an optional ":*".
func validLogGroup(s string) bool {
	return len(strings.TrimSuffix(s, ":*")) <= 512 && logGroupRE.MatchString(s)
}
