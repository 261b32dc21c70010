package findings_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/findings"
)

// Actions keeps the IAM policy the CDK app grants in step with the calls a
// Publisher can make: one action per Hub method, and nothing else.
func TestActionsMatchHub(t *testing.T) {
	typ := reflect.TypeFor[findings.Hub]()
	var want []string
	for i := range typ.NumMethod() {
		want = append(want, "securityhub:"+typ.Method(i).Name)
	}
	slices.Sort(want)
	if got := slices.Sorted(slices.Values(findings.Actions)); !slices.Equal(got, want) {
		t.Errorf("Actions = %v, want %v", got, want)
	}
}
