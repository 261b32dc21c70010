// Package truncate shortens untrusted text before it is echoed into error
// messages, logs or notifications, so a hostile value cannot make them
// unbounded. Every package that quotes input it did not produce uses it.
package truncate

import "unicode/utf8"

// Ellipsis marks where String cut its input.
const Ellipsis = "…"

// String returns s if it is at most max bytes; otherwise its first max bytes
// cut back to a rune boundary (never splitting a UTF-8 sequence) followed by
// Ellipsis.
func String(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Ellipsis
}
