package findings

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// RequiredAttributes are the top-level ASFF attributes every finding must
// have (User Guide, "Required top-level ASFF attributes").
var RequiredAttributes = []string{
	"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
	"Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt",
}

// Validate checks f against the required attributes and the limits this
// package documents (doc.go), so a malformed finding is caught before
// Security Hub rejects it. It returns every problem, joined.
func Validate(f types.AwsSecurityFinding) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	str := func(name string, p *string, max int) {
		s := aws.ToString(p)
		switch {
		case strings.TrimSpace(s) == "":
			bad("%s is missing", name)
		case max > 0 && utf8.RuneCountInString(s) > max:
			bad("%s has %d characters, over %d", name, utf8.RuneCountInString(s), max)
		}
	}
	stamp := func(name string, p *string) {
		str(name, p, 0)
		if s := aws.ToString(p); s != "" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				bad("%s %q is not an RFC 3339 timestamp", name, s)
			}
		}
	}
	str("AwsAccountId", f.AwsAccountId, 0)
	if n := len(aws.ToString(f.AwsAccountId)); n != 0 && n != 12 {
		bad("AwsAccountId has %d characters, not 12", n)
	}
	stamp("CreatedAt", f.CreatedAt)
	stamp("UpdatedAt", f.UpdatedAt)
	str("Description", f.Description, MaxDescription)
	str("GeneratorId", f.GeneratorId, MaxID)
	str("Id", f.Id, MaxID)
	str("ProductArn", f.ProductArn, 2048)
	str("Title", f.Title, MaxTitle)
	if aws.ToString(f.SchemaVersion) != SchemaVersion {
		bad("SchemaVersion is %q, not %q", aws.ToString(f.SchemaVersion), SchemaVersion)
	}
	if f.Severity == nil || (f.Severity.Label == "" && f.Severity.Normalized == nil) {
		bad("Severity has neither Label nor Normalized")
	}
	if len(f.Types) == 0 || len(f.Types) > 50 {
		bad("Types has %d entries, not 1 to 50", len(f.Types))
	}
	if n := len(f.Resources); n < 1 || n > MaxResources {
		bad("Resources has %d entries, not 1 to %d", n, MaxResources)
	}
	for i, r := range f.Resources {
		str(fmt.Sprintf("Resources[%d].Type", i), r.Type, 256)
		str(fmt.Sprintf("Resources[%d].Id", i), r.Id, 0)
	}
	if len(f.ProductFields) > MaxProductFields {
		bad("ProductFields has %d pairs, over %d", len(f.ProductFields), MaxProductFields)
	}
	for k, v := range f.ProductFields {
		if k == "" || utf8.RuneCountInString(k) > MaxProductFieldKey {
			bad("ProductFields key %q is empty or over %d characters", k, MaxProductFieldKey)
		}
		if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > MaxProductFieldVal {
			bad("ProductFields[%q] is blank or over %d characters", k, MaxProductFieldVal)
		}
	}
	if r := f.Remediation; r != nil && r.Recommendation != nil && r.Recommendation.Text != nil {
		str("Remediation.Recommendation.Text", r.Recommendation.Text, MaxRecommendation)
	}
	if c := f.Compliance; c != nil {
		if len(c.RelatedRequirements) > 32 {
			bad("Compliance.RelatedRequirements has %d entries, over 32", len(c.RelatedRequirements))
		}
		for i, sr := range c.StatusReasons {
			str(fmt.Sprintf("Compliance.StatusReasons[%d].ReasonCode", i), sr.ReasonCode, 0)
			if sr.Description != nil {
				str(fmt.Sprintf("Compliance.StatusReasons[%d].Description", i), sr.Description, MaxReasonDescription)
			}
		}
	}
	if n := findingSize(f); n > MaxFindingBytes {
		bad("finding is %d bytes, over %d", n, MaxFindingBytes)
	}
	if len(errs) > 0 {
		return fmt.Errorf("finding %s: %w", aws.ToString(f.Id), errors.Join(errs...))
	}
	return nil
}
