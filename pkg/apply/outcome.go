package apply

import "github.com/watchkeeper/watchkeeper/pkg/plan"

// Status is what happened to one action.
type Status string

const (
	StatusApplied Status = "applied"
	StatusFailed  Status = "failed"  // attempted; AWS (or validation) refused it
	StatusSkipped Status = "skipped" // not attempted: deadline or prerequisite
)

// Outcome is what happened to one action.
type Outcome struct {
	Action plan.Action
	Status Status
	// Err is an *ActionError when Status is failed or skipped.
	Err error
	// Retryable is Retryable(Err): true when a later run can be expected to
	// succeed without anyone changing anything. False when Err is nil.
	Retryable bool
	// Class is Classify(Err); "" when Err is nil.
	Class Class
	// ARN is the resource ARN the call returned, when it returns one
	// (CreateTopic: the topic; Subscribe: the subscription, a real ARN even
	// while it awaits confirmation, since Run sets ReturnSubscriptionArn).
	ARN string
}

// Result holds one Outcome per input action, in input order.
type Result struct {
	Outcomes []Outcome `json:"outcomes"`
}

// Count returns how many outcomes have status s.
func (r Result) Count(s Status) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == s {
			n++
		}
	}
	return n
}
