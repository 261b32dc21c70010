package catalog_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// routineRecord is the part of a CloudTrail record the corpus tests read.
type routineRecord struct {
	EventVersion string `json:"eventVersion"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	EventID      string `json:"eventID"`
	EventType    string `json:"eventType"`
	EventCat     string `json:"eventCategory"`
	ReadOnly     *bool  `json:"readOnly"`
	Management   *bool  `json:"managementEvent"`
	UserIdentity struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext struct {
			SessionIssuer struct {
				ARN string `json:"arn"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
}

func decodeRoutine(t *testing.T, e catalog.RoutineEvent) routineRecord {
	t.Helper()
	var r routineRecord
	if err := json.Unmarshal(e.Record, &r); err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	return r
}

// TestRoutineCorpusFiles: RoutineEvents returns exactly the record files of
// pkg/catalog/routine, each listed in index.json with a source and a
// reason, each one JSON object carrying the fields CloudTrail always
// writes ("CloudTrail record contents", Optional: False). It reads the
// directory itself, so a file the embed pattern or the manifest misses
// fails here.
func TestRoutineCorpusFiles(t *testing.T) {
	got := catalog.RoutineEvents()
	if len(got) < 60 {
		t.Errorf("RoutineEvents() has %d records, want at least 60", len(got))
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].Name < got[j].Name }) {
		t.Error("RoutineEvents() is not sorted by Name")
	}

	const dir = "routine"
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		About   string `json:"about"`
		Records []struct{ Name, Source, Why string }
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if strings.TrimSpace(idx.About) == "" {
		t.Error("index.json does not say what it is")
	}
	manifest := map[string][2]string{}
	for _, r := range idx.Records {
		if _, dup := manifest[r.Name]; dup {
			t.Errorf("index.json lists %s twice", r.Name)
		}
		manifest[r.Name] = [2]string{r.Source, r.Why}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, f := range files {
		if name := filepath.Base(f); name != "index.json" {
			onDisk[name] = true
			if _, ok := manifest[name]; !ok {
				t.Errorf("%s is not listed in index.json", name)
			}
		}
	}
	for name := range manifest {
		if !onDisk[name] {
			t.Errorf("index.json lists %s, which has no file", name)
		}
	}
	if len(got) != len(onDisk) {
		t.Errorf("RoutineEvents() has %d records, the directory %d", len(got), len(onDisk))
	}

	ids := map[string]string{}
	for _, e := range got {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name))
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		if !bytes.Equal(raw, e.Record) {
			t.Errorf("%s: Record differs from the file", e.Name)
		}
		if m := manifest[e.Name]; strings.TrimSpace(e.Source) == "" || strings.TrimSpace(e.Why) == "" ||
			e.Source != m[0] || e.Why != m[1] {
			t.Errorf("%s: Source %q, Why %q; want the manifest's non-empty source and why", e.Name, e.Source, e.Why)
		}
		var fields map[string]any
		if err := json.Unmarshal(e.Record, &fields); err != nil {
			t.Errorf("%s is not one JSON object: %v", e.Name, err)
			continue
		}
		for _, k := range []string{"eventVersion", "eventTime", "eventSource", "eventName"} {
			if s, ok := fields[k].(string); !ok || s == "" {
				t.Errorf("%s lacks %s", e.Name, k)
			}
		}
		// Also always present, and read by the patterns or the tests below.
		for _, k := range []string{"userIdentity", "awsRegion", "sourceIPAddress", "eventID", "eventType", "recipientAccountId"} {
			if v, ok := fields[k]; !ok || v == "" || v == nil {
				t.Errorf("%s lacks %s", e.Name, k)
			}
		}
		r := decodeRoutine(t, e)
		if r.UserIdentity.Type == "" {
			t.Errorf("%s lacks userIdentity.type", e.Name)
		}
		if _, err := time.Parse(time.RFC3339, r.EventTime); err != nil {
			t.Errorf("%s: eventTime %q: %v", e.Name, r.EventTime, err)
		}
		if !eventSourceRE.MatchString(r.EventSource) {
			t.Errorf("%s: eventSource %q is not a service endpoint name", e.Name, r.EventSource)
		}
		if other, dup := ids[r.EventID]; dup {
			t.Errorf("%s and %s share eventID %s", other, e.Name, r.EventID)
		}
		ids[r.EventID] = e.Name
		if !strings.HasSuffix(e.Name, ".json") || strings.ToLower(e.Name) != e.Name || strings.ContainsAny(e.Name, " _") {
			t.Errorf("%s: want a lower-case, hyphenated .json file name", e.Name)
		}
	}
}

// TestRoutineEventsReturnsACopy: callers cannot change the corpus.
func TestRoutineEventsReturnsACopy(t *testing.T) {
	a := catalog.RoutineEvents()
	a[0].Record[0] = 'X'
	a[0].Name = "changed"
	if b := catalog.RoutineEvents(); b[0].Record[0] != '{' || b[0].Name == "changed" {
		t.Error("modifying RoutineEvents()'s result changed the corpus")
	}
}

// TestRoutineCorpusHoldsNothingAControlCatches states the corpus's rule
// directly, independent of pattern matching: no event any control lists,
// no error, no root identity, and console sign-ins only by IAM users who
// used MFA and succeeded.
func TestRoutineCorpusHoldsNothingAControlCatches(t *testing.T) {
	monitored := map[string]bool{} // by name: most CIS patterns have no eventSource term
	for _, id := range catalog.IDs() {
		b, err := catalog.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Controls {
			for _, e := range c.Events {
				monitored[e.Name] = true
			}
		}
	}
	for _, e := range catalog.RoutineEvents() {
		r := decodeRoutine(t, e)
		var fields map[string]any
		if err := json.Unmarshal(e.Record, &fields); err != nil {
			t.Fatal(err)
		}
		// ConsoleLogin is listed by the sign-in controls, which are about
		// its conditions (failure, no MFA); those are checked below.
		if monitored[r.EventName] && r.EventName != "ConsoleLogin" {
			t.Errorf("%s: %s is an event a control exists to catch", e.Name, r.EventName)
		}
		// Routine errors (throttling) are fine; authorization failures and
		// failed sign-ins are what 4.1 and 4.6 exist to catch.
		if code, _ := fields["errorCode"].(string); strings.HasPrefix(code, "AccessDenied") || strings.HasSuffix(code, "UnauthorizedOperation") {
			t.Errorf("%s: errorCode %q is an authorization failure", e.Name, code)
		}
		if msg, _ := fields["errorMessage"].(string); msg == "Failed authentication" {
			t.Errorf("%s: a failed sign-in is not routine", e.Name)
		}
		if r.UserIdentity.Type == "Root" || strings.HasSuffix(r.UserIdentity.ARN, ":root") {
			t.Errorf("%s: root activity is never routine", e.Name)
		}
		if r.EventName == "ConsoleLogin" {
			var resp struct{ ConsoleLogin string }
			var extra struct{ MFAUsed string }
			_ = json.Unmarshal(r.ResponseElements, &resp)
			_ = json.Unmarshal(r.AdditionalEventData, &extra)
			if r.UserIdentity.Type != "IAMUser" || resp.ConsoleLogin != "Success" || extra.MFAUsed != "Yes" {
				t.Errorf("%s: a routine ConsoleLogin is a successful IAM-user sign-in with MFA; got type %q, result %q, MFAUsed %q"+
					" (federated sign-ins are left out: see routine/README.md)", e.Name, r.UserIdentity.Type, resp.ConsoleLogin, extra.MFAUsed)
			}
		}
	}
}

// TestRoutineCategories: the corpus covers the kinds of routine activity a
// too-broad filter trips over. The categories are read from the records.
func TestRoutineCategories(t *testing.T) {
	var reads, signins, assumes, s3data, service int
	readServices := map[string]bool{}
	assumeVariants := map[string]bool{}
	for _, e := range catalog.RoutineEvents() {
		r := decodeRoutine(t, e)
		mgmt := r.Management == nil || *r.Management
		switch {
		case r.EventName == "ConsoleLogin":
			signins++
		case r.EventSource == "sts.amazonaws.com" && strings.HasPrefix(r.EventName, "AssumeRole"):
			assumes++
			assumeVariants[r.EventName] = true
		case r.ReadOnly != nil && *r.ReadOnly && r.EventType == "AwsApiCall" && mgmt:
			reads++
			readServices[r.EventSource] = true
		}
		if r.EventSource == "s3.amazonaws.com" && r.EventCat == "Data" && !mgmt {
			s3data++
		}
		if r.UserIdentity.Type == "AWSService" || r.UserIdentity.InvokedBy != "" || r.EventType == "AwsServiceEvent" ||
			strings.Contains(r.UserIdentity.SessionContext.SessionIssuer.ARN, ":role/aws-service-role/") {
			service++
		}
	}
	t.Logf("read-only calls %d across %d services, console sign-ins %d, AssumeRole* %d (%d variants), S3 data events %d, service-made %d",
		reads, len(readServices), signins, assumes, len(assumeVariants), s3data, service)
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"read-only management calls", reads, 30},
		{"services with read-only calls", len(readServices), 12},
		{"successful console sign-ins with MFA", signins, 3},
		{"AssumeRole variants", len(assumeVariants), 3},
		{"S3 data events", s3data, 3},
		{"records made by AWS services or service-linked roles", service, 5},
	} {
		if c.got < c.want {
			t.Errorf("%s: %d, want at least %d", c.what, c.got, c.want)
		}
	}
}

// documentedOverBroad reports whether the catalog itself documents variant v
// of control c in benchmark b as matching almost every event: the control
// warns so, and v is that version's own literal text.
func documentedOverBroad(b catalog.Benchmark, c catalog.Control, v catalog.Variant) bool {
	warned := slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "matches almost every") })
	return warned && strings.HasPrefix(v.Source, "v"+b.Version+" ")
}

// TestRoutineEventsMatchNoControl is the corpus's reason to exist: for
// every benchmark, every control, both profiles' written patterns and every
// accepted variant match no routine record. The one exception is the text
// the catalog documents as matching almost every event (the v1.3.0–v1.5.0
// 4.1 text that ORs two != terms); for it the test asserts the opposite,
// that it matches every routine record, which is what the warning says.
func TestRoutineEventsMatchNoControl(t *testing.T) {
	events := catalog.RoutineEvents()
	cache := map[string]*filterpattern.Pattern{}
	parsePattern := func(s string) *filterpattern.Pattern {
		t.Helper()
		if p, ok := cache[s]; ok {
			return p
		}
		p := parse(t, s)
		cache[s] = p
		return p
	}
	matching := func(s string) []string {
		t.Helper()
		var names []string
		for _, e := range events {
			ok, err := parsePattern(s).Match(e.Record)
			if err != nil {
				t.Fatalf("%s: %v", e.Name, err)
			}
			if ok {
				names = append(names, e.Name)
			}
		}
		return names
	}

	var overBroad []string
	checked := 0
	for _, id := range catalog.IDs() {
		b, err := catalog.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Controls {
			for _, p := range catalog.Profiles() {
				checked++
				if got := matching(c.PatternFor(p)); len(got) > 0 {
					t.Errorf("%s %s, %s profile's written pattern matches routine records %v\npattern %s",
						id, c.ID, p, got, c.PatternFor(p))
				}
			}
			for _, v := range c.Accepted {
				checked++
				got := matching(v.Pattern)
				if documentedOverBroad(b, c, v) {
					overBroad = append(overBroad, id+" "+c.ID)
					if len(got) != len(events) {
						t.Errorf("%s %s variant %q is documented as matching almost every event but matches %d of %d routine records",
							id, c.ID, v.Source, len(got), len(events))
					}
					continue
				}
				if len(got) > 0 {
					t.Errorf("%s %s accepted variant %q matches routine records %v\npattern %s", id, c.ID, v.Source, got, v.Pattern)
				}
			}
		}
	}
	// Where the exception applies is pinned, so a catalog change that
	// widens or drops it shows up here.
	wantOverBroad := []string{"cis-aws-v1.3.0 4.1", "cis-aws-v1.4.0 4.1", "cis-aws-v1.5.0 4.1"}
	if !slices.Equal(overBroad, wantOverBroad) {
		t.Errorf("documented over-broad variants = %v, want %v", overBroad, wantOverBroad)
	}
	t.Logf("%d patterns checked against %d routine records", checked, len(events))
}

// superset returns the pattern written for c under profile p with one more
// term ORed in.
func superset(c catalog.Control, p catalog.Profile, term string) string {
	inner := strings.TrimSpace(c.PatternFor(p))
	inner = strings.TrimSuffix(strings.TrimPrefix(inner, "{"), "}")
	return "{ (" + inner + ") || (" + term + ") }"
}

// TestRoutineCorpusJudgesBreadth checks the corpus from the judge's side:
// patterns that are plainly too broad match many records, a benchmark
// pattern plus a rare configuration change still matches none, and a
// benchmark pattern plus a routine event does not pass.
func TestRoutineCorpusJudgesBreadth(t *testing.T) {
	events := catalog.RoutineEvents()
	count := func(s string) int {
		t.Helper()
		p := parse(t, s)
		n := 0
		for _, e := range events {
			ok, err := p.Match(e.Record)
			if err != nil {
				t.Fatalf("%s: %v", e.Name, err)
			}
			if ok {
				n++
			}
		}
		return n
	}

	for _, c := range []struct {
		pattern string
		min     int
	}{
		{`{ $.eventName = "*" }`, len(events)},
		{`{ $.readOnly IS TRUE }`, 30},
		{`{ $.readOnly IS FALSE }`, 5},
		{`{ $.eventSource = kms.amazonaws.com }`, 3},
		{`{ $.userIdentity.invokedBy = "*" }`, 5},
		{`{ $.eventName = Describe* || $.eventName = List* || $.eventName = Get* }`, 30},
	} {
		if got := count(c.pattern); got < c.min {
			t.Errorf("%s matches %d routine records, want at least %d", c.pattern, got, c.min)
		}
	}

	// Rare configuration changes a person may reasonably add to a control's
	// pattern: the result is still not too broad.
	rare := map[string]string{
		"iam-policy-changes":        "$.eventName = CreateUser",
		"cloudtrail-config-changes": "$.eventName = PutEventSelectors",
		"cmk-disable-or-delete":     "$.eventName = DisableKeyRotation",
		"s3-bucket-policy-changes":  "$.eventName = PutBucketPublicAccessBlock",
		"config-changes":            "$.eventName = StartConfigurationRecorder",
		"security-group-changes":    "$.eventName = ModifySecurityGroupRules",
		"nacl-changes":              "$.eventName = AssociateSubnetCidrBlock",
		"network-gateway-changes":   "$.eventName = CreateNatGateway",
		"route-table-changes":       "$.eventName = AssociateRouteTable",
		"vpc-changes":               "$.eventName = CreateSubnet",
		"organizations-changes":     "$.eventName = CancelHandshake",
		"console-auth-failures":     "$.eventName = ConsoleLogin && $.responseElements.ConsoleLogin = Failure",
		"root-account-usage":        "$.userIdentity.type = Root",
	}
	for _, id := range catalog.IDs() {
		b, err := catalog.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Controls {
			term, ok := rare[c.Key]
			if !ok {
				continue
			}
			for _, p := range catalog.Profiles() {
				if got := count(superset(c, p, term)); got != 0 {
					t.Errorf("%s %s %s pattern plus (%s) matches %d routine records, want 0", id, c.ID, p, term, got)
				}
			}
		}
	}

	// A routine event ORed into a control makes it too broad, and the
	// corpus says so.
	def := catalog.Default()
	for _, c := range []struct{ key, term string }{
		{"security-group-changes", "$.eventName = RunInstances"},
		{"security-group-changes", "$.eventName = CreateNetworkInterface"},
		{"iam-policy-changes", "$.eventName = AssumeRole*"},
		{"s3-bucket-policy-changes", "$.eventSource = s3.amazonaws.com"},
		{"unauthorized-api-calls", "$.errorCode = *"},
		{"console-signin-without-mfa", "$.eventSource = signin.amazonaws.com"},
	} {
		ctl, ok := def.ControlByKey(c.key)
		if !ok {
			t.Fatalf("no control %s", c.key)
		}
		if got := count(superset(ctl, catalog.ProfileBenchmark, c.term)); got == 0 {
			t.Errorf("%s pattern plus (%s) matches no routine record; the corpus would not catch it", c.key, c.term)
		}
	}
}
