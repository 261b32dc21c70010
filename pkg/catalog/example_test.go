package catalog_test

import (
	"fmt"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

func ExampleLookup() {
	b, err := catalog.Lookup("cis-aws-v1.2.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := b.ControlByKey("cmk-disable-or-delete")
	fmt.Println(c.ID, c.SecurityHubID, c.MetricName)
	fmt.Println(c.PatternFor(catalog.ProfileBenchmark))
	fmt.Println(c.PatternFor(catalog.ProfileSecurityHub))
	// Output:
	// 3.7 CloudWatch.7 DisableOrDeleteCMK
	// {($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }
	// {($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}
}

func ExampleBenchmark_Warnings() {
	// Both v3.0.0 warnings are about ungrouped && and ||.
	for _, w := range catalog.Default().Warnings() {
		id, text, _ := strings.Cut(w, ": ")
		fmt.Println(id, strings.Contains(text, "evaluates && before ||"))
	}
	// Output:
	// 4.1 true
	// 4.13 true
}
