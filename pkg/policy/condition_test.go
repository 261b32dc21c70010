package policy_test

import (
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

type outcome int

const (
	notApplies outcome = iota
	applies
	undecided // counted as applying, and reported
)

func (o outcome) String() string { return [...]string{"does not apply", "applies", "undecided"}[o] }

// TestConditionOperators judges one Deny statement per case, so that
// Denied with no Uncertain entry means the condition holds, Denied with
// one means it could not be evaluated, and not Denied means it fails.
func TestConditionOperators(t *testing.T) {
	req := policy.Request{
		Service:  policy.CloudWatch,
		Action:   "sns:Publish",
		Resource: topicARN,
		Context: map[string][]string{
			"aws:SourceAccount":         {account},
			"AWS:SourceArn":             {alarmARN},
			"aws:PrincipalIsAWSService": {"true"},
			"aws:TagKeys":               {"a", "b"},
			"aws:Empty":                 {},
		},
		Absent: []string{"aws:PrincipalOrgID", "aws:PrincipalTag/*"},
	}
	for _, tc := range []struct {
		name, version, condition string
		want                     outcome
	}{
		{"StringEquals", "", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, applies},
		{"key names ignore case", "", `{"StringEquals":{"AWS:SOURCEACCOUNT":"111122223333"}}`, applies},
		{"values are ORed", "", `{"StringEquals":{"aws:SourceAccount":["444455556666","111122223333"]}}`, applies},
		{"StringEquals other", "", `{"StringEquals":{"aws:SourceAccount":"444455556666"}}`, notApplies},
		{"StringEquals is case-sensitive", "", `{"StringEquals":{"aws:SourceArn":"ARN:AWS:CLOUDWATCH:US-EAST-1:111122223333:ALARM:ROOT-USAGE"}}`, notApplies},
		{"StringNotEquals other", "", `{"StringNotEquals":{"aws:SourceAccount":"444455556666"}}`, applies},
		{"negated values are NORed", "", `{"StringNotEquals":{"aws:SourceAccount":["444455556666","111122223333"]}}`, notApplies},
		{"StringEqualsIgnoreCase", "", `{"StringEqualsIgnoreCase":{"aws:SourceArn":"ARN:AWS:CLOUDWATCH:US-EAST-1:111122223333:ALARM:ROOT-USAGE"}}`, applies},
		{"StringNotEqualsIgnoreCase", "", `{"StringNotEqualsIgnoreCase":{"aws:SourceArn":"ARN:AWS:CLOUDWATCH:US-EAST-1:111122223333:ALARM:ROOT-USAGE"}}`, notApplies},
		{"StringLike *", "", `{"StringLike":{"aws:SourceArn":"arn:aws:cloudwatch:*:alarm:*"}}`, applies},
		{"StringLike ?", "", `{"StringLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:root-usag?"}}`, applies},
		{"StringNotLike", "", `{"StringNotLike":{"aws:SourceArn":"*:alarm:root-*"}}`, notApplies},
		{"ArnLike", "", `{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:*:111122223333:alarm:*"}}`, applies},
		{"ArnEquals with wildcards", "", `{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:*:alarm:root-*"}}`, applies},
		{"ArnLike other alarm", "", `{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:other*"}}`, notApplies},
		{"ArnNotLike other alarm", "", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:other*"}}`, applies},
		{"ArnNotEquals same alarm", "", `{"ArnNotEquals":{"aws:SourceArn":"` + alarmARN + `"}}`, notApplies},
		{"ArnLike pattern that is not an ARN", "", `{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:*"}}`, undecided},
		{"Bool string", "", `{"Bool":{"aws:PrincipalIsAWSService":"true"}}`, applies},
		{"Bool JSON boolean", "", `{"Bool":{"aws:PrincipalIsAWSService":true}}`, applies},
		{"Bool false", "", `{"Bool":{"aws:PrincipalIsAWSService":"false"}}`, notApplies},
		{"Bool not a boolean", "", `{"Bool":{"aws:PrincipalIsAWSService":"yes"}}`, undecided},
		{"BoolIfExists present", "", `{"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}`, notApplies},
		{"Null false on a present key", "", `{"Null":{"aws:SourceAccount":"false"}}`, applies},
		{"Null true on a present key", "", `{"Null":{"aws:SourceAccount":"true"}}`, notApplies},
		{"Null true on an absent key", "", `{"Null":{"aws:PrincipalOrgID":"true"}}`, applies},
		{"Null true on an absent key family", "", `{"Null":{"aws:PrincipalTag/team":"true"}}`, applies},
		{"Null on an unknown key", "", `{"Null":{"aws:SourceVpce":"true"}}`, undecided},
		{"NullIfExists is not an operator", "", `{"NullIfExists":{"aws:SourceAccount":"true"}}`, undecided},
		{"absent key, positive operator", "", `{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`, notApplies},
		{"absent key, negated operator", "", `{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}`, applies},
		{"absent key, IfExists", "", `{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}`, applies},
		{"absent key, negated IfExists", "", `{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}`, applies},
		{"absent key, ForAnyValue negated", "", `{"ForAnyValue:StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}`, notApplies},
		{"absent key, ForAllValues", "", `{"ForAllValues:StringEquals":{"aws:PrincipalOrgID":"o-1"}}`, applies},
		{"absent key, ForAnyValue IfExists", "", `{"ForAnyValue:StringLikeIfExists":{"aws:PrincipalOrgID":"o-*"}}`, applies},
		{"absent key, unsupported operator", "", `{"NumericLessThan":{"aws:PrincipalOrgID":"3"}}`, notApplies},
		{"absent key, unsupported negated operator", "", `{"NotIpAddress":{"aws:PrincipalOrgID":"10.0.0.0/8"}}`, applies},
		{"present key, unsupported operator", "", `{"IpAddress":{"aws:SourceAccount":"10.0.0.0/8"}}`, undecided},
		{"unknown key", "", `{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, undecided},
		{"unknown key, IfExists", "", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, undecided},
		{"unknown operator", "", `{"StringMatches":{"aws:SourceAccount":"111122223333"}}`, undecided},
		{"keys are ANDed, one unknown", "", `{"StringEquals":{"aws:SourceAccount":"111122223333","aws:SourceVpce":"vpce-1"}}`, undecided},
		{"keys are ANDed, one false", "", `{"StringEquals":{"aws:SourceAccount":"444455556666","aws:SourceVpce":"vpce-1"}}`, notApplies},
		{"operators are ANDed", "", `{"StringEquals":{"aws:SourceAccount":"111122223333"},"Bool":{"aws:PrincipalIsAWSService":"false"}}`, notApplies},
		{"ForAnyValue one matches", "", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["b","c"]}}`, applies},
		{"ForAnyValue none matches", "", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["c"]}}`, notApplies},
		{"ForAllValues not all", "", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, notApplies},
		{"ForAllValues all", "", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b","c"]}}`, applies},
		{"ForAllValues negated", "", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["c"]}}`, applies},
		{"ForAnyValue negated", "", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}`, notApplies},
		{"ForAnyValue empty set", "", `{"ForAnyValue:StringEquals":{"aws:Empty":"x"}}`, notApplies},
		{"ForAllValues empty set", "", `{"ForAllValues:StringEquals":{"aws:Empty":"x"}}`, applies},
		{"several values without a set operator", "", `{"StringEquals":{"aws:TagKeys":"a"}}`, undecided},
		{"policy variable", "2012-10-17", `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, undecided},
		{"no variables before 2012-10-17", "2008-10-17", `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, notApplies},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := topicPolicy(tc.version, `{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":`+tc.condition+`}`)
			d, err := policy.Evaluate(doc, req)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			checkInvariants(t, d)
			got := notApplies
			switch {
			case d.Denied && len(d.Uncertain) == 0:
				got = applies
			case d.Denied:
				got = undecided
			case len(d.Uncertain) > 0:
				t.Errorf("not denied, yet uncertain: %q", d.Uncertain)
			}
			if got != tc.want {
				t.Errorf("condition %s: %v (Uncertain %q); want %v", tc.condition, got, d.Uncertain, tc.want)
			}
		})
	}
}
