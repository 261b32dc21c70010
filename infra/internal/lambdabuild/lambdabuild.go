// Package lambdabuild says how the remediator Lambda's bootstrap is built.
// Two programs build it: the CDK app while it synthesizes (infra, local
// bundling), and the app's launcher (infra/launcher), which builds it ahead
// of time, alongside the app's own compile. One definition keeps the two
// builds identical, so the launcher's output is what the app would build.
package lambdabuild

import (
	"os"
	"os/exec"
)

// Package is the Go package built into the bootstrap, relative to the
// module root.
const Package = "./functions/remediator"

// PrebuiltEnv names the variable through which the launcher hands the app
// the bootstrap it built, so the app does not build it again.
const PrebuiltEnv = "WATCHKEEPER_PREBUILT_BOOTSTRAP"

// Args are the arguments of the bootstrap build. -trimpath and
// -buildvcs=false make the binary a function of the source alone, so the
// asset hash (taken from the output) only changes when the code does and an
// unchanged tree never redeploys the function.
func Args(output string) []string {
	return []string{
		"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", output, Package,
	}
}

// Env is the cross-compilation environment for provided.al2023 on
// Graviton: a static arm64 Linux binary.
var Env = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

// Command returns the build of the bootstrap at output, run by the go
// binary goBin in moduleRoot, its output going to the caller's stderr.
func Command(goBin, moduleRoot, output string) *exec.Cmd {
	cmd := exec.Command(goBin, Args(output)...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), Env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd
}
