package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/constructs-go/constructs/v10"
)

// UnknownKeyError reports a context key in Watchkeeper's namespace that the
// app does not read. Without it a typo such as `-c notificationEmail=...`
// would deploy silently with the default (no subscribers at all).
type UnknownKeyError struct {
	Key string
	// Suggestion is the nearest valid key, or "" when none is close.
	Suggestion string
	// Valid lists every key the app reads, sorted.
	Valid []string
}

func (e *UnknownKeyError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("%s: unknown context key (did you mean %q?)", e.Key, e.Suggestion)
	}
	return fmt.Sprintf("%s: unknown context key (Watchkeeper's keys: %s)", e.Key, strings.Join(e.Valid, ", "))
}

// ownedContextKey says whether key belongs to Watchkeeper, given the keys
// it reads. The CLI, the CDK library and cdk.json share one context with
// us, and their keys must pass untouched: feature flags ("@aws-cdk/..."),
// the CLI's settings ("aws:cdk:enable-path-metadata"), lookup results cached
// in cdk.context.json ("availability-zones:account=...:region=...") and
// acknowledgements ("acknowledged-issue-numbers"). Each of those contains a
// separator, and every Watchkeeper key is a plain camelCase word, so:
//
//   - a key with '@', ':' or '/' is never ours (none of ours has any);
//   - a plain word (letters and digits) is always ours;
//   - any other key (with '-', '_' or '.') is ours only when, compared
//     without case or separators, it is within a typo of one of our keys
//     (nearestKey): `notification-email` and `Provision_Trail` are typos
//     for our keys, `acknowledged-issue-numbers` is not.
func ownedContextKey(key string, valid []string) bool {
	if key == "" || strings.ContainsAny(key, "@:/") {
		return false
	}
	plain := true
	for _, r := range key {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			plain = false
			break
		}
	}
	if plain {
		return true
	}
	return nearestKey(key, valid) != ""
}

// foldKey drops case and the separators people put between words.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// unknownContextKeys returns an *UnknownKeyError for each key in context
// that is Watchkeeper's (ownedContextKey) but not among valid, in key order.
func unknownContextKeys(context []string, valid []string) []error {
	valid = slices.Sorted(slices.Values(valid))
	context = slices.Sorted(slices.Values(context))
	var errs []error
	for _, k := range context {
		if slices.Contains(valid, k) || !ownedContextKey(k, valid) {
			continue
		}
		errs = append(errs, &UnknownKeyError{Key: k, Suggestion: nearestKey(k, valid), Valid: valid})
	}
	return errs
}

// nearestKey returns the valid key closest to key, compared without case
// or separators, or "" when even the closest needs more edits than a typo
// does (a third of the key's length, at least 2). Ties go to the first key
// in valid's order.
func nearestKey(key string, valid []string) string {
	f := foldKey(key)
	limit := max(2, len([]rune(f))/3)
	best, bestDist := "", limit+1
	for _, v := range valid {
		if d := editDistance(f, foldKey(v)); d < bestDist {
			best, bestDist = v, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// checkContextKeys returns an *UnknownKeyError for each key of node's
// context that is Watchkeeper's but not in read. read holds the keys
// ConfigFromContext looked up: taking them from the lookups, instead of a
// second list, means a key added to the configuration is known at once.
// It also means every key must be looked up on every run, even when another
// setting makes it irrelevant; a key read only under some condition would
// otherwise be reported unknown when that condition is false.
func checkContextKeys(node constructs.Node, read map[string]bool) []error {
	all, _ := node.GetAllContext(nil).(map[string]any)
	return unknownContextKeys(slices.Collect(maps.Keys(all)), slices.Collect(maps.Keys(read)))
}
