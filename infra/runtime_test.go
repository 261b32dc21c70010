package main

import (
	"testing"
	"time"

	"github.com/watchkeeper/watchkeeper/pkg/engine"
)

// TestRetriesSizedForFunctionTimeout: the remediator sizes the SDK's
// retries for engine.DefaultRunTime (pkg/engine/retry.go), which must be
// the timeout this stack deploys the function with; change both together.
func TestRetriesSizedForFunctionTimeout(t *testing.T) {
	if got := time.Duration(FunctionTimeoutMinutes) * time.Minute; got != engine.DefaultRunTime {
		t.Errorf("function timeout %s, but retries are sized for engine.DefaultRunTime %s", got, engine.DefaultRunTime)
	}
}
