package main

import (
	"fmt"
	"io"
)

// runEngine implements "remediator audit|plan|apply". Owned by the engine work.
func runEngine(mode string, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "remediator %s: not implemented yet\n", mode)
	return exitError
}
