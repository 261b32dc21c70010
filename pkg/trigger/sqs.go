package trigger

import (
	"encoding/json"
	"unicode/utf8"
)

// Drift events reach the function through an SQS queue: the drift rule
// sends each event to the queue, and Lambda's event source mapping hands
// the function a batch of them in one SQS event (Lambda developer guide,
// "Using Lambda with Amazon SQS": {"Records":[{"messageId", "body",
// "eventSource":"aws:sqs", ...}]}), so that a burst of calls becomes one
// run instead of one run per call.

// MaxBatchBytes bounds the SQS events DecodeBatch accepts: the event source
// mapping invokes the function synchronously, and Lambda limits a
// synchronous invocation's payload to 6 MB (Lambda developer guide, "Lambda
// quotas"), so a larger payload did not come from Lambda.
const MaxBatchBytes = 6 << 20

// SQSEventSource is the eventSource of every record of an SQS event.
const SQSEventSource = "aws:sqs"

// Record is one message of a batch. Exactly one of Trigger and Err is set.
type Record struct {
	// MessageID identifies the message in a partial batch response.
	MessageID string
	Trigger   Trigger
	// Err says why the record was rejected: its body is not a handled drift
	// event (a *DecodeError), or the record is not an SQS message.
	Err error
}

// Batch is a decoded SQS event, records in delivery order.
type Batch struct {
	Records []Record
}

// IsBatch reports whether raw is an SQS event rather than a single event:
// a JSON object with a "Records" member. Neither an EventBridge event nor
// a direct invocation has one.
func IsBatch(raw []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return false
	}
	_, ok := top["Records"]
	return ok
}

// sqsRecord is the part of an SQS event record DecodeBatch reads.
type sqsRecord struct {
	MessageID   *string `json:"messageId"`
	EventSource string  `json:"eventSource"`
	Body        *string `json:"body"`
}

// DecodeBatch parses an SQS event whose bodies are EventBridge drift
// events. A record that is not one (malformed JSON, an unhandled call, a
// scheduled event, a direct invocation: only the drift rule sends to the
// queue) is kept with its Err, so the caller can report it by message id
// instead of dropping it. An error is returned only when the event as a
// whole is unusable, or a record has no message id to report it by.
func DecodeBatch(raw []byte) (Batch, error) {
	if len(raw) > MaxBatchBytes {
		return Batch{}, bad("", "SQS event is %d bytes, more than the %d a Lambda invocation allows", len(raw), MaxBatchBytes)
	}
	if !utf8.Valid(raw) {
		return Batch{}, bad("", "SQS event is not valid UTF-8")
	}
	var ev struct {
		Records *[]json.RawMessage `json:"Records"`
	}
	if err := strictUnmarshal(raw, &ev); err != nil {
		return Batch{}, bad("", "not an SQS event: %v", describeJSONError(err))
	}
	if ev.Records == nil {
		return Batch{}, bad("Records", "missing")
	}
	if len(*ev.Records) == 0 {
		return Batch{}, bad("Records", "empty")
	}
	b := Batch{Records: make([]Record, 0, len(*ev.Records))}
	for i, rr := range *ev.Records {
		var r sqsRecord
		if err := json.Unmarshal(rr, &r); err != nil {
			return Batch{}, bad("Records", "record %d: %v", i, describeJSONError(err))
		}
		if r.MessageID == nil || *r.MessageID == "" {
			return Batch{}, bad("Records", "record %d has no messageId", i)
		}
		b.Records = append(b.Records, decodeRecord(*r.MessageID, r))
	}
	return b, nil
}

func decodeRecord(id string, r sqsRecord) Record {
	rec := Record{MessageID: id}
	switch {
	case r.EventSource != SQSEventSource:
		rec.Err = unsupported("eventSource", "%q is not %q", clip(r.EventSource), SQSEventSource)
	case r.Body == nil:
		rec.Err = bad("body", "missing")
	default:
		t, err := Decode([]byte(*r.Body))
		switch {
		case err != nil:
			rec.Err = err
		case t.Kind != Drift:
			rec.Err = unsupported("body", "a %s event; the drift queue carries only %q events", t.Kind, APICallDetailType)
		default:
			rec.Trigger = t
		}
	}
	return rec
}
