package iampolicy_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// TestMotoIAMModel measures what moto 5.2.1 evaluates of an identity
// policy, with one probe policy per question, so docs/security.md can say
// exactly what the moto tests prove. Each probe asserts today's answer; a
// moto upgrade that changes one fails here, and the docs (and perhaps the
// attack tests) should then be revisited.
func TestMotoIAMModel(t *testing.T) {
	g := startGuarded(t)
	acct := seed(t, g)
	trailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, moto.Account, ownTrail)
	allowAll := `{"Effect":"Allow","Action":"*","Resource":"*"}`
	probes := []struct {
		name, statements string
		call             func(context.Context, aws.Config) error
		allowed          bool // what moto answers
		meaning          string
	}{
		{
			name:       "resource-scoped Allow",
			statements: fmt.Sprintf(`{"Effect":"Allow","Action":"sns:Subscribe","Resource":%q}`, acct.topicARN),
			call:       subscribe(acct.topicARN, "email", "sec@example.com"),
			allowed:    false,
			meaning:    "moto authorises SNS, CloudTrail and CloudWatch calls against Resource \"*\": a statement naming an ARN never applies",
		},
		{
			name:       "resource-scoped Allow on a trail",
			statements: fmt.Sprintf(`{"Effect":"Allow","Action":"cloudtrail:StartLogging","Resource":"arn:aws:cloudtrail:%s:%s:trail/%s"}`, region, moto.Account, otherTrail),
			call:       startLogging(otherTrail),
			allowed:    false,
			meaning:    "CloudTrail calls too are authorised against Resource \"*\"",
		},
		{
			name:       "Allow with a condition the request fails",
			statements: `{"Effect":"Allow","Action":"sns:Subscribe","Resource":"*","Condition":{"StringEquals":{"sns:Endpoint":"sec@example.com","sns:Protocol":"email"}}}`,
			call:       subscribe(acct.topicARN, "https", "https://evil.example/loot"),
			allowed:    true,
			meaning:    "moto evaluates no condition on a service call: sns:Endpoint and sns:Protocol are ignored",
		},
		{
			name:       "Deny with a condition the request fails",
			statements: allowAll + `,{"Effect":"Deny","Action":"sns:Subscribe","Resource":"*","Condition":{"StringEquals":{"sns:Endpoint":"attacker@evil.example"}}}`,
			call:       subscribe(acct.topicARN, "email", "sec@example.com"),
			allowed:    false,
			meaning:    "a conditioned Deny applies as if its condition held",
		},
		{
			name: "Allow with ForAllValues and Null on cloudwatch:AlarmActions",
			statements: `{"Effect":"Allow","Action":"monitoring:PutMetricAlarm","Resource":"*","Condition":{"ForAllValues:StringLike":{"cloudwatch:AlarmActions":"arn:aws:sns:*:*:watchkeeper-cis-alarms"},` +
				`"Null":{"cloudwatch:AlarmActions":"false"}}}`,
			call:    putAlarm("arn:aws:automate:" + region + ":ec2:terminate"),
			allowed: true,
			meaning: "cloudwatch:AlarmActions is ignored too",
		},
		{
			name:       "cloudwatch: action name",
			statements: allowAll + `,{"Effect":"Deny","Action":"cloudwatch:PutMetricAlarm","Resource":"*"}`,
			call:       putAlarm(acct.topicARN),
			allowed:    true,
			meaning:    "moto names CloudWatch actions after the signing name, monitoring:*, so no cloudwatch:* statement matches",
		},
		{
			name:       "Deny with NotResource and nothing else",
			statements: fmt.Sprintf(`{"Effect":"Deny","Action":"cloudtrail:StartLogging","NotResource":%q}`, trailARN),
			call:       startLogging(otherTrail),
			allowed:    true,
			meaning:    "moto lets a statement without Resource permit its actions, whatever its Effect: a Deny with NotResource acts as an Allow",
		},
		{
			name:       "Deny of an action on Resource *",
			statements: allowAll + `,{"Effect":"Deny","Action":"cloudtrail:Stop*","Resource":"*"}`,
			call:       stopLogging(ownTrail),
			allowed:    false,
			meaning:    "action-level Allow and Deny on Resource \"*\", with wildcards, are evaluated",
		},
	}
	for i, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			name := fmt.Sprintf("probe-%d", i)
			doc := `{"Version":"2012-10-17","Statement":[` + p.statements + `]}`
			creds := g.newRoleNamed(t, name, map[string]string{"Probe": doc})
			err := p.call(t.Context(), g.config(creds))
			if got := err == nil; got != p.allowed || (err != nil && !denied(err)) {
				t.Errorf("moto 5.2.1 model changed: %s; got %v, want allowed=%t", p.meaning, err, p.allowed)
			}
		})
	}
}

func subscribe(topic, protocol, endpoint string) func(context.Context, aws.Config) error {
	return func(bg context.Context, cfg aws.Config) error {
		_, err := sns.NewFromConfig(cfg).Subscribe(bg, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String(protocol), Endpoint: aws.String(endpoint)})
		return err
	}
}

func putAlarm(action string) func(context.Context, aws.Config) error {
	return func(bg context.Context, cfg aws.Config) error {
		_, err := cloudwatch.NewFromConfig(cfg).PutMetricAlarm(bg, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String("watchkeeper-probe"), MetricName: aws.String("m"), Namespace: aws.String("n"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, AlarmActions: []string{action},
		})
		return err
	}
}

func startLogging(trail string) func(context.Context, aws.Config) error {
	return func(bg context.Context, cfg aws.Config) error {
		_, err := cloudtrail.NewFromConfig(cfg).StartLogging(bg, &cloudtrail.StartLoggingInput{Name: aws.String(trail)})
		return err
	}
}

func stopLogging(trail string) func(context.Context, aws.Config) error {
	return func(bg context.Context, cfg aws.Config) error {
		_, err := cloudtrail.NewFromConfig(cfg).StopLogging(bg, &cloudtrail.StopLoggingInput{Name: aws.String(trail)})
		return err
	}
}
