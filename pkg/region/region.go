// Package region names AWS Regions: whether a string is a Region name, and
// which partition a Region belongs to. It is the one statement of both
// rules; the CLI, the Lambda configuration, the CDK app and the inspector
// all call it.
package region

import (
	"regexp"
	"strings"
)

// namePattern matches AWS Region names (us-east-1, ap-southeast-4,
// us-gov-west-1, eu-isoe-west-1): a two-letter area, one or more words, and
// a number (AWS General Reference, "Regions and endpoints").
var namePattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// maxName bounds a Region name; names come from untrusted events too.
const maxName = 32

// Valid reports whether name is shaped like an AWS Region name, at most 32
// characters long.
func Valid(name string) bool { return len(name) <= maxName && namePattern.MatchString(name) }

// Partition returns the partition a Region belongs to ("aws", "aws-cn",
// "aws-us-gov", "aws-iso", ...), by the Region name prefixes AWS publishes
// for each partition (the SDK's endpoint partitions: cn-, us-gov-, us-iso-,
// us-isob-, us-isof-, eu-isoe-).
func Partition(name string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"},
		{"us-gov-", "aws-us-gov"},
		{"us-isob-", "aws-iso-b"},
		{"us-isof-", "aws-iso-f"},
		{"us-iso-", "aws-iso"},
		{"eu-isoe-", "aws-iso-e"},
	} {
		if strings.HasPrefix(name, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}
