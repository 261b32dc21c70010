package policy_test

import (
	"fmt"

	"github.com/watchkeeper/watchkeeper/pkg/policy"
)

// The topic question: is CloudWatch explicitly denied sns:Publish?
func ExampleEvaluate() {
	topicPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"SameAccountOnly","Effect":"Deny","Principal":"*",
	  "Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:111122223333:alarms",
	  "Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}]}`
	r := policy.CloudWatchPublishRequest("arn:aws:sns:us-east-1:111122223333:alarms", "111122223333",
		"arn:aws:cloudwatch:us-east-1:111122223333:alarm:root-usage")
	d, err := policy.Evaluate(topicPolicy, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("denied:", d.Denied)
	// Output: denied: false
}

// The key question: may CloudWatch use the topic's key?
func ExampleEvaluateAll() {
	keyPolicy := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
	  {"Sid":"Allow_CloudWatch_for_CMK","Effect":"Allow","Principal":{"Service":["cloudwatch.amazonaws.com"]},
	   "Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}`
	rs := policy.CloudWatchKeyRequests("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"111122223333", "arn:aws:cloudwatch:us-east-1:111122223333:alarm:root-usage")
	d, err := policy.EvaluateAll(keyPolicy, rs...)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("allowed:", d.Allowed, d.AllowStatements)
	// Output: allowed: true [Allow_CloudWatch_for_CMK]
}
