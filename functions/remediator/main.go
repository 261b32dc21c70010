// Command remediator is Watchkeeper's single program. Under AWS Lambda
// (AWS_LAMBDA_RUNTIME_API set) it serves scheduled, drift and report-only
// invocations; anywhere else it is the command-line tool:
//
//	remediator controls [--benchmark ID] [--output json|text]
//	remediator audit|plan|apply [flags]
//	remediator version
//
// The logic lives in pkg/; this package only wires it to its two front ends.
package main

import (
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		startLambda()
		return
	}
	os.Exit(runCLI(os.Args[1:], os.Stdout, os.Stderr))
}
