package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
)

// remediatorPackage is the Go package built into the Lambda's bootstrap,
// relative to the module root.
const remediatorPackage = "./functions/remediator"

// goBuildArgs are the arguments of the bootstrap build. -trimpath and
// -buildvcs=false make the binary a function of the source alone, so the
// asset hash (taken from the output) only changes when the code does and an
// unchanged tree never redeploys the function.
func goBuildArgs(output string) []string {
	return []string{
		"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", output, remediatorPackage,
	}
}

// goBuildEnv is the cross-compilation environment for provided.al2023 on
// Graviton: a static arm64 Linux binary.
var goBuildEnv = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

// localGoBuild implements awscdk.ILocalBundling: it builds the remediator
// with the Go toolchain on the machine running synth, so a deploy needs no
// Docker and no separate build step.
type localGoBuild struct {
	// moduleRoot is the directory holding go.mod.
	moduleRoot string
}

var _ awscdk.ILocalBundling = (*localGoBuild)(nil)

// TryBundle builds outputDir/bootstrap. It returns false (so the CDK falls
// back to the Docker image) only when no Go toolchain is installed. A
// compile error ends the app at once: retrying it in Docker would fail the
// same way, later and more confusingly, and a jsii callback cannot return an
// error (a panic here would only surface as a broken pipe in node).
func (b *localGoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	goBin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchkeeper: no Go toolchain on PATH; falling back to Docker bundling")
		return jsii.Bool(false)
	}
	cmd := exec.Command(goBin, goBuildArgs(filepath.Join(*outputDir, "bootstrap"))...)
	cmd.Dir = b.moduleRoot
	cmd.Env = append(os.Environ(), goBuildEnv...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "watchkeeper: build %s for linux/arm64: %v; synth stopped\n", remediatorPackage, err)
		os.Exit(1)
	}
	return jsii.Bool(true)
}

// dockerBuildImage is the fallback bundling image for machines without Go.
// It must carry a Go at least as new as go.mod's "go" line.
const dockerBuildImage = "public.ecr.aws/docker/library/golang:1.26"

// remediatorCode is the Lambda code asset: the bootstrap built from the
// module at moduleRoot. It is hashed by output, because the binary depends on
// the whole module (pkg/ too), not on one directory.
func remediatorCode(moduleRoot string) awslambda.Code {
	docker := "cd /asset-input && " + strings.Join(goBuildEnv, " ") + " go " + shellJoin(goBuildArgs("/asset-output/bootstrap"))
	return awslambda.Code_FromAsset(jsii.String(moduleRoot), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			Image:   awscdk.DockerImage_FromRegistry(jsii.String(dockerBuildImage)),
			Command: jsii.Strings("bash", "-c", docker),
			Local:   &localGoBuild{moduleRoot: moduleRoot},
			// Keep the container's Go caches out of the mounted source tree.
			Environment: &map[string]*string{"GOCACHE": jsii.String("/tmp/go-cache"), "GOPATH": jsii.String("/tmp/go")},
		},
	})
}

// shellJoin quotes args for bash -c.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t\"'$\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// findModuleRoot returns the directory of the go.mod that governs dir, as
// the go command sees it.
func findModuleRoot(dir string) (string, error) {
	cmd := exec.Command("go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD in %s: %w", dir, err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run the CDK app from the Watchkeeper repository")
	}
	return filepath.Dir(gomod), nil
}
