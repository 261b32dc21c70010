package cisaudit

import "context"

// RunCommands runs commands one after another through one driver of the
// kind opts selects (one Python session, or one aws process each), as an
// audit does, and returns each command's output and error.
func RunCommands(ctx context.Context, opts Options, commands [][]string) ([][]byte, []error) {
	d := newDriver(opts)
	defer d.close()
	outs, errs := make([][]byte, len(commands)), make([]error, len(commands))
	for i, args := range commands {
		outs[i], errs[i] = d.run(ctx, args)
	}
	return outs, errs
}
