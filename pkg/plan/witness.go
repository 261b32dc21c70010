package plan

import (
	"encoding/json"
	"sync"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// Witnesses make judging filters cheap. Equivalent and Covers decide over
// every possible event, which costs milliseconds per pair; a log group holds
// one filter per control (or hundreds), and every filter is compared with
// every control. A witness is a concrete CloudTrail-shaped event: if an
// accepted variant matches a witness and a filter does not, the filter can
// neither be equivalent to nor cover that variant. The shortcut is sound for
// any event whatsoever; witnesses drawn from the catalog's events simply make
// it fire for almost every unrelated (filter, control) pair, leaving the
// exact decision to the few pairs that may really match.

// witnessesPerControl bounds how many of a control's events become
// witnesses: one event a variant matches and a filter misses is enough.
const witnessesPerControl = 2

// allWitnesses are the witnesses for every benchmark in the catalog,
// built once: they depend only on catalog data.
var allWitnesses = sync.OnceValue(func() [][]byte {
	var bs []catalog.Benchmark
	for _, id := range catalog.IDs() {
		if b, err := catalog.Lookup(id); err == nil {
			bs = append(bs, b)
		}
	}
	return witnesses(bs...)
})

// witnesses returns an event for the first few catalog events of each
// control (as an IAM user's successful, MFA-less call) plus events for the
// controls that are about identities and error codes rather than calls.
func witnesses(benchmarks ...catalog.Benchmark) [][]byte {
	type identity struct {
		Type string `json:"type"`
	}
	base := func(source, name string) map[string]any {
		return map[string]any{
			"eventVersion": "1.09", "eventTime": "2026-01-01T00:00:00Z", "eventID": "00000000-0000-0000-0000-000000000000",
			"eventSource": source, "eventName": name, "eventType": "AwsApiCall", "awsRegion": "us-east-1",
			"sourceIPAddress": "203.0.113.7", "recipientAccountId": "111122223333",
			"userIdentity":        identity{Type: "IAMUser"},
			"additionalEventData": map[string]any{"MFAUsed": "No"},
			"responseElements":    map[string]any{"ConsoleLogin": "Success"},
		}
	}
	var evs []map[string]any
	seen := map[catalog.Event]bool{}
	for _, b := range benchmarks {
		for _, c := range b.Controls {
			for i, e := range c.Events {
				if i >= witnessesPerControl || seen[e] {
					continue
				}
				seen[e] = true
				evs = append(evs, base(e.Source, e.Name))
			}
		}
	}
	root := base("s3.amazonaws.com", "ListBuckets")
	root["userIdentity"] = identity{Type: "Root"}
	denied := base("ec2.amazonaws.com", "DescribeInstances")
	denied["errorCode"] = "AccessDenied"
	unauthorized := base("ec2.amazonaws.com", "RunInstances")
	unauthorized["errorCode"] = "Client.UnauthorizedOperation"
	failed := base("signin.amazonaws.com", "ConsoleLogin")
	failed["errorMessage"] = "Failed authentication"
	failed["responseElements"] = map[string]any{"ConsoleLogin": "Failure"}
	evs = append(evs, root, denied, unauthorized, failed)

	out := make([][]byte, 0, len(evs))
	for _, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			continue // cannot happen for these literals; a missing witness only costs time
		}
		out = append(out, b)
	}
	return out
}

// witnessHits records which witnesses a pattern matches, matching each
// witness at most once and only when asked.
type witnessHits struct {
	p     *filterpattern.Pattern
	ws    [][]byte
	known []int8 // 0 not yet matched, 1 matches, -1 does not
}

func newWitnessHits(p *filterpattern.Pattern, ws [][]byte) *witnessHits {
	return &witnessHits{p: p, ws: ws, known: make([]int8, len(ws))}
}

// hit reports whether the pattern matches witness i.
func (h *witnessHits) hit(i int) bool {
	if h.known[i] == 0 {
		h.known[i] = -1
		if ok, err := h.p.Match(h.ws[i]); err == nil && ok {
			h.known[i] = 1
		}
	}
	return h.known[i] == 1
}

// all matches every witness and returns the outcomes.
func (h *witnessHits) all() []bool {
	out := make([]bool, len(h.ws))
	for i := range h.ws {
		out[i] = h.hit(i)
	}
	return out
}

// refutes reports whether the witnesses prove that the filter (with hits
// fh) cannot cover a variant with hits vh: the variant matches a witness
// the filter does not.
func refutes(fh *witnessHits, vh []bool) bool {
	for i, v := range vh {
		if v && !fh.hit(i) {
			return true
		}
	}
	return false
}
