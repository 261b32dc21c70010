// Package inspect reads an account's CloudTrail, CloudWatch Logs, CloudWatch
// and SNS state across regions and returns it as a Snapshot of Watchkeeper's
// own types. It only reads: its client interfaces contain no mutating calls,
// so the compiler guarantees inspection cannot change the account.
package inspect
