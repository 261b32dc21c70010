package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/watchkeeper/watchkeeper/pkg/truncate"
)

// maxLine bounds one line of the summary; maxField bounds one untrusted
// field in it (a resource name, an error message, an actor), so a hostile
// name cannot push the rest of a line, or the message, out of sight.
const (
	maxLine  = 1000
	maxField = 300
	// maxNote bounds a note (a plan warning) in the summary; the report's
	// warnings keep the full text.
	maxNote = 160
)

// oneLine keeps untrusted text (resource names, error messages) from
// forging extra lines or reordering what a reader sees in the summary, and
// bounds its length. Every control character (C0, DEL and C1, which
// includes NEL U+0085), line and paragraph separator (Zl, Zp) and format
// character (Cf: bidi overrides such as U+202E, zero-width characters)
// becomes a space.
func oneLine(s string) string { return clip(printable(s), maxLine) }

// field is oneLine for a single untrusted value inside a line.
func field(s string) string { return clip(printable(s), maxField) }

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf) {
			return ' '
		}
		return r
	}, s)
}

// clip shortens s to at most max bytes on a rune boundary, marking the cut.
func clip(s string, max int) string { return truncate.String(s, max) }

// notes shortens the plan's warnings for the summary: each once, on one
// line of at most maxNote bytes (cut after a clause when one ends in the
// second half of that). The run's JSON report carries the full text.
func notes(warnings []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range warnings {
		w = printable(w)
		if seen[w] {
			continue
		}
		seen[w] = true
		if len(w) > maxNote {
			if i := strings.LastIndexAny(w[:maxNote], ";,"); i > maxNote/2 {
				w = w[:i] + " …"
			} else {
				w = clip(w, maxNote)
			}
		}
		out = append(out, w)
	}
	return out
}

// asciiLine makes s a valid SNS subject: printable ASCII, at most max bytes.
func asciiLine(s string, max int) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < 0x20 || ch > 0x7e {
			ch = '?'
		}
		out = append(out, ch)
	}
	if len(out) > max {
		out = out[:max]
	}
	return string(out)
}
