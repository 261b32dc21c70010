package lambdart

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SQS batches, as Lambda's SQS event source mapping delivers them: it
// invokes the function synchronously with up to BatchSize messages in one
// event ({"Records":[...]}, aws-lambda-go events.SQSEvent) and, with
// ReportBatchItemFailures, reads the partial batch response
// ({"batchItemFailures":[{"itemIdentifier":"<messageId>"}]}) to decide
// which messages to delete. Source: Lambda developer guide, "Using Lambda
// with Amazon SQS" and "Handling errors for an SQS event source in Lambda".

// SQSMessage is one message of a batch, as ReceiveMessage returned it.
type SQSMessage struct {
	MessageID     string
	ReceiptHandle string
	Body          string
	// ReceiveCount is the message's ApproximateReceiveCount.
	ReceiveCount int
	// Sent is when SQS received the message (SentTimestamp).
	Sent time.Time
}

// SQSEvent builds the event the mapping sends for msgs from queueARN.
func SQSEvent(queueARN, region string, msgs []SQSMessage) ([]byte, error) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: m.MessageID, ReceiptHandle: m.ReceiptHandle, Body: m.Body,
			Attributes: map[string]string{
				"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
				"SentTimestamp":                    strconv.FormatInt(m.Sent.UnixMilli(), 10),
				"SenderId":                         "AIDAEXAMPLESENDER0001",
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.Sent.UnixMilli(), 10),
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs", EventSourceARN: queueARN, AWSRegion: region,
		})
	}
	return json.Marshal(ev)
}

// BatchResult is the outcome of one batch.
type BatchResult struct {
	Result
	// Failed are the ids of the messages that return to the queue: those
	// the function reported, or every one when the batch failed as a whole.
	Failed []string
	// WholeBatch says the batch failed as a whole: the function returned an
	// error or a response Lambda does not accept as a partial batch
	// response (Why says which).
	WholeBatch bool
	Why        string
}

// InvokeSQS delivers msgs as one SQS event and interprets the answer as
// the mapping does with ReportBatchItemFailures.
func (p *Process) InvokeSQS(ctx context.Context, queueARN, region string, msgs []SQSMessage) (BatchResult, error) {
	payload, err := SQSEvent(queueARN, region, msgs)
	if err != nil {
		return BatchResult{}, err
	}
	r, err := p.Do(ctx, Request{Payload: payload})
	if err != nil {
		return BatchResult{}, err
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.MessageID
	}
	br := BatchResult{Result: r}
	if r.Error != nil {
		br.Failed, br.WholeBatch, br.Why = ids, true, "function error: "+r.Error.Error()
		return br, nil
	}
	failed, why := PartialBatchResponse(r.Response, ids)
	if why != "" {
		br.Failed, br.WholeBatch, br.Why = ids, true, why
		return br, nil
	}
	br.Failed = failed
	return br, nil
}

// PartialBatchResponse reads a function's response to a batch of message
// ids: the ids it reported as failed, or, when Lambda would treat the batch
// as a complete failure, why. Lambda does so for a response that is not
// valid JSON, and for an itemIdentifier that is empty, null, under another
// key name, or not a message of the batch; an empty or null
// batchItemFailures means every message succeeded (Lambda developer guide,
// "Implementing partial batch responses").
func PartialBatchResponse(body []byte, ids []string) (failed []string, why string) {
	var resp struct {
		BatchItemFailures []map[string]json.RawMessage `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Sprintf("invalid JSON response: %v", err)
	}
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	for _, f := range resp.BatchItemFailures {
		raw, ok := f["itemIdentifier"]
		if !ok || len(f) != 1 {
			return nil, "itemIdentifier missing or under another key name"
		}
		var id *string
		if err := json.Unmarshal(raw, &id); err != nil || id == nil || *id == "" {
			return nil, "itemIdentifier empty, null or not a string"
		}
		if !in[*id] {
			return nil, fmt.Sprintf("itemIdentifier %q is not a message of the batch", *id)
		}
		failed = append(failed, *id)
	}
	return failed, ""
}
