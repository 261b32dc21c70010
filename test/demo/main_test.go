package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo runs "make demo" (without the fixture part) and checks the story
// it tells: a drifted account, healed by the nightly run, a deleted filter
// restored by the drift event, the loop guard and the rejected event.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server and builds the bootstrap")
	}
	var out bytes.Buffer
	if err := run(t.Context(), &out, false); err != nil {
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
}
