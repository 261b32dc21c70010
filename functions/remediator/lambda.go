package main

import (
	"fmt"
	"os"
)

// startLambda serves Lambda invocations. Owned by the Lambda work.
func startLambda() {
	fmt.Fprintln(os.Stderr, "remediator: Lambda mode not implemented yet")
	os.Exit(1)
}
