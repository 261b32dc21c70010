package plan_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	model "github.com/watchkeeper/watchkeeper/pkg/account"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden and testdata/reasons/*.golden")

// TestGoldenPlan pins the whole plan (reasons, codes, specs) for an account
// that drifted in several ways at once: the trail stopped logging and
// excludes KMS events, the root-usage filter is gone and someone else's
// topic awaits confirmation. Every control but 4.3 and 4.7 is excluded to
// keep the file about the planner rather than the catalog.
// Refresh with: go test ./pkg/plan -run TestGoldenPlan -update
func TestGoldenPlan(t *testing.T) {
	s := compliantAccount()
	editTrail(&s, "main", func(tr *model.Trail) {
		tr.Status.IsLogging = false
		tr.Selectors.Classic[0].ExcludeManagementEventSources = []string{"kms.amazonaws.com"}
	})
	dropFilter(&s, mainLG, prefix+"root-account-usage")
	addTopic(&s, "arn:aws:sns:us-east-1:123456789012:team", pending("email", "team@example.com"))
	opts := options()
	for _, c := range bench().Controls {
		if c.Key != "root-account-usage" && c.Key != "cmk-disable-or-delete" {
			opts.Exclude = append(opts.Exclude, c.ID)
		}
	}
	got, err := json.MarshalIndent(plan.Compute(opts, s), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, filepath.Join("testdata", "drift.plan.golden"), append(got, '\n'))
}

// compareGolden compares got with the golden file at path, or rewrites the
// file under -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (create it with -update): %v", path, err)
	}
	if diff := gocmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
