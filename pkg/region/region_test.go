package region_test

import (
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/region"
)

func TestValid(t *testing.T) {
	for name, want := range map[string]bool{
		"us-east-1": true, "ap-southeast-4": true, "us-gov-west-1": true, "eu-isoe-west-1": true, "cn-north-1": true,
		"": false, "us-east": false, "US-EAST-1": false, "us-east-1 ": false, "us_east_1": false, "useast1": false, "u-east-1": false,
		"us-east-1a": false, "us--1": false, "-east-1": false, "ap-" + strings.Repeat("south", 6) + "-1": false,
	} {
		if got := region.Valid(name); got != want {
			t.Errorf("Valid(%q) = %t, want %t", name, got, want)
		}
	}
}

func TestPartition(t *testing.T) {
	for name, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "us-isof-south-1": "aws-iso-f", "eu-isoe-west-1": "aws-iso-e",
	} {
		if got := region.Partition(name); got != want {
			t.Errorf("Partition(%q) = %q, want %q", name, got, want)
		}
	}
}
