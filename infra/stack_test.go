package main

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/inspect"
	"github.com/watchkeeper/watchkeeper/pkg/notify"
	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
)

func TestFunctionRuntimeAndSizing(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	logsID := ""
	for id, r := range f.resources("AWS::Logs::LogGroup") {
		if props(r)["RetentionInDays"] == float64(90) {
			logsID = id
		}
	}
	if logsID == "" {
		t.Fatal("no log group with 90-day retention for the function")
	}
	f.tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Runtime":                      "provided.al2023",
		"Architectures":                []any{"arm64"},
		"Handler":                      "bootstrap",
		"MemorySize":                   FunctionMemoryMB,
		"Timeout":                      FunctionTimeoutMinutes * 60,
		"ReservedConcurrentExecutions": 1,
		"LoggingConfig":                map[string]any{"LogFormat": "JSON", "LogGroup": ref(logsID)},
	})
	f.tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1))
}

func TestFunctionLogGroupIsRetainedWithRetention(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	_, fn := f.only(t, "AWS::Lambda::Function")
	id := props(fn)["LoggingConfig"].(map[string]any)["LogGroup"].(map[string]any)["Ref"].(string)
	lg := f.doc["Resources"].(map[string]any)[id].(map[string]any)
	if got := props(lg)["RetentionInDays"]; got != float64(90) {
		t.Errorf("function log group retention = %v, want 90", got)
	}
	if lg["DeletionPolicy"] != "Retain" {
		t.Errorf("function log group DeletionPolicy = %v, want Retain", lg["DeletionPolicy"])
	}
}

func TestFunctionEnvironmentIsExactlyTheContract(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	roleID := f.logicalID(t, "AWS::IAM::Role")
	keyID, _ := f.prefixed(t, "AWS::KMS::Key", "TopicKey")
	_, fn := f.only(t, "AWS::Lambda::Function")
	got := props(fn)["Environment"].(map[string]any)["Variables"]
	want := map[string]any{
		"WATCHKEEPER_BENCHMARK":       "cis-aws-v3.0.0",
		"WATCHKEEPER_MODE":            "apply",
		"WATCHKEEPER_PATTERN_PROFILE": "benchmark",
		"WATCHKEEPER_NAMESPACE":       "CISBenchmark",
		"WATCHKEEPER_TOPIC_NAME":      "watchkeeper-cis-alarms",
		"WATCHKEEPER_TOPIC_KMS_KEY":   getAtt(keyID, "Arn"),
		"WATCHKEEPER_SUBSCRIPTIONS":   "email:sec@example.com,email:ops@example.com",
		"WATCHKEEPER_EXCLUDE":         "",
		"WATCHKEEPER_HOME_REGION":     testRegion,
		"WATCHKEEPER_TRAIL_HEALING":   "safe",
		"WATCHKEEPER_SELF_ROLE_ARN":   getAtt(roleID, "Arn"),
		"WATCHKEEPER_NOTIFY":          "true",
		"WATCHKEEPER_FINDINGS":        "securityhub",
		"LOG_LEVEL":                   "INFO",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("function environment mismatch (-want +got):\n%s", diff)
	}
}

func TestFunctionEnvironmentCarriesConfigAndManagedTrail(t *testing.T) {
	f := synth(t, "trail", trailTestConfig())
	_, fn := f.only(t, "AWS::Lambda::Function")
	vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
	trailLogs := ""
	for id, r := range f.resources("AWS::Logs::LogGroup") {
		if props(r)["RetentionInDays"] == float64(365) {
			trailLogs = id
		}
	}
	logsRole := ""
	for id := range f.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, "TrailLogsRole") {
			logsRole = id
		}
	}
	want := map[string]any{
		"WATCHKEEPER_MODE":                "report",
		"WATCHKEEPER_EXCLUDE":             "4.14,4.15",
		"WATCHKEEPER_TRAIL_HEALING":       "full",
		"WATCHKEEPER_TRAIL_NAME":          TrailName,
		"WATCHKEEPER_TRAIL_LOG_GROUP_ARN": getAtt(trailLogs, "Arn"),
		"WATCHKEEPER_TRAIL_LOGS_ROLE_ARN": getAtt(logsRole, "Arn"),
	}
	for k, w := range want {
		if diff := cmp.Diff(w, vars[k]); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", k, diff)
		}
	}
}

func TestScheduleRuleUsesConfiguredExpression(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		cfg     Config
		want    string
	}{
		{"default", defaultTestConfig(), "cron(0 3 * * ? *)"},
		{"trail", trailTestConfig(), "rate(6 hours)"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			var got []string
			for _, r := range f.resources("AWS::Events::Rule") {
				if s, ok := props(r)["ScheduleExpression"].(string); ok {
					got = append(got, s)
				}
			}
			if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
				t.Errorf("schedule expressions (-want +got):\n%s", diff)
			}
		})
	}
}

// Every rule must target the remediator (the schedule directly, the drift
// rule through the drift queue) with a bounded retry policy and the
// encrypted dead-letter queue.
func TestEveryRuleTargetHasRetryPolicyAndDeadLetterQueue(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	fnID := f.logicalID(t, "AWS::Lambda::Function")
	dlqID := f.deadLetterQueueID(t)
	rules := f.resources("AWS::Events::Rule")
	for id, r := range rules {
		if props(r)["Name"] == selfwatch.WatchRule {
			delete(rules, id) // targets the watchdog topic (selfwatch_test.go)
		}
	}
	if len(rules) != 2 {
		t.Fatalf("got %d rules, want 2 (schedule, drift)", len(rules))
	}
	for id, r := range rules {
		target := getAtt(fnID, "Arn")
		if _, drift := props(r)["EventPattern"]; drift {
			target = getAtt(f.driftQueueID(t), "Arn")
		}
		want := []any{map[string]any{
			"Arn":              target,
			"Id":               "Target0",
			"DeadLetterConfig": map[string]any{"Arn": getAtt(dlqID, "Arn")},
			"RetryPolicy":      map[string]any{"MaximumRetryAttempts": float64(asyncRetryAttempts), "MaximumEventAgeInSeconds": float64(asyncMaxEventAgeHours * 3600)},
		}}
		if diff := cmp.Diff(want, props(r)["Targets"]); diff != "" {
			t.Errorf("rule %s targets (-want +got):\n%s", id, diff)
		}
	}
}

func TestFailedAsyncInvocationsGoToDeadLetterQueue(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	fnID := f.logicalID(t, "AWS::Lambda::Function")
	dlqID := f.deadLetterQueueID(t)
	_, cfg := f.only(t, "AWS::Lambda::EventInvokeConfig")
	want := map[string]any{
		"FunctionName":             ref(fnID),
		"Qualifier":                "$LATEST",
		"MaximumRetryAttempts":     float64(asyncRetryAttempts),
		"MaximumEventAgeInSeconds": float64(asyncMaxEventAgeHours * 3600),
		"DestinationConfig":        map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlqID, "Arn")}},
	}
	if diff := cmp.Diff(want, props(cfg)); diff != "" {
		t.Errorf("event invoke config (-want +got):\n%s", diff)
	}
}

func TestDriftRulePatternIsExact(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	var pattern any
	for _, r := range f.resources("AWS::Events::Rule") {
		if props(r)["Name"] == selfwatch.DriftRule {
			// The control calls; the self-watch branches are checked in
			// selfwatch_test.go.
			pattern = controlPattern(t, props(r)["EventPattern"])
		}
	}
	want := map[string]any{
		"source":      []any{"aws.cloudtrail", "aws.kms", "aws.logs", "aws.monitoring", "aws.sns"},
		"detail-type": []any{"AWS API Call via CloudTrail"},
		"detail": map[string]any{
			"eventSource": []any{"cloudtrail.amazonaws.com", "kms.amazonaws.com", "logs.amazonaws.com", "monitoring.amazonaws.com", "sns.amazonaws.com"},
			"eventName": []any{
				"AddPermission", "DeleteAlarms", "DeleteLogGroup", "DeleteMetricFilter", "DeleteTopic", "DeleteTrail", "DisableAlarmActions",
				"DisableKey", "PutEventSelectors", "PutKeyPolicy", "PutMetricAlarm", "PutMetricFilter", "RemovePermission",
				"ScheduleKeyDeletion", "SetTopicAttributes", "StopLogging", "Unsubscribe", "UpdateTrail",
			},
			"errorCode": []any{map[string]any{"exists": false}},
			"$or": []any{
				map[string]any{"userIdentity": map[string]any{"arn": []any{map[string]any{"anything-but": map[string]any{
					"prefix": "arn:aws:sts::" + testAccount + ":assumed-role/" + RoleName + "/"}}}}},
				map[string]any{"userIdentity": map[string]any{"arn": []any{map[string]any{"exists": false}}}},
			},
			// Calls by auto scaling and by service-linked roles (trigger.Automated).
			"userIdentity": map[string]any{
				"$or": []any{
					map[string]any{"invokedBy": []any{map[string]any{"anything-but": []any{"application-autoscaling.amazonaws.com", "autoscaling.amazonaws.com"}}}},
					map[string]any{"invokedBy": []any{map[string]any{"exists": false}}},
				},
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"$or": []any{
					map[string]any{"arn": []any{map[string]any{"anything-but": map[string]any{"prefix": "arn:aws:iam::" + testAccount + ":role/aws-service-role/"}}}},
					map[string]any{"arn": []any{map[string]any{"exists": false}}},
				}}},
			},
		},
	}
	if diff := cmp.Diff(want, pattern); diff != "" {
		t.Errorf("drift rule pattern (-want +got):\n%s", diff)
	}
}

// The loop guard in the pattern must exclude exactly the role the function
// runs as.
func TestDriftRuleExcludesTheFunctionsOwnRole(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	_, role := f.only(t, "AWS::IAM::Role")
	if got := props(role)["RoleName"]; got != RoleName {
		t.Fatalf("role name = %v, want %s", got, RoleName)
	}
	if p := OwnSessionARNPrefix("aws", testAccount); !strings.Contains(p, ":assumed-role/"+RoleName+"/") {
		t.Errorf("own-session prefix %q does not name role %s", p, RoleName)
	}
}

func TestEveryQueueIsEncryptedAndTLSOnly(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	queues := f.resources("AWS::SQS::Queue")
	if len(queues) == 0 {
		t.Fatal("no queues")
	}
	for id, q := range queues {
		if props(q)["SqsManagedSseEnabled"] != true && props(q)["KmsMasterKeyId"] == nil {
			t.Errorf("queue %s is not encrypted: %v", id, props(q))
		}
		denied := false
		for _, p := range f.resources("AWS::SQS::QueuePolicy") {
			for _, qref := range props(p)["Queues"].([]any) {
				if cmp.Equal(qref, ref(id)) || cmp.Equal(qref, getAtt(id, "QueueUrl")) {
					denied = denied || hasTLSDeny(props(p)["PolicyDocument"])
				}
			}
		}
		if !denied {
			t.Errorf("queue %s has no policy denying non-TLS access", id)
		}
	}
}

// hasTLSDeny reports whether doc denies requests with aws:SecureTransport false.
func hasTLSDeny(doc any) bool {
	for _, s := range doc.(map[string]any)["Statement"].([]any) {
		st := s.(map[string]any)
		cond, _ := st["Condition"].(map[string]any)
		b, _ := cond["Bool"].(map[string]any)
		if st["Effect"] == "Deny" && b["aws:SecureTransport"] == "false" {
			return true
		}
	}
	return false
}

func TestTopicIsEncryptedWithRotatingCustomerManagedKey(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	keyID, key := f.prefixed(t, "AWS::KMS::Key", "TopicKey")
	_, topic := f.prefixed(t, "AWS::SNS::Topic", "AlarmTopic")
	if diff := cmp.Diff(getAtt(keyID, "Arn"), props(topic)["KmsMasterKeyId"]); diff != "" {
		t.Errorf("topic key (-want +got):\n%s", diff)
	}
	if props(topic)["TopicName"] != DefaultTopicName {
		t.Errorf("topic name = %v, want %s", props(topic)["TopicName"], DefaultTopicName)
	}
	if props(key)["EnableKeyRotation"] != true {
		t.Error("topic key rotation is not enabled")
	}
}

func TestKeyPolicyLetsOnlyThisAccountsCloudWatchUseTheKey(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	_, key := f.prefixed(t, "AWS::KMS::Key", "TopicKey")
	want := []any{
		map[string]any{
			"Action": "kms:*", "Effect": "Allow", "Resource": "*",
			"Principal": map[string]any{"AWS": "arn:aws:iam::" + testAccount + ":root"},
		},
		map[string]any{
			"Sid": "AllowCloudWatchAlarmsToUseTheKey", "Effect": "Allow", "Resource": "*",
			"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey*"},
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": testAccount}},
		},
	}
	got := props(key)["KeyPolicy"].(map[string]any)["Statement"]
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key policy (-want +got):\n%s", diff)
	}
}

func TestTopicPolicyAllowsThisAccountsAlarmsAndDeniesPlainHTTP(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	topicID, _ := f.prefixed(t, "AWS::SNS::Topic", "AlarmTopic")
	_, pol := f.prefixed(t, "AWS::SNS::TopicPolicy", "AlarmTopic")
	want := map[string]any{
		"Topics": []any{ref(topicID)},
		"PolicyDocument": map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{
				map[string]any{
					"Sid": "DenyNonTLSAccess", "Effect": "Deny", "Principal": "*",
					"Action": "sns:*", "Resource": ref(topicID),
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				},
				map[string]any{
					"Sid": "AllowCloudWatchAlarmsOfThisAccount", "Effect": "Allow",
					"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
					"Action":    "sns:Publish", "Resource": ref(topicID),
					"Condition": map[string]any{
						"StringEquals": map[string]any{"aws:SourceAccount": testAccount},
						"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:cloudwatch:" + testRegion + ":" + testAccount + ":alarm:*"},
					},
				},
			},
		},
	}
	if diff := cmp.Diff(want, props(pol)); diff != "" {
		t.Errorf("topic policy (-want +got):\n%s", diff)
	}
}

func TestEmailSubscriptionsComeFromConfig(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	topicID, _ := f.prefixed(t, "AWS::SNS::Topic", "AlarmTopic")
	var got []string
	for id, s := range f.resources("AWS::SNS::Subscription") {
		p := props(s)
		if strings.HasPrefix(id, "WatchdogTopic") {
			continue // the watchdog topic's (selfwatch_test.go)
		}
		if p["Protocol"] != "email" || !cmp.Equal(p["TopicArn"], ref(topicID)) {
			t.Errorf("subscription %s = %v, want email on the alarm topic", id, p)
		}
		got = append(got, p["Endpoint"].(string))
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"ops@example.com", "sec@example.com"}, got); diff != "" {
		t.Errorf("subscription endpoints (-want +got):\n%s", diff)
	}
}

// iamCase is one configuration the remediator's policy depends on.
type iamCase struct {
	fixture string
	cfg     Config
	// apply, healing and passRole say what the case must grant: writes,
	// the resolved trail-healing level, and iam:PassRole.
	apply    bool
	healing  string
	passRole bool
	// trail is the one trail ARN trail writes are scoped to; "" is every
	// trail of the account.
	trail string
}

// iamCases covers report/apply x none/safe/full, with and without the
// managed trail where that changes the policy.
func iamCases() []iamCase {
	with := func(mode, healing string, trail bool) Config {
		c := defaultTestConfig()
		c.Mode, c.TrailHealing, c.ProvisionTrail = mode, healing, trail
		return c
	}
	named := with("apply", "safe", false)
	named.TrailName = "org-main"
	managed := "arn:aws:cloudtrail:" + testRegion + ":" + testAccount + ":trail/" + TrailName
	return []iamCase{
		{"report-none", with("report", "none", false), false, "none", false, ""},
		{"report-safe", with("report", "safe", false), false, "safe", false, ""},
		{"trail", trailTestConfig(), false, "full", false, managed}, // report, full, managed trail
		{"apply-none", with("apply", "none", false), true, "none", false, ""},
		{"default", defaultTestConfig(), true, "safe", false, ""}, // apply, auto = safe
		{"apply-full", with("apply", "full", false), true, "full", false, ""},
		{"apply-auto-trail", with("apply", HealingAuto, true), true, "full", true, managed},
		{"apply-safe-trail", with("apply", "safe", true), true, "safe", false, managed},
		{"apply-safe-named-trail", named, true, "safe", false, "arn:aws:cloudtrail:*:" + testAccount + ":trail/org-main"},
	}
}

// wantRemediatorStatements is the remediator's complete identity policy for
// a configuration (see remediatorStatements' table).
func wantRemediatorStatements(f *fixture, t *testing.T, c iamCase) []any {
	acct := testAccount
	arn := func(svc, res string) string { return "arn:aws:" + svc + ":*:" + acct + ":" + res }
	_, topic := f.prefixed(t, "AWS::SNS::Topic", "AlarmTopic")
	keyID := props(topic)["KmsMasterKeyId"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	dlqID := f.deadLetterQueueID(t)
	_, fn := f.only(t, "AWS::Lambda::Function")
	logsID := props(fn)["LoggingConfig"].(map[string]any)["LogGroup"].(map[string]any)["Ref"].(string)
	st := func(sid string, actions []any, resource any) map[string]any {
		var a any = actions
		if len(actions) == 1 {
			a = actions[0]
		}
		return map[string]any{"Sid": sid, "Effect": "Allow", "Action": a, "Resource": resource}
	}
	cond := func(m map[string]any, c map[string]any) map[string]any { m["Condition"] = c; return m }
	one := func(v []any) any {
		if len(v) == 1 {
			return v[0]
		}
		return v
	}
	topicArn := arn("sns", DefaultTopicName)
	want := []any{
		st("ReadWithoutResourceLevelPermissions", []any{"cloudtrail:DescribeTrails", "cloudwatch:DescribeAlarmsForMetric", "ec2:DescribeRegions"}, "*"),
		st("InspectTrails", []any{"cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"}, arn("cloudtrail", "trail/*")),
	}
	var trailWrites []any
	if c.apply && (c.healing == "safe" || c.healing == "full") {
		trailWrites = []any{"cloudtrail:PutEventSelectors", "cloudtrail:StartLogging"}
		if c.healing == "full" {
			trailWrites = append(trailWrites, "cloudtrail:UpdateTrail")
		}
		res := arn("cloudtrail", "trail/*")
		if c.trail != "" {
			res = c.trail
		}
		want = append(want, st("RestoreTrails", trailWrites, res))
	}
	if c.apply {
		want = append(want, st("InspectAndWriteMetricFilters", []any{"logs:DescribeMetricFilters", "logs:PutMetricFilter"}, arn("logs", "log-group:*")))
	} else {
		want = append(want, st("InspectMetricFilters", []any{"logs:DescribeMetricFilters"}, arn("logs", "log-group:*")))
	}
	want = append(want, st("ReadAlarms", []any{"cloudwatch:DescribeAlarms"}, arn("cloudwatch", "alarm:*")))
	if c.apply {
		want = append(want,
			st("WriteOwnAlarms", []any{"cloudwatch:EnableAlarmActions", "cloudwatch:TagResource"}, arn("cloudwatch", "alarm:watchkeeper-*")),
			cond(st("PutOwnAlarmsNotifyingOnlyTheTopic", []any{"cloudwatch:PutMetricAlarm"}, arn("cloudwatch", "alarm:watchkeeper-*")), map[string]any{
				"ForAllValues:StringLike": map[string]any{"cloudwatch:AlarmActions": topicArn},
				"Null":                    map[string]any{"cloudwatch:AlarmActions": "false"},
			}))
	}
	want = append(want,
		st("ReadTopics", []any{"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"}, arn("sns", "*")),
		st("PublishToOwnTopic", []any{"sns:Publish"}, topicArn))
	if c.apply {
		want = append(want,
			st("CreateOwnTopic", []any{"sns:CreateTopic", "sns:TagResource"}, topicArn),
			cond(st("SubscribeConfiguredEmailEndpoints", []any{"sns:Subscribe"}, topicArn), map[string]any{
				"StringEquals": map[string]any{"sns:Protocol": "email", "sns:Endpoint": []any{"ops@example.com", "sec@example.com"}},
			}))
	}
	want = append(want,
		st("ReadKeyPolicies", []any{"kms:DescribeKey", "kms:GetKeyPolicy"}, arn("kms", "key/*")),
		st("PublishToEncryptedTopic", []any{"kms:Decrypt", "kms:GenerateDataKey"}, getAtt(keyID, "Arn")),
	)
	if c.apply {
		want = append(want, st("RestoreTopicKey", []any{"kms:CancelKeyDeletion", "kms:EnableKey"}, getAtt(keyID, "Arn")))
	}
	// Security Hub findings (findings=securityhub, the default), in the
	// home Region, every mode: they are the report.
	hub := "arn:aws:securityhub:" + testRegion + ":" + acct + ":hub/default"
	want = append(want,
		st("ImportOwnFindings", []any{"securityhub:BatchImportFindings"}, "arn:aws:securityhub:"+testRegion+":"+acct+":product/"+acct+"/default"),
		st("ReadFindings", []any{"securityhub:GetFindings"}, hub),
		cond(st("ResolveFindings", []any{"securityhub:BatchUpdateFindings"}, hub), map[string]any{
			"StringEquals": map[string]any{"securityhub:ASFFSyntaxPath/Workflow.Status": "RESOLVED"},
		}))
	logsRole := ""
	for id := range f.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, "TrailLogsRole") {
			logsRole = id
		}
	}
	if c.passRole {
		pass := st("PassTrailLogsRoleToCloudTrail", []any{"iam:PassRole"}, getAtt(logsRole, "Arn"))
		pass["Condition"] = map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "cloudtrail.amazonaws.com"}}
		want = append(want, pass)
	}
	// The own-rule check (selfwatch.go): read always, re-enable when healing.
	ownRules := []any{}
	for _, a := range ownRuleArns("aws", testAccount, testRegion) {
		ownRules = append(ownRules, a)
	}
	want = append(want, st("CheckOwnRules", []any{"events:DescribeRule"}, ownRules))
	if c.apply {
		want = append(want, st("ReEnableOwnRules", []any{"events:EnableRule"}, ownRules))
	}
	want = append(want,
		st("WriteOwnLogs", []any{"logs:CreateLogStream", "logs:PutLogEvents"}, getAtt(logsID, "Arn")),
		st("SendFailedInvocationsToDeadLetterQueue", []any{"sqs:SendMessage"}, getAtt(dlqID, "Arn")),
		st("ConsumeDriftQueue", []any{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}, getAtt(f.driftQueueID(t), "Arn")),
		st("UseQueueKey", []any{"kms:Decrypt", "kms:GenerateDataKey"}, getAtt(f.queueKeyID(t), "Arn")),
	)
	// The explicit Deny statements (guardStatements) close the policy.
	denyAll := func(sid string, actions []any) map[string]any {
		return map[string]any{"Sid": sid, "Effect": "Deny", "Action": one(actions), "Resource": "*"}
	}
	var destructive []any
	for _, a := range destructiveActions {
		destructive = append(destructive, a)
	}
	want = append(want, denyAll("DenyDestructiveActions", destructive))
	var notGranted []any
	for _, a := range []any{"cloudtrail:PutEventSelectors", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail"} {
		if !slices.Contains(trailWrites, a) {
			notGranted = append(notGranted, a)
		}
	}
	if len(notGranted) > 0 {
		want = append(want, denyAll("DenyTrailWritesNotGranted", notGranted))
	}
	if len(trailWrites) > 0 && c.trail != "" {
		want = append(want, map[string]any{"Sid": "DenyTrailWritesToOtherTrails", "Effect": "Deny", "Action": one(trailWrites), "NotResource": c.trail})
	}
	if c.passRole {
		want = append(want, map[string]any{"Sid": "DenyPassingOtherRoles", "Effect": "Deny", "Action": "iam:PassRole", "NotResource": getAtt(logsRole, "Arn")})
	} else {
		want = append(want, denyAll("DenyPassingOtherRoles", []any{"iam:PassRole"}))
	}
	if c.apply {
		want = append(want, cond(denyAll("DenySubscribingOtherEndpoints", []any{"sns:Subscribe"}), map[string]any{
			"StringNotEquals": map[string]any{"sns:Endpoint": []any{"ops@example.com", "sec@example.com"}},
		}))
	} else {
		want = append(want, denyAll("DenySubscribingOtherEndpoints", []any{"sns:Subscribe"}))
	}
	return append(want, cond(denyAll("DenyAlarmActionsOtherThanTheTopic", []any{"cloudwatch:PutCompositeAlarm", "cloudwatch:PutMetricAlarm"}), map[string]any{
		"ForAnyValue:StringNotLike": map[string]any{"cloudwatch:AlarmActions": topicArn},
	}))
}

func (f *fixture) remediatorRoleID() string {
	for id, r := range f.resources("AWS::IAM::Role") {
		if props(r)["RoleName"] == RoleName {
			return id
		}
	}
	return ""
}

// The policy is a function of the configuration: report mode grants reads
// and publishing only; apply adds writes; the trail writes follow the
// trail-healing level exactly as the planner plans them.
func TestRemediatorPolicyIsExactlyTheLeastPrivilegeStatements(t *testing.T) {
	for _, tc := range iamCases() {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			got := f.roleStatements(t, f.remediatorRoleID())
			if diff := cmp.Diff(wantRemediatorStatements(f, t, tc), got); diff != "" {
				t.Errorf("remediator policy statements (-want +got):\n%s", diff)
			}
		})
	}
}

// Across every configuration, the policy grants exactly the actions the
// code calls: the inspector's reads, the applier's writes (named and
// implied), the notifier's publish and the platform's needs — no more, no
// fewer.
func TestRemediatorPolicyActionsAreExactlyWhatTheCodeCalls(t *testing.T) {
	var got []string
	for _, tc := range iamCases() {
		f := synth(t, tc.fixture, tc.cfg)
		for _, s := range f.roleStatements(t, f.remediatorRoleID()) {
			if s.(map[string]any)["Effect"] == "Allow" { // Deny statements grant nothing
				got = append(got, asStrings(s.(map[string]any)["Action"])...)
			}
		}
	}
	want := slices.Concat(inspect.ReadActions, apply.WriteActions, apply.ImpliedWriteActions, NotifyActions, PlatformActions, SelfWatchActions, findings.Actions)
	sort.Strings(got)
	sort.Strings(want)
	got, want = slices.Compact(got), slices.Compact(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("granted actions over all configurations (-want +got):\n%s", diff)
	}
}

func TestNoIAMPolicyUsesWildcardActions(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		cfg     Config
	}{{"default", defaultTestConfig()}, {"trail", trailTestConfig()}} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := synth(t, tc.fixture, tc.cfg)
			pols := f.resources("AWS::IAM::Policy")
			if len(pols) == 0 {
				t.Fatal("no IAM policies")
			}
			for id, p := range pols {
				for _, s := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					if s.(map[string]any)["Effect"] != "Allow" {
						continue // a wildcard in a Deny only denies more
					}
					for _, a := range asStrings(s.(map[string]any)["Action"]) {
						if strings.Contains(a, "*") {
							t.Errorf("policy %s grants wildcard action %q", id, a)
						}
					}
				}
			}
			for id, r := range f.resources("AWS::IAM::Role") {
				if mp := props(r)["ManagedPolicyArns"]; mp != nil {
					t.Errorf("role %s attaches managed policies %v", id, mp)
				}
			}
		})
	}
}

func TestAlarmsOnWatchkeeperNotifyTheTopic(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	topicID, _ := f.prefixed(t, "AWS::SNS::Topic", "AlarmTopic")
	fnID := f.logicalID(t, "AWS::Lambda::Function")
	dlqID := f.deadLetterQueueID(t)
	alarms := f.resources("AWS::CloudWatch::Alarm")
	if len(alarms) != 3 {
		t.Fatalf("got %d alarms, want 3 (errors, dead-letter queue, dead man's switch)", len(alarms))
	}
	seen := map[string]bool{}
	for id, a := range alarms {
		p := props(a)
		if !slices.ContainsFunc(p["AlarmActions"].([]any), func(a any) bool { return cmp.Equal(a, ref(topicID)) }) {
			t.Errorf("alarm %s actions %v lack the alarm topic", id, p["AlarmActions"])
		}
		if p["MetricName"] == notify.HeartbeatMetric {
			continue // the dead man's switch (selfwatch_test.go)
		}
		if p["Threshold"] != float64(1) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["EvaluationPeriods"] != float64(1) {
			t.Errorf("alarm %s is not '>= 1 in one period': %v", id, p)
		}
		dims := p["Dimensions"].([]any)
		switch p["MetricName"] {
		case "Errors":
			seen["errors"] = cmp.Equal(dims, []any{map[string]any{"Name": "FunctionName", "Value": ref(fnID)}}) && p["Namespace"] == "AWS/Lambda"
		case "ApproximateNumberOfMessagesVisible":
			seen["dlq"] = cmp.Equal(dims, []any{map[string]any{"Name": "QueueName", "Value": getAtt(dlqID, "QueueName")}}) && p["Namespace"] == "AWS/SQS"
		}
	}
	if !seen["errors"] || !seen["dlq"] {
		t.Errorf("alarms on function errors / DLQ depth found = %v, want both", seen)
	}
}

func TestNoTrailUnlessProvisioned(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	f.tpl.ResourceCountIs(jsii.String("AWS::CloudTrail::Trail"), jsii.Number(0))
	f.tpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(0))
}

func TestManagedTrailIsMultiRegionWithAllManagementEvents(t *testing.T) {
	f := synth(t, "trail", trailTestConfig())
	trailLogs := ""
	for id, r := range f.resources("AWS::Logs::LogGroup") {
		if props(r)["RetentionInDays"] == float64(365) {
			trailLogs = id
		}
	}
	f.tpl.HasResourceProperties(jsii.String("AWS::CloudTrail::Trail"), map[string]any{
		"TrailName":                  TrailName,
		"IsLogging":                  true,
		"IsMultiRegionTrail":         true,
		"IncludeGlobalServiceEvents": true,
		"EnableLogFileValidation":    true,
		"CloudWatchLogsLogGroupArn":  getAtt(trailLogs, "Arn"),
		"CloudWatchLogsRoleArn":      assertions.Match_AnyValue(),
		"EventSelectors":             []any{map[string]any{"IncludeManagementEvents": true, "ReadWriteType": "All"}},
	})
}

// Every bucket (trail logs and their access logs) is private, encrypted,
// versioned, TLS-only and has a lifecycle.
func TestEveryBucketIsPrivateEncryptedVersionedTLSOnlyWithLifecycle(t *testing.T) {
	f := synth(t, "trail", trailTestConfig())
	buckets := f.resources("AWS::S3::Bucket")
	if len(buckets) != 2 {
		t.Fatalf("got %d buckets, want 2 (trail, access logs)", len(buckets))
	}
	for id, b := range buckets {
		p := props(b)
		if diff := cmp.Diff(map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}, p["PublicAccessBlockConfiguration"]); diff != "" {
			t.Errorf("bucket %s public access block (-want +got):\n%s", id, diff)
		}
		if p["BucketEncryption"] == nil {
			t.Errorf("bucket %s is not encrypted", id)
		}
		if !cmp.Equal(p["VersioningConfiguration"], map[string]any{"Status": "Enabled"}) {
			t.Errorf("bucket %s is not versioned", id)
		}
		if p["LifecycleConfiguration"] == nil {
			t.Errorf("bucket %s has no lifecycle", id)
		}
		if b["DeletionPolicy"] != "Retain" {
			t.Errorf("bucket %s DeletionPolicy = %v, want Retain", id, b["DeletionPolicy"])
		}
		denied := false
		for _, bp := range f.resources("AWS::S3::BucketPolicy") {
			if cmp.Equal(props(bp)["Bucket"], ref(id)) {
				denied = hasTLSDeny(props(bp)["PolicyDocument"])
			}
		}
		if !denied {
			t.Errorf("bucket %s has no policy denying non-TLS access", id)
		}
	}
}

func TestTrailBucketIsAccessLogged(t *testing.T) {
	f := synth(t, "trail", trailTestConfig())
	trailBucket := props(f.resources("AWS::CloudTrail::Trail")[f.logicalID(t, "AWS::CloudTrail::Trail")])["S3BucketName"].(map[string]any)["Ref"].(string)
	b := props(f.doc["Resources"].(map[string]any)[trailBucket].(map[string]any))
	lc, _ := b["LoggingConfiguration"].(map[string]any)
	if lc == nil || lc["DestinationBucketName"] == nil {
		t.Errorf("trail bucket %s has no access logging: %v", trailBucket, b)
	}
}

func TestEveryResourceIsTaggedManagedBy(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	for _, typ := range []string{"AWS::Lambda::Function", "AWS::SNS::Topic", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::IAM::Role", "AWS::Events::Rule", "AWS::Logs::LogGroup"} {
		for id, r := range f.resources(typ) {
			tags, _ := props(r)["Tags"].([]any)
			if !slices.ContainsFunc(tags, func(t any) bool {
				return cmp.Equal(t, map[string]any{"Key": "ManagedBy", "Value": "watchkeeper"})
			}) {
				t.Errorf("%s %s lacks tag ManagedBy=watchkeeper: %v", typ, id, tags)
			}
		}
	}
}

func TestManagedTrailLogsAreEncryptedWithARetainedRotatingKey(t *testing.T) {
	f := synth(t, "trail", trailTestConfig())
	_, trail := f.only(t, "AWS::CloudTrail::Trail")
	keyRef, _ := props(trail)["KMSKeyId"].(map[string]any)
	getatt, _ := keyRef["Fn::GetAtt"].([]any)
	if len(getatt) != 2 {
		t.Fatalf("trail KMSKeyId = %v, want the ARN of a key in this stack", props(trail)["KMSKeyId"])
	}
	key := f.doc["Resources"].(map[string]any)[getatt[0].(string)].(map[string]any)
	if props(key)["EnableKeyRotation"] != true || key["DeletionPolicy"] != "Retain" {
		t.Errorf("trail key rotation=%v deletion=%v, want true and Retain", props(key)["EnableKeyRotation"], key["DeletionPolicy"])
	}
	trailArn := "arn:aws:cloudtrail:" + testRegion + ":" + testAccount + ":trail/" + TrailName
	cloudtrail := map[string]any{"Service": "cloudtrail.amazonaws.com"}
	want := []any{
		map[string]any{
			"Action": "kms:*", "Effect": "Allow", "Resource": "*",
			"Principal": map[string]any{"AWS": "arn:aws:iam::" + testAccount + ":root"},
		},
		map[string]any{
			"Sid": "AllowCloudTrailToEncryptThisTrailsLogs", "Effect": "Allow", "Principal": cloudtrail,
			"Action": "kms:GenerateDataKey*", "Resource": "*",
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceArn": trailArn},
				"StringLike":   map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:" + testAccount + ":trail/*"},
			},
		},
		map[string]any{
			"Sid": "AllowCloudTrailToDescribeTheKey", "Effect": "Allow", "Principal": cloudtrail,
			"Action": "kms:DescribeKey", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceArn": trailArn}},
		},
	}
	if diff := cmp.Diff(want, props(key)["KeyPolicy"].(map[string]any)["Statement"]); diff != "" {
		t.Errorf("trail key policy (-want +got):\n%s", diff)
	}
}

func TestSynthWarnsWhenNoNotificationEmails(t *testing.T) {
	f := synth(t, "no-emails", DefaultConfig())
	f.tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
	assertions.Annotations_FromStack(f.stack).HasWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String(`"notificationEmails" is empty`)))
}

func TestNoWarningWhenNotificationEmailsAreSet(t *testing.T) {
	f := synth(t, "default", defaultTestConfig())
	assertions.Annotations_FromStack(f.stack).HasNoWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("notificationEmails")))
}

// With provisionTrail and trailHealing left at "auto", the remediator heals
// the managed trail fully (it can re-attach CloudWatch Logs, which only
// "full" does), targets it by name, and synth says nothing.
func TestManagedTrailDefaultsToFullHealing(t *testing.T) {
	c := iamCaseNamed(t, "apply-auto-trail")
	f := synth(t, c.fixture, c.cfg)
	_, fn := f.only(t, "AWS::Lambda::Function")
	vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars["WATCHKEEPER_TRAIL_HEALING"] != "full" || vars["WATCHKEEPER_TRAIL_NAME"] != TrailName {
		t.Errorf("trail healing %v on trail %v, want full on %s", vars["WATCHKEEPER_TRAIL_HEALING"], vars["WATCHKEEPER_TRAIL_NAME"], TrailName)
	}
	assertions.Annotations_FromStack(f.stack).HasNoWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("trailHealing")))
}

// A trailHealing the user set explicitly is respected, with a synth warning
// that the managed trail will not be fully restored.
func TestExplicitTrailHealingWithManagedTrailIsRespectedAndWarned(t *testing.T) {
	c := iamCaseNamed(t, "apply-safe-trail")
	f := synth(t, c.fixture, c.cfg)
	_, fn := f.only(t, "AWS::Lambda::Function")
	if got := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)["WATCHKEEPER_TRAIL_HEALING"]; got != "safe" {
		t.Errorf("WATCHKEEPER_TRAIL_HEALING = %v, want the explicit safe", got)
	}
	assertions.Annotations_FromStack(f.stack).HasWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String(`trailHealing is "safe": the remediator will not re-attach CloudWatch Logs`)))
}

func TestHealingResolvesAuto(t *testing.T) {
	for _, tc := range []struct {
		healing string
		trail   bool
		want    string
	}{
		{HealingAuto, false, "safe"}, {HealingAuto, true, "full"},
		{"none", true, "none"}, {"safe", true, "safe"}, {"full", false, "full"},
	} {
		c := DefaultConfig()
		c.TrailHealing, c.ProvisionTrail = tc.healing, tc.trail
		if got := c.Healing(); got != tc.want {
			t.Errorf("Healing(%s, provisionTrail=%t) = %s, want %s", tc.healing, tc.trail, got, tc.want)
		}
	}
}

// The trail bucket lets CloudTrail read its ACL and write logs only for
// the managed trail (aws:SourceArn), and denies non-TLS access.
func TestTrailBucketPolicyIsLimitedToTheManagedTrail(t *testing.T) {
	f := synth(t, "trail", trailTestConfig())
	var bucketID string
	for id, b := range f.resources("AWS::S3::Bucket") {
		if _, logged := props(b)["LoggingConfiguration"]; logged {
			bucketID = id
		}
	}
	var got any
	for _, p := range f.resources("AWS::S3::BucketPolicy") {
		if cmp.Equal(props(p)["Bucket"], ref(bucketID)) {
			got = props(p)["PolicyDocument"].(map[string]any)["Statement"]
		}
	}
	trailArn := "arn:aws:cloudtrail:" + testRegion + ":" + testAccount + ":trail/" + TrailName
	cloudtrail := map[string]any{"Service": "cloudtrail.amazonaws.com"}
	want := []any{
		map[string]any{
			"Action": "s3:*", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			"Resource":  []any{getAtt(bucketID, "Arn"), map[string]any{"Fn::Join": []any{"", []any{getAtt(bucketID, "Arn"), "/*"}}}},
		},
		map[string]any{
			"Action": "s3:GetBucketAcl", "Effect": "Allow", "Principal": cloudtrail, "Resource": getAtt(bucketID, "Arn"),
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceArn": trailArn}},
		},
		map[string]any{
			"Action": "s3:PutObject", "Effect": "Allow", "Principal": cloudtrail,
			"Resource":  map[string]any{"Fn::Join": []any{"", []any{getAtt(bucketID, "Arn"), "/AWSLogs/" + testAccount + "/*"}}},
			"Condition": map[string]any{"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trail bucket policy (-want +got):\n%s", diff)
	}
}

// iamCaseNamed returns the IAM case whose fixture is name.
func iamCaseNamed(t *testing.T, name string) iamCase {
	t.Helper()
	for _, tc := range iamCases() {
		if tc.fixture == name {
			return tc
		}
	}
	t.Fatalf("no IAM case %q", name)
	return iamCase{}
}

// TestFunctionEnvironmentCarriesRegions: the regions context key reaches the
// function, so a validated value is also a used one.
func TestFunctionEnvironmentCarriesRegions(t *testing.T) {
	cfg := defaultTestConfig()
	cfg.Regions = []string{"eu-west-1", "us-east-1"}
	f := synth(t, "regions", cfg)
	_, fn := f.only(t, "AWS::Lambda::Function")
	vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got := vars["WATCHKEEPER_REGIONS"]; got != "eu-west-1,us-east-1" {
		t.Errorf("WATCHKEEPER_REGIONS = %v, want eu-west-1,us-east-1", got)
	}
}
