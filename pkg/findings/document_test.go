package findings_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	gocmp "github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/report"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// TestDocumentIsTheImportRequestBody: the --output asff document is
// exactly what the SDK sends as the BatchImportFindings request body for
// the same findings (compared as JSON values).
func TestDocumentIsTheImportRequestBody(t *testing.T) {
	b := catalog.Default()
	fs := findings.Build(reportOf(b, "apply", report.StatusApplied, everyStatus(b)), findings.Meta{Version: "1.2.3", Now: t0})

	var sent []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/findings/import" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		sent, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"FailedCount":0,"SuccessCount":15,"FailedFindings":[]}`)
	}))
	defer srv.Close()
	client := securityhub.NewFromConfig(moto.Config(srv.URL, home))
	if _, err := client.BatchImportFindings(t.Context(), &securityhub.BatchImportFindingsInput{Findings: fs}); err != nil {
		t.Fatal(err)
	}

	doc, err := findings.Document(fs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(doc), "}\n") {
		t.Error("document does not end with a newline")
	}
	var want, got any
	if err := json.Unmarshal(sent, &want); err != nil {
		t.Fatalf("SDK body: %v", err)
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("document: %v", err)
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Document differs from the BatchImportFindings request body (-sdk +document):\n%s", diff)
	}
}

func TestDocumentOfNoFindings(t *testing.T) {
	doc, err := findings.Document(nil)
	if err != nil {
		t.Fatal(err)
	}
	var parsed map[string][]any
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	if fs, ok := parsed["Findings"]; !ok || len(fs) != 0 {
		t.Errorf("document of no findings = %s, want an empty Findings list", doc)
	}
}
