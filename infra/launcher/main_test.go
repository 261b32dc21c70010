package main

import (
	"strings"
	"testing"
)

func TestFilterStderrDropsOnlyTheBenignWaitidLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"other output passes", "watchkeeper: building the Lambda (linux/arm64)…\nwarning\n", "watchkeeper: building the Lambda (linux/arm64)…\nwarning\n"},
		{"benign line at the end, no newline", "done\n" + benignWaitid, "done\n"},
		{"benign line with a newline", benignWaitid + "\nnext\n", "next\n"},
		{"glued to the next line", "x\n" + benignWaitid + "exit status 1\n", "x\nexit status 1\n"},
		{"a real abnormal exit passes", "Runtime process exited abnormally: exit status 7", "Runtime process exited abnormally: exit status 7"},
		{"a partial last line passes", "no newline", "no newline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got strings.Builder
			if err := filterStderr(&got, strings.NewReader(tc.in)); err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want {
				t.Errorf("filterStderr(%q) = %q, want %q", tc.in, got.String(), tc.want)
			}
		})
	}
}
