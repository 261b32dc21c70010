package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/watchkeeper/watchkeeper/infra/internal/lambdabuild"
)

// TryBundle builds a static linux/arm64 executable named bootstrap, which
// is what provided.al2023 on arm64 runs. A throwaway module stands in for
// the repository so the test does not depend on the remediator compiling
// at this moment; test/cdkcheck bundles the real one through the CDK CLI.
func TestLocalBundlingBuildsStaticArm64Bootstrap(t *testing.T) {
	mod := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(mod, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/bundletest\n\ngo 1.26\n")
	write("functions/remediator/main.go", "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(0) }\n")
	out := t.TempDir()

	ok := (&localGoBuild{moduleRoot: mod}).TryBundle(jsii.String(out), nil)
	if ok == nil || !*ok {
		t.Fatal("TryBundle returned false with a Go toolchain on PATH")
	}
	f, err := elf.Open(filepath.Join(out, "bootstrap"))
	if err != nil {
		t.Fatalf("open bootstrap: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("bootstrap is %v/%v, want EM_AARCH64 for Linux", f.Machine, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("bootstrap is dynamically linked (%v): CGO_ENABLED=0 was not applied", p.Type)
		}
	}
	if s := f.Section(".symtab"); s != nil {
		t.Error("bootstrap has a symbol table: -ldflags=-s was not applied")
	}
}

// Under the launcher, TryBundle uses the bootstrap the launcher built
// instead of building again, and the asset gets it as an executable.
func TestLocalBundlingUsesTheLaunchersBootstrap(t *testing.T) {
	prebuilt := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(prebuilt, []byte("launcher-built"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(lambdabuild.PrebuiltEnv, prebuilt)
	out := t.TempDir()

	// No module at moduleRoot: a build would fail and stop the test binary.
	ok := (&localGoBuild{moduleRoot: t.TempDir()}).TryBundle(jsii.String(out), nil)
	if ok == nil || !*ok {
		t.Fatal("TryBundle returned false")
	}
	got, err := os.ReadFile(filepath.Join(out, "bootstrap"))
	if err != nil || string(got) != "launcher-built" {
		t.Fatalf("asset bootstrap = %q, %v; want the launcher's file", got, err)
	}
	if fi, err := os.Stat(filepath.Join(out, "bootstrap")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("asset bootstrap is not executable: %v %v", fi, err)
	}
}
