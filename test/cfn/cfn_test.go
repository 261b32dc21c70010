package cfn_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/test/cfn"
)

func TestResolvePseudo(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{
		"arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:us-east-1:", {"Ref": "AWS::AccountId"}, ":t"]]},
		"list": [{"Ref": "AWS::Region"}, {"Ref": "MyBucket"}],
		"partial": {"Fn::Join": ["", ["a", {"Fn::GetAtt": ["X", "Arn"]}]]}
	}`), &doc); err != nil {
		t.Fatal(err)
	}
	got := cfn.ResolvePseudo(doc, map[string]string{"AWS::Partition": "aws", "AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1"})
	want := map[string]any{
		"arn":     "arn:aws:sns:us-east-1:123456789012:t",
		"list":    []any{"eu-west-1", map[string]any{"Ref": "MyBucket"}},
		"partial": map[string]any{"Fn::Join": []any{"", []any{"a", map[string]any{"Fn::GetAtt": []any{"X", "Arn"}}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResolvePseudo (-want +got):\n%s", diff)
	}
}
