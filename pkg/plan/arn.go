package plan

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// parseARN parses s with the SDK's ARN parser; ok is false for anything
// that is not an ARN.
func parseARN(s string) (arn.ARN, bool) {
	a, err := arn.Parse(s)
	return a, err == nil
}

// arnAccount returns the account of an ARN, or "".
func arnAccount(s string) string {
	a, _ := parseARN(s)
	return a.AccountID
}

// arnRegion returns the Region of an ARN, or "".
func arnRegion(s string) string {
	a, _ := parseARN(s)
	return a.Region
}

// kmsKeyRegion is the Region of a KMS key or alias ARN, or "" for a key ID
// or alias name, which SNS resolves in the topic's own Region.
func kmsKeyRegion(key string) string {
	if a, ok := parseARN(key); ok && a.Service == "kms" {
		return a.Region
	}
	return ""
}

// logGroupName is the name in a CloudWatch Logs log group ARN
// (arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME, with or without the
// ":*" suffix CloudTrail uses), or s itself when s is not one.
func logGroupName(s string) string {
	a, ok := parseARN(s)
	if !ok {
		return s
	}
	name, ok := strings.CutPrefix(a.Resource, "log-group:")
	if !ok {
		return s
	}
	return strings.TrimSuffix(name, ":*")
}
