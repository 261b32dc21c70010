package lambdart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// Main serves the TestMain of a suite that runs the real bootstrap against
// moto: it launches one moto server (moto.Main, its log named after pkg),
// builds the bootstrap with Build's defaults (so a prebuilt one is linked),
// calls run with both and cleans up. It returns the exit code for os.Exit;
// a failure to set up is printed to stderr and returns 1.
func Main(pkg string, run func(bootstrap string, srv *moto.Server) int) int {
	return moto.Main(pkg, func(srv *moto.Server) int {
		dir, err := os.MkdirTemp("", "watchkeeper-"+pkg+"-bootstrap-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bootstrap := filepath.Join(dir, "bootstrap")
		if err := Build(ctx, bootstrap, BuildOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return run(bootstrap, srv)
	})
}
