package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

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

// Class says what kind of failure an action met, so that callers (the
// report, the run summary) can say what to do about it without reading
// error text.
type Class string

const (
	ClassThrottled   Class = "throttled"   // the service throttled the call
	ClassUnavailable Class = "unavailable" // a server fault or a connection error
	ClassDenied      Class = "denied"      // not authorized, or not Watchkeeper's to change (ErrNotOwned)
	ClassNotFound    Class = "not-found"   // a resource the call names does not exist
	ClassInvalid     Class = "invalid"     // the request was invalid, or the action lacked its spec (ErrInvalidAction)
	ClassDependency  Class = "dependency"  // not started: a prerequisite action was not applied (ErrDependency)
	ClassDeadline    Class = "deadline"    // not started, or cut short, by the run's deadline
	ClassOther       Class = "other"
)

// deniedCodes are the authorization error codes of the services Run calls
// (each API reference's "Common Errors" and per-operation Errors).
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"AuthorizationError":    true, // SNS
	"UnauthorizedOperation": true,
	"InsufficientDependencyServiceAccessPermissionException": true, // CloudTrail
	"InvalidClientTokenId":        true,
	"UnrecognizedClientException": true,
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"KMSAccessDeniedException":    true,
}

// notFoundCodes are the "no such resource" codes of the services Run calls.
var notFoundCodes = map[string]bool{
	"NotFound":                  true, // SNS
	"NotFoundException":         true, // KMS
	"ResourceNotFound":          true, // CloudWatch
	"ResourceNotFoundException": true, // CloudWatch Logs
	"TrailNotFoundException":    true, // CloudTrail
}

// invalidCodes are request-validation codes that do not start with
// "Invalid" (which every service uses for the rest).
var invalidCodes = map[string]bool{
	"ValidationError":          true,
	"ValidationException":      true,
	"MissingParameter":         true,
	"KMSInvalidStateException": true,
}

// Classify returns the class of err, an action's error: by Watchkeeper's
// own sentinels first, then by the AWS error code (errors.As on
// smithy.APIError), then by HTTP status, then by the SDK's own retry
// classification. It never reads error text. Classify(nil) is "".
func Classify(err error) Class {
	var apiErr smithy.APIError
	var respErr *awshttp.ResponseError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrDependency):
		return ClassDependency
	case errors.Is(err, ErrDeadline) || errors.Is(err, context.DeadlineExceeded):
		return ClassDeadline
	case errors.Is(err, ErrNotOwned):
		return ClassDenied
	case errors.Is(err, ErrInvalidAction):
		return ClassInvalid
	case errors.As(err, &apiErr):
		if c := classifyCode(apiErr); c != "" {
			return c
		}
	}
	if errors.As(err, &respErr) {
		switch s := respErr.HTTPStatusCode(); {
		case s == http.StatusTooManyRequests:
			return ClassThrottled
		case s == http.StatusForbidden || s == http.StatusUnauthorized:
			return ClassDenied
		case s == http.StatusNotFound:
			return ClassNotFound
		case s >= 500:
			return ClassUnavailable
		}
	}
	if sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary {
		return ClassUnavailable
	}
	return ClassOther
}

// classifyCode classifies an AWS error by its code and fault; "" when the
// code says nothing Classify recognises.
func classifyCode(e smithy.APIError) Class {
	code := e.ErrorCode()
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok || code == "Throttled" {
		return ClassThrottled
	}
	switch {
	case deniedCodes[code]:
		return ClassDenied
	case notFoundCodes[code]:
		return ClassNotFound
	case invalidCodes[code] || strings.HasPrefix(code, "Invalid"):
		return ClassInvalid
	case transientCodes[code] || e.ErrorFault() == smithy.FaultServer:
		return ClassUnavailable
	}
	return ""
}
