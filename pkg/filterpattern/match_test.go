package filterpattern_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/watchkeeper/watchkeeper/pkg/filterpattern"
)

// docEvent and compoundEvent are the example events of the CloudWatch Logs
// User Guide, "Filter and Pattern Syntax" (awsdocs/amazon-cloudwatch-logs-user-guide
// doc_source/FilterAndPatternSyntax.md).
const docEvent = `{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "ThisFlag": true,
  "users": [1, 2, 3],
  "latency": 512.5,
  "errorCode": "400"
}`

const compoundEvent = `{
  "user": {"id": 1, "email": "John.Stiles@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
  "actions": ["GET", "PUT", "DELETE"],
  "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
}`

func TestMatchDocumentedExamples(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		event   string
		want    bool
	}{
		// "The following filters would match".
		{`{ $.eventType = "UpdateTrail" }`, docEvent, true},
		{`{ $.sourceIPAddress != 123.123.* }`, docEvent, true},
		{`{ $.arrayKey[0] = "value" }`, docEvent, true},
		{`{ $.objectList[1].id = 2 }`, docEvent, true},
		{`{ $.SomeObject IS NULL }`, docEvent, true},
		{`{ $.SomeOtherObject NOT EXISTS }`, docEvent, true},
		{`{ $.ThisFlag IS TRUE }`, docEvent, true},
		// Their negations and neighbours.
		{`{ $.eventType = "updatetrail" }`, docEvent, false}, // case sensitive
		{`{ $.sourceIPAddress != 111.111.* }`, docEvent, false},
		{`{ $.arrayKey[2] = "value" }`, docEvent, false},
		{`{ $.arrayKey[2] NOT EXISTS }`, docEvent, true},
		{`{ $.objectList[1].id = 1 }`, docEvent, false},
		{`{ $.eventType[0] NOT EXISTS }`, docEvent, true}, // index into a string
		{`{ $.SomeObject NOT EXISTS }`, docEvent, false},  // null exists
		{`{ $.ThisFlag IS NULL }`, docEvent, false},
		{`{ $.ThisFlag IS FALSE }`, docEvent, false},
		{`{ $.SomeObject IS FALSE }`, docEvent, false},
		// "both {$.users = 1} and {$.users != 1} will fail to match" an array.
		{`{ $.users = 1 }`, docEvent, false},
		{`{ $.users != 1 }`, docEvent, false},
		{`{ $.objectList[0] != "x" }`, docEvent, false},
		// != on a missing, null or boolean field does not match either.
		{`{ $.missing != "x" }`, docEvent, false},
		{`{ $.SomeObject != "x" }`, docEvent, false},
		{`{ $.ThisFlag != "x" }`, docEvent, false},
		{`{ $.ThisFlag = true }`, docEvent, false},
		{cisPatterns["4.2"], `{"eventName":"ConsoleLogin","additionalEventData":{"LoginTo":"x"}}`, false},
		{cisPatterns["4.2"], `{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}`, true},
		// Wildcards: leading and trailing only; "Ev*ent will only match the
		// actual string Ev*ent".
		{`{ $.eventType = *Trail }`, docEvent, true},
		{`{ $.eventType = Update* }`, docEvent, true},
		{`{ $.eventType = *dateTr* }`, docEvent, true},
		{`{ $.eventType = * }`, docEvent, true},
		{`{ $.eventType = Up*ail }`, docEvent, false},
		{`{ $.SomeObject = * }`, docEvent, false},
		{`{ $.missing = * }`, docEvent, false},
		// Numbers.
		{`{ $.latency >= 500 }`, docEvent, true},
		{`{ $.latency > +1000 }`, docEvent, false},
		{`{ $.latency < 10e3 }`, docEvent, true},
		{`{ $.latency <= 512.5 }`, docEvent, true},
		{`{ $.latency < 512.5 }`, docEvent, false},
		{`{ $.latency = 512.50 }`, docEvent, true},  // numeric equality
		{`{ $.latency = "512.5" }`, docEvent, true}, // quoting does not matter
		{`{ $.latency = 51* }`, docEvent, true},     // wildcard on the number's text
		{`{ $.errorCode > 300 }`, docEvent, false},  // strings never compare numerically
		{`{ $.errorCode = 400 }`, docEvent, true},
		{`{ $.objectList[1].id != 3 }`, docEvent, true},
		// Regex.
		{`{ $.sourceIPAddress = %^111\.[0-9]+% }`, docEvent, true},
		{`{ $.sourceIPAddress != %^111\.% }`, docEvent, false},
		{`{ $.ThisFlag = %t% }`, docEvent, false},
		// "JSON Compound Conditions" examples, with the documented results.
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, compoundEvent, true},
		{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, compoundEvent, false},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, compoundEvent, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, compoundEvent, false},
		{`{ $.coordinates[2][0] = 7 && $.users[1].email = "Jane.Doe@*" }`, compoundEvent, true},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Match([]byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatchRejectsNonObjects(t *testing.T) {
	p := filterpattern.MustParse(`{ $.a NOT EXISTS }`)
	for _, ev := range []string{``, `[]`, `"a"`, `null`, `1`, `{"a":1`, `{"a":1} {"b":2}`, `{"a":1} x`, `ERROR something happened`} {
		ok, err := p.Match([]byte(ev))
		if !errors.Is(err, filterpattern.ErrNotJSONObject) {
			t.Errorf("Match(%q) = %v, %v; want ErrNotJSONObject", ev, ok, err)
		}
	}
	if ok, err := p.Match([]byte(" {\"b\": 1}\n")); err != nil || !ok {
		t.Errorf("Match(object with whitespace) = %v, %v; want true, nil", ok, err)
	}
}

// Patterns under test, by name, as the benchmark texts write them.
var cisPatterns = map[string]string{
	"4.1 v1.2":                     `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
	"4.1 v1.3-v1.5":                `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }`,
	"4.1 v2.0+":                    `{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }`,
	"4.1 grouped":                  `{(($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && (($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket"))}`,
	"4.2":                          `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`,
	"4.2 SSO variant":              `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`,
	"4.3":                          `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
	"4.4":                          `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}`,
	"4.5":                          `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`,
	"4.6":                          `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`,
	"4.7":                          `{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }`,
	"4.8":                          `{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }`,
	"4.9":                          `{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }`,
	"4.10":                         `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`,
	"4.4 Security Hub remediation": `{($.eventSource=iam.amazonaws.com) && (($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy))}`,
	"4.10 v5.0+":                   `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules) }`,
	"4.11":                         `{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`,
	"4.12":                         `{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`,
	"4.14":                         `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }`,
	"4.13 remediation":             `{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }`,
	"4.13 v3 audit":                `{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }`,
	"4.13 Security Hub":            `{($.eventSource=ec2.amazonaws.com) && (($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable))}`,
	"4.15":                         `{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }`,
}

// TestMatchCloudTrailRecords evaluates the benchmark patterns against
// realistic CloudTrail records in testdata/events. Every pattern lists the
// records it must match; it must match no other record.
func TestMatchCloudTrailRecords(t *testing.T) {
	events := map[string][]byte{}
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		events[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	if len(events) < 20 {
		t.Fatalf("found %d events in testdata/events", len(events))
	}
	unauthorized := []string{"ec2-unauthorized-operation", "iam-access-denied", "lambda-access-denied-exception"}
	for _, tc := range []struct {
		pattern string
		matches []string
	}{
		{"4.1 v1.2", append(unauthorized, "s3-access-denied-headbucket-delivery")},
		// The v1.3-v1.5 text ORs two != terms, so it matches almost every
		// record: only a HeadBucket from delivery.logs without an
		// unauthorized error code would escape it.
		{"4.1 v1.3-v1.5", except(events)},
		// && binds tighter: the exclusions apply to AccessDenied* only,
		// so a HeadBucket AccessDenied from log delivery is excluded.
		{"4.1 v2.0+", unauthorized},
		{"4.1 grouped", unauthorized},
		// MFAUsed=Yes and the failed login do not match; a federated SSO
		// login (no MFA recorded) does.
		{"4.2", []string{"console-login-no-mfa", "console-login-failed", "console-login-sso-federated"}},
		{"4.2 SSO variant", []string{"console-login-no-mfa"}},
		// A root call invoked by an AWS service, and a root
		// AwsServiceEvent, do not match.
		{"4.3", []string{"root-api-call"}},
		{"4.4", []string{"iam-put-role-policy"}},
		{"4.5", []string{"cloudtrail-stop-logging"}},
		{"4.6", []string{"console-login-failed"}},
		// DisableKey from another event source does not match.
		{"4.7", []string{"kms-disable-key", "kms-schedule-key-deletion"}},
		{"4.8", []string{"s3-put-bucket-policy"}},
		{"4.9", []string{"config-stop-recorder"}},
		{"4.10", []string{"ec2-authorize-sg-ingress"}},
		{"4.13 remediation", []string{"ec2-create-route", "ec2-create-route-table"}},
		{"4.13 v3 audit", []string{"ec2-create-route", "ec2-create-route-table"}},
		{"4.13 Security Hub", []string{"ec2-create-route", "ec2-create-route-table"}},
		{"4.15", []string{"organizations-create-account"}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			p := filterpattern.MustParse(cisPatterns[tc.pattern])
			want := map[string]bool{}
			for _, e := range tc.matches {
				if events[e] == nil {
					t.Fatalf("no event %s", e)
				}
				want[e] = true
			}
			for name, ev := range events {
				got, err := p.Match(ev)
				if err != nil {
					t.Fatalf("Match(%s): %v", name, err)
				}
				if got != want[name] {
					t.Errorf("%s: Match = %v, want %v", name, got, want[name])
				}
			}
		})
	}
}

// except returns every event name but the listed ones.
func except(events map[string][]byte, skip ...string) []string {
	var out []string
	for name := range events {
		if !contains(skip, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
