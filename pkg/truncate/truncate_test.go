package truncate_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/truncate"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"short is kept", "abc", 3, "abc"},
		{"empty", "", 0, ""},
		{"long is cut and marked", "abcdef", 3, "abc…"},
		{"cut falls inside a rune: back to its start", "ab🔥cd", 3, "ab…"},
		{"cut right after a rune", "ab🔥cd", 6, "ab🔥…"},
		{"nothing fits", "🔥", 2, "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := truncate.String(tc.in, tc.max); got != tc.want {
				t.Errorf("String(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

// TestStringIsBoundedAndValid: whatever the input, the result is valid
// UTF-8 (when the input is) and at most max bytes plus the ellipsis.
func TestStringIsBoundedAndValid(t *testing.T) {
	in := strings.Repeat("é🔥a\u202e", 1000)
	for max := 0; max < 40; max++ {
		got := truncate.String(in, max)
		if !utf8.ValidString(got) || len(got) > max+len(truncate.Ellipsis) {
			t.Fatalf("String(…, %d) = %q: %d bytes, valid UTF-8 %v", max, got, len(got), utf8.ValidString(got))
		}
	}
}
