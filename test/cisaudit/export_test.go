package cisaudit

import "context"

// RunCommand runs one command through the driver opts selects.
func RunCommand(ctx context.Context, opts Options, args []string) ([]byte, error) {
	d := newDriver(opts)
	defer d.close()
	return d.run(ctx, args)
}
