package findings

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// Document returns the ASFF JSON document of findings, the CLI's --output
// asff: the BatchImportFindings request body, {"Findings": [...]}, which
// `aws securityhub batch-import-findings --cli-input-json` and other ASFF
// tooling read as is (User Guide, "AWS Security Finding Format (ASFF)"
// presents the format as this "Findings" array; API reference,
// BatchImportFindings, request syntax). It is indented, ends with a
// newline, and leaves out unset attributes, as the SDK does on the wire
// (document_test.go compares the two).
func Document(findings []types.AwsSecurityFinding) ([]byte, error) {
	list := make([]any, 0, len(findings))
	for i, f := range findings {
		v, err := asffValue(f)
		if err != nil {
			return nil, fmt.Errorf("render finding %d: %w", i, err)
		}
		list = append(list, v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"Findings": list}); err != nil {
		return nil, fmt.Errorf("encode ASFF document: %w", err)
	}
	return buf.Bytes(), nil
}

// asffValue is f as generic JSON without unset attributes. The SDK's types
// carry no JSON tags, but their exported field names are the ASFF member
// names; unset members (nil pointers, empty enums, slices and maps) are
// dropped, as the SDK's own serializer drops them.
func asffValue(f types.AwsSecurityFinding) (any, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	v, _ = prune(v)
	return v, nil
}

// prune removes nulls, empty strings, empty lists and empty objects,
// recursively; keep is false when v itself is empty.
func prune(v any) (out any, keep bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case string:
		return t, t != ""
	case []any:
		kept := make([]any, 0, len(t))
		for _, e := range t {
			if e2, ok := prune(e); ok {
				kept = append(kept, e2)
			}
		}
		return kept, len(kept) > 0
	case map[string]any:
		for k, e := range t {
			if e2, ok := prune(e); ok {
				t[k] = e2
			} else {
				delete(t, k)
			}
		}
		return t, len(t) > 0
	}
	return v, true
}
