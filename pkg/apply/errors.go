package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// Sentinel causes, for errors.Is.
var (
	// ErrDeadline marks an action that was not started because the run's
	// deadline was too close; the next run will do it.
	ErrDeadline = errors.New("not started: too close to the deadline, left for the next run")
	// ErrDependency marks an action that was not started because an action
	// it depends on was not applied; the upstream cause is wrapped too.
	ErrDependency = errors.New("not started: a prerequisite action was not applied")
	// ErrInvalidAction marks an action that lacks the spec its Kind needs
	// (a planner bug); it is never sent to AWS.
	ErrInvalidAction = errors.New("invalid action")
	// ErrNotOwned marks an action refused because it would overwrite a
	// resource Watchkeeper does not own (see Options.OwnedPrefix).
	ErrNotOwned = errors.New("refused: the resource is not Watchkeeper's")
)

// ActionError is the error of one action that failed or was skipped.
type ActionError struct {
	Action plan.Action
	Err    error
}

// Error reads "PutMetricFilter us-east-1 logGroup/filter: cause".
func (e *ActionError) Error() string {
	return fmt.Sprintf("%s %s %s: %v", e.Action.Kind, e.Action.Region, e.Action.Target, e.Err)
}

// Unwrap returns the cause.
func (e *ActionError) Unwrap() error { return e.Err }

// Retryable reports whether the cause is transient, so that a later run (or
// a retry) can be expected to succeed: throttling, server-side faults,
// connection errors, and actions left for the next run. Access denied,
// invalid parameters, missing resources and invalid actions are terminal:
// they need a person to change something.
func (e *ActionError) Retryable() bool { return Retryable(e.Err) }

// transientCodes are transient error codes the SDK's standard retryer does
// not know. SNS models its throttling error with code "Throttled" (HTTP 429;
// SNS API reference, e.g. CheckIfPhoneNumberIsOptedOut, Errors), which
// retry.DefaultThrottleErrorCodes (aws-sdk-go-v2 v1.47.7) omits, so the SDK
// makes a single attempt; the others are the AWS common errors for server
// faults ("Common Errors" in each API reference), which some services send
// without a 5xx status the SDK would recognise.
var transientCodes = map[string]bool{
	"Throttled":                   true,
	"ServiceUnavailable":          true,
	"InternalFailure":             true,
	"InternalError":               true,
	"ServiceUnavailableException": true,
	"InternalServiceError":        true,
}

var sdkRetryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// Retryable reports whether err is transient (see ActionError.Retryable).
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrDeadline) || errors.Is(err, context.DeadlineExceeded) {
		return true // cut short by the run's deadline: the next run will do it
	}
	if errors.Is(err, ErrInvalidAction) || errors.Is(err, ErrNotOwned) || errors.Is(err, context.Canceled) {
		return false
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if transientCodes[apiErr.ErrorCode()] || apiErr.ErrorFault() == smithy.FaultServer {
			return true
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusTooManyRequests {
		return true
	}
	return sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary
}
