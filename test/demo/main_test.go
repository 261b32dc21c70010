package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/catalog/catalogtest"
)

// TestDemo runs "make demo" and checks the story it tells: a drifted
// account, healed by the nightly run, a deleted filter restored by the
// drift event, the loop guard and the rejected event — and only then the
// fixture evaluation, one line per control.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server and builds the bootstrap")
	}
	var out bytes.Buffer
	if err := run(t.Context(), &out, options{}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	section := func(title string) string {
		i := strings.Index(s, "== "+title)
		if i < 0 {
			t.Fatalf("no section %q in:\n%s", title, s)
		}
		rest := s[i+len(title)+3:]
		if j := strings.Index(rest, "\n== "); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	if before := section("Before: a drifted account"); strings.Count(before, "✗ missing") < 7 || !strings.Contains(before, "subscribers: none") {
		t.Errorf("the seeded account is not drifted as described:\n%s", before)
	}
	for _, title := range []string{"After the nightly run", "After the drift event"} {
		if sec := section(title); strings.Contains(sec, "✗") || !strings.Contains(sec, "subscribers: email:security@example.com") {
			t.Errorf("%s: account not healed:\n%s", title, sec)
		}
	}
	if sec := section("Drift: alice deletes a metric filter"); !strings.Contains(sec, "applied  PutMetricFilter") || !strings.Contains(sec, "→ COMPLIANT") {
		t.Errorf("drift event did not restore the filter:\n%s", sec)
	}
	if !strings.Contains(s, "→ skipped: caused by Watchkeeper's own role") || !strings.Contains(s, "→ error response (DecodeError)") {
		t.Errorf("loop guard or rejection missing:\n%s", s)
	}
	// The Lambda story comes first; the fixtures last, compact.
	story, fixtures := strings.Index(s, "== Starting moto_server"), strings.Index(s, "== Catalog fixtures")
	if story < 0 || fixtures < story || story > 200 {
		t.Errorf("the Lambda story (at %d) does not open the demo, before the fixtures (at %d)", story, fixtures)
	}
	if n := strings.Count(section("Catalog fixtures"), "\n"); n > 30 {
		t.Errorf("fixture section has %d lines, want one per control", n)
	}
	// The published summary's notes are there, once, and short.
	drift := section("Drift: alice deletes a metric filter")
	i := strings.Index(drift, "| Notes")
	if i < 0 || strings.Count(drift, "| Notes") != 1 {
		t.Fatalf("want one Notes section in the summary:\n%s", drift)
	}
	for _, l := range strings.Split(drift[i:], "\n")[1:] {
		if len(l) > 200 {
			t.Errorf("note of %d bytes: %.100s…", len(l), l)
		}
	}
}

func TestFixtureSummary(t *testing.T) {
	var out bytes.Buffer
	if err := fixtureSummary(&out, catalog.Default(), catalogtest.Dir()); err != nil {
		t.Fatalf("fixtureSummary: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if want := len(catalog.Default().Controls) + 3; len(lines) != want {
		t.Errorf("%d lines, want %d (title, header, one per control, hint):\n%s", len(lines), want, out.String())
	}
	for _, c := range catalog.Default().Controls {
		if !slices.ContainsFunc(lines, func(l string) bool {
			f := strings.Fields(l)
			return len(f) > 4 && f[0] == c.ID && f[1] == "✓" && f[3] == "✓"
		}) {
			t.Errorf("no passing line for control %s:\n%s", c.ID, out.String())
		}
	}
	if strings.Contains(out.String(), "✗") {
		t.Errorf("mismatch reported:\n%s", out.String())
	}
}
