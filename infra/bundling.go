package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/watchkeeper/watchkeeper/infra/internal/lambdabuild"
)

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
//
// When the app runs under infra/launcher, the launcher has already built
// the bootstrap, from the same tree with the same command, while the app
// compiled (lambdabuild.PrebuiltEnv); TryBundle then copies that file.
func (b *localGoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	out := filepath.Join(*outputDir, "bootstrap")
	if prebuilt := os.Getenv(lambdabuild.PrebuiltEnv); prebuilt != "" {
		if err := copyExecutable(out, prebuilt); err != nil {
			fmt.Fprintf(os.Stderr, "watchkeeper: use the launcher's bootstrap: %v; synth stopped\n", err)
			os.Exit(1)
		}
		return jsii.Bool(true)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchkeeper: no Go toolchain on PATH; falling back to Docker bundling")
		return jsii.Bool(false)
	}
	// Synth is otherwise silent for as long as this takes (minutes on a
	// fresh machine, while Go compiles the AWS SDK for arm64).
	fmt.Fprintln(os.Stderr, "watchkeeper: building the Lambda (linux/arm64)…")
	if err := lambdabuild.Command(goBin, b.moduleRoot, out).Run(); err != nil {
		fmt.Fprintf(os.Stderr, "watchkeeper: build %s for linux/arm64: %v; synth stopped\n", lambdabuild.Package, err)
		os.Exit(1)
	}
	return jsii.Bool(true)
}

// copyExecutable copies the file at src to dst with mode 0755.
func copyExecutable(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// dockerBuildImage is the fallback bundling image for machines without Go.
// It must carry a Go at least as new as go.mod's "go" line.
const dockerBuildImage = "public.ecr.aws/docker/library/golang:1.26"

// remediatorCode is the Lambda code asset: the bootstrap built from the
// module at moduleRoot. It is hashed by output, because the binary depends on
// the whole module (pkg/ too), not on one directory.
func remediatorCode(moduleRoot string) awslambda.Code {
	docker := "cd /asset-input && " + strings.Join(lambdabuild.Env, " ") + " go " + shellJoin(lambdabuild.Args("/asset-output/bootstrap"))
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
