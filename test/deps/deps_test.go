// Package deps_test checks the dependency direction the design promises
// (docs/contracts.md, "Layout / import direction"): the observed-state model
// imports no AWS SDK package, and the packages that only reason about an
// account (plan, report, config, notify) link none either, except the SDK's
// ARN parser aws/arn, which has no dependencies of its own and is the one
// way ARNs are parsed.
package deps_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/watchkeeper/watchkeeper/"

// deps returns the packages pkg links, transitively, per `go list -deps`.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", module+pkg)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestModelLinksNoSDK(t *testing.T) {
	for _, d := range deps(t, "pkg/account") {
		if strings.HasPrefix(d, "github.com/aws/") {
			t.Errorf("pkg/account links %s; the model must import no AWS SDK package", d)
		}
	}
}

func TestPureLayersLinkNoSDK(t *testing.T) {
	for _, pkg := range []string{"pkg/plan", "pkg/report", "pkg/config", "pkg/notify", "pkg/alarmsim", "pkg/policy", "pkg/region"} {
		for _, d := range deps(t, pkg) {
			switch {
			case d == "github.com/aws/aws-sdk-go-v2/aws/arn":
			case strings.HasPrefix(d, "github.com/aws/"), d == module+"pkg/inspect", d == module+"pkg/apply":
				t.Errorf("%s links %s", pkg, d)
			}
		}
	}
}
