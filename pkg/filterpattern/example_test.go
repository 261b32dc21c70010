package filterpattern_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// The CIS v2.0+ 4.1 text mixes || and && without grouping; && binds
// tighter, as the CloudWatch Logs guide documents, and the canonical form
// shows the grouping explicitly.
func ExampleParse() {
	p, err := filterpattern.Parse(`{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)

	_, err = filterpattern.Parse(`{ $.eventName foo }`)
	fmt.Println(err)
	// Output:
	// { $.errorCode = "*UnauthorizedOperation" || ($.errorCode = "AccessDenied*" && $.eventName != "HeadBucket" && $.sourceIPAddress != "delivery.logs.amazonaws.com") }
	// filter pattern: position 14: expected "=", "!=", "<", ">", "<=", ">=", "IS" or "NOT", found "foo"
}

func ExampleCovers() {
	benchmark := filterpattern.MustParse(`{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }`)
	deployed := filterpattern.MustParse(`{ $.eventName = "ScheduleKeyDeletion" || $.eventName = "DisableKey" || $.eventName = "DeleteAlias" }`)
	tooNarrow := filterpattern.MustParse(`{ $.eventSource = "kms.amazonaws.com" && $.eventName = "DisableKey" }`)
	fmt.Println(filterpattern.Covers(deployed, benchmark))
	fmt.Println(filterpattern.Covers(tooNarrow, benchmark))
	// Output:
	// true
	// false
}

func ExamplePattern_Match() {
	p := filterpattern.MustParse(`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`)
	ok, err := p.Match([]byte(`{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}`))
	fmt.Println(ok, err)
	// Output: false <nil>
}

// BenchmarkMatch measures evaluating the 4.15 pattern (the longest) on a
// CloudTrail record.
func BenchmarkMatch(b *testing.B) {
	p := filterpattern.MustParse(cisPatterns["4.15"])
	ev, err := os.ReadFile("testdata/events/organizations-create-account.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := p.Match(ev); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCovers measures the coverage decisions the planner makes for
// every benchmark pattern against a reformatted copy of itself with one
// extra event name.
func BenchmarkCovers(b *testing.B) {
	for _, name := range []string{"4.1 v2.0+", "4.2 SSO variant", "4.3", "4.4", "4.13 v3 audit", "4.15"} {
		p := filterpattern.MustParse(cisPatterns[name])
		c := p.String()
		wider := filterpattern.MustParse("{ " + c[2:len(c)-2] + " || $.eventName = \"Extra\" }")
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if !filterpattern.Covers(wider, p) || filterpattern.Covers(p, wider) {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}
