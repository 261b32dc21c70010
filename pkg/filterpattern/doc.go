// Package filterpattern parses, evaluates and compares CloudWatch Logs JSON
// filter patterns, the "{ $.eventName = DisableKey || ... }" language of
// metric filters.
//
// Watchkeeper uses it to decide whether a metric filter it finds in an
// account does the job a benchmark control prescribes. Comparing pattern
// text is not enough: the CIS texts, Security Hub and the filters people
// deploy differ in spacing, quoting, parentheses and operand order, and
// sometimes add or drop a term. The package therefore works on meaning:
// Parse builds an expression tree, String prints a canonical form, Match
// evaluates a pattern against one JSON log event, and Equivalent and Covers
// compare two patterns over every possible event.
//
// # Sources
//
// The grammar and semantics follow the CloudWatch Logs User Guide:
//
//   - "Filter pattern syntax for metric filters, subscription filters,
//     filter log events, and Live Tail",
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
//     (the text quoted below is from its published source,
//     github.com/awsdocs/amazon-cloudwatch-logs-user-guide,
//     doc_source/FilterAndPatternSyntax.md at commit 5ae5c9a, sections
//     "Matching Terms in JSON Log Events", "JSON Compound Conditions",
//     "JSON Special Considerations" and "Numeric Comparisons");
//   - "Using filter patterns to match terms in JSON log events",
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/matching-terms-json-log-events.html;
//   - the CloudWatch Logs API reference for PutMetricFilter / MetricFilter,
//     https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricFilter.html
//     ("filterPattern ... Length Constraints: Minimum length of 0. Maximum
//     length of 1024.").
//
// # Grammar
//
// Only JSON patterns are supported (text-term and space-delimited patterns
// are rejected with a SyntaxError expecting "{"):
//
//	pattern  = "{" or "}"
//	or       = and { "||" and }
//	and      = primary { "&&" primary }
//	primary  = "(" or ")" | atom
//	atom     = selector ( ("=" | "!=") value
//	                    | ("<" | "<=" | ">" | ">=") number
//	                    | "IS" ("NULL" | "TRUE" | "FALSE")
//	                    | "NOT" "EXISTS" )
//	selector = "$" step { step }   (the first step must be a property)
//	step     = "." name | "[" digits "]"
//	name     = 1*( ALPHA | DIGIT | "-" | "_" )
//	value    = quoted | word | "%" regex "%"
//
// The guide: "Property selectors always start with dollar sign ($) ...
// Property selectors are alphanumeric strings that also support '-' and '_'
// characters. Array elements are denoted with [NUMBER] syntax, and must
// follow a property." A "[*]" array wildcard is not documented for filter
// patterns and is rejected. Keywords (IS, NOT, NULL, TRUE, FALSE, EXISTS)
// are upper case, as documented. A quoted value may contain \" and \\
// escapes. An unquoted word may contain letters, digits and "_-.*:/+" (the
// guide requires quotes for other characters: "Strings that have unicode and other
// characters such as '@,' '$,' '\\,' etc. must be enclosed in double
// quotes"; its own examples leave 123.123.* unquoted, as CIS leaves
// kms.amazonaws.com). A number is "an integer with an optional + or - sign,
// a decimal with an optional + or - sign, or a number in scientific
// notation".
//
// # Operator precedence
//
// The guide says, under "JSON Compound Conditions": "You can combine
// multiple conditions into a compound expression using OR (||) and AND
// (&&). Parenthesis are allowed and the syntax follows standard order of
// operations () > && > ||." Its example
// { $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }
// "Matches the JSON above" although the && part is false, which confirms
// that && binds tighter than ||. So the CIS v2.0+ 4.1 text
// { A || B && C && D } means { A || (B && C && D) }: the exclusions apply
// only to the AccessDenied* term, not to *UnauthorizedOperation.
//
// # Semantics
//
//   - Wildcards: "You can use the asterisk '*' wildcard character to match
//     any text at, before, or after a search term ... Ev*ent will only match
//     the actual string Ev*ent". So only a leading and a trailing "*" are
//     wildcards; an interior "*" is a literal character. A lone "*" matches
//     any string or number value. Matching is case sensitive.
//   - "=" and "!=" apply to value nodes only: "The SELECTOR must point to a
//     value node (string or number) in the JSON. If it points to an array or
//     object ... both {$.users = 1} and {$.users != 1} will fail to match".
//     The guide does not say what != does on a missing, null or boolean
//     field; we read it the same way: no match (like "="). Use NOT EXISTS
//     for absence, IS NULL for null and IS TRUE / IS FALSE for booleans.
//     This choice decides, for example, that the 4.2 pattern's
//     $.additionalEventData.MFAUsed != "Yes" does not match a ConsoleLogin
//     record without MFAUsed.
//   - Quoting never changes meaning: = "400" and = 400 are the same
//     predicate. Against a JSON number, "=" compares the number's text with
//     the value (wildcards allowed) and, when the value is a number without
//     wildcards, also compares numerically (so = 400 matches 400.0).
//   - "<", "<=", ">", ">=" need a numeric value and match JSON numbers only.
//   - IS NULL matches a JSON null; NOT EXISTS matches when the selector does
//     not resolve (missing property, index out of range, or a step through
//     a non-container). A null property exists.
//   - "%regex%" values ("Regular expressions (regex) can be ... incorporated
//     with JSON and space-delimited filter patterns") are limited to the
//     documented character set (no parentheses, no multi-byte characters)
//     and to the documented quota of 2 per pattern; they are evaluated with
//     Go's RE2 as an unanchored search.
//
// # Limits
//
// Parse rejects patterns longer than MaxLength (1024 bytes, the API limit)
// and parenthesis nesting deeper than MaxDepth (32, our choice; no
// benchmark pattern nests deeper than 2). Together these bound memory and
// recursion for hostile input.
//
// # Equivalent and Covers
//
// Both decide over every possible event, not over text. For each selector
// the decision builds a finite set of representative values: absent, null,
// true, false, an object, every literal, and for the wildcard literals
// witnesses of the form prefix+F+contains...+F+suffix, where F is a
// character no literal contains. Atoms only distinguish values by which
// literals are prefixes, suffixes, substrings or the whole of the value,
// so these witnesses realise every combination of atom outcomes a real
// value can produce. Covers(a, b) then searches the combinations, one
// representative per selector, for one where b matches and a does not,
// pruning with three-valued evaluation. The decision is EXACT for
// patterns built from =, != on string literals with or without
// leading/trailing wildcards, IS NULL, NOT EXISTS, IS TRUE, IS FALSE, &&,
// || and parentheses, over selectors none of which is a prefix of another
// or differs from another first at an array index. That includes every
// CIS and Security Hub monitoring pattern and filters that OR several of
// them together.
//
// Elsewhere the answer is sound but CONSERVATIVE (it may say false where
// the true answer is true, never the reverse): selectors that depend on
// each other (one a prefix of another, or sibling array indexes, whose
// combinations the search treats as independent), numbers tested both by
// text (wildcards, regex) and by value on one selector, regular
// expressions (each distinct regex is an unknown predicate, so only
// identical regexes are related), and patterns whose search would exceed
// maxSteps partial assignments, maxContains "*x*" literals per selector or
// maxWitnesses representative values per selector.
package filterpattern
