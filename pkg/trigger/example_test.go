package trigger_test

import (
	"errors"
	"fmt"

	"github.com/watchkeeper/watchkeeper/pkg/trigger"
)

func ExampleDecode() {
	t, err := trigger.Decode([]byte(`{"mode":"report"}`))
	fmt.Println(t.Kind, t.Mode, err)

	_, err = trigger.Decode([]byte(`{"version":"0","id":"1","detail-type":"Object Created","source":"aws.s3","account":"123456789012","region":"us-east-1"}`))
	var de *trigger.DecodeError
	fmt.Println(errors.As(err, &de), de.Field, errors.Is(err, trigger.ErrUnsupported))
	// Output:
	// direct report <nil>
	// true detail-type true
}

func ExampleTrigger_CausedBy() {
	t := trigger.Trigger{Kind: trigger.Drift, Actor: trigger.Actor{
		ARN: "arn:aws:sts::123456789012:assumed-role/watchkeeper-remediator-role/watchkeeper-remediator",
	}}
	fmt.Println(t.CausedBy("arn:aws:iam::123456789012:role/service/watchkeeper-remediator-role"))
	fmt.Println(t.CausedBy("arn:aws:iam::123456789012:role/someone-else"))
	// Output:
	// true
	// false
}

func ExampleHandledBySource() {
	for _, src := range []string{"aws.cloudtrail", "aws.kms", "aws.logs", "aws.monitoring", "aws.sns"} {
		fmt.Println(src, trigger.HandledBySource()[src])
	}
	// Output:
	// aws.cloudtrail [DeleteTrail PutEventSelectors StopLogging UpdateTrail]
	// aws.kms [DisableKey PutKeyPolicy ScheduleKeyDeletion]
	// aws.logs [DeleteLogGroup DeleteMetricFilter PutMetricFilter]
	// aws.monitoring [DeleteAlarms DisableAlarmActions PutMetricAlarm]
	// aws.sns [AddPermission DeleteTopic RemovePermission SetTopicAttributes Unsubscribe]
}
