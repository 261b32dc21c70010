// Package catalogtest loads the catalog's CloudTrail fixtures and evaluates
// them against the catalog's patterns. The catalog's own tests and the
// fixture demo (test/fixturedemo) share it, so both apply the same
// expectations.
//
// Fixtures live in pkg/catalog/testdata/events/<control key>/: records under
// match/ must match the pattern Watchkeeper writes for the control, records
// under nearmiss/ must not. Some benchmark texts cannot honour that for every
// version or profile (a pattern without an eventSource term matches a
// same-named call of another service; v1.2.0 has no HeadBucket exclusion),
// and some accepted variants are worth pinning down too. An optional
// expect.json in the key's directory lists those cases as rules, each with
// the reason, so the tests say exactly where a near miss is not one.
package catalogtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// Kinds of fixture, named after their directories.
const (
	KindMatch    = "match"
	KindNearMiss = "nearmiss"
)

// Rule overrides a fixture's default expectation, or states one for an
// accepted variant.
type Rule struct {
	// Fixture is the path relative to the key's directory, e.g.
	// "nearmiss/iot-create-policy.json".
	Fixture string `json:"fixture"`
	// Benchmarks and Profiles restrict where the rule applies; empty means
	// everywhere.
	Benchmarks []string          `json:"benchmarks,omitempty"`
	Profiles   []catalog.Profile `json:"profiles,omitempty"`
	// Variant, if set, makes this a rule about every accepted variant whose
	// Source contains this text, instead of about the written pattern.
	Variant string `json:"variant,omitempty"`
	Match   bool   `json:"match"`
	Why     string `json:"why"`
}

func (r Rule) applies(benchmarkID string, p catalog.Profile) bool {
	return (len(r.Benchmarks) == 0 || slices.Contains(r.Benchmarks, benchmarkID)) &&
		(len(r.Profiles) == 0 || slices.Contains(r.Profiles, p))
}

// Fixture is one CloudTrail record.
type Fixture struct {
	Key   string // control key, e.g. "cmk-disable-or-delete"
	Kind  string // KindMatch or KindNearMiss
	Name  string // path relative to the key's directory, e.g. "match/disable-key.json"
	Event []byte // the record as CloudTrail delivers it to CloudWatch Logs
	Rules []Rule // the rules of expect.json that name this fixture
}

// Want returns whether the pattern written for benchmarkID under profile p
// must match f, and the reason when a rule decides it.
func (f Fixture) Want(benchmarkID string, p catalog.Profile) (bool, string) {
	for _, r := range f.Rules {
		if r.Variant == "" && r.applies(benchmarkID, p) {
			return r.Match, r.Why
		}
	}
	return f.Kind == KindMatch, ""
}

// Dir returns the fixture directory of this source tree. It relies on the
// source file's compile-time path, so it works under "go test" and
// "go run" in the repository; programs built elsewhere should take the
// directory as a flag.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("pkg", "catalog", "testdata", "events")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", "events")
}

// Load reads every fixture under dir, sorted by key and name. It fails on
// a fixture that is not a JSON object and on a rule that names no fixture.
func Load(dir string) ([]Fixture, error) {
	keys, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read fixture dir: %w", err)
	}
	var out []Fixture
	for _, k := range keys {
		if !k.IsDir() {
			continue
		}
		fs, err := loadKey(filepath.Join(dir, k.Name()), k.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func loadKey(dir, key string) ([]Fixture, error) {
	var out []Fixture
	for _, kind := range []string{KindMatch, KindNearMiss} {
		files, err := filepath.Glob(filepath.Join(dir, kind, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("list %s fixtures of %s: %w", kind, key, err)
		}
		for _, path := range files {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("read fixture: %w", err)
			}
			var obj map[string]any
			if err := json.Unmarshal(b, &obj); err != nil {
				return nil, fmt.Errorf("fixture %s is not a JSON object: %w", path, err)
			}
			out = append(out, Fixture{Key: key, Kind: kind, Name: kind + "/" + filepath.Base(path), Event: b})
		}
	}
	rules, err := loadRules(filepath.Join(dir, "expect.json"))
	if err != nil {
		return nil, fmt.Errorf("rules of %s: %w", key, err)
	}
	for _, r := range rules {
		i := slices.IndexFunc(out, func(f Fixture) bool { return f.Name == r.Fixture })
		if i < 0 {
			return nil, fmt.Errorf("rules of %s: no fixture %q", key, r.Fixture)
		}
		if strings.TrimSpace(r.Why) == "" {
			return nil, fmt.Errorf("rules of %s: rule for %q gives no reason", key, r.Fixture)
		}
		out[i].Rules = append(out[i].Rules, r)
	}
	return out, nil
}

func loadRules(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var doc struct {
		Rules []Rule `json:"rules"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return doc.Rules, nil
}

// Result is one fixture evaluated against one pattern.
type Result struct {
	Benchmark string
	Control   string // control id in the benchmark
	Key       string
	Fixture   string
	// Profile is set for written patterns; Variant (the variant's Source)
	// for accepted variants.
	Profile catalog.Profile
	Variant string
	Pattern string
	Want    bool
	Got     bool
	Why     string // the rule's reason, when a rule decided Want
	Err     error  // parse or match failure
}

// OK reports whether the result is as expected.
func (r Result) OK() bool { return r.Err == nil && r.Want == r.Got }

// Evaluate evaluates every fixture of b's controls against the pattern
// written under profile p, then against the accepted variants that rules
// name. Fixtures of keys b lacks (4.15 in v1.2.0) are skipped.
func Evaluate(b catalog.Benchmark, p catalog.Profile, fixtures []Fixture) []Result {
	var out []Result
	cache := map[string]*filterpattern.Pattern{}
	parse := func(s string) (*filterpattern.Pattern, error) {
		if pat, ok := cache[s]; ok {
			return pat, nil
		}
		pat, err := filterpattern.Parse(s)
		if err != nil {
			return nil, err
		}
		cache[s] = pat
		return pat, nil
	}
	eval := func(r Result, f Fixture) Result {
		pat, err := parse(r.Pattern)
		if err != nil {
			r.Err = fmt.Errorf("parse pattern: %w", err)
			return r
		}
		r.Got, r.Err = pat.Match(f.Event)
		return r
	}
	for _, f := range fixtures {
		c, ok := b.ControlByKey(f.Key)
		if !ok {
			continue
		}
		want, why := f.Want(b.ID, p)
		base := Result{Benchmark: b.ID, Control: c.ID, Key: c.Key, Fixture: f.Name}
		r := base
		r.Profile, r.Pattern, r.Want, r.Why = p, c.PatternFor(p), want, why
		out = append(out, eval(r, f))
		for _, rule := range f.Rules {
			if rule.Variant == "" || !rule.applies(b.ID, p) {
				continue
			}
			for _, v := range c.Accepted {
				if !strings.Contains(v.Source, rule.Variant) {
					continue
				}
				r := base
				r.Variant, r.Pattern, r.Want, r.Why = v.Source, v.Pattern, rule.Match, rule.Why
				out = append(out, eval(r, f))
			}
		}
	}
	return out
}
