package engine

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry policy. Every API call Watchkeeper makes goes through the SDK's
// standard retryer (aws/retry), configured here rather than re-implemented:
// its error classification (throttling codes, 5xx, connection resets,
// timeouts), jittered exponential backoff and retry quota are the SDK's.
// Only three things are Watchkeeper's: how many attempts, the backoff cap,
// and two SNS throttling codes the SDK does not know.
//
// Standard mode, not adaptive: adaptive mode adds a client-side rate limiter
// that delays every later request of a client once one is throttled. That
// suits a long-lived, high-volume caller; a run makes a few dozen calls per
// client and is bounded by a deadline, so time spent waiting on the limiter
// is time taken from healing, while the retryer's backoff already spaces
// out the calls that were throttled.
const (
	// DefaultRunTime is the run time retries are sized for when
	// Options.RunTime is zero: the remediator Lambda function's timeout
	// (infra.FunctionTimeoutMinutes; infra's contract test keeps the two
	// equal).
	DefaultRunTime = 5 * time.Minute

	// RetryMaxBackoff caps the pause between two attempts of one call. The
	// SDK's default (20 s) suits callers without a deadline; here each
	// pause is time a run cannot spend healing. With a 4 s cap the SDK's
	// curve keeps its jittered exponential start (at most 2 s, then at most
	// 4 s) and then retries every 4 s.
	RetryMaxBackoff = 4 * time.Second

	// retryShare is the share of the run time one call may spend backing
	// off: a call throttled on every attempt gives up after RunTime /
	// retryShare, leaving the rest of the run to its other calls, to
	// apply's deadline reserve and to the report.
	retryShare = 8

	// minRetryAttempts is the floor: the SDK's own default, for run times
	// too short to budget even that.
	minRetryAttempts = retry.DefaultMaxAttempts

	// maxRetryAttempts is the ceiling. Under throttling of a quarter of all
	// calls (the storm test/reliability injects) a call fails all 10
	// attempts about once in a million (0.25^10); more attempts would only
	// prolong calls that are failing for good.
	maxRetryAttempts = 10
)

// extraThrottleCodes are throttling error codes of calls Watchkeeper makes
// that retry.DefaultThrottleErrorCodes (aws-sdk-go-v2 v1.47.7) lacks, so
// the SDK would make a single attempt. The default set already covers the
// throttling errors of every other service called: ThrottlingException
// (CloudTrail, CloudWatch Logs, KMS, SNS topic operations), Throttling
// (CloudWatch and STS common errors), RequestLimitExceeded (EC2) and
// TooManyRequestsException.
//
//   - KMSThrottling: SNS Publish to a topic encrypted with a KMS key when
//     KMS throttles SNS (Amazon SNS API Reference, Publish, Errors:
//     "KMSThrottling ... The request was denied due to request throttling",
//     HTTP 400). The Lambda publishes its run summary with the same
//     configuration.
//   - Throttled: SNS's modelled ThrottledException ("the rate at which
//     requests have been submitted for this action exceeds the limit for
//     your AWS account", HTTP 429; Amazon SNS API Reference, Errors of its
//     SMS actions). pkg/apply already classifies it as transient; retrying
//     it here keeps the SDK consistent with that.
var extraThrottleCodes = map[string]struct{}{
	"KMSThrottling": {},
	"Throttled":     {},
}

// RetryAttempts returns the maximum attempts per call for a run that may
// last runTime (zero means DefaultRunTime): as many as fit when each pause
// takes its longest possible value (worstBackoff) and their sum stays
// within runTime / retryShare, between minRetryAttempts and
// maxRetryAttempts. For the Lambda's 5 minutes that is 37.5 s of pauses:
// 2 + 4 + 7 x 4 s = 34 s, so 10 attempts.
func RetryAttempts(runTime time.Duration) int {
	if runTime <= 0 {
		runTime = DefaultRunTime
	}
	budget := runTime / retryShare
	attempts, spent := 1, time.Duration(0)
	for attempts < maxRetryAttempts {
		d := worstBackoff(attempts)
		if spent+d > budget {
			break
		}
		spent += d
		attempts++
	}
	return max(attempts, minRetryAttempts)
}

// worstBackoff is the longest pause the SDK's backoff
// (retry.NewExponentialJitterBackoff(RetryMaxBackoff), which the standard
// retryer uses) makes after failed attempt n: a random fraction of 2^n
// seconds, or RetryMaxBackoff itself once 2^n seconds exceed it. A test
// checks this bound against the SDK's own backoff.
func worstBackoff(n int) time.Duration {
	if n >= 30 {
		return RetryMaxBackoff
	}
	return min(time.Duration(1<<n)*time.Second, RetryMaxBackoff)
}

// RetryOptions configures the SDK's standard retryer for a run that may
// last runTime (zero means DefaultRunTime): RetryAttempts attempts,
// RetryMaxBackoff, and extraThrottleCodes retried as throttling. Tests
// that compress time replace only StandardOptions.Backoff after it.
func RetryOptions(runTime time.Duration) func(*retry.StandardOptions) {
	attempts := RetryAttempts(runTime)
	return func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.MaxBackoff = RetryMaxBackoff
		// NewStandard copies the default lists before options run, so
		// appending never changes the SDK's package-level defaults.
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: extraThrottleCodes})
		o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: extraThrottleCodes})
	}
}

// Retryer returns an aws.Config.Retryer with RetryOptions(runTime). Each
// client it is given to gets its own retryer, hence its own retry quota,
// as with the SDK's default. New installs it when the configuration has
// none; the Lambda also gives it to the client that publishes its summary.
// aws.Config.RetryMaxAttempts (AWS_MAX_ATTEMPTS) still overrides the
// number of attempts, as the SDK applies it to every client.
func Retryer(runTime time.Duration) func() aws.Retryer {
	opt := RetryOptions(runTime)
	return func() aws.Retryer { return retry.NewStandard(opt) }
}
