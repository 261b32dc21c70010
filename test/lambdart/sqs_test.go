package lambdart_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/watchkeeper/watchkeeper/test/lambdart"
)

// The event is aws-lambda-go's SQSEvent, which is what Lambda sends.
func TestSQSEventRoundTrips(t *testing.T) {
	sent := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	raw, err := lambdart.SQSEvent("arn:aws:sqs:us-east-1:123456789012:q", "us-east-1", []lambdart.SQSMessage{
		{MessageID: "a", ReceiptHandle: "ra", Body: `{"x":1}`, ReceiveCount: 1, Sent: sent},
		{MessageID: "b", ReceiptHandle: "rb", Body: `{"x":2}`, ReceiveCount: 3, Sent: sent},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) != 2 || ev.Records[1].MessageId != "b" || ev.Records[1].Body != `{"x":2}` ||
		ev.Records[1].EventSource != "aws:sqs" || ev.Records[1].Attributes["ApproximateReceiveCount"] != "3" {
		t.Errorf("event: %s", raw)
	}
}

func TestPartialBatchResponse(t *testing.T) {
	ids := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name   string
		body   string
		failed []string
		whole  bool
	}{
		{"all succeeded", `{"batchItemFailures":[]}`, nil, false},
		{"null list", `{"batchItemFailures":null}`, nil, false},
		{"empty object", `{}`, nil, false},
		{"some failed", `{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"c"}]}`, []string{"b", "c"}, false},
		{"not JSON", `ok`, nil, true},
		{"empty id", `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, true},
		{"null id", `{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, true},
		{"bad key", `{"batchItemFailures":[{"id":"a"}]}`, nil, true},
		{"unknown id", `{"batchItemFailures":[{"itemIdentifier":"z"}]}`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed, why := lambdart.PartialBatchResponse([]byte(tc.body), ids)
			if (why != "") != tc.whole || !slices.Equal(failed, tc.failed) {
				t.Errorf("got failed=%v why=%q, want failed=%v whole=%v", failed, why, tc.failed, tc.whole)
			}
		})
	}
}

// Lambda refuses a synchronous request over 6 MB; so does the stand-in,
// before any runtime sees it.
func TestRequestOverSixMBIsRefused(t *testing.T) {
	s := start(t)
	_, err := s.Do(t.Context(), lambdart.Request{Payload: []byte(`"` + strings.Repeat("a", 6<<20) + `"`)})
	if !errors.Is(err, lambdart.ErrRequestTooLarge) {
		t.Errorf("err = %v, want ErrRequestTooLarge", err)
	}
}
