// Package coalesce proves on moto that bursts of drift events coalesce:
// EventBridge (the drift rule's real pattern) sends them to an SQS queue,
// and Mapping, a stand-in for Lambda's SQS event source mapping, hands the
// real bootstrap (under test/lambdart) batches of them, as the stack
// configures the mapping (infra/queue.go).
//
// Mapping runs on a virtual clock: the test says what time it is at each
// step, so a minute-long burst and a 90-second batching window take
// seconds of real time and the outcome does not depend on machine load.
// What it models, from the Lambda developer guide ("Using Lambda with
// Amazon SQS", "Lambda parameters for Amazon SQS event source mappings",
// "Configuring scaling behavior for SQS event source mappings", "Handling
// errors for an SQS event source in Lambda"):
//   - Pollers: as many batches are gathered at once as the mapping's
//     maximum concurrency allows, each by its own poller, which receives
//     up to 10 messages per ReceiveMessage. Pollers take turns receiving,
//     starting with a different one at each step, so a burst is spread
//     over all of them: the worst case for the number of batches.
//   - A batch is delivered when its window (from its first message) has
//     passed, when it holds BatchSize messages, or when the next message
//     would take its payload past the 6 MB a synchronous invocation takes.
//   - With ReportBatchItemFailures, the messages the function reports, or
//     all of them when the invocation fails, stay in the queue; the others
//     are deleted. A message left in the queue becomes visible again when
//     the queue's visibility timeout has passed on the virtual clock
//     (ChangeMessageVisibility to 0 stands in for the wait), and SQS
//     itself (moto) moves it to the dead-letter queue once it has been
//     received maxReceiveCount times.
package coalesce

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/watchkeeper/watchkeeper/test/lambdart"
)

// Figures are the drift queue's and mapping's settings.
type Figures struct {
	Window            time.Duration
	BatchSize         int
	MaxConcurrency    int
	VisibilityTimeout time.Duration
	MaxReceiveCount   int
}

// Stack are the stack's figures (infra/queue.go); infra's
// TestCoalesceProofUsesTheStacksFigures keeps the two equal.
var Stack = Figures{
	Window:            90 * time.Second,
	BatchSize:         10000,
	MaxConcurrency:    2,
	VisibilityTimeout: 30 * time.Minute,
	MaxReceiveCount:   5,
}

// maxPayload is Lambda's limit on a synchronous invocation's request.
const maxPayload = 6 << 20

// queue is the part of the SQS API a mapping calls.
type queue interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ queue = (*sqs.Client)(nil)

// Batch is one delivered batch.
type Batch struct {
	Opened, Delivered time.Time // virtual
	// Why it was delivered: "window", "size" or "payload".
	Why string
	IDs []string
	// Bodies are the messages' bodies, in the same order.
	Bodies []string
	// Bytes is the SQS event's size.
	Bytes  int
	Result lambdart.BatchResult
}

// Mapping is the stand-in event source mapping. Set the exported fields,
// then call Step for each moment of virtual time.
type Mapping struct {
	Figures
	SQS                        queue
	QueueURL, QueueARN, Region string
	// Invoke delivers a batch to the function.
	Invoke func(ctx context.Context, msgs []lambdart.SQSMessage) (lambdart.BatchResult, error)

	// Batches are the delivered batches, in order.
	Batches []Batch

	pollers []gathering
	turn    int
	hidden  []hiddenMessage
}

type gathering struct {
	msgs   []lambdart.SQSMessage
	bytes  int
	opened time.Time
}

// hiddenMessage is a message left in the queue after a failure, invisible
// until its visibility timeout passes on the virtual clock.
type hiddenMessage struct {
	receipt   string
	visibleAt time.Time
}

// Step is one polling round at virtual time now. It returns how many
// messages the pollers received.
func (m *Mapping) Step(ctx context.Context, now time.Time) (int, error) {
	if m.pollers == nil {
		m.pollers = make([]gathering, m.MaxConcurrency)
	}
	if err := m.reveal(ctx, now); err != nil {
		return 0, err
	}
	received := 0
	for i := range m.pollers {
		p := &m.pollers[(m.turn+i)%len(m.pollers)]
		n, err := m.receive(ctx, p, now)
		if err != nil {
			return received, err
		}
		received += n
	}
	m.turn++
	for i := range m.pollers {
		p := &m.pollers[i]
		if len(p.msgs) > 0 && now.Sub(p.opened) >= m.Window {
			if err := m.deliver(ctx, p, now, "window"); err != nil {
				return received, err
			}
		}
	}
	return received, nil
}

// Idle reports whether no poller holds messages and no failed message is
// waiting to become visible again.
func (m *Mapping) Idle() bool {
	for _, p := range m.pollers {
		if len(p.msgs) > 0 {
			return false
		}
	}
	return len(m.hidden) == 0
}

func (m *Mapping) receive(ctx context.Context, p *gathering, now time.Time) (int, error) {
	want := min(10, m.BatchSize-len(p.msgs))
	out, err := m.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(m.QueueURL), MaxNumberOfMessages: int32(want),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return 0, fmt.Errorf("receive: %w", err)
	}
	for _, msg := range out.Messages {
		lm := lambdart.SQSMessage{MessageID: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle), Body: aws.ToString(msg.Body)}
		lm.ReceiveCount, _ = strconv.Atoi(msg.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(msg.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			lm.Sent = time.UnixMilli(ms)
		}
		size, err := recordBytes(m.QueueARN, m.Region, lm)
		if err != nil {
			return 0, err
		}
		if len(p.msgs) > 0 && p.bytes+size > maxPayload {
			if err := m.deliver(ctx, p, now, "payload"); err != nil {
				return 0, err
			}
		}
		if len(p.msgs) == 0 {
			p.opened, p.bytes = now, len(`{"Records":[]}`)
		}
		p.msgs = append(p.msgs, lm)
		p.bytes += size
		if len(p.msgs) >= m.BatchSize {
			if err := m.deliver(ctx, p, now, "size"); err != nil {
				return 0, err
			}
		}
	}
	return len(out.Messages), nil
}

// recordBytes is what one message adds to an SQS event (with its comma).
func recordBytes(queueARN, region string, msg lambdart.SQSMessage) (int, error) {
	b, err := lambdart.SQSEvent(queueARN, region, []lambdart.SQSMessage{msg})
	if err != nil {
		return 0, err
	}
	return len(b) - len(`{"Records":[]}`) + 1, nil
}

func (m *Mapping) deliver(ctx context.Context, p *gathering, now time.Time, why string) error {
	msgs := p.msgs
	b := Batch{Opened: p.opened, Delivered: now, Why: why, Bytes: p.bytes}
	*p = gathering{}
	for _, msg := range msgs {
		b.IDs = append(b.IDs, msg.MessageID)
		b.Bodies = append(b.Bodies, msg.Body)
	}
	res, err := m.Invoke(ctx, msgs)
	if err != nil {
		return fmt.Errorf("invoke batch of %d: %w", len(msgs), err)
	}
	b.Result = res
	m.Batches = append(m.Batches, b)
	failed := map[string]bool{}
	for _, id := range res.Failed {
		failed[id] = true
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for i, msg := range msgs {
		if failed[msg.MessageID] {
			m.hidden = append(m.hidden, hiddenMessage{receipt: msg.ReceiptHandle, visibleAt: now.Add(m.VisibilityTimeout)})
			continue
		}
		done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(msg.ReceiptHandle)})
	}
	for len(done) > 0 {
		n := min(10, len(done))
		out, err := m.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.QueueURL), Entries: done[:n]})
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("delete: %d entries failed, e.g. %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
		done = done[n:]
	}
	return nil
}

// reveal makes the failed messages whose visibility timeout has passed
// visible again.
func (m *Mapping) reveal(ctx context.Context, now time.Time) error {
	keep := m.hidden[:0]
	for _, h := range m.hidden {
		if now.Before(h.visibleAt) {
			keep = append(keep, h)
			continue
		}
		if _, err := m.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(m.QueueURL), ReceiptHandle: aws.String(h.receipt), VisibilityTimeout: 0,
		}); err != nil {
			return fmt.Errorf("change visibility: %w", err)
		}
	}
	m.hidden = keep
	return nil
}
