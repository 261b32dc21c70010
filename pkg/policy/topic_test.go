package policy_test

import (
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

// defaultTopicStatement is the statement SNS writes into a new topic's
// policy (Amazon SNS Developer Guide, "Creating an Amazon SNS topic": "the
// default policy uses the aws:SourceOwner condition key").
const defaultTopicStatement = `{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},
 "Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission",
  "SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],
 "Resource":"arn:aws:sns:us-east-1:111122223333:alarms","Condition":{"StringEquals":{"AWS:SourceOwner":"111122223333"}}}`

// sslOnlyStatement is "AllowPublishThroughSSLOnly" from the Amazon SNS
// Developer Guide, "Amazon SNS security best practices".
const sslOnlyStatement = `{"Sid":"AllowPublishThroughSSLOnly","Action":"SNS:Publish","Effect":"Deny",
 "Resource":["arn:aws:sns:us-east-1:111122223333:alarms"],"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Principal":"*"}`

func TestEvaluateTopicPolicy(t *testing.T) {
	publish := policy.CloudWatchPublishRequest(topicARN, account, alarmARN)
	foreign := policy.CloudWatchPublishRequest(topicARN, other, "arn:aws:cloudwatch:us-east-1:444455556666:alarm:x")
	encrypted := publish.With("aws:SecureTransport", "true")
	for _, tc := range []struct {
		name       string
		statements string
		req        policy.Request
		want       want
	}{
		{"SNS default topic policy allows and does not deny", defaultTopicStatement, publish,
			want{allowed: true, allow: []string{"__default_statement_ID"}}},
		{"default policy does not allow another account's alarm", defaultTopicStatement, foreign, want{}},
		// No page says CloudWatch publishes over TLS, so the deny may apply ...
		{"SSL-only deny on an unencrypted topic is uncertain and counts",
			defaultTopicStatement + "," + sslOnlyStatement, publish,
			want{denied: true, allow: []string{"__default_statement_ID"}, deny: []string{"AllowPublishThroughSSLOnly"},
				uncertain: []string{"aws:SecureTransport"}}},
		// ... but nothing publishes to an encrypted topic over HTTP.
		{"SSL-only deny on an encrypted topic", defaultTopicStatement + "," + sslOnlyStatement, encrypted,
			want{allowed: true, allow: []string{"__default_statement_ID"}}},
		{"confused-deputy deny spares the account's own alarms",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"` + topicARN + `",
			  "Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}`, publish, want{}},
		{"confused-deputy deny stops another account's alarms",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"` + topicARN + `",
			  "Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}`, foreign,
			want{denied: true, deny: []string{"statement 1"}}},
		{"plain deny for the CloudWatch service, sns:*",
			`{"Sid":"NoCW","Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:*","Resource":"*"}`,
			publish, want{denied: true, deny: []string{"NoCW"}}},
		{"deny naming the service in another case, in a list",
			`{"Effect":"Deny","Principal":{"Service":["events.amazonaws.com","CloudWatch.AmazonAWS.com"]},"Action":"SNS:PUBLISH","Resource":"*"}`,
			publish, want{denied: true, deny: []string{"statement 1"}}},
		{"deny everything to everyone", `{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}`, publish,
			want{denied: true, deny: []string{"statement 1"}}},
		{"deny for another service",
			`{"Effect":"Deny","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}`, publish, want{}},
		{"deny for an account principal does not cover a service",
			`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sns:Publish","Resource":"*"}`, publish, want{}},
		{"deny {AWS: *} covers services",
			`{"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::444455556666:root","*"]},"Action":"sns:Pub*","Resource":"*"}`,
			publish, want{denied: true, deny: []string{"statement 1"}}},
		{"deny of another action", `{"Effect":"Deny","Principal":"*","Action":["sns:Subscribe","sns:Publis"],"Resource":"*"}`, publish, want{}},
		{"deny NotAction other actions", `{"Effect":"Deny","Principal":"*","NotAction":"sns:Subscribe","Resource":"*"}`, publish,
			want{denied: true, deny: []string{"statement 1"}}},
		{"deny NotAction sns:*", `{"Effect":"Deny","Principal":"*","NotAction":"sns:*","Resource":"*"}`, publish, want{}},
		{"deny on another topic",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:111122223333:Alarms"}`, publish, want{}},
		{"deny on a resource pattern",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"arn:aws:sns:*:111122223333:al?rm*"}`,
			publish, want{denied: true, deny: []string{"statement 1"}}},
		{"deny NotResource this topic",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","NotResource":"` + topicARN + `"}`, publish, want{}},
		{"deny without Resource", `{"Effect":"Deny","Principal":"*","Action":"sns:Publish"}`, publish,
			want{denied: true, deny: []string{"statement 1"}}},
		{"deny on a resource that is not an ARN pattern",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"arn:aws:sns:*"}`, publish,
			want{denied: true, deny: []string{"statement 1"}, uncertain: []string{"arn:aws:sns:*"}}},
		{"deny NotPrincipal listing the service",
			`{"Effect":"Deny","NotPrincipal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}`, publish, want{}},
		{"deny NotPrincipal listing only the account",
			`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sns:Publish","Resource":"*"}`,
			publish, want{denied: true, deny: []string{"statement 1"}}},
		{"deny with a wildcard service principal",
			`{"Effect":"Deny","Principal":{"Service":"*"},"Action":"sns:Publish","Resource":"*"}`, publish,
			want{denied: true, deny: []string{"statement 1"}, uncertain: []string{"Service"}}},
		{"deny with an unknown principal type",
			`{"Effect":"Deny","Principal":{"Robot":"r2"},"Action":"sns:Publish","Resource":"*"}`, publish,
			want{denied: true, deny: []string{"statement 1"}, uncertain: []string{"Robot"}}},
		{"data-perimeter deny exempting service principals",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{
			  "StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5","aws:SourceVpce":"vpce-1"},
			  "BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}`, publish, want{}},
		// A service principal belongs to no organization: such a policy
		// "prevents ... AWS services that interact with your internal
		// resources" (IAM guide, aws:PrincipalOrgID).
		{"org-only deny without the exemption",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}`,
			publish, want{denied: true, deny: []string{"statement 1"}}},
		// aws:PrincipalAccount is present for all requests, but its value
		// for a service principal is not documented.
		{"account-only deny on aws:PrincipalAccount is uncertain",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}`,
			publish, want{denied: true, deny: []string{"statement 1"}, uncertain: []string{"aws:PrincipalAccount"}}},
		{"RCP-style confused-deputy deny, same account",
			`{"Effect":"Deny","Principal":"*","Action":"sns:*","Resource":"*","Condition":{
			  "StringNotEqualsIfExists":{"aws:SourceAccount":"111122223333"},"Null":{"aws:SourceAccount":"false"},
			  "Bool":{"aws:PrincipalIsAWSService":"true"}}}`, publish, want{}},
		{"RCP-style confused-deputy deny, other account",
			`{"Effect":"Deny","Principal":"*","Action":"sns:*","Resource":"*","Condition":{
			  "StringNotEqualsIfExists":{"aws:SourceAccount":"111122223333"},"Null":{"aws:SourceAccount":"false"},
			  "Bool":{"aws:PrincipalIsAWSService":"true"}}}`, foreign, want{denied: true, deny: []string{"statement 1"}}},
		{"a failing condition decides despite an unknown one",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{
			  "IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"},"StringEquals":{"aws:SourceAccount":"444455556666"}}}`, publish, want{}},
		{"an unknown condition key makes a deny count",
			`{"Sid":"x","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"}}}`,
			publish, want{denied: true, deny: []string{"x"}, uncertain: []string{"aws:VpcSourceIp"}}},
		{"deny on alarms matching a name pattern",
			`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:*:*:alarm:root-*"}}}`,
			publish, want{denied: true, deny: []string{"statement 1"}}},
		{"allow for CloudWatch scoped to its alarms",
			`{"Sid":"cw","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"` + topicARN + `",
			  "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:*"}}}`,
			publish, want{allowed: true, allow: []string{"cw"}}},
		{"an uncertain allow does not count",
			`{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/x"}}}`,
			publish, want{uncertain: []string{"aws:PrincipalArn"}}},
		{"deny wins over allow",
			`{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"},{"Sid":"d","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*"}`,
			publish, want{denied: true, allow: []string{"statement 1"}, deny: []string{"d"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := policy.Evaluate(topicPolicy("2012-10-17", tc.statements), tc.req)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			check(t, got, tc.want)
		})
	}
}

func TestEvaluateSingleStatementObject(t *testing.T) {
	doc := `{"Statement":{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*"}}`
	got, err := policy.Evaluate(doc, policy.CloudWatchPublishRequest(topicARN, account, alarmARN))
	if err != nil {
		t.Fatal(err)
	}
	check(t, got, want{denied: true, deny: []string{"statement 1"}})
}
