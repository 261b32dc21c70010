package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// routineFS holds the routine corpus: one CloudTrail record per file plus
// the manifest, routine/index.json.
//
//go:embed routine/*.json
var routineFS embed.FS

const (
	routineDir      = "routine"
	routineManifest = "index.json"
)

// RoutineEvent is one CloudTrail record of genuinely routine, high-frequency
// activity, with where its shape comes from and why it is routine.
type RoutineEvent struct {
	// Name is the record's file name in the corpus, e.g.
	// "ec2-describe-instances-console.json".
	Name string
	// Record is the record as CloudTrail delivers it to CloudWatch Logs:
	// exactly one JSON object.
	Record []byte
	// Source names the AWS documentation page or public sample whose
	// record shape this one follows.
	Source string
	// Why says why the event is routine: who makes it and how often.
	Why string
}

// RoutineEvents returns the routine corpus, sorted by Name: realistic
// CloudTrail records of everyday activity (read-only calls across many
// services, console sign-ins with MFA, role assumption, S3 and Lambda data
// events, calls made by AWS services and their service-linked roles) that
// no CIS monitoring control exists to catch.
//
// The corpus exists because a metric filter that matches routine activity
// never satisfies a control, even when it covers the benchmark pattern: its
// metric gets data all the time, its alarm sits in ALARM, and CloudWatch
// notifies only on state changes, so the control's real events reach no
// one. Matching a filter against this corpus is how "too broad" is judged.
// The corpus therefore holds only genuinely routine events, so that a
// filter adding a rare configuration change to the benchmark pattern (4.4
// plus CreateUser, 4.5 plus PutEventSelectors) still passes. The catalog's
// tests hold every written pattern and accepted variant of every benchmark
// to matching none of these records, except the text the catalog documents
// as matching almost every event (v1.3.0–v1.5.0 4.1).
//
// The corpus is embedded and parsed once; each call returns a fresh copy
// that the caller may modify. routine/README.md says how to add a record.
func RoutineEvents() []RoutineEvent {
	evs := routineEvents()
	out := make([]RoutineEvent, len(evs))
	for i, e := range evs {
		e.Record = bytes.Clone(e.Record)
		out[i] = e
	}
	return out
}

var routineEvents = sync.OnceValue(func() []RoutineEvent {
	evs, err := loadRoutine(routineFS, routineDir)
	if err != nil {
		panic(err) // the corpus is compiled in; the catalog's tests guarantee this cannot happen
	}
	return evs
})

// routineIndex is the manifest's format.
type routineIndex struct {
	About   string `json:"about"`
	Records []struct {
		Name   string `json:"name"`
		Source string `json:"source"`
		Why    string `json:"why"`
	} `json:"records"`
}

// loadRoutine reads the corpus in dir of fsys. It fails unless every record
// file is one JSON object listed in the manifest with a source and a reason,
// and every manifest entry names a record file.
func loadRoutine(fsys fs.FS, dir string) ([]RoutineEvent, error) {
	b, err := fs.ReadFile(fsys, path.Join(dir, routineManifest))
	if err != nil {
		return nil, fmt.Errorf("catalog: routine corpus: %w", err)
	}
	var idx routineIndex
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("catalog: routine corpus: decode %s: %w", routineManifest, err)
	}

	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("catalog: routine corpus: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == routineManifest || !strings.HasSuffix(name, ".json") {
			continue
		}
		rec, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("catalog: routine corpus: %w", err)
		}
		var obj map[string]any
		if err := json.Unmarshal(rec, &obj); err != nil {
			return nil, fmt.Errorf("catalog: routine corpus: %s is not a JSON object: %w", name, err)
		}
		files[name] = rec
	}

	out := make([]RoutineEvent, 0, len(idx.Records))
	listed := map[string]bool{}
	for _, r := range idx.Records {
		switch rec, ok := files[r.Name]; {
		case listed[r.Name]:
			return nil, fmt.Errorf("catalog: routine corpus: %s is listed twice", r.Name)
		case !ok:
			return nil, fmt.Errorf("catalog: routine corpus: %s lists %q, which is not a record file", routineManifest, r.Name)
		case strings.TrimSpace(r.Source) == "" || strings.TrimSpace(r.Why) == "":
			return nil, fmt.Errorf("catalog: routine corpus: %s gives no source or no reason", r.Name)
		default:
			listed[r.Name] = true
			out = append(out, RoutineEvent{Name: r.Name, Record: rec, Source: r.Source, Why: r.Why})
		}
	}
	for name := range files {
		if !listed[name] {
			return nil, fmt.Errorf("catalog: routine corpus: %s is not listed in %s", name, routineManifest)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
