package main

import (
	"fmt"
	"io"
)

// runControls implements "remediator controls". Owned by the catalog work.
func runControls(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "remediator controls: not implemented yet")
	return exitError
}
